//! Injected trouble: latency, errors and throttling per emulator, and webhook duplication,
//! reordering, delay and loss. Decisions come from a seedable RNG so a run can be replayed.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// The faults in force (`POST /_sandbox/faults`); every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Seed of the RNG that draws every fault decision; a fresh random seed when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Faults of the Shopify GraphQL endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shopify: Option<ApiFaults>,
    /// Faults of the TikTok endpoints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tiktok: Option<ApiFaults>,
    /// Faults of webhook delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<WebhookFaults>,
}

/// Faults of one emulator's API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiFaults {
    /// Added to every answer; at most [`MAX_FAULT_DELAY_MS`].
    pub latency_ms: u64,
    /// Up to this much more, drawn uniformly; at most [`MAX_FAULT_DELAY_MS`].
    pub jitter_ms: u64,
    /// Share of requests answered with a 5xx in the platform's error shape.
    pub error_rate: f64,
    /// Share of requests answered as throttled (Shopify `THROTTLED`, TikTok 36009002 / 429).
    pub throttle_rate: f64,
    /// Only these endpoints (stats names, e.g. `inventory_update`, `graphql`); all when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Vec<String>>,
}

/// Faults of webhook delivery.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookFaults {
    /// Share of deliveries sent twice (same event id, new webhook id).
    pub duplicate_rate: f64,
    /// Share of deliveries held back so that later ones overtake them.
    pub reorder_rate: f64,
    /// Delay before every delivery; at most [`MAX_FAULT_DELAY_MS`].
    pub delay_ms: u64,
    /// Share of deliveries never sent.
    pub drop_rate: f64,
}

/// The longest latency, jitter or webhook delay a fault may add, in milliseconds (one minute).
pub const MAX_FAULT_DELAY_MS: u64 = 60_000;

/// The Shopify endpoints faults apply to, by their stats names (`bulk_operation` fails
/// bulk exports; see the crate README).
pub const SHOPIFY_FAULT_ENDPOINTS: &[&str] = &["graphql", "bulk_operation"];

/// The TikTok endpoints faults apply to, by their stats names: every signed endpoint (the
/// token endpoints are never faulted).
pub const TIKTOK_FAULT_ENDPOINTS: &[&str] = &[
    "shops",
    "warehouses",
    "product_search",
    "inventory_search",
    "inventory_update",
];

impl Faults {
    /// Checks that every rate lies in 0..=1, every latency, jitter and delay in
    /// 0..=[`MAX_FAULT_DELAY_MS`], and every endpoint is one faults apply to
    /// ([`SHOPIFY_FAULT_ENDPOINTS`], [`TIKTOK_FAULT_ENDPOINTS`]); the error names the key, its
    /// value and what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        let mut rates = Vec::new();
        let mut delays = Vec::new();
        for (name, api, known) in [
            ("shopify", &self.shopify, SHOPIFY_FAULT_ENDPOINTS),
            ("tiktok", &self.tiktok, TIKTOK_FAULT_ENDPOINTS),
        ] {
            if let Some(api) = api {
                let endpoints = api.endpoints.iter().flatten();
                if let Some(unknown) = endpoints.into_iter().find(|e| !known.contains(&e.as_str()))
                {
                    return Err(format!(
                        "{name}.endpoints names {unknown:?}, which no fault applies to; allowed: {}",
                        known.join(", ")
                    ));
                }
                rates.push((format!("{name}.error_rate"), api.error_rate));
                rates.push((format!("{name}.throttle_rate"), api.throttle_rate));
                delays.push((format!("{name}.latency_ms"), api.latency_ms));
                delays.push((format!("{name}.jitter_ms"), api.jitter_ms));
            }
        }
        if let Some(w) = &self.webhooks {
            rates.push(("webhooks.duplicate_rate".to_owned(), w.duplicate_rate));
            rates.push(("webhooks.reorder_rate".to_owned(), w.reorder_rate));
            rates.push(("webhooks.drop_rate".to_owned(), w.drop_rate));
            delays.push(("webhooks.delay_ms".to_owned(), w.delay_ms));
        }
        for (key, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{key} is {rate}; allowed: 0.0 to 1.0"));
            }
        }
        for (key, ms) in delays {
            if ms > MAX_FAULT_DELAY_MS {
                return Err(format!("{key} is {ms}; allowed: 0 to {MAX_FAULT_DELAY_MS}"));
            }
        }
        Ok(())
    }
}

/// What to do to one API request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiOutcome {
    Normal,
    Error,
    Throttle,
}

/// What to do to one webhook delivery.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeliveryPlan {
    pub(crate) delay: Duration,
    pub(crate) copies: u32,
    pub(crate) dropped: bool,
}

pub(crate) enum Emulator {
    Shopify,
    TikTok,
}

pub(crate) struct FaultState {
    inner: Mutex<(Faults, StdRng)>,
}

impl Default for FaultState {
    fn default() -> Self {
        FaultState {
            inner: Mutex::new((Faults::default(), StdRng::from_entropy())),
        }
    }
}

