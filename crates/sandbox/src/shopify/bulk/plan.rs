//! Reading a bulk query: which variants it exports (its `query:` filter) and which quantity
//! names its levels carry. Queries the sandbox cannot run are refused with a message.

use async_graphql::parser::types::{OperationType, Selection, SelectionSet};
use async_graphql::Value;

/// What the bulk query asks for: the root connection, its `query:` filter, quantity names,
/// and whether it selects a bundle's `requiresComponents` and `productVariantComponents`.
pub(super) struct Plan {
    pub(super) search: Option<String>,
    pub(super) names: Vec<String>,
    pub(super) requires_components: bool,
    pub(super) components: bool,
}

pub(super) fn plan(text: &str) -> Result<Plan, String> {
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
    let set = &root.selection_set.node;
    Ok(Plan {
        search,
        names,
        requires_components: selects(set, "requiresComponents"),
        components: selects(set, "productVariantComponents"),
    })
}

/// Whether a field of this name is selected anywhere under `set`.
fn selects(set: &SelectionSet, name: &str) -> bool {
    set.items.iter().any(|item| match &item.node {
        Selection::Field(f) => {
            f.node.name.node == name || selects(&f.node.selection_set.node, name)
        }
        Selection::InlineFragment(f) => selects(&f.node.selection_set.node, name),
        Selection::FragmentSpread(_) => false,
    })
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
