//! The send gate and the extra headers a fleet worker gives the sink: a write goes out with
//! the headers while the gate allows it, and is not sent at all (nor retried) once it refuses.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use stockbridge_adapters_tiktok::SendGate;

use super::*;

#[tokio::test]
async fn a_write_carries_the_extra_headers_while_the_gate_allows_it_and_is_not_sent_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(UPDATE_PATH))
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;
    let open = Arc::new(AtomicBool::new(true));
    let mut config = config(&server);
    config.headers = vec![("X-Stockbridge-Lease".into(), "w1;7".into())];
    config.send_gate = Some(SendGate::new({
        let open = open.clone();
        move || {
            if open.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err("the lease is no longer trusted".into())
            }
        }
    }));
    let sink = config.build().unwrap();

    let outcomes = sink.apply(&write()).await.unwrap();
    assert!(outcomes.iter().all(|o| o.is_applied()));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].headers.get("x-stockbridge-lease").unwrap(),
        "w1;7"
    );
    assert_eq!(
        String::from_utf8(requests[0].body.clone()).unwrap(),
        r#"{"skus":[{"id":"90011","inventory":[{"warehouse_id":"7001","quantity":12},{"warehouse_id":"7002","quantity":4}]},{"id":"90012","inventory":[{"warehouse_id":"7001","quantity":3}]}]}"#,
        "the body produced when sent is the exact body signed"
    );
    assert_eq!(
        param(&requests[0], "sign").unwrap(),
        expected_sign(&requests[0])
    );

    open.store(false, Ordering::SeqCst);
    let refused = sink.apply(&write()).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("not sent: the lease is no longer trusted"),
        "{refused}"
    );
    assert!(
        matches!(refused, SinkError::Other(_)),
        "not retried: {refused:?}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "nothing more reached TikTok"
    );
}
