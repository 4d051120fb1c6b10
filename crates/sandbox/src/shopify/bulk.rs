//! Bulk operations: `bulkOperationRunQuery` snapshots the variants and their levels into a
//! JSONL file served under `/_sandbox/bulk/{id}.jsonl`. Child lines carry `__parentId` and,
//! unless `groupObjects: true`, are scattered among the parents so clients must join by id.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::parser::types::{OperationType, Selection, SelectionSet};
use async_graphql::{Enum, Object, SimpleObject, Value, ID};
use serde_json::json;

use super::gid::{gid, level_gid};
use super::schema::UnsignedInt64;
use super::search::{Search, Target};
use crate::clock;
use crate::server::Shared;

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
    OperationInProgress,
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
    fresh: bool,
}

impl BulkOperation {
    fn done(&self) -> bool {
        !self.fresh && self.record.started.elapsed() >= self.record.delay
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
        } else if self.done() {
            BulkOperationStatus::Completed
        } else {
            BulkOperationStatus::Running
        }
    }
    async fn error_code(&self) -> Option<String> {
        None
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
        UnsignedInt64(if self.done() {
            self.record.object_count
        } else {
            0
        })
    }
    async fn root_object_count(&self) -> UnsignedInt64 {
        UnsignedInt64(if self.done() {
            self.record.root_object_count
        } else {
            0
        })
    }
    async fn file_size(&self) -> Option<UnsignedInt64> {
        self.done()
            .then(|| UnsignedInt64(self.record.jsonl.len() as u64))
    }
    async fn url(&self) -> Option<String> {
        self.done()
            .then(|| format!("{}/_sandbox/bulk/{}.jsonl", self.base_url, self.record.id))
    }
    async fn partial_data_url(&self) -> Option<String> {
        None
    }
}

fn view(shared: &Shared, record: Arc<Record>) -> BulkOperation {
    BulkOperation {
        record,
        base_url: shared.base_url.clone(),
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
    (record.started.elapsed() >= record.delay).then(|| record.jsonl.clone())
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

/// What the bulk query asks for: the root connection, its `query:` filter and quantity names.
struct Plan {
    search: Option<String>,
    names: Vec<String>,
}

fn plan(text: &str) -> Result<Plan, String> {
    let doc =
        async_graphql::parser::parse_query(text).map_err(|e| format!("Invalid bulk query: {e}"))?;
    let (_, op) = doc
        .operations
        .iter()
        .next()
        .ok_or("Invalid bulk query: no operation")?;
    if op.node.ty != OperationType::Query {
        return Err("Bulk queries must be queries, not mutations or subscriptions.".to_owned());
    }
    let roots: Vec<_> = op
        .node
        .selection_set
        .node
        .items
        .iter()
        .filter_map(|item| match &item.node {
            Selection::Field(f) => Some(&f.node),
            _ => None,
        })
        .collect();
    let [root] = roots.as_slice() else {
        return Err("Bulk queries must have exactly one top-level field.".to_owned());
    };
    match root.name.node.as_str() {
        "productVariants" => {}
        "node" | "nodes" => {
            return Err(
                "Bulk queries cannot use the top-level `node` or `nodes` fields.".to_owned(),
            )
        }
        other => {
            return Err(format!(
                "The sandbox runs bulk queries over `productVariants` only, not `{other}`."
            ))
        }
    }
    let search = root
        .get_argument("query")
        .and_then(|v| v.node.clone().into_const())
        .and_then(|v| match v {
            Value::String(s) => Some(s),
            _ => None,
        });
    let mut names = Vec::new();
    find_quantity_names(&root.selection_set.node, &mut names);
    if names.is_empty() {
        names.push("available".to_owned());
    }
    Ok(Plan { search, names })
}

fn find_quantity_names(set: &SelectionSet, out: &mut Vec<String>) {
    for item in &set.items {
        let inner = match &item.node {
            Selection::Field(f) => {
                if f.node.name.node == "quantities" {
                    let names = f
                        .node
                        .get_argument("names")
                        .and_then(|v| v.node.clone().into_const());
                    if let Some(Value::List(list)) = names {
                        out.extend(list.iter().filter_map(|v| match v {
                            Value::String(s) => Some(s.clone()),
                            _ => None,
                        }));
                    }
                }
                &f.node.selection_set.node
            }
            Selection::InlineFragment(f) => &f.node.selection_set.node,
            Selection::FragmentSpread(_) => continue,
        };
        find_quantity_names(inner, out);
    }
}

/// Starts a bulk query; the snapshot is taken now and completes after `bulk_delay`.
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
    let record = Arc::new(Record {
        id: ops.records.len() as u64 + 1,
        query: text.to_owned(),
        created_at: clock::now_millis(),
        started: Instant::now(),
        delay: shared.options.bulk_delay,
        jsonl: Arc::new(jsonl),
        object_count,
        root_object_count: roots,
    });
    ops.records.push(record.clone());
    drop(ops);
    shared.stats.shopify("bulk_operation", "created");
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
        let line = json!({
            "id": variant_gid,
            "sku": v.sku,
            "inventoryPolicy": policy,
            "product": {"id": gid("Product", v.product_id), "status": status},
            "inventoryItem": {"id": gid("InventoryItem", v.inventory_item_id), "tracked": v.tracked},
        });
        lines.push((false, line.to_string()));
        for level in &v.levels {
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
