//! TikTok's JSON shapes (202309 and 202502) and their translation into domain types. Nothing
//! outside this module knows a TikTok field name.

use serde::{Deserialize, Serialize};
use stockbridge_domain::{
    ProductId, ProductWrite, Quantity, SkuId, TikTokSku, Warehouse, WarehouseId, WarehouseKind,
    WarehouseStatus, WarehouseStock,
};

/// `data` of `GET /authorization/202309/shops`.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub(crate) struct ShopsData {
    pub(crate) shops: Vec<Shop>,
}

/// One authorized shop.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct Shop {
    /// The shop id, which TikTok's webhooks name the shop by.
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) region: String,
    pub(crate) cipher: String,
}

/// `data` of `GET /logistics/202309/warehouses`.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub(crate) struct WarehousesData {
    warehouses: Vec<WireWarehouse>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct WireWarehouse {
    id: String,
    name: String,
    effect_status: String,
    #[serde(rename = "type")]
    kind: String,
    is_default: bool,
}

impl WarehousesData {
    pub(crate) fn into_domain(self) -> Vec<Warehouse> {
        self.warehouses
            .into_iter()
            .filter_map(|w| {
                let id = WarehouseId::new(&w.id).ok()?;
                let kind = match w.kind.as_str() {
                    "SALES_WAREHOUSE" => WarehouseKind::Sales,
                    "RETURN_WAREHOUSE" => WarehouseKind::Return,
                    other => {
                        tracing::warn!(warehouse = %id, kind = other, "unknown warehouse type; treated as a return warehouse");
                        WarehouseKind::Return
                    }
                };
                let status = match w.effect_status.as_str() {
                    "ENABLED" => WarehouseStatus::Enabled,
                    "DISABLED" => WarehouseStatus::Disabled,
                    "RESTRICTED" => WarehouseStatus::Restricted,
                    other => {
                        tracing::warn!(warehouse = %id, status = other, "unknown warehouse status; treated as disabled");
                        WarehouseStatus::Disabled
                    }
                };
                Some(Warehouse {
                    id,
                    name: w.name,
                    kind,
                    status,
                    is_default: w.is_default,
                })
            })
            .collect()
    }
}

/// Body of `POST /product/{202502,202309}/products/search`: an `update_time` range (Unix
/// seconds, both ends included); `{}` when neither end is given.
#[derive(Debug, Serialize, Default)]
pub(crate) struct SearchBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) update_time_ge: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) update_time_le: Option<i64>,
}

/// `data` of `POST /product/{202502,202309}/products/search`.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub(crate) struct SearchData {
    products: Vec<WireProduct>,
    next_page_token: Option<String>,
    total_count: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct WireProduct {
    id: String,
    skus: Vec<WireSku>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct WireSku {
    id: String,
    seller_sku: Option<String>,
    inventory: Vec<WireInventory>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct WireInventory {
    warehouse_id: String,
    quantity: i64,
}

impl SearchData {
    /// How many products the search matches in all, when TikTok says.
    pub(crate) fn total_count(&self) -> Option<u64> {
        self.total_count
    }

    /// How many products this page holds.
    pub(crate) fn product_count(&self) -> u64 {
        self.products.len() as u64
    }

    /// The page's SKUs and the token of the next page (none when this is the last).
    pub(crate) fn into_domain(self) -> (Vec<TikTokSku>, Option<String>) {
        let mut skus = Vec::new();
        // Ids met again on the page are shared, not copied: a product's by its SKUs, a
        // warehouse's by every SKU stocked there.
        let mut warehouses = Vec::new();
        for product in self.products {
            let product_id = ProductId::new(&product.id).ok();
            for sku in product.skus {
                let stock = sku
                    .inventory
                    .into_iter()
                    .filter_map(|i| stock(&mut warehouses, &i.warehouse_id, i.quantity))
                    .collect();
                skus.extend(tiktok_sku(
                    product_id.as_ref(),
                    &product.id,
                    &sku.id,
                    sku.seller_sku,
                    stock,
                ));
            }
        }
        let next = self.next_page_token.filter(|t| !t.is_empty());
        (skus, next)
    }
}

/// Body of `POST /product/202309/products/{id}/inventory/update`.
#[derive(Debug, Serialize)]
pub(crate) struct UpdateBody<'a> {
    skus: Vec<UpdateSku<'a>>,
}

#[derive(Debug, Serialize)]
struct UpdateSku<'a> {
    id: &'a str,
    inventory: Vec<UpdateInventory<'a>>,
}

#[derive(Debug, Serialize)]
struct UpdateInventory<'a> {
    warehouse_id: &'a str,
    quantity: u32,
}

