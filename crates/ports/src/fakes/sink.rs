use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use stockbridge_domain::{
    ProductId, ProductWrite, SkuId, TikTokSku, Warehouse, WarehouseId, WarehouseOutcome,
    WarehouseStatus, WarehouseStock, WriteOutcome,
};

use crate::error::SinkError;
use crate::source::Page;
use crate::InventorySink;

/// A TikTok shop held in memory, refusing what TikTok refuses: a SKU write that does not
/// restate exactly the SKU's warehouses or changes the number of a warehouse that is not an
/// enabled sales warehouse, a SKU of another product, an unknown product.
pub struct InMemorySink {
    inner: Mutex<Shop>,
}

struct Shop {
    warehouses: Vec<Warehouse>,
    products: BTreeMap<ProductId, Vec<TikTokSku>>,
    writes: Vec<ProductWrite>,
    fail_next: usize,
    reject: Vec<SkuId>,
}

impl InMemorySink {
    /// A shop with these warehouses and SKUs.
    pub fn new(warehouses: Vec<Warehouse>, skus: Vec<TikTokSku>) -> Self {
        let mut products: BTreeMap<ProductId, Vec<TikTokSku>> = BTreeMap::new();
        for sku in skus {
            products
                .entry(sku.product_id.clone())
                .or_default()
                .push(sku);
        }
        InMemorySink {
            inner: Mutex::new(Shop {
                warehouses,
                products,
                writes: Vec::new(),
                fail_next: 0,
                reject: Vec::new(),
            }),
        }
    }

    /// Every write applied so far, in order.
    pub fn writes(&self) -> Vec<ProductWrite> {
        self.inner.lock().unwrap().writes.clone()
    }

    /// The quantity a SKU holds now in a warehouse.
    pub fn quantity(&self, sku: &SkuId, warehouse: &WarehouseId) -> Option<u32> {
        let shop = self.inner.lock().unwrap();
        shop.products
            .values()
            .flatten()
            .find(|s| &s.sku_id == sku)
            .and_then(|s| s.quantity_in(warehouse))
            .map(|q| q.get())
    }

    /// Makes the next `n` calls fail with a transient error.
    pub fn fail_next(&self, n: usize) {
        self.inner.lock().unwrap().fail_next = n;
    }

    /// Changes a warehouse's status, as a merchant does in Seller Center.
    pub fn set_warehouse_status(&self, warehouse: &WarehouseId, status: WarehouseStatus) {
        let mut shop = self.inner.lock().unwrap();
        if let Some(w) = shop.warehouses.iter_mut().find(|w| &w.id == warehouse) {
            w.status = status;
        }
    }

    /// Makes every write of this SKU rejected, as TikTok does for a frozen listing.
    pub fn reject_sku(&self, sku: SkuId) {
        self.inner.lock().unwrap().reject.push(sku);
    }

    fn check_fault(shop: &mut Shop) -> Result<(), SinkError> {
        if shop.fail_next > 0 {
            shop.fail_next -= 1;
            return Err(SinkError::Transient {
                message: "injected failure".into(),
            });
        }
        Ok(())
    }
}

fn rejected(sku: &SkuId, stock: &[WarehouseStock], code: &str, message: &str) -> Vec<WriteOutcome> {
    stock
        .iter()
        .map(|s| WriteOutcome {
            sku_id: sku.clone(),
            warehouse: s.warehouse.clone(),
            outcome: WarehouseOutcome::Rejected {
                code: code.into(),
                message: message.into(),
            },
        })
        .collect()
}

#[async_trait]
impl InventorySink for InMemorySink {
    async fn warehouses(&self) -> Result<Vec<Warehouse>, SinkError> {
        let mut shop = self.inner.lock().unwrap();
        Self::check_fault(&mut shop)?;
        Ok(shop.warehouses.clone())
    }

    async fn skus_page(&self, cursor: Option<String>) -> Result<Page<TikTokSku>, SinkError> {
        let mut shop = self.inner.lock().unwrap();
        Self::check_fault(&mut shop)?;
        // One product per page, so that a product's SKUs are never split.
        let mut products = shop.products.iter();
        let current = match &cursor {
            None => products.next(),
            Some(c) => products.find(|(id, _)| id.as_str() == c.as_str()),
        };
        let Some((_, skus)) = current else {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        };
        let next_cursor = products.next().map(|(id, _)| id.as_str().to_owned());
        Ok(Page {
            items: skus.clone(),
            next_cursor,
        })
    }

    async fn apply(&self, write: &ProductWrite) -> Result<Vec<WriteOutcome>, SinkError> {
        let mut shop = self.inner.lock().unwrap();
        Self::check_fault(&mut shop)?;
        let reject = shop.reject.clone();
        let targets: Vec<WarehouseId> = shop
            .warehouses
            .iter()
            .filter(|h| h.is_target())
            .map(|h| h.id.clone())
            .collect();
        let skus = shop
            .products
            .get_mut(&write.product_id)
            .ok_or_else(|| SinkError::NotFound {
                what: format!("product {}", write.product_id),
            })?;
        let mut outcomes = Vec::new();
        for sku_write in &write.skus {
            let Some(sku) = skus.iter_mut().find(|s| s.sku_id == sku_write.sku_id) else {
                outcomes.extend(rejected(
                    &sku_write.sku_id,
                    &sku_write.stock,
                    "12052557",
                    "the SKU does not belong to the product",
                ));
                continue;
            };
            let mut have: Vec<&WarehouseId> = sku.stock.iter().map(|s| &s.warehouse).collect();
            let mut want: Vec<&WarehouseId> =
                sku_write.stock.iter().map(|s| &s.warehouse).collect();
            have.sort();
            want.sort();
            if have != want {
                outcomes.extend(rejected(
                    &sku_write.sku_id,
                    &sku_write.stock,
                    "12019028",
                    "include every warehouse of the SKU, and no other",
                ));
                continue;
            }
            let fixed = sku_write.stock.iter().find(|w| {
                !targets.contains(&w.warehouse) && sku.quantity_in(&w.warehouse) != Some(w.quantity)
            });
            if let Some(fixed) = fixed {
                outcomes.extend(rejected(
                    &sku_write.sku_id,
                    &sku_write.stock,
                    "12052531",
                    &format!(
                        "warehouse {} is not an enabled sales warehouse: it can be restated, not changed",
                        fixed.warehouse
                    ),
                ));
                continue;
            }
            if reject.contains(&sku_write.sku_id) {
                outcomes.extend(rejected(
                    &sku_write.sku_id,
                    &sku_write.stock,
                    "12052901",
                    "frozen",
                ));
                continue;
            }
            sku.stock = sku_write.stock.clone();
            outcomes.extend(sku_write.stock.iter().map(|s| WriteOutcome {
                sku_id: sku_write.sku_id.clone(),
                warehouse: s.warehouse.clone(),
                outcome: WarehouseOutcome::Applied,
            }));
        }
        shop.writes.push(write.clone());
        Ok(outcomes)
    }
}
