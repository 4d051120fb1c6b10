//! Shopify search syntax for `productVariants(query:)` and `inventoryItems(query:)`:
//! `field:value` terms joined by AND (or a space) and OR, `-`/`NOT` negation, comparators
//! `>`, `>=`, `<`, `<=` on ids and times. Terms on unknown fields match nothing.

use crate::clock;
use crate::store::shopify::{ShopifyStore, VariantRecord};

/// What a query searches: `id:` means the variant id or the inventory item id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Variants,
    InventoryItems,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone)]
struct Term {
    field: String,
    cmp: Cmp,
    value: String,
    negated: bool,
}

/// A parsed query: OR of AND-groups.
#[derive(Debug, Clone)]
pub(crate) struct Search {
    target: Target,
    groups: Vec<Vec<Term>>,
}

fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
            }
            (Some(_), c) => current.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            (None, c) => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

impl Search {
    pub(crate) fn parse(text: &str, target: Target) -> Search {
        let mut groups = vec![Vec::new()];
        let mut negate_next = false;
        for token in tokens(text) {
            match token.as_str() {
                "OR" => groups.push(Vec::new()),
                "AND" => {}
                "NOT" => negate_next = true,
                _ => {
                    let (negated, body) = match token.strip_prefix('-') {
                        Some(rest) => (true, rest),
                        None => (negate_next, token.as_str()),
                    };
                    negate_next = false;
                    let (field, raw) = body.split_once(':').unwrap_or(("default", body));
                    let (cmp, value) = if let Some(v) = raw.strip_prefix(">=") {
                        (Cmp::Ge, v)
                    } else if let Some(v) = raw.strip_prefix("<=") {
                        (Cmp::Le, v)
                    } else if let Some(v) = raw.strip_prefix('>') {
                        (Cmp::Gt, v)
                    } else if let Some(v) = raw.strip_prefix('<') {
                        (Cmp::Lt, v)
                    } else {
                        (Cmp::Eq, raw)
                    };
                    groups.last_mut().expect("one group at least").push(Term {
                        field: field.to_owned(),
                        cmp,
                        value: value.trim_matches(['"', '\'']).to_owned(),
                        negated,
                    });
                }
            }
        }
        groups.retain(|g| !g.is_empty());
        Search { target, groups }
    }

    /// Store indexes that can match, when every OR-group pins an id or a SKU; `None` means
    /// every record must be looked at.
    pub(crate) fn candidates(&self, store: &ShopifyStore) -> Option<Vec<usize>> {
        if self.groups.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        for group in &self.groups {
            let pin = group.iter().find_map(|t| {
                if t.negated || t.cmp != Cmp::Eq {
                    return None;
                }
                let id = t.value.parse::<u64>().ok();
                match (t.field.as_str(), self.target) {
                    ("id", Target::Variants) => Some(
                        id.and_then(|id| store.index_of_variant(id))
                            .into_iter()
                            .collect(),
                    ),
                    ("id", Target::InventoryItems) | ("inventory_item_id", Target::Variants) => {
                        Some(
                            id.and_then(|id| store.index_of_item(id))
                                .into_iter()
                                .collect::<Vec<_>>(),
                        )
                    }
                    ("sku", _) => Some(store.indexes_by_sku(&t.value).to_vec()),
                    _ => None,
                }
            })?;
            out.extend(pin);
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }

    pub(crate) fn matches(&self, record: &VariantRecord) -> bool {
        self.groups.is_empty()
            || self
                .groups
                .iter()
                .any(|group| group.iter().all(|t| self.term(t, record) != t.negated))
    }

    fn term(&self, term: &Term, record: &VariantRecord) -> bool {
        let v = &record.variant;
        let number = |n: u64| compare_numbers(n, term.cmp, &term.value);
        match term.field.as_str() {
            "id" => match self.target {
                Target::Variants => number(v.id),
                Target::InventoryItems => number(v.inventory_item_id),
            },
            "inventory_item_id" => number(v.inventory_item_id),
            "product_id" => number(v.product_id),
            "product_ids" => term
                .value
                .split(',')
                .any(|id| id.trim().parse::<u64>().ok() == Some(v.product_id)),
            "sku" => v.sku.as_deref() == Some(term.value.as_str()),
            "product_status" => {
                let status = format!("{:?}", v.product_status).to_ascii_uppercase();
                term.value
                    .split(',')
                    .any(|s| s.trim().eq_ignore_ascii_case(&status))
            }
            "location_id" => term
                .value
                .parse::<u64>()
                .is_ok_and(|id| record.level(id).is_some()),
            "managed" | "tracked" => term.value.eq_ignore_ascii_case(&v.tracked.to_string()),
            "inventory_quantity" => {
                let total = v.total_available();
                term.value
                    .parse::<i64>()
                    .is_ok_and(|n| compare(total.cmp(&n), term.cmp))
            }
            "updated_at" => {
                let Some(at) = parse_time(&term.value) else {
                    return false;
                };
                compare(record.updated_at.cmp(&at), term.cmp)
            }
            "default" => v.sku.as_deref().is_some_and(|sku| {
                sku.to_ascii_lowercase()
                    .contains(&term.value.to_ascii_lowercase())
            }),
            _ => false,
        }
    }
}

fn parse_time(value: &str) -> Option<i64> {
    if value.eq_ignore_ascii_case("now") {
        Some(clock::now_millis())
    } else {
        clock::parse_rfc3339(value)
    }
}

fn compare_numbers(actual: u64, cmp: Cmp, value: &str) -> bool {
    value
        .parse::<u64>()
        .is_ok_and(|n| compare(actual.cmp(&n), cmp))
}

fn compare(ordering: std::cmp::Ordering, cmp: Cmp) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match cmp {
        Cmp::Eq => ordering == Equal,
        Cmp::Gt => ordering == Greater,
        Cmp::Ge => ordering != Less,
        Cmp::Lt => ordering == Less,
        Cmp::Le => ordering != Greater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_or_groups_and_reads_comparators() {
        let search = Search::parse(
            "inventory_item_id:1001 OR inventory_item_id:1002 AND updated_at:>'2024-01-01T00:00:00Z'",
            Target::Variants,
        );
        assert_eq!(search.groups.len(), 2);
        assert_eq!(search.groups[1].len(), 2);
        assert_eq!(search.groups[1][1].cmp, Cmp::Gt);
        assert_eq!(search.groups[1][1].value, "2024-01-01T00:00:00Z");
    }
}
