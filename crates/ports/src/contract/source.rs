use stockbridge_domain::{
    Component, InventoryItemId, InventoryPolicy, Location, LocationId, ProductStatus, Sku,
    StockLevel, VariantId, VariantSnapshot,
};

use crate::source::InventorySource;

fn level(location: u64, available: i64) -> StockLevel {
    StockLevel {
        location: LocationId::new(location).unwrap(),
        available,
        updated_at: None,
    }
}

fn variant(id: u64, sku: Option<&str>, levels: Vec<StockLevel>) -> VariantSnapshot {
    VariantSnapshot {
        variant_id: VariantId::new(id).unwrap(),
        inventory_item_id: InventoryItemId::new(id + 900).unwrap(),
        sku: sku.map(|s| Sku::new(s).unwrap()),
        tracked: true,
        policy: InventoryPolicy::Deny,
        product_status: ProductStatus::Active,
        components: None,
        levels,
    }
}

/// The shop a source under contract must hold: three locations (one inactive) and eight
/// variants covering untracked, continue-selling, negative, blank-SKU, duplicate-SKU, draft and
/// bundle cases (108 is 2 × 101 + 1 × 107, with no levels of its own). Variant `N` has
/// inventory item `N + 900`.
pub fn source_seed() -> (Vec<Location>, Vec<VariantSnapshot>) {
    let locations = vec![
        Location {
            id: LocationId::new(1).unwrap(),
            name: "East".into(),
            active: true,
        },
        Location {
            id: LocationId::new(2).unwrap(),
            name: "West".into(),
            active: true,
        },
        Location {
            id: LocationId::new(3).unwrap(),
            name: "Closed".into(),
            active: false,
        },
    ];
    let mut untracked = variant(103, Some("CT-MUG"), vec![]);
    untracked.tracked = false;
    let mut continues = variant(104, Some("CT-CAP"), vec![level(2, 0)]);
    continues.policy = InventoryPolicy::Continue;
    let mut draft = variant(106, Some("CT-TEE-S"), vec![level(2, 1)]);
    draft.product_status = ProductStatus::Draft;
    let mut kit = variant(108, Some("CT-KIT"), vec![]);
    let part = |id: u64, quantity: u32| Component {
        variant_id: VariantId::new(id).unwrap(),
        quantity: std::num::NonZeroU32::new(quantity).unwrap(),
    };
    kit.components = Some(vec![part(101, 2), part(107, 1)]);
    let variants = vec![
        variant(101, Some("CT-TEE-S"), vec![level(1, 10), level(2, 5)]),
        variant(102, Some("CT-TEE-M"), vec![level(1, -3), level(3, 7)]),
        untracked,
        continues,
        variant(105, None, vec![level(1, 4)]),
        draft,
        variant(
            107,
            Some("CT-SOCK"),
            vec![level(1, 0), level(2, 0), level(3, 0)],
        ),
        kit,
    ];
    (locations, variants)
}

/// Variants by id, levels by location, without the levels' times (each source gives its
/// own, or none).
fn normalised(mut variants: Vec<VariantSnapshot>) -> Vec<VariantSnapshot> {
    for v in &mut variants {
        v.levels.sort_by_key(|l| l.location);
        for level in &mut v.levels {
            level.updated_at = None;
        }
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
