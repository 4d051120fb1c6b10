//! The TikTok shop: warehouses, products and SKUs, and the access token in force.

use std::collections::HashMap;

use crate::fixture::{TikTokFixture, TikTokProduct, TikTokSku, Warehouse};

/// A product as stored: the fixture record plus timestamps (Unix seconds).
#[derive(Debug, Clone)]
pub(crate) struct ProductRecord {
    pub(crate) product: TikTokProduct,
    pub(crate) create_time: i64,
    pub(crate) update_time: i64,
}

pub(crate) struct TikTokStore {
    warehouses: Vec<Warehouse>,
    warehouse_index: HashMap<String, usize>,
    products: Vec<ProductRecord>,
    product_index: HashMap<String, usize>,
    /// SKU id -> (product index, SKU index in the product).
    sku_index: HashMap<String, (usize, usize)>,
    /// seller_sku -> product indexes.
    seller_sku_index: HashMap<String, Vec<usize>>,
}

impl TikTokStore {
    pub(crate) fn new(fixture: TikTokFixture, now_millis: i64) -> TikTokStore {
        let now = now_millis / 1000;
        let warehouse_index = fixture
            .warehouses
            .iter()
            .enumerate()
            .map(|(i, w)| (w.id.clone(), i))
            .collect();
        let n = fixture.products.len();
        let mut store = TikTokStore {
            warehouses: fixture.warehouses,
            warehouse_index,
            products: Vec::with_capacity(n),
            product_index: HashMap::with_capacity(n),
            sku_index: HashMap::with_capacity(n),
            seller_sku_index: HashMap::with_capacity(n),
        };
        for (i, product) in fixture.products.into_iter().enumerate() {
            store.product_index.insert(product.id.clone(), i);
            for (j, sku) in product.skus.iter().enumerate() {
                store.sku_index.insert(sku.id.clone(), (i, j));
                let entry = store
                    .seller_sku_index
                    .entry(sku.seller_sku.clone())
                    .or_default();
                if entry.last() != Some(&i) {
                    entry.push(i);
                }
            }
            // Listed one second apart in fixture order, the last one now: searches by
            // update_time see distinct times, as in a real shop.
            let listed = now - (n - 1 - i) as i64;
            store.products.push(ProductRecord {
                product,
                create_time: listed,
                update_time: listed,
            });
        }
        store
    }

    pub(crate) fn snapshot(&self) -> TikTokFixture {
        TikTokFixture {
            warehouses: self.warehouses.clone(),
            products: self.products.iter().map(|r| r.product.clone()).collect(),
            orders: Vec::new(),
        }
    }

    pub(crate) fn warehouses(&self) -> &[Warehouse] {
        &self.warehouses
    }

    pub(crate) fn warehouse(&self, id: &str) -> Option<&Warehouse> {
        self.warehouse_index.get(id).map(|&i| &self.warehouses[i])
    }

    pub(crate) fn products(&self) -> &[ProductRecord] {
        &self.products
    }

    pub(crate) fn product_index(&self, id: &str) -> Option<usize> {
        self.product_index.get(id).copied()
    }

    pub(crate) fn product_at(&self, index: usize) -> &ProductRecord {
        &self.products[index]
    }

    pub(crate) fn sku_position(&self, sku_id: &str) -> Option<(usize, usize)> {
        self.sku_index.get(sku_id).copied()
    }

    pub(crate) fn products_with_seller_sku(&self, seller_sku: &str) -> &[usize] {
        self.seller_sku_index
            .get(seller_sku)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Replaces a SKU's whole inventory list (an update-inventory write that passed checks).
    pub(crate) fn set_inventory(
        &mut self,
        product: usize,
        sku: usize,
        quantities: Vec<(String, i64)>,
        now: i64,
    ) {
        let record = &mut self.products[product];
        let sku: &mut TikTokSku = &mut record.product.skus[sku];
        for (warehouse_id, quantity) in quantities {
            if let Some(entry) = sku
                .inventory
                .iter_mut()
                .find(|e| e.warehouse_id == warehouse_id)
            {
                entry.quantity = quantity;
            }
        }
        record.update_time = now;
    }

    /// A hand edit in Seller Center: sets one warehouse's quantity, adding the warehouse to the
    /// SKU when it did not have it.
    pub(crate) fn edit_by_hand(
        &mut self,
        product: usize,
        sku: usize,
        warehouse_id: String,
        quantity: i64,
        now: i64,
    ) {
        let record = &mut self.products[product];
        let sku = &mut record.product.skus[sku];
        match sku
            .inventory
            .iter_mut()
            .find(|e| e.warehouse_id == warehouse_id)
        {
            Some(entry) => entry.quantity = quantity,
            None => sku.inventory.push(crate::fixture::WarehouseQuantity {
                warehouse_id,
                quantity,
            }),
        }
        record.update_time = now;
    }
}

/// The access token in force; issuing a new one invalidates the previous one.
pub(crate) struct Tokens {
    pub(crate) access_token: String,
    /// Unix millis; the token is expired from this instant on.
    pub(crate) access_expires_at: i64,
    pub(crate) refresh_token: String,
    /// Unix seconds.
    pub(crate) refresh_expires_at: i64,
}

/// What a presented access token is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    Valid,
    Expired,
    Unknown,
}

impl Tokens {
    pub(crate) fn check(&self, token: &str, now_millis: i64) -> TokenCheck {
        if token != self.access_token {
            TokenCheck::Unknown
        } else if now_millis >= self.access_expires_at {
            TokenCheck::Expired
        } else {
            TokenCheck::Valid
        }
    }
}
