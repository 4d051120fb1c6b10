//! Reading answers: data, cost, errors and statuses onto the port contract.

use super::*;

#[derive(Debug, Deserialize)]
struct Shop {
    name: String,
}

fn read_ok(body: &str) -> Answer<Shop> {
    read("shop", StatusCode::OK, None, body.as_bytes())
}

#[test]
fn reads_data_and_cost() {
    let answer = read_ok(
        r#"{"data":{"name":"Demo"},"extensions":{"cost":{"requestedQueryCost":3,
        "actualQueryCost":1,"throttleStatus":{"maximumAvailable":2000.0,
        "currentlyAvailable":1999,"restoreRate":100.0}}}}"#,
    );
    assert_eq!(answer.result.unwrap().name, "Demo");
    assert_eq!(answer.cost.unwrap().requested_query_cost, Some(3.0));
}

#[test]
fn throttled_body_is_rate_limited_for_as_long_as_the_bucket_needs() {
    let answer = read_ok(
        r#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],
        "extensions":{"cost":{"requestedQueryCost":300,"actualQueryCost":null,
        "throttleStatus":{"maximumAvailable":1000.0,"currentlyAvailable":100,"restoreRate":50.0}}}}"#,
    );
    match answer.result {
        Err(SourceError::RateLimited { retry_after }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(4)))
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

/// A throttleStatus lacking 300 - 100 points at 50 a second: four seconds.
const LACKING_FOUR_SECONDS: &str = r#""extensions":{"cost":{"requestedQueryCost":300,
    "throttleStatus":{"maximumAvailable":1000.0,"currentlyAvailable":100,"restoreRate":50.0}}}"#;

fn rate_limited_for(answer: Answer<Shop>) -> Option<Duration> {
    match answer.result {
        Err(SourceError::RateLimited { retry_after }) => retry_after,
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[test]
fn a_throttle_listed_after_an_uncoded_error_is_still_a_throttle() {
    let answer = read_ok(&format!(
        r#"{{"errors":[{{"message":"Something odd"}},
        {{"message":"Throttled","extensions":{{"code":"THROTTLED"}}}}],{LACKING_FOUR_SECONDS}}}"#
    ));
    assert_eq!(rate_limited_for(answer), Some(Duration::from_secs(4)));
}

#[test]
fn a_transient_error_outranks_a_refusal_but_not_a_throttle() {
    let answer = read_ok(
        r#"{"errors":[{"message":"too dear","extensions":{"code":"MAX_COST_EXCEEDED"}},
        {"message":"oops","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}"#,
    );
    assert!(
        matches!(&answer.result, Err(SourceError::Transient { message }) if message.contains("oops")),
        "{:?}",
        answer.result.err()
    );
    let answer = read_ok(
        r#"{"errors":[{"message":"oops","extensions":{"code":"INTERNAL_SERVER_ERROR"}},
        {"message":"Throttled","extensions":{"code":"THROTTLED"}}]}"#,
    );
    assert_eq!(rate_limited_for(answer), None);
}

#[test]
fn among_refusals_the_first_one_is_reported() {
    let answer = read_ok(
        r#"{"errors":[{"message":"first"},
        {"message":"second","extensions":{"code":"MAX_COST_EXCEEDED"}}]}"#,
    );
    assert!(
        matches!(&answer.result, Err(SourceError::Rejected { code, message })
            if code == "GRAPHQL_ERROR" && message == "first"),
        "{:?}",
        answer.result.err()
    );
}

