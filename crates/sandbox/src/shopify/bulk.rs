//! Bulk operations: `bulkOperationRunQuery` snapshots the variants and their levels into a
//! JSONL file served under `/_sandbox/bulk/{id}.jsonl`. Child lines carry `__parentId` and,
//! unless `groupObjects: true`, are scattered among the parents so clients must join by id.
//! A bundle's `productVariantComponents`, when selected, are child lines of its variant.
//!
//! At most [`CONCURRENT_BULK_QUERIES`] operations run at once, as from API 2026-01 whatever
//! version the path names; one more is refused with `LIMIT_REACHED`. A fault on the
//! `bulk_operation` endpoint, when named in `endpoints`, makes an export end `FAILED` with
//! `INTERNAL_SERVER_ERROR`.

mod plan;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::{Enum, Object, SimpleObject, ID};
use serde_json::json;

use self::plan::{plan, Plan};
use super::gid::{gid, level_gid};
use super::schema::components::component_id;
use super::schema::UnsignedInt64;
use super::search::{Search, Target};
use crate::clock;
use crate::faults::{ApiOutcome, Emulator};
use crate::server::Shared;

/// Bulk query operations that may run at once per app and shop (Shopify from API 2026-01).
pub(crate) const CONCURRENT_BULK_QUERIES: usize = 5;

/// The stats and faults name of starting a bulk operation.
const ENDPOINT: &str = "bulk_operation";