impl FaultState {
    pub(crate) fn get(&self) -> Faults {
        self.inner.lock().expect("faults lock").0.clone()
    }

    pub(crate) fn set(&self, faults: Faults) {
        let rng = match faults.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_entropy(),
        };
        *self.inner.lock().expect("faults lock") = (faults, rng);
    }

    /// Draws the latency and outcome of one request to `endpoint`.
    pub(crate) fn api(&self, emulator: Emulator, endpoint: &str) -> (Duration, ApiOutcome) {
        let mut guard = self.inner.lock().expect("faults lock");
        let (faults, rng) = &mut *guard;
        let api = match emulator {
            Emulator::Shopify => &faults.shopify,
            Emulator::TikTok => &faults.tiktok,
        };
        let Some(api) = api else {
            return (Duration::ZERO, ApiOutcome::Normal);
        };
        if let Some(endpoints) = &api.endpoints {
            if !endpoints.iter().any(|e| e == endpoint) {
                return (Duration::ZERO, ApiOutcome::Normal);
            }
        }
        let jitter = if api.jitter_ms > 0 {
            rng.gen_range(0..=api.jitter_ms)
        } else {
            0
        };
        // Faults set in process (`RunningSandbox::set_faults`) skip `validate`: saturate.
        let delay = Duration::from_millis(api.latency_ms.saturating_add(jitter));
        let outcome = if chance(rng, api.error_rate) {
            ApiOutcome::Error
        } else if chance(rng, api.throttle_rate) {
            ApiOutcome::Throttle
        } else {
            ApiOutcome::Normal
        };
        (delay, outcome)
    }

    /// Draws how one webhook delivery goes.
    pub(crate) fn delivery(&self) -> DeliveryPlan {
        let mut guard = self.inner.lock().expect("faults lock");
        let (faults, rng) = &mut *guard;
        let Some(w) = &faults.webhooks else {
            return DeliveryPlan {
                delay: Duration::ZERO,
                copies: 1,
                dropped: false,
            };
        };
        let mut delay = w.delay_ms;
        if chance(rng, w.reorder_rate) {
            delay = delay.saturating_add(REORDER_HOLD_MS + rng.gen_range(0..=REORDER_HOLD_MS));
        }
        let copies = if chance(rng, w.duplicate_rate) { 2 } else { 1 };
        let dropped = chance(rng, w.drop_rate);
        DeliveryPlan {
            delay: Duration::from_millis(delay),
            copies,
            dropped,
        }
    }
}

/// How long a reordered delivery is held back at least.
const REORDER_HOLD_MS: u64 = 150;

/// True with probability `rate`; rates outside 0..=1 (or NaN) are clamped.
fn chance(rng: &mut StdRng, rate: f64) -> bool {
    if rate.is_nan() || rate <= 0.0 {
        false
    } else if rate >= 1.0 {
        true
    } else {
        rng.gen_bool(rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturates_latency_and_delay_set_in_process_beyond_u64() {
        let state = FaultState::default();
        state.set(Faults {
            seed: Some(7),
            shopify: Some(ApiFaults {
                latency_ms: u64::MAX,
                jitter_ms: u64::MAX,
                ..ApiFaults::default()
            }),
            webhooks: Some(WebhookFaults {
                delay_ms: u64::MAX,
                reorder_rate: 1.0,
                ..WebhookFaults::default()
            }),
            ..Faults::default()
        });
        for _ in 0..20 {
            let (delay, _) = state.api(Emulator::Shopify, "graphql");
            assert_eq!(delay, Duration::from_millis(u64::MAX));
            assert_eq!(state.delivery().delay, Duration::from_millis(u64::MAX));
        }
    }

    #[test]
    fn refuses_an_endpoint_no_fault_applies_to_naming_the_allowed_ones() {
        let on = |tiktok: &[&str]| Faults {
            tiktok: Some(ApiFaults {
                error_rate: 1.0,
                endpoints: Some(tiktok.iter().map(|e| (*e).to_owned()).collect()),
                ..ApiFaults::default()
            }),
            ..Faults::default()
        };
        assert_eq!(on(&["inventory_update", "shops"]).validate(), Ok(()));
        assert_eq!(
            on(&["inventory_update", "inventory_updates"]).validate(),
            Err(
                "tiktok.endpoints names \"inventory_updates\", which no fault applies to; \
                 allowed: shops, warehouses, product_search, inventory_search, inventory_update"
                    .to_owned()
            )
        );
        assert!(
            on(&["token_refresh"]).validate().is_err(),
            "tokens are never faulted"
        );
    }

    #[test]
    fn validates_delays_up_to_one_minute() {
        let at = |ms| Faults {
            tiktok: Some(ApiFaults {
                latency_ms: ms,
                ..ApiFaults::default()
            }),
            ..Faults::default()
        };
        assert_eq!(at(MAX_FAULT_DELAY_MS).validate(), Ok(()));
        assert_eq!(
            at(MAX_FAULT_DELAY_MS + 1).validate(),
            Err("tiktok.latency_ms is 60001; allowed: 0 to 60000".to_owned())
        );
    }
}
