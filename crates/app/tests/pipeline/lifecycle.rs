//! How `serve` ends when its pipeline cannot go on: a pipeline that dies, rules that do
//! not fit the stores.

use std::sync::atomic::Ordering;

use stockbridge_ports::fakes::FaultySource;

use super::*;

#[tokio::test]
async fn serve_stops_with_exit_code_1_when_its_pipeline_dies() {
    // Full reads answer; an incremental read panics: a bug on the real-time path.
    let server = start_with(Arc::new(InMemoryStore::new()), |inner| {
        let reads = FaultySource::new(inner);
        reads.panic_item_reads.store(true, Ordering::SeqCst);
        reads
    })
    .await;
    deliver(&server, "inventory_levels/update", &level_body(10, 1), "w1").await;
    // The shutdown future never fires while `_stop` is held.
    let Server {
        url,
        task,
        stop: _stop,
        ..
    } = server;
    let ended = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("serve stopped on its own, not kept answering 200 and syncing nothing")
        .unwrap();
    let e = ended.unwrap_err();
    assert!(matches!(e, ServeError::PipelineFailed(_)), "{e:?}");
    assert_eq!(e.exit_code(), 1);
    assert!(
        reqwest::get(format!("{url}/healthz")).await.is_err(),
        "the server no longer answers"
    );
}

#[tokio::test]
async fn serve_ends_with_exit_code_2_when_the_rules_do_not_fit_the_stores() {
    let (source, sink) = shop();
    let parts = ServeParts {
        stores: Stores {
            source,
            sink: sink.clone(),
            store: Arc::new(InMemoryStore::new()),
            holds: None,
        },
        rules: RuleSet {
            location_mappings: vec![LocationMapping {
                locations: LocationSelector::All,
                warehouse: Some("Nowhere".into()),
            }],
            ..RuleSet::default()
        },
        shop_domain: SHOP.into(),
        webhook_secret: Secret::new(SECRET),
        max_body_bytes: 64 * 1024,
        tiktok_app: None,
        body_timeout: std::time::Duration::from_secs(30),
        webhook_ids_per_minute: 6000,
        connections: stockbridge_app::serve::ConnectionLimits::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = Application::from_parts(parts, listener, options());
    let ended = tokio::time::timeout(
        Duration::from_secs(10),
        app.run_until_stopped(std::future::pending()),
    )
    .await
    .expect("serve ended without being told to");
    let e = ended.unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");
    assert!(e.to_string().contains("\"Nowhere\""), "{e}");
    assert!(sink.writes().is_empty());
}
