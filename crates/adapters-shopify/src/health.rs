//! The health check `stockbridge check` runs: the token is valid, it belongs to the configured
//! shop, the shop answers, and the app holds the scopes the sync needs.

use serde::Deserialize;
use serde_json::json;
use stockbridge_ports::SourceError;

use crate::client::Query;
use crate::source::ShopifySource;

/// The scopes the sync reads with: variants, inventory levels, locations. A `write_` scope
/// grants the matching `read_` one.
pub const REQUIRED_SCOPES: [&str; 3] = ["read_products", "read_inventory", "read_locations"];

/// What the health check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopifyHealth {
    /// The shop's name.
    pub shop_name: String,
    /// The shop's `*.myshopify.com` domain, as Shopify reports it.
    pub myshopify_domain: String,
    /// The app's scopes.
    pub scopes: Scopes,
}

/// The app's access scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scopes {
    /// Every required scope is granted; these are all the granted ones.
    Granted(Vec<String>),
    /// The API cannot tell (no `currentAppInstallation`, as in the sandbox).
    Unknown,
}

const SHOP: &str = "query HealthShop { shop { name myshopifyDomain } }";
const SCOPES: &str = "query HealthScopes { currentAppInstallation { accessScopes { handle } } }";

#[derive(Deserialize)]
struct ShopData {
    shop: Shop,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shop {
    name: String,
    myshopify_domain: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScopesData {
    current_app_installation: Installation,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Installation {
    access_scopes: Vec<Handle>,
}

#[derive(Deserialize)]
struct Handle {
    handle: String,
}

/// The required scopes that `granted` lacks.
pub(crate) fn missing_scopes(granted: &[String]) -> Vec<&'static str> {
    REQUIRED_SCOPES
        .into_iter()
        .filter(|required| {
            let write = required.replacen("read_", "write_", 1);
            !granted.iter().any(|g| g == required || *g == write)
        })
        .collect()
}

/// Whether the shop Shopify answered for is the configured one: `*.myshopify.com` domains
/// compare without regard to case, a scheme or a trailing slash, and a bare handle stands
/// for `{handle}.myshopify.com`.
pub(crate) fn same_shop(configured: &str, reported: &str) -> bool {
    fn normal(domain: &str) -> String {
        let domain = domain.trim().to_ascii_lowercase();
        let domain = domain
            .strip_prefix("https://")
            .or_else(|| domain.strip_prefix("http://"))
            .unwrap_or(&domain)
            .trim_end_matches('/');
        if domain.contains('.') {
            domain.to_owned()
        } else {
            format!("{domain}.myshopify.com")
        }
    }
    normal(configured) == normal(reported)
}

impl ShopifySource {
    /// Checks the token, that it belongs to the configured shop, that the shop answers, and
    /// the scopes. A token of another shop is `Unauthorized` naming both shops; a missing
    /// scope is `Unauthorized` naming it; scopes the API cannot report are `Scopes::Unknown`.
    pub async fn health_check(&self) -> Result<ShopifyHealth, SourceError> {
        let shop: ShopData = self
            .client
            .run(|_| Query {
                operation: "shop",
                text: SHOP,
                variables: json!({}),
                shape: "health-shop".into(),
                estimated_cost: 1,
            })
            .await?;
        let reported = &shop.shop.myshopify_domain;
        if !same_shop(self.shop_domain(), reported) {
            return Err(SourceError::Unauthorized {
                message: format!(
                    "the access token belongs to the shop {reported}, not to the configured shop_domain {}",
                    self.shop_domain()
                ),
            });
        }
        let scopes = match self
            .client
            .run::<ScopesData, _>(|_| Query {
                operation: "currentAppInstallation",
                text: SCOPES,
                variables: json!({}),
                shape: "health-scopes".into(),
                estimated_cost: 2,
            })
            .await
        {
            Ok(data) => {
                let granted: Vec<String> = data
                    .current_app_installation
                    .access_scopes
                    .into_iter()
                    .map(|h| h.handle)
                    .collect();
                let missing = missing_scopes(&granted);
                if !missing.is_empty() {
                    return Err(SourceError::Unauthorized {
                        message: format!("the app lacks the scopes {}", missing.join(", ")),
                    });
                }
                Scopes::Granted(granted)
            }
            // A schema without the field answers with a validation error.
            Err(SourceError::Rejected { .. }) => Scopes::Unknown,
            Err(other) => return Err(other),
        };
        Ok(ShopifyHealth {
            shop_name: shop.shop.name,
            myshopify_domain: shop.shop.myshopify_domain,
            scopes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_scopes_grant_the_matching_read_scopes() {
        let granted = vec!["write_products".to_owned(), "read_inventory".to_owned()];
        assert_eq!(missing_scopes(&granted), vec!["read_locations"]);
        let all: Vec<String> = REQUIRED_SCOPES.iter().map(|s| s.to_string()).collect();
        assert!(missing_scopes(&all).is_empty());
    }

    #[test]
    fn a_shop_is_the_same_whatever_the_case_scheme_or_handle_form() {
        let reported = "stockbridge-demo.myshopify.com";
        for configured in [
            "stockbridge-demo.myshopify.com",
            "Stockbridge-Demo.myshopify.com",
            "https://stockbridge-demo.myshopify.com/",
            "stockbridge-demo",
        ] {
            assert!(same_shop(configured, reported), "{configured}");
        }
        assert!(!same_shop("other-shop.myshopify.com", reported));
        assert!(!same_shop("stockbridge-demo.example.com", reported));
    }
}