#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum BulkOperationType {
    #[default]
    Query,
    Mutation,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BulkOperationStatus {
    Canceled,
    Canceling,
    Completed,
    Created,
    Expired,
    Failed,
    Running,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BulkOperationUserErrorCode {
    Invalid,
    LimitReached,
    OperationInProgress,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BulkOperationErrorCode {
    AccessDenied,
    InternalServerError,
    Timeout,
}

#[derive(SimpleObject)]
pub(crate) struct BulkOperationUserError {
    field: Option<Vec<String>>,
    message: String,
    code: Option<BulkOperationUserErrorCode>,
}

#[derive(SimpleObject)]
pub(crate) struct BulkOperationRunQueryPayload {
    bulk_operation: Option<BulkOperation>,
    user_errors: Vec<BulkOperationUserError>,
}

/// One finished-or-running bulk operation.
struct Record {
    id: u64,
    query: String,
    created_at: i64,
    started: Instant,
    delay: Duration,
    jsonl: Arc<String>,
    object_count: u64,
    root_object_count: u64,
    /// Ends `FAILED` with `INTERNAL_SERVER_ERROR` (an injected fault) rather than `COMPLETED`.
    fails: bool,
}

impl Record {
    fn finished(&self) -> bool {
        self.started.elapsed() >= self.delay
    }
}

#[derive(Default)]
pub(crate) struct BulkOperations {
    records: Vec<Arc<Record>>,
}

/// The GraphQL `BulkOperation`, as seen at one instant.
#[derive(Clone)]
pub(crate) struct BulkOperation {
    record: Arc<Record>,
    base_url: String,
    /// `?shop=DOMAIN` in a sandbox of several shops.
    shop_query: String,
    fresh: bool,
}

impl BulkOperation {
    fn done(&self) -> bool {
        !self.fresh && self.record.finished()
    }

    /// Done and its file served.
    fn completed(&self) -> bool {
        self.done() && !self.record.fails
    }
}

#[Object]
impl BulkOperation {
    pub(crate) async fn id(&self) -> ID {
        ID(gid("BulkOperation", self.record.id))
    }
    async fn status(&self) -> BulkOperationStatus {
        if self.fresh {
            BulkOperationStatus::Created
        } else if !self.done() {
            BulkOperationStatus::Running
        } else if self.record.fails {
            BulkOperationStatus::Failed
        } else {
            BulkOperationStatus::Completed
        }
    }
    async fn error_code(&self) -> Option<BulkOperationErrorCode> {
        (self.done() && self.record.fails).then_some(BulkOperationErrorCode::InternalServerError)
    }
    #[graphql(name = "type")]
    async fn kind(&self) -> BulkOperationType {
        BulkOperationType::Query
    }
    async fn query(&self) -> &str {
        &self.record.query
    }
    async fn created_at(&self) -> String {
        clock::rfc3339_seconds(self.record.created_at.div_euclid(1000))
    }
    async fn completed_at(&self) -> Option<String> {
        let done_at = self.record.created_at + self.record.delay.as_millis() as i64;
        self.done()
            .then(|| clock::rfc3339_seconds(done_at.div_euclid(1000)))
    }
    async fn object_count(&self) -> UnsignedInt64 {
        UnsignedInt64(if self.completed() {
            self.record.object_count
        } else {
            0
        })
    }
    async fn root_object_count(&self) -> UnsignedInt64 {
        UnsignedInt64(if self.completed() {
            self.record.root_object_count
        } else {
            0
        })
    }
    async fn file_size(&self) -> Option<UnsignedInt64> {
        self.completed()
            .then(|| UnsignedInt64(self.record.jsonl.len() as u64))
    }
    async fn url(&self) -> Option<String> {
        self.completed().then(|| {
            format!(
                "{}/_sandbox/bulk/{}.jsonl{}",
                self.base_url, self.record.id, self.shop_query
            )
        })
    }
    async fn partial_data_url(&self) -> Option<String> {
        None
    }
}

fn view(shared: &Shared, record: Arc<Record>) -> BulkOperation {
    BulkOperation {
        record,
        base_url: shared.base_url.clone(),
        shop_query: shared.shop_query.clone(),
        fresh: false,
    }
}

pub(crate) fn find(shared: &Shared, id: u64) -> Option<BulkOperation> {
    let ops = shared.bulk.lock().expect("bulk lock");
    let record = ops.records.iter().find(|r| r.id == id)?.clone();
    Some(view(shared, record))
}

pub(crate) fn current(shared: &Shared) -> Option<BulkOperation> {
    let ops = shared.bulk.lock().expect("bulk lock");
    let record = ops.records.last()?.clone();
    Some(view(shared, record))
}

/// The JSONL of a completed operation.
pub(crate) fn file(shared: &Shared, id: u64) -> Option<Arc<String>> {
    let ops = shared.bulk.lock().expect("bulk lock");
    let record = ops.records.iter().find(|r| r.id == id)?;
    (record.finished() && !record.fails).then(|| record.jsonl.clone())
}

fn user_error(message: String) -> BulkOperationRunQueryPayload {
    BulkOperationRunQueryPayload {
        bulk_operation: None,
        user_errors: vec![BulkOperationUserError {
            field: Some(vec!["query".to_owned()]),
            message,
            code: Some(BulkOperationUserErrorCode::Invalid),
        }],
    }
}

fn limit_reached() -> BulkOperationRunQueryPayload {
    BulkOperationRunQueryPayload {
        bulk_operation: None,
        user_errors: vec![BulkOperationUserError {
            field: None,
            message: format!(
                "Bulk operations limit reached: {CONCURRENT_BULK_QUERIES} bulk query operations are already running for this app and shop. Please try again later."
            ),
            code: Some(BulkOperationUserErrorCode::LimitReached),
        }],
    }
}

/// Whether an injected fault makes this export fail: only when `bulk_operation` is named in
/// the Shopify faults' `endpoints`, so that faults set for every endpoint keep their draws.
fn draws_failure(shared: &Shared) -> bool {
    let named = shared.faults.get().shopify.is_some_and(|api| {
        api.endpoints
            .is_some_and(|endpoints| endpoints.iter().any(|e| e == ENDPOINT))
    });
    named && shared.faults.api(Emulator::Shopify, ENDPOINT).1 == ApiOutcome::Error
}

/// Starts a bulk query; the snapshot is taken now and completes after `bulk_delay`. Refused
/// with `LIMIT_REACHED` while [`CONCURRENT_BULK_QUERIES`] others run.
pub(crate) fn run_query(
    shared: &Arc<Shared>,
    text: &str,
    group_objects: bool,
) -> BulkOperationRunQueryPayload {
    let plan = match plan(text) {
        Ok(plan) => plan,
        Err(message) => return user_error(message),
    };
    let (lines, roots) = snapshot(shared, &plan);
    let object_count = lines.len() as u64;
    let ordered = if group_objects { lines } else { scatter(lines) };
    let mut jsonl = String::new();
    for line in ordered {
        jsonl.push_str(&line.1);
        jsonl.push('\n');
    }
    let mut ops = shared.bulk.lock().expect("bulk lock");
    let running = ops.records.iter().filter(|r| !r.finished()).count();
    if running >= CONCURRENT_BULK_QUERIES {
        drop(ops);
        shared.stats.shopify(ENDPOINT, "limit_reached");
        return limit_reached();
    }
    let fails = draws_failure(shared);
    let record = Arc::new(Record {
        id: ops.records.len() as u64 + 1,
        query: text.to_owned(),
        created_at: clock::now_millis(),
        started: Instant::now(),
        delay: shared.options.bulk_delay,
        jsonl: Arc::new(jsonl),
        object_count,
        root_object_count: roots,
        fails,
    });
    ops.records.push(record.clone());
    drop(ops);
    shared.stats.shopify(ENDPOINT, "created");
    let mut op = view(shared, record);
    op.fresh = true;
    BulkOperationRunQueryPayload {
        bulk_operation: Some(op),
        user_errors: Vec::new(),
    }
}

/// `(is_child, line)` in variant order, each variant followed by its levels.
fn snapshot(shared: &Shared, plan: &Plan) -> (Vec<(bool, String)>, u64) {
    let world = shared.world();
    let store = &world.shopify;
    let search = plan
        .search
        .as_deref()
        .map(|q| Search::parse(q, Target::Variants));
    let mut lines = Vec::with_capacity(store.variant_count() * 3);
    let mut roots = 0;
    for &(_, index) in store.sorted_variants() {
        let record = store.variant_at(index);
        if search.as_ref().is_some_and(|s| !s.matches(record)) {
            continue;
        }
        roots += 1;
        let v = &record.variant;
        let variant_gid = gid("ProductVariant", v.id);
        let policy = match v.inventory_policy {
            crate::fixture::InventoryPolicy::Deny => "DENY",
            crate::fixture::InventoryPolicy::Continue => "CONTINUE",
        };
        let status = format!("{:?}", v.product_status).to_ascii_uppercase();
        let mut line = json!({
            "id": variant_gid,
            "sku": v.sku,
            "inventoryPolicy": policy,
            "product": {"id": gid("Product", v.product_id), "status": status},
            "inventoryItem": {"id": gid("InventoryItem", v.inventory_item_id), "tracked": v.tracked},
        });
        if plan.requires_components {
            line["requiresComponents"] = json!(!v.components.is_empty());
        }
        lines.push((false, line.to_string()));
        if plan.components {
            for (i, c) in v.components.iter().enumerate() {
                let line = json!({
                    "id": gid("ProductVariantComponent", component_id(v.id, i)),
                    "quantity": c.quantity,
                    "productVariant": {"id": gid("ProductVariant", c.variant_id)},
                    "__parentId": variant_gid,
                });
                lines.push((true, line.to_string()));
            }
        }
        for (level, at) in v.levels.iter().zip(&record.level_updated_at) {
            let quantities: Vec<_> = plan
                .names
                .iter()
                .map(|name| {
                    let quantity = if matches!(name.as_str(), "available" | "on_hand") {
                        level.available
                    } else {
                        0
                    };
                    json!({"name": name, "quantity": quantity})
                })
                .collect();
            let line = json!({
                "id": level_gid(v.inventory_item_id, level.location_id),
                "updatedAt": crate::clock::rfc3339_seconds(at.div_euclid(1000)),
                "location": {"id": gid("Location", level.location_id)},
                "quantities": quantities,
                "__parentId": variant_gid,
            });
            lines.push((true, line.to_string()));
        }
    }
    (lines, roots)
}

/// A deterministic shuffle: children land before, between and after parents.
fn scatter(lines: Vec<(bool, String)>) -> Vec<(bool, String)> {
    let mut keyed: Vec<(u64, (bool, String))> = lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            (
                (i as u64)
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .rotate_left(17),
                line,
            )
        })
        .collect();
    keyed.sort_unstable_by_key(|(key, _)| *key);
    keyed.into_iter().map(|(_, line)| line).collect()
}
