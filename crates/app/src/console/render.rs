//! The templates (compiled in, HTML-escaped by default) and the stylesheet.

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;

const STYLESHEET: &str = include_str!("templates/console.css");

/// The page templates.
pub struct Templates(Environment<'static>);

impl Templates {
    /// Loads every template.
    pub fn new() -> Templates {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("templates/base.html")),
            ("login.html", include_str!("templates/login.html")),
            ("overview.html", include_str!("templates/overview.html")),
            ("plan.html", include_str!("templates/plan.html")),
            ("sku.html", include_str!("templates/sku.html")),
            ("whatif.html", include_str!("templates/whatif.html")),
            ("runs.html", include_str!("templates/runs.html")),
            ("audit.html", include_str!("templates/audit.html")),
        ] {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("the console template {name} is invalid: {e}"));
        }
        Templates(env)
    }

    /// Renders a page.
    pub fn page(&self, status: StatusCode, name: &str, context: minijinja::Value) -> Response {
        let rendered = self.0.get_template(name).and_then(|t| t.render(context));
        match rendered {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "a console page could not be rendered");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the page could not be rendered\n",
                )
                    .into_response()
            }
        }
    }
}

/// `GET /console.css`.
pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
        .into_response()
}

/// A time as the console shows it: RFC 3339 in UTC, to the second.
pub fn time(at: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    use super::*;

    #[test]
    fn every_template_loads_and_text_is_escaped() {
        let t = Templates::new();
        let html =
            t.0.get_template("login.html")
                .unwrap()
                .render(context! { title => "x", csrf => "n", error => "<script>" })
                .unwrap();
        assert!(
            html.contains("&lt;script&gt;") && !html.contains("<script>"),
            "{html}"
        );
    }
}
