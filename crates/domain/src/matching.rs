//! Matching Shopify variants to TikTok SKUs (sync-rules.md §3): by SKU, trimmed,
//! case-sensitive; never guessing when a SKU is ambiguous.

use std::collections::{HashMap, HashSet};

use crate::catalog::{TikTokSku, VariantSnapshot};
use crate::warning::{Warning, WARNING_EXAMPLES};

/// Which variant feeds which TikTok SKU, by position in the inputs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Matching {
    /// `(variant index, TikTok SKU index)` pairs, in TikTok catalog order.
    pub pairs: Vec<(usize, usize)>,
    /// TikTok SKUs left untouched because their SKU is ambiguous in Shopify.
    pub ambiguous: usize,
    /// The ambiguous SKUs themselves (carried by TikTok, shared by several variants), sorted.
    pub ambiguous_skus: Vec<String>,
    /// Variants with a SKU that no TikTok SKU carries, including variants that share their
    /// SKU with another variant.
    pub unmatched_variants: usize,
    /// TikTok SKUs that no variant feeds.
    pub unmatched_tiktok_skus: usize,
    /// What the merchant should know.
    pub warnings: Vec<Warning>,
}

impl TikTokSku {
    /// The SKU a variant must carry to feed this TikTok SKU: its seller SKU, trimmed.
    pub fn sku_key(&self) -> &str {
        self.seller_sku.trim()
    }
}

/// Matches variants to TikTok SKUs.
pub fn match_skus(variants: &[VariantSnapshot], tiktok: &[TikTokSku]) -> Matching {
    let mut by_sku: HashMap<&str, Vec<usize>> = HashMap::with_capacity(variants.len());
    let mut without_sku = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        match &v.sku {
            Some(sku) => by_sku.entry(sku.as_str()).or_default().push(i),
            None => without_sku.push(v.variant_id),
        }
    }

    let mut matching = Matching::default();
    let mut matched_count = vec![0usize; variants.len()];
    let mut ambiguous: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut unmatched_tiktok = Vec::new();
    for (t, sku) in tiktok.iter().enumerate() {
        let key = sku.sku_key();
        match by_sku.get(key).map(Vec::as_slice) {
            Some([v]) => {
                matching.pairs.push((*v, t));
                matched_count[*v] += 1;
            }
            Some(_) => ambiguous.entry(key).or_default().push(t),
            None => unmatched_tiktok.push(t),
        }
    }

    let mut ambiguous: Vec<_> = ambiguous.into_iter().collect();
    ambiguous.sort();
    for (sku, ts) in ambiguous {
        matching.ambiguous += ts.len();
        matching.ambiguous_skus.push(sku.to_owned());
        matching.warnings.push(Warning::AmbiguousSku {
            sku: sku.to_owned(),
            variants: by_sku[sku]
                .iter()
                .map(|&v| variants[v].variant_id)
                .collect(),
            tiktok_skus: ts.iter().map(|&t| tiktok[t].sku_id.clone()).collect(),
        });
    }
    for (v, &count) in matched_count.iter().enumerate() {
        if count > 1 {
            let sku = variants[v]
                .sku
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            let tiktok_skus = matching
                .pairs
                .iter()
                .filter(|(pv, _)| *pv == v)
                .map(|&(_, t)| tiktok[t].sku_id.clone())
                .collect();
            matching
                .warnings
                .push(Warning::OfferedMoreThanOnce { sku, tiktok_skus });
        }
    }

    // A variant is unmatched when no TikTok SKU carries its SKU, shared or not: a shared SKU
    // that TikTok carries is ambiguous (warned above), one that TikTok lacks is unmatched.
    let carried: HashSet<&str> = tiktok.iter().map(TikTokSku::sku_key).collect();
    let unmatched: Vec<String> = variants
        .iter()
        .filter_map(|v| {
            let sku = v.sku.as_ref()?.as_str();
            if carried.contains(sku) {
                None
            } else if by_sku[sku].len() > 1 {
                Some(format!("{sku} (variant {}, shared SKU)", v.variant_id))
            } else {
                Some(sku.to_owned())
            }
        })
        .collect();
    matching.unmatched_variants = unmatched.len();
    if !unmatched.is_empty() {
        matching.warnings.push(Warning::UnmatchedVariants {
            count: unmatched.len(),
            examples: unmatched.into_iter().take(WARNING_EXAMPLES).collect(),
        });
    }
    if !without_sku.is_empty() {
        matching.warnings.push(Warning::VariantsWithoutSku {
            count: without_sku.len(),
            examples: without_sku.iter().take(WARNING_EXAMPLES).copied().collect(),
        });
    }
    matching.unmatched_tiktok_skus = unmatched_tiktok.len();
    if !unmatched_tiktok.is_empty() {
        matching.warnings.push(Warning::UnmatchedTikTokSkus {
            count: unmatched_tiktok.len(),
            examples: unmatched_tiktok
                .iter()
                .take(WARNING_EXAMPLES)
                .map(|&t| format!("{} ({})", tiktok[t].seller_sku.trim(), tiktok[t].sku_id))
                .collect(),
        });
    }
    matching
}

#[cfg(test)]
mod tests;
