//! Charts drawn on the server as SVG: writes per hour as bars, a SKU's pushed numbers as a
//! line of points. Text goes through [`escape`]; everything else is numbers.

use std::fmt::Write as _;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 160.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 20.0;

/// Escapes text for SVG.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn frame(out: &mut String, label: &str, max: f64) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{}">"#,
        escape(label)
    );
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" y1="{y}" x2="{WIDTH}" y2="{y}" stroke="#c9ced8"/><text x="4" y="12">{max}</text><text x="4" y="{y}">0</text>"##,
        y = HEIGHT - BOTTOM
    );
}

/// One bar per bucket, applied writes stacked under failed ones; a label under every
/// fourth bar.
pub fn bars(label: &str, buckets: &[(String, u64, u64)]) -> String {
    let max = buckets.iter().map(|b| b.1 + b.2).max().unwrap_or(0).max(1) as f64;
    let mut out = String::new();
    frame(&mut out, label, max);
    let slot = (WIDTH - LEFT) / buckets.len().max(1) as f64;
    let plot = HEIGHT - BOTTOM - 16.0;
    for (i, (name, applied, failed)) in buckets.iter().enumerate() {
        let x = LEFT + i as f64 * slot + 1.0;
        let ok = *applied as f64 / max * plot;
        let bad = *failed as f64 / max * plot;
        let base = HEIGHT - BOTTOM;
        let _ = write!(
            out,
            r##"<rect class="bar" x="{x:.1}" y="{:.1}" width="{:.1}" height="{ok:.1}" fill="#3d7bd9"><title>{} {applied} applied</title></rect>"##,
            base - ok,
            slot - 2.0,
            escape(name)
        );
        if *failed > 0 {
            let _ = write!(
                out,
                r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{bad:.1}" fill="#d9482b"><title>{} {failed} failed</title></rect>"##,
                base - ok - bad,
                slot - 2.0,
                escape(name)
            );
        }
        if i % 4 == 0 {
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{}">{}</text>"#,
                HEIGHT - 4.0,
                escape(name)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// The numbers in time order as points joined by a line, each point a `circle.point` with
/// its label as a tooltip.
pub fn points(label: &str, values: &[(String, u32)]) -> String {
    let max = values.iter().map(|v| v.1).max().unwrap_or(0).max(1) as f64;
    let mut out = String::new();
    frame(&mut out, label, max);
    let step = (WIDTH - LEFT - 20.0) / (values.len().max(2) - 1) as f64;
    let plot = HEIGHT - BOTTOM - 16.0;
    let xy: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            (
                LEFT + 10.0 + i as f64 * step,
                HEIGHT - BOTTOM - f64::from(*v) / max * plot,
            )
        })
        .collect();
    if xy.len() > 1 {
        let path: Vec<String> = xy.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let _ = write!(
            out,
            r##"<polyline points="{}" fill="none" stroke="#3d7bd9" stroke-width="2"/>"##,
            path.join(" ")
        );
    }
    for ((x, y), (name, v)) in xy.iter().zip(values) {
        let _ = write!(
            out,
            r##"<circle class="point" cx="{x:.1}" cy="{y:.1}" r="4" fill="#1d2433"><title>{} → {v}</title></circle>"##,
            escape(name)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_points_chart_draws_one_point_per_value_and_escapes_labels() {
        let svg = points(
            "history <of> SKU",
            &[("a".into(), 3), ("b<".into(), 0), ("c".into(), 9)],
        );
        assert_eq!(svg.matches("class=\"point\"").count(), 3);
        assert!(svg.contains("b&lt;") && !svg.contains("b<"), "{svg}");
        assert!(svg.contains("history &lt;of&gt; SKU"));
    }

    #[test]
    fn a_bar_chart_draws_a_bar_per_bucket_and_red_only_for_failures() {
        let svg = bars(
            "writes",
            &[
                ("10h".into(), 4, 0),
                ("11h".into(), 0, 2),
                ("12h".into(), 1, 1),
            ],
        );
        assert_eq!(svg.matches("class=\"bar\"").count(), 3);
        assert_eq!(svg.matches("#d9482b").count(), 2);
    }
}
