//! What an accepted inventory update did to each (SKU, warehouse): TikTok answers `code: 0`
//! and lists in `data.errors` the SKUs and warehouses it refused. Everything it did not refuse
//! was applied.
//!
//! TikTok does not document whether a SKU with one refused warehouse keeps the quantities of
//! its other warehouses (the sandbox applies nothing for such a SKU). Writes are absolute and
//! idempotent, so calling an applied quantity refused only costs a repeat; calling a refused one
//! applied loses it. So a SKU named in `data.errors` has none of its warehouses applied.

use std::collections::HashMap;

use stockbridge_domain::{ProductWrite, WarehouseOutcome, WriteOutcome};

use crate::wire::UpdateData;

/// One outcome per (SKU, warehouse) the write states, in the write's order.
///
/// An error naming a SKU and warehouses rejects those warehouses with their own code, and the
/// SKU's other warehouses as not applied because of them; one naming a SKU but no warehouse of
/// the write rejects all that SKU's warehouses; one naming no SKU rejects the whole write, since
/// nothing says what was applied.
pub(crate) fn outcomes(write: &ProductWrite, data: &UpdateData) -> Vec<WriteOutcome> {
    let refusals = Refusals::read(write, data);
    let mut out = Vec::with_capacity(write.stock_count());
    for sku in &write.skus {
        for stock in &sku.stock {
            let outcome = match refusals.of(sku.sku_id.as_str(), stock.warehouse.as_str()) {
                Some(reason) => WarehouseOutcome::Rejected {
                    code: reason.code.clone(),
                    message: reason.message.clone(),
                },
                None => WarehouseOutcome::Applied,
            };
            out.push(WriteOutcome {
                sku_id: sku.sku_id.clone(),
                warehouse: stock.warehouse.clone(),
                outcome,
            });
        }
    }
    out
}

/// TikTok's code and message for one refusal.
#[derive(Debug)]
struct Reason {
    code: String,
    message: String,
}

impl Reason {
    fn new(code: i64, message: &str) -> Self {
        Reason {
            code: code.to_string(),
            message: message.to_owned(),
        }
    }
}

/// The refusals of `data.errors`, by how much of the write each covers.
#[derive(Debug, Default)]
struct Refusals {
    whole_write: Option<Reason>,
    skus: HashMap<String, Reason>,
    /// Keyed by `(sku, warehouse)`.
    warehouses: HashMap<(String, String), Reason>,
    /// For the warehouses of a SKU that TikTok did not name when it refused others of it.
    siblings: HashMap<String, Reason>,
}

impl Refusals {
    fn read(write: &ProductWrite, data: &UpdateData) -> Self {
        let mut refusals = Refusals::default();
        for error in &data.errors {
            let detail = error.detail.as_ref();
            let sku = detail
                .and_then(|d| d.sku_id.as_deref())
                .filter(|s| !s.is_empty());
            let Some(sku) = sku else {
                refusals
                    .whole_write
                    .get_or_insert_with(|| Reason::new(error.code, &error.message));
                continue;
            };
            let stated = write.skus.iter().find(|s| s.sku_id.as_str() == sku);
            if stated.is_none() {
                tracing::warn!(product = %write.product_id, sku, "TikTok refused a SKU the write did not state");
            }
            let extras = detail
                .map(|d| d.extra_errors.as_slice())
                .unwrap_or_default();
            let mut named = Vec::new();
            for extra in extras {
                let Some(warehouse) = extra.warehouse_id.as_deref() else {
                    continue;
                };
                let in_write = stated
                    .is_some_and(|s| s.stock.iter().any(|w| w.warehouse.as_str() == warehouse));
                if in_write {
                    named.push(warehouse);
                    refusals
                        .warehouses
                        .entry((sku.to_owned(), warehouse.to_owned()))
                        .or_insert_with(|| Reason::new(extra.code, &extra.message));
                }
            }
            if !named.is_empty() {
                let (which, was) = if named.len() == 1 {
                    ("another warehouse", "was")
                } else {
                    ("other warehouses", "were")
                };
                let message = format!(
                    "not applied: {which} of this SKU ({}) {was} refused, and TikTok may keep the whole SKU as it was",
                    named.join(", ")
                );
                refusals
                    .siblings
                    .entry(sku.to_owned())
                    .or_insert_with(|| Reason::new(error.code, &message));
            } else {
                let reason = match extras.first() {
                    Some(extra) => Reason::new(extra.code, &extra.message),
                    None => Reason::new(error.code, &error.message),
                };
                refusals.skus.entry(sku.to_owned()).or_insert(reason);
            }
        }
        refusals
    }

