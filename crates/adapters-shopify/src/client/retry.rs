//! Whether a query refused as too dear is sent again at once, rebuilt. Whether and when a
//! failed call is tried again is the one retry policy of the ports (`RetryPolicy`).

use stockbridge_ports::SourceError;

/// Whether a query refused as dearer than allowed (`MAX_COST_EXCEEDED`) is sent once more at
/// once, rebuilt: only when the answer reported a bucket size other than the one the query
/// was built for (a first query is built blind; a bucket smaller than it refuses it).
pub(crate) fn resize<T>(
    result: &Result<T, SourceError>,
    built_for: Option<f64>,
    reported: Option<f64>,
) -> bool {
    let over_cost =
        matches!(result, Err(SourceError::Rejected { code, .. }) if code == "MAX_COST_EXCEEDED");
    over_cost && reported.is_some() && reported != built_for
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_over_cost_query_is_resized_once_the_bucket_size_is_known() {
        let over_cost: Result<(), SourceError> = Err(SourceError::Rejected {
            code: "MAX_COST_EXCEEDED".into(),
            message: "Query cost is 172".into(),
        });
        assert!(resize(&over_cost, None, Some(60.0)));
        assert!(resize(&over_cost, Some(2000.0), Some(60.0)));
        assert!(
            !resize(&over_cost, Some(60.0), Some(60.0)),
            "built for it already"
        );
        assert!(!resize(&over_cost, None, None), "nothing learned");
        let other: Result<(), SourceError> = Err(SourceError::Rejected {
            code: "GRAPHQL_ERROR".into(),
            message: "no".into(),
        });
        assert!(!resize(&other, None, Some(60.0)));
        assert!(!resize(&Ok(()), None, Some(60.0)));
    }
}
