//! Calculated query cost and the leaky bucket that pays for it (shopify-api.md §5.1).
//!
//! Requested cost: scalars and enums 0, objects 1, a connection (any field with `first`/`last`)
//! 2 + `first` × the cost of one node (its `nodes` or `edges { node }` selection, object itself
//! included), a list fetched by ids (`nodes(ids:)`) the number of ids × the cost of one object,
//! mutation fields 10. Actual cost is counted on the answer the same way, so it is
//! never above the requested cost.

use std::collections::HashSet;
use std::time::Instant;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Value, Variables};
use serde_json::json;

/// The most a single query may request.
pub(crate) const MAX_QUERY_COST: u64 = 1000;
/// What a mutation field costs.
const MUTATION_COST: u64 = 10;

/// The per-app-and-shop leaky bucket.
pub(crate) struct Bucket {
    maximum: f64,
    restore_rate: f64,
    available: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new(maximum: f64, restore_rate: f64) -> Bucket {
        Bucket {
            maximum,
            restore_rate,
            available: maximum,
            last: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.available = (self.available + elapsed * self.restore_rate).min(self.maximum);
    }

    /// The most one query may request: the single query limit, or less when the bucket is
    /// smaller (a dearer query could never be paid for and would be throttled for ever).
    pub(crate) fn max_query_cost(&self) -> u64 {
        // `as` saturates: a bucket of 1e300 points still allows MAX_QUERY_COST.
        MAX_QUERY_COST.min(self.maximum.floor() as u64)
    }

    /// Takes `cost` points if the bucket holds them.
    pub(crate) fn try_take(&mut self, cost: u64) -> bool {
        self.refill();
        if self.available >= cost as f64 {
            self.available -= cost as f64;
            true
        } else {
            false
        }
    }

    /// Leaves less than `cost` points in the bucket (one short, or fewer if it already held
    /// fewer): what an injected throttle does, so the answer's `throttleStatus` tells the
    /// client how long to wait, as a real one does.
    pub(crate) fn fall_short_of(&mut self, cost: u64) {
        self.refill();
        self.available = self.available.min(cost as f64 - 1.0).max(0.0);
    }

    /// Gives back the difference between requested and actual cost.
    pub(crate) fn refund(&mut self, points: u64) {
        self.refill();
        self.available = (self.available + points as f64).min(self.maximum);
    }

    /// `throttleStatus`.
    pub(crate) fn status(&mut self) -> serde_json::Value {
        self.refill();
        json!({
            "maximumAvailable": self.maximum,
            "currentlyAvailable": self.available.floor() as u64,
            "restoreRate": self.restore_rate,
        })
    }
}

/// The requested cost of the operation that will run.
pub(crate) fn requested_cost(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> u64 {
    let operation = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(&Name::new(name)),
        (DocumentOperations::Multiple(ops), None) => ops.values().next(),
    };
    let Some(operation) = operation else {
        return 0;
    };
    let op = &operation.node;
    let mut defaults = Variables::default();
    for def in &op.variable_definitions {
        if let Some(value) = def.node.default_value() {
            defaults.insert(def.node.name.node.clone(), value.clone());
        }
    }
    let walker = Walker {
        doc,
        variables,
        defaults: &defaults,
    };
    match op.ty {
        OperationType::Mutation => {
            walker.fields(&op.selection_set.node).len() as u64 * MUTATION_COST
        }
        _ => walker.set_cost(&op.selection_set.node),
    }
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    defaults: &'a Variables,
}

type Field = async_graphql::parser::types::Field;

impl<'a> Walker<'a> {
    /// The fields of a selection set, fragments expanded.
    fn fields(&self, set: &'a SelectionSet) -> Vec<&'a Field> {
        let mut out = Vec::new();
        self.collect(set, &mut out, &mut HashSet::new());
        out
    }

    fn collect(
        &self,
        set: &'a SelectionSet,
        out: &mut Vec<&'a Field>,
        seen: &mut HashSet<&'a str>,
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => out.push(&field.node),
                Selection::InlineFragment(fragment) => {
                    self.collect(&fragment.node.selection_set.node, out, seen)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if seen.insert(name) {
                        if let Some(fragment) =
                            self.doc.fragments.get(&spread.node.fragment_name.node)
                        {
                            self.collect(&fragment.node.selection_set.node, out, seen);
                        }
                    }
                }
            }
        }
    }

    fn set_cost(&self, set: &'a SelectionSet) -> u64 {
        self.fields(set)
            .into_iter()
            .map(|field| self.field_cost(field))
            .fold(0, u64::saturating_add)
    }

