//! Which shop the sink works on (its cipher), and the health check that proves the
//! credentials, the shop and its warehouses are all reachable.

use reqwest::Method;
use stockbridge_ports::{InventorySink, SinkError};

use crate::client::Request;
use crate::error::TikTokError;
use crate::sink::TikTokSink;
use crate::wire::{Shop, ShopsData};

const SHOPS_PATH: &str = "/authorization/202309/shops";

/// What the health check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TikTokHealth {
    /// The shop's name.
    pub shop_name: String,
    /// Its region, e.g. `GB`.
    pub shop_region: String,
    /// The cipher in use (not a secret).
    pub shop_cipher: String,
    /// How many warehouses the shop has, of every type and status.
    pub warehouses: usize,
    /// How many of them are enabled sales warehouses (possible targets).
    pub target_warehouses: usize,
}

impl TikTokSink {
    /// Checks that the access token is valid (the authorized shops call succeeds), that the
    /// shop is among those it may reach, and that its warehouses are readable.
    pub async fn health_check(&self) -> Result<TikTokHealth, SinkError> {
        let shops = self.authorized_shops().await?;
        let shop = if self.configured_cipher {
            let cipher = self.cipher().await?;
            shops
                .into_iter()
                .find(|s| s.cipher == cipher)
                .ok_or_else(|| SinkError::NotFound {
                    what: "the configured shop_cipher is not among the shops this access token is authorized for".to_owned(),
                })?
        } else {
            let shop = pick(shops)?;
            let _ = self.shop_cipher.set(shop.cipher.clone());
            shop
        };
        let warehouses = self.warehouses().await?;
        Ok(TikTokHealth {
            shop_name: shop.name,
            shop_region: shop.region,
            shop_cipher: shop.cipher,
            target_warehouses: warehouses.iter().filter(|w| w.is_target()).count(),
            warehouses: warehouses.len(),
        })
    }

    /// The TikTok shop id of the shop (the `shop_id` its webhooks carry): read from the
    /// authorized shops, the one with the configured cipher (or the only one).
    pub async fn shop_id(&self) -> Result<String, SinkError> {
        let cipher = self.cipher().await?;
        self.authorized_shops()
            .await?
            .into_iter()
            .find(|s| s.cipher == cipher && !s.id.trim().is_empty())
            .map(|s| s.id)
            .ok_or_else(|| SinkError::NotFound {
                what: "the shop's id: the shop_cipher is not among the shops this access token is authorized for".to_owned(),
            })
    }

    /// The cipher of the shop: the configured one, or the only authorized shop's.
    pub(crate) async fn cipher(&self) -> Result<&str, SinkError> {
        let cipher = self
            .shop_cipher
            .get_or_try_init(|| async {
                let shop = pick(self.authorized_shops().await?)?;
                tracing::info!(shop = %shop.name, region = %shop.region, "TikTok shop looked up");
                Ok::<_, SinkError>(shop.cipher)
            })
            .await?;
        Ok(cipher)
    }

    async fn authorized_shops(&self) -> Result<Vec<Shop>, SinkError> {
        let req = Request {
            method: Method::GET,
            path: SHOPS_PATH,
            query: Vec::new(),
            body: None,
            shop_cipher: None,
        };
        let data: ShopsData = self.client.call(&req).await?;
        Ok(data.shops)
    }
}

fn pick(mut shops: Vec<Shop>) -> Result<Shop, SinkError> {
    shops.retain(|s| !s.cipher.is_empty());
    match shops.len() {
        0 => Err(TikTokError::NoShop.into()),
        1 => Ok(shops.remove(0)),
        _ => Err(TikTokError::AmbiguousShop {
            shops: shops
                .iter()
                .map(|s| format!("{} ({})", s.name, s.cipher))
                .collect(),
        }
        .into()),
    }
}