#[test]
fn a_429_without_retry_after_waits_for_the_bucket_the_body_reports() {
    let body = format!(r#"{{"errors":[{{"message":"Throttled"}}],{LACKING_FOUR_SECONDS}}}"#);
    let status = StatusCode::TOO_MANY_REQUESTS;
    let answer = read::<Shop>("shop", status, None, body.as_bytes());
    assert_eq!(rate_limited_for(answer), Some(Duration::from_secs(4)));
    let header_wins = read::<Shop>(
        "shop",
        status,
        Some(Duration::from_secs(1)),
        body.as_bytes(),
    );
    assert_eq!(rate_limited_for(header_wins), Some(Duration::from_secs(1)));
    let neither = read::<Shop>("shop", status, None, b"Too Many Requests");
    assert_eq!(rate_limited_for(neither), None);
}

#[test]
fn an_odd_cost_extension_does_not_cost_the_answer_its_data() {
    for extensions in [
        r#""extensions":{"cost":"free"}"#,
        r#""extensions":{"cost":[1,2]}"#,
        r#""extensions":{"cost":null}"#,
        r#""extensions":"none""#,
        r#""extensions":{"cost":{"requestedQueryCost":"3","throttleStatus":{"maximumAvailable":"lots"}}}"#,
    ] {
        let answer = read_ok(&format!(r#"{{"data":{{"name":"Demo"}},{extensions}}}"#));
        assert_eq!(answer.result.expect(extensions).name, "Demo");
        assert!(
            answer
                .cost
                .as_ref()
                .is_none_or(|c| c.throttle_status.is_none()),
            "{extensions}"
        );
    }
}

#[test]
fn access_denied_with_http_200_is_unauthorized() {
    let answer = read_ok(
        r#"{"data":null,"errors":[{"message":"no","extensions":{"code":"ACCESS_DENIED"}}]}"#,
    );
    assert!(matches!(
        answer.result,
        Err(SourceError::Unauthorized { .. })
    ));
}

#[test]
fn max_cost_exceeded_is_rejected_with_its_code() {
    let answer = read_ok(
        r#"{"errors":[{"message":"too dear","extensions":{"code":"MAX_COST_EXCEEDED","cost":1200,"maxCost":1000}}]}"#,
    );
    match answer.result {
        Err(SourceError::Rejected { code, .. }) => assert_eq!(code, "MAX_COST_EXCEEDED"),
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[test]
fn internal_server_error_code_is_transient() {
    let answer = read_ok(
        r#"{"errors":[{"message":"oops","extensions":{"code":"INTERNAL_SERVER_ERROR","requestId":"r1"}}]}"#,
    );
    assert!(matches!(answer.result, Err(SourceError::Transient { .. })));
}

#[test]
fn errors_as_a_string_or_an_object_are_errors_too() {
    let answer = read_ok(r#"{"errors":"Not Found"}"#);
    assert!(
        matches!(answer.result, Err(SourceError::Rejected { message, .. }) if message == "Not Found")
    );
    let answer = read_ok(r#"{"errors":{"query":"Required parameter missing or invalid"}}"#);
    assert!(matches!(answer.result, Err(SourceError::Rejected { .. })));
    assert_eq!(
        read_ok(r#"{"data":{"name":"x"},"errors":[]}"#)
            .result
            .unwrap()
            .name,
        "x"
    );
}

#[test]
fn an_error_without_a_code_is_rejected_even_beside_data() {
    let answer =
        read_ok(r#"{"data":{"name":"x"},"errors":[{"message":"Field 'nope' doesn't exist"}]}"#);
    assert!(matches!(answer.result, Err(SourceError::Rejected { .. })));
}

#[test]
fn http_statuses_map_onto_the_port_contract() {
    type Expected = fn(&SourceError) -> bool;
    let cases: [(u16, Expected); 7] = [
        (401, |e| matches!(e, SourceError::Unauthorized { .. })),
        (403, |e| matches!(e, SourceError::Unauthorized { .. })),
        (404, |e| matches!(e, SourceError::NotFound { .. })),
        (429, |e| {
            matches!(
                e,
                SourceError::RateLimited {
                    retry_after: Some(_)
                }
            )
        }),
        (503, |e| matches!(e, SourceError::Transient { .. })),
        (
            402,
            |e| matches!(e, SourceError::Rejected { code, .. } if code == "402"),
        ),
        (
            423,
            |e| matches!(e, SourceError::Rejected { code, .. } if code == "423"),
        ),
    ];
    for (status, expected) in cases {
        let status = StatusCode::from_u16(status).unwrap();
        let answer: Answer<Shop> = read("shop", status, Some(Duration::from_secs(1)), b"nope");
        let error = answer.result.unwrap_err();
        assert!(expected(&error), "{status} gave {error:?}");
    }
}

#[test]
fn malformed_json_is_an_error_not_a_panic() {
    let answer = read_ok(r#"{"data": {"name": "#);
    match answer.result {
        Err(SourceError::Other(source)) => {
            assert!(source.downcast_ref::<AnswerError>().is_some())
        }
        other => panic!("expected Other, got {other:?}"),
    }
    assert!(read_ok(r#"{"data":null}"#).result.is_err());
    assert!(read_ok(r#"{"data":{"name":7}}"#).result.is_err());
}