    fn of(&self, sku: &str, warehouse: &str) -> Option<&Reason> {
        self.warehouses
            .get(&(sku.to_owned(), warehouse.to_owned()))
            .or_else(|| self.skus.get(sku))
            .or_else(|| self.siblings.get(sku))
            .or(self.whole_write.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stockbridge_domain::{ProductId, Quantity, SkuId, SkuWrite, WarehouseId, WarehouseStock};

    fn write() -> ProductWrite {
        let sku = |id: &str, whs: &[&str]| SkuWrite {
            sku_id: SkuId::new(id).unwrap(),
            stock: whs
                .iter()
                .map(|w| WarehouseStock {
                    warehouse: WarehouseId::new(w).unwrap(),
                    quantity: Quantity::new(5).unwrap(),
                })
                .collect(),
        };
        ProductWrite {
            product_id: ProductId::new("9").unwrap(),
            skus: vec![sku("91", &["7001", "7002"]), sku("92", &["7001"])],
        }
    }

    fn data(json: &str) -> UpdateData {
        serde_json::from_str(json).unwrap()
    }

    fn rejected(outcomes: &[WriteOutcome]) -> Vec<(String, String, String)> {
        outcomes
            .iter()
            .filter_map(|o| match &o.outcome {
                WarehouseOutcome::Rejected { code, .. } => {
                    Some((o.sku_id.to_string(), o.warehouse.to_string(), code.clone()))
                }
                WarehouseOutcome::Applied => None,
            })
            .collect()
    }

    #[test]
    fn no_errors_means_every_stated_quantity_is_applied() {
        let got = outcomes(&write(), &data("{}"));
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(WriteOutcome::is_applied));
    }

    #[test]
    fn a_warehouse_error_rejects_that_warehouse_with_its_code_and_the_skus_others_as_not_applied() {
        let got = outcomes(
            &write(),
            &data(
                r#"{"errors":[{"code":12052990,"message":"Check failed","detail":{"sku_id":"91",
                "extra_errors":[{"warehouse_id":"7002","code":12052097,"message":"The warehouse does not exist"}]}}]}"#,
            ),
        );
        assert_eq!(
            rejected(&got),
            vec![
                ("91".into(), "7001".into(), "12052990".into()),
                ("91".into(), "7002".into(), "12052097".into())
            ]
        );
        match (&got[0].outcome, &got[1].outcome) {
            (
                WarehouseOutcome::Rejected { message: other, .. },
                WarehouseOutcome::Rejected { message: named, .. },
            ) => {
                assert_eq!(named, "The warehouse does not exist");
                assert!(
                    other.contains("not applied") && other.contains("7002"),
                    "{other}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(got[2].is_applied(), "another SKU is untouched");
    }

    #[test]
    fn a_refusal_of_the_whole_sku_wins_over_the_not_applied_reason() {
        let got = outcomes(
            &write(),
            &data(
                r#"{"errors":[
                {"code":12052990,"message":"Check failed","detail":{"sku_id":"91",
                 "extra_errors":[{"warehouse_id":"7002","code":12052097,"message":"no such warehouse"}]}},
                {"code":12019028,"message":"Multiple warehouses detected","detail":{"sku_id":"91"}}]}"#,
            ),
        );
        assert_eq!(
            rejected(&got),
            vec![
                ("91".into(), "7001".into(), "12019028".into()),
                ("91".into(), "7002".into(), "12052097".into())
            ]
        );
    }

    #[test]
    fn a_sku_error_without_a_warehouse_rejects_all_of_that_skus_warehouses() {
        let got = outcomes(
            &write(),
            &data(
                r#"{"errors":[{"code":12019028,"message":"Multiple warehouses detected","detail":{"sku_id":"91"}}]}"#,
            ),
        );
        assert_eq!(
            rejected(&got),
            vec![
                ("91".into(), "7001".into(), "12019028".into()),
                ("91".into(), "7002".into(), "12019028".into())
            ]
        );
        assert!(got[2].is_applied());
    }

    #[test]
    fn an_error_naming_no_sku_rejects_the_whole_write() {
        let got = outcomes(
            &write(),
            &data(r#"{"errors":[{"code":12052037,"message":"failed"}]}"#),
        );
        assert_eq!(rejected(&got).len(), 3);
    }
}