impl<'a> UpdateBody<'a> {
    pub(crate) fn from_write(write: &'a ProductWrite) -> Self {
        UpdateBody {
            skus: write
                .skus
                .iter()
                .map(|sku| UpdateSku {
                    id: sku.sku_id.as_str(),
                    inventory: sku
                        .stock
                        .iter()
                        .map(|s| UpdateInventory {
                            warehouse_id: s.warehouse.as_str(),
                            quantity: s.quantity.get(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// `data` of the inventory update: per-SKU refusals inside a `code: 0` answer.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub(crate) struct UpdateData {
    pub(crate) errors: Vec<SkuError>,
}

/// One entry of `data.errors`.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub(crate) struct SkuError {
    pub(crate) code: i64,
    pub(crate) message: String,
    pub(crate) detail: Option<SkuErrorDetail>,
}

/// Which SKU, and which of its warehouses.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub(crate) struct SkuErrorDetail {
    pub(crate) sku_id: Option<String>,
    pub(crate) extra_errors: Vec<WarehouseError>,
}

/// A refusal of one warehouse's quantity.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub(crate) struct WarehouseError {
    pub(crate) warehouse_id: Option<String>,
    pub(crate) code: i64,
    pub(crate) message: String,
}

/// Warehouse ids remembered per page to be shared (a shop has a handful).
const WAREHOUSES_SHARED: usize = 64;

/// One warehouse's stock; its id shared with the same one in `known` when it is there.
fn stock(
    known: &mut Vec<WarehouseId>,
    warehouse_id: &str,
    quantity: i64,
) -> Option<WarehouseStock> {
    let warehouse = match known.iter().find(|w| w.as_str() == warehouse_id.trim()) {
        Some(w) => w.clone(),
        None => {
            let w = WarehouseId::new(warehouse_id).ok()?;
            if known.len() < WAREHOUSES_SHARED {
                known.push(w.clone());
            }
            w
        }
    };
    let quantity = Quantity::new(quantity).unwrap_or_else(|_| {
        tracing::warn!(%warehouse, quantity, "TikTok quantity outside 0..=999999; clamped");
        Quantity::clamped(quantity)
    });
    Some(WarehouseStock {
        warehouse,
        quantity,
    })
}

fn tiktok_sku(
    product_id: Option<&ProductId>,
    raw_product_id: &str,
    sku_id: &str,
    seller_sku: Option<String>,
    stock: Vec<WarehouseStock>,
) -> Option<TikTokSku> {
    let (Some(product_id), Ok(sku_id)) = (product_id, SkuId::new(sku_id)) else {
        tracing::warn!(
            product_id = raw_product_id,
            sku_id,
            "TikTok SKU without an id skipped"
        );
        return None;
    };
    Some(TikTokSku {
        product_id: product_id.clone(),
        sku_id,
        seller_sku: seller_sku.unwrap_or_default(),
        stock,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use stockbridge_domain::SkuWrite;

    #[test]
    fn the_update_body_serialises_in_tiktoks_field_order() {
        let write = ProductWrite {
            product_id: ProductId::new("1729592969712207013").unwrap(),
            skus: vec![SkuWrite {
                sku_id: SkuId::new("1729592969712207013").unwrap(),
                stock: vec![WarehouseStock {
                    warehouse: WarehouseId::new("7068517275539719942").unwrap(),
                    quantity: Quantity::new(999).unwrap(),
                }],
            }],
        };
        let bytes = serde_json::to_vec(&UpdateBody::from_write(&write)).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"skus":[{"id":"1729592969712207013","inventory":[{"warehouse_id":"7068517275539719942","quantity":999}]}]}"#
        );
    }

    #[test]
    fn a_search_body_names_only_the_ends_it_has() {
        let body = |ge, le| {
            let body = SearchBody {
                update_time_ge: ge,
                update_time_le: le,
            };
            serde_json::to_string(&body).unwrap()
        };
        assert_eq!(body(None, None), "{}");
        assert_eq!(
            body(Some(5), Some(9)),
            r#"{"update_time_ge":5,"update_time_le":9}"#
        );
        assert_eq!(body(Some(5), None), r#"{"update_time_ge":5}"#);
    }

    #[test]
    fn warehouses_map_type_status_and_default() {
        let data: WarehousesData = serde_json::from_str(
            r#"{"warehouses":[
              {"id":"1","name":"A","effect_status":"ENABLED","type":"SALES_WAREHOUSE","is_default":true},
              {"id":"2","name":"B","effect_status":"RESTRICTED","type":"RETURN_WAREHOUSE"},
              {"id":"3","name":"C","effect_status":"DISABLED","type":"SALES_WAREHOUSE","sub_type":"DOMESTIC_WAREHOUSE"}]}"#,
        )
        .unwrap();
        let got = data.into_domain();
        assert_eq!(got.len(), 3);
        assert!(got[0].is_default && got[0].is_target());
        assert_eq!(got[1].kind, WarehouseKind::Return);
        assert_eq!(got[1].status, WarehouseStatus::Restricted);
        assert_eq!(got[2].status, WarehouseStatus::Disabled);
    }

    #[test]
    fn a_search_page_keeps_every_sku_and_ends_on_an_empty_token() {
        let data: SearchData = serde_json::from_str(
            r#"{"products":[{"id":"9","skus":[
                {"id":"91","seller_sku":"A","inventory":[{"warehouse_id":"7","quantity":3}]},
                {"id":"92","inventory":[]}]}],
              "next_page_token":"","total_count":1}"#,
        )
        .unwrap();
        assert_eq!((data.total_count(), data.product_count()), (Some(1), 1));
        let (skus, next) = data.into_domain();
        assert_eq!(next, None);
        assert_eq!(skus.len(), 2);
        assert_eq!(skus[0].seller_sku, "A");
        assert_eq!(skus[0].stock[0].quantity.get(), 3);
        assert_eq!(skus[1].seller_sku, "");
    }
}
