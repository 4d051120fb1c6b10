//! What if: a `[rules]` section previewed against the live stores, saving nothing. The
//! rules are read as the configuration file's are (errors name the key) and planned exactly
//! as `stockbridge plan` plans them; the page gives the TOML to put in the file, which stays
//! the one source of truth.

use axum::extract::State;
use axum::response::Response;
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::json;

use super::access::{csrf_refused, Access, Session};
use super::Console;
use crate::engine::read_and_plan;
use crate::report::json_line;
use crate::settings::rules_from_toml;

/// The largest changes the preview lists.
const LARGEST: usize = 20;

/// `GET /what-if`: the editor, pre-filled with the configured `[rules]`.
pub async fn form(
    State(console): State<Console>,
    Extension(session): Extension<Session>,
) -> Response {
    console.render(
        &session,
        "whatif.html",
        json!({"title": "What if", "rules": console.rules_toml}),
    )
}

/// The what-if form.
#[derive(Deserialize)]
pub struct WhatIfForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    rules: String,
}

/// `POST /what-if`: validates the rules and shows their impact.
pub async fn preview(
    State(console): State<Console>,
    Extension(session): Extension<Session>,
    Form(form): Form<WhatIfForm>,
) -> Response {
    if !Access::csrf_ok(&session, &form.csrf) {
        return csrf_refused();
    }
    let page = |extra: serde_json::Value| {
        let mut context = json!({"title": "What if", "rules": form.rules});
        if let (Some(c), Some(e)) = (context.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        console.render(&session, "whatif.html", context)
    };
    let rules = match rules_from_toml(&form.rules, "what-if [rules]") {
        Ok(r) => r,
        Err(e) => return page(json!({"error": e.to_string()})),
    };
    let snapshot = match read_and_plan(&console.parts.stores, &rules).await {
        Ok(s) => s,
        Err(e) => return page(json!({"error": e.to_string()})),
    };
    let plan = &snapshot.plan;
    let mut changes: Vec<_> = plan.lines.iter().filter(|l| l.changed()).collect();
    changes.sort_by_key(|l| {
        let current = l.current.map_or(0, |c| i64::from(c.get()));
        std::cmp::Reverse((i64::from(l.quantity.get()) - current).abs())
    });
    let s = &plan.summary;
    page(json!({
        "preview": {
            "lines": s.lines, "changed": s.changed, "up": s.up, "down": s.down, "zeroed": s.zeroed,
            "units_before": s.units_before, "units_after": s.units_after,
        },
        "largest": changes.iter().take(LARGEST).map(|l| json_line(l, None)).collect::<Vec<_>>(),
        "warnings": plan.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
    }))
}
