use stockbridge_domain::{
    InventoryItemId, InventoryPolicy, Location, ProductStatus, VariantSnapshot,
};

use crate::fakes::shop::{bundle, location, variant};
use crate::source::InventorySource;

/// The shop a source under contract must hold: three locations (one inactive) and eight
/// variants covering untracked, continue-selling, negative, blank-SKU, duplicate-SKU, draft and
/// bundle cases (108 is 2 × 101 + 1 × 107, with no levels of its own). Variant `N` has
/// inventory item `N + 900`.
pub fn source_seed() -> (Vec<Location>, Vec<VariantSnapshot>) {
    let locations = vec![
        location(1, "East"),
        location(2, "West"),
        Location {
            active: false,
            ..location(3, "Closed")
        },
    ];
    let variants = vec![
        variant(101, "CT-TEE-S", &[(1, 10), (2, 5)]),
        variant(102, "CT-TEE-M", &[(1, -3), (3, 7)]),
        VariantSnapshot {
            tracked: false,
            ..variant(103, "CT-MUG", &[])
        },
        VariantSnapshot {
            policy: InventoryPolicy::Continue,
            ..variant(104, "CT-CAP", &[(2, 0)])
        },
        variant(105, "", &[(1, 4)]),
        VariantSnapshot {
            product_status: ProductStatus::Draft,
            ..variant(106, "CT-TEE-S", &[(2, 1)])
        },
        variant(107, "CT-SOCK", &[(1, 0), (2, 0), (3, 0)]),
        bundle(108, "CT-KIT", &[(101, 2), (107, 1)]),
    ];
    let variants = variants
        .into_iter()
        .map(|v| VariantSnapshot {
            inventory_item_id: InventoryItemId::new(v.variant_id.get() + 900).unwrap(),
            ..v
        })
        .collect();
    (locations, variants)
}

fn normalised(mut variants: Vec<VariantSnapshot>) -> Vec<VariantSnapshot> {
    for v in &mut variants {
        v.levels.sort_by_key(|l| l.location);
    }
    variants.sort_by_key(|v| v.variant_id);
    variants
}

/// Checks a source that holds exactly [`source_seed`].
pub async fn source_contract<S: InventorySource + ?Sized>(source: &S) {
    let (locations, variants) = source_seed();
    let expected = normalised(variants);

    let mut got = source.locations().await.expect("locations() must succeed");
    got.sort_by_key(|l| l.id);
    assert_eq!(
        got, locations,
        "locations() must return every location, active or not"
    );

    let mut paged = Vec::new();
    let mut cursor = None;
    for _ in 0..=expected.len() + 1 {
        let page = source
            .variants_page(cursor)
            .await
            .expect("variants_page() must succeed");
        paged.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert!(cursor.is_none(), "variants_page() must reach a last page");
    assert_eq!(
        normalised(paged),
        expected,
        "the pages together must hold every variant exactly once, with all of its levels"
    );

    let all = source
        .all_variants()
        .await
        .expect("all_variants() must succeed");
    assert_eq!(
        normalised(all),
        expected,
        "all_variants() must equal the paged read"
    );

    let wanted = [
        InventoryItemId::new(1002).unwrap(),
        InventoryItemId::new(1003).unwrap(),
        InventoryItemId::new(1008).unwrap(),
        InventoryItemId::new(424_242).unwrap(),
    ];
    let some = source
        .variants_for_items(&wanted)
        .await
        .expect("variants_for_items() must succeed");
    let ids: Vec<u64> = normalised(some.clone())
        .iter()
        .map(|v| v.variant_id.get())
        .collect();
    assert_eq!(
        ids,
        vec![102, 103, 108],
        "variants_for_items() must return exactly the known items"
    );
    let by_id = |id: u64| {
        expected
            .iter()
            .find(|v| v.variant_id.get() == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        normalised(some),
        vec![by_id(102), by_id(103), by_id(108)],
        "incremental reads must equal full reads, a bundle's components included"
    );

    let none = source
        .variants_for_items(&[])
        .await
        .expect("an empty read must succeed");
    assert!(
        none.is_empty(),
        "variants_for_items(&[]) must return nothing"
    );
}
