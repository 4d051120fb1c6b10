use crate::seed::*;
use crate::*;

#[test]
fn shared_sku_that_tiktok_lacks_counts_its_variants_as_unmatched() {
    let variants = vec![
        variant(101, "DUP", &[(1, 4)]),
        variant(102, "DUP", &[(1, 9)]),
        variant(103, "ONLY-SHOPIFY", &[(1, 1)]),
    ];
    let tiktok = vec![tiktok("9001", "1", "OTHER", &[("7001", 0)])];
    let m = match_skus(&variants, &tiktok);
    assert!(m.pairs.is_empty());
    assert_eq!((m.unmatched_variants, m.ambiguous), (3, 0));
    assert_eq!(
        m.warnings
            .iter()
            .find(|w| matches!(w, Warning::UnmatchedVariants { .. })),
        Some(&Warning::UnmatchedVariants {
            count: 3,
            examples: vec![
                "DUP (variant 101, shared SKU)".into(),
                "DUP (variant 102, shared SKU)".into(),
                "ONLY-SHOPIFY".into(),
            ],
        })
    );
    assert!(
        !m.warnings
            .iter()
            .any(|w| matches!(w, Warning::AmbiguousSku { .. })),
        "no TikTok SKU is left untouched: {:?}",
        m.warnings
    );
}

#[test]
fn shared_sku_that_tiktok_carries_is_ambiguous_not_unmatched() {
    let variants = vec![
        variant(101, "DUP", &[(1, 4)]),
        variant(102, "DUP", &[(1, 9)]),
    ];
    let tiktok = vec![
        tiktok("9001", "1", "DUP", &[("7001", 3)]),
        tiktok("9002", "2", " DUP ", &[("7001", 3)]),
    ];
    let m = match_skus(&variants, &tiktok);
    assert!(m.pairs.is_empty(), "never guessed");
    assert_eq!((m.unmatched_variants, m.ambiguous), (0, 2));
    assert_eq!(
        m.warnings,
        vec![Warning::AmbiguousSku {
            sku: "DUP".into(),
            variants: vec![VariantId::new(101).unwrap(), VariantId::new(102).unwrap()],
            tiktok_skus: vec![SkuId::new("1").unwrap(), SkuId::new("2").unwrap()],
        }]
    );
}

#[test]
fn every_shared_sku_that_tiktok_carries_gets_its_own_warning() {
    let variants = vec![
        variant(101, "B", &[]),
        variant(102, "A", &[]),
        variant(103, "B", &[]),
        variant(104, "A", &[]),
        variant(105, "C", &[]),
    ];
    let tiktok = vec![
        tiktok("9001", "1", "A", &[("7001", 0)]),
        tiktok("9001", "2", "B", &[("7001", 0)]),
        tiktok("9001", "3", "C", &[("7001", 0)]),
    ];
    let m = match_skus(&variants, &tiktok);
    let ambiguous: Vec<&str> = m
        .warnings
        .iter()
        .filter_map(|w| match w {
            Warning::AmbiguousSku { sku, .. } => Some(sku.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ambiguous, vec!["A", "B"]);
    assert_eq!(m.pairs, vec![(4, 2)]);
    assert_eq!((m.unmatched_variants, m.ambiguous), (0, 2));
}