    fn field_cost(&self, field: &'a Field) -> u64 {
        if field.name.node.starts_with("__") || field.selection_set.node.items.is_empty() {
            return 0;
        }
        if let Some(ids) = self.id_count(field) {
            let object = 1u64.saturating_add(self.set_cost(&field.selection_set.node));
            return ids.saturating_mul(object);
        }
        match self.page_size(field) {
            Some(size) => 2u64.saturating_add(size.saturating_mul(self.node_cost(field))),
            None => 1u64.saturating_add(self.set_cost(&field.selection_set.node)),
        }
    }

    /// The cost of one node of a connection: the dearer of its `nodes` and `edges.node`.
    fn node_cost(&self, connection: &'a Field) -> u64 {
        let mut cost = 1;
        for field in self.fields(&connection.selection_set.node) {
            match field.name.node.as_str() {
                "nodes" => cost = cost.max(1 + self.set_cost(&field.selection_set.node)),
                "edges" => {
                    for inner in self.fields(&field.selection_set.node) {
                        if inner.name.node == "node" {
                            cost = cost.max(1 + self.set_cost(&inner.selection_set.node));
                        }
                    }
                }
                _ => {}
            }
        }
        cost
    }

    /// How many objects a field fetched by a list of ids (`nodes(ids:)`) asks for.
    fn id_count(&self, field: &Field) -> Option<u64> {
        match self.argument(field, "ids")? {
            Ok(Value::List(ids)) => Some(ids.len() as u64),
            // One id given where a list is expected is a list of one.
            Ok(Value::String(_)) => Some(1),
            _ => Some(0),
        }
    }

    /// The value of the field's argument `name` with its variables filled in (given, else
    /// their defaults): `None` without the argument, `Err` when a variable has no value.
    fn argument(&self, field: &Field, name: &str) -> Option<Result<Value, ()>> {
        let arg = field.get_argument(name)?;
        Some(arg.node.clone().into_const_with(|name| {
            self.variables
                .get(&name)
                .or_else(|| self.defaults.get(&name))
                .cloned()
                .ok_or(())
        }))
    }

    fn page_size(&self, field: &Field) -> Option<u64> {
        let size = self
            .argument(field, "first")
            .or_else(|| self.argument(field, "last"))?;
        match size {
            Ok(Value::Number(n)) => Some(n.as_u64().unwrap_or(0)),
            _ => Some(0),
        }
    }
}

/// The actual cost of an answer's `data`: objects 1, connections 2, `pageInfo` and edge
/// wrappers 0 (`edges` skipped when `nodes` lists the same objects).
pub(crate) fn actual_cost(data: &serde_json::Value) -> u64 {
    fn walk(value: &serde_json::Value, own: u64) -> u64 {
        match value {
            serde_json::Value::Object(map) => {
                let connection = map.contains_key("nodes") || map.contains_key("edges");
                let mut cost = if connection { 2 } else { own };
                for (key, child) in map {
                    cost += match key.as_str() {
                        "pageInfo" => 0,
                        "edges" if map.contains_key("nodes") => 0,
                        "edges" => walk_edges(child),
                        _ => walk(child, 1),
                    };
                }
                cost
            }
            serde_json::Value::Array(items) => items.iter().map(|v| walk(v, own)).sum(),
            _ => 0,
        }
    }
    fn walk_edges(edges: &serde_json::Value) -> u64 {
        match edges {
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|edge| edge.get("node"))
                .map(|node| walk(node, 1))
                .sum(),
            _ => 0,
        }
    }
    match data {
        serde_json::Value::Object(map) => map.values().map(|v| walk(v, 1)).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(query: &str, variables: serde_json::Value) -> u64 {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        requested_cost(&doc, None, &Variables::from_json(variables))
    }

    #[test]
    fn page_sizes_and_id_lists_are_read_from_variables_then_their_defaults() {
        let query = "query Q($n: Int = 5, $ids: [ID!]!) {
            productVariants(first: $n) { nodes { id } }
            nodes(ids: $ids) { id }
        }";
        // A connection of 5 (its default): 2 + 5 × 1; three ids: 3 × 1.
        assert_eq!(cost(query, json!({"ids": ["a", "b", "c"]})), 7 + 3);
        // Given values win over defaults; `last` counts like `first`.
        assert_eq!(cost(query, json!({"n": 9, "ids": "a"})), 11 + 1);
        let last = "query Q($n: Int) { productVariants(last: $n) { nodes { id } } }";
        assert_eq!(cost(last, json!({"n": 4})), 6);
        // A variable with no value and no default asks for nothing.
        assert_eq!(cost(last, json!({})), 2);
    }
}
