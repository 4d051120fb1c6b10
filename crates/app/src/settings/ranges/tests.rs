use std::time::Duration;

use crate::settings::tests::{err, load};

#[test]
fn durations_beyond_their_upper_bound_are_refused_naming_key_value_and_range() {
    for (toml, key, value, range) in [
        (
            "[server]\nreconcile_every = \"500000000000y\"\n",
            "server.reconcile_every",
            "\"500000000000y\"",
            "from 1s to 7d",
        ),
        (
            "[server]\nreconcile_every = \"8d\"\n",
            "server.reconcile_every",
            "\"8d\"",
            "from 1s to 7d",
        ),
        (
            "[server]\nreconcile_every = \"500ms\"\n",
            "server.reconcile_every",
            "\"500ms\"",
            "from 1s to 7d",
        ),
        (
            "[server]\ncoalesce_window = \"11s\"\n",
            "server.coalesce_window",
            "\"11s\"",
            "from 0s to 10s",
        ),
        (
            "[server]\ncoalesce_window = \"500000000000y\"\n",
            "server.coalesce_window",
            "\"500000000000y\"",
            "from 0s to 10s",
        ),
        (
            "[tiktok]\nrequest_timeout = \"50ms\"\n",
            "tiktok.request_timeout",
            "\"50ms\"",
            "from 100ms to 5m",
        ),
        (
            "[tiktok]\ncall_timeout = \"2h\"\n",
            "tiktok.call_timeout",
            "\"2h\"",
            "from 1s to 1h",
        ),
    ] {
        let e = err(toml);
        assert!(
            e.contains(key) && e.contains(value) && e.contains(range),
            "{toml}: {e}"
        );
    }
}

#[test]
fn durations_at_their_bounds_are_accepted() {
    let s = load(
        "[server]\nreconcile_every = \"7d\"\ncoalesce_window = \"10s\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(s.server.reconcile_every, Duration::from_secs(7 * 24 * 3600));
    assert_eq!(s.server.coalesce_window, Duration::from_secs(10));
    let s = load(
        "[server]\nreconcile_every = \"1s\"\ncoalesce_window = \"0s\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(s.server.reconcile_every, Duration::from_secs(1));
    assert_eq!(s.server.coalesce_window, Duration::ZERO);
}

#[test]
fn requests_per_second_outside_0_1_to_10000_is_refused_naming_key_value_and_range() {
    for (value, shown) in [
        ("1e-300", "1e-300"),
        ("0.09", "0.09"),
        ("0", "0"),
        ("-1", "-1"),
        ("10000.5", "10000.5"),
        ("1e300", "1e300"),
        ("nan", "NaN"),
        ("inf", "inf"),
    ] {
        let e = err(&format!("[tiktok]\nrequests_per_second = {value}\n"));
        assert!(
            e.contains("tiktok.requests_per_second")
                && e.contains(shown)
                && e.contains("from 0.1 to 10000"),
            "{value}: {e}"
        );
    }
    for value in ["0.1", "10000", "7.5"] {
        let s = load(&format!("[tiktok]\nrequests_per_second = {value}\n"), &[]).unwrap();
        assert_eq!(
            s.file.tiktok.requests_per_second,
            Some(value.parse().unwrap())
        );
    }
}

#[test]
fn concurrency_outside_1_to_64_is_refused_instead_of_clamped() {
    for value in ["0", "-3", "65", "9223372036854775807"] {
        let e = err(&format!("[tiktok]\nconcurrency = {value}\n"));
        assert!(
            e.contains("tiktok.concurrency") && e.contains(value) && e.contains("from 1 to 64"),
            "{value}: {e}"
        );
    }
    assert!(load("[tiktok]\nconcurrency = 64\n", &[]).is_ok());
}

#[test]
fn concurrency_when_unset_grows_with_the_request_limit_from_8_to_64() {
    let unset = |rps: &str| {
        let file = if rps.is_empty() {
            String::new()
        } else {
            format!("[tiktok]\nrequests_per_second = {rps}\n")
        };
        load(&file, &[]).unwrap().concurrency
    };
    assert_eq!(unset(""), 8, "the adapter's default limit");
    assert_eq!(unset("10"), 8);
    assert_eq!(unset("200"), 8, "TikTok's default limit");
    assert_eq!(unset("201"), 9, "rounded up");
    assert_eq!(unset("600"), 24);
    assert_eq!(unset("1600"), 64);
    assert_eq!(unset("10000"), 64, "never more than the range allows");
    // A value in the file wins, whatever the limit.
    let set = load(
        "[tiktok]\nrequests_per_second = 600\nconcurrency = 4\n",
        &[],
    )
    .unwrap();
    assert_eq!(set.concurrency, 4);
}

#[test]
fn an_out_of_range_setting_from_the_environment_is_refused_too() {
    let e = load("", &[("STOCKBRIDGE__SERVER__RECONCILE_EVERY", "30d")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("server.reconcile_every") && e.contains("30d"),
        "{e}"
    );
}

#[test]
fn max_items_per_flush_outside_1_to_1000_is_refused_naming_key_value_and_range() {
    for value in ["0", "-1", "1001"] {
        let e = err(&format!("[server]\nmax_items_per_flush = {value}\n"));
        assert!(
            e.contains("server.max_items_per_flush") && e.contains(value),
            "{value}: {e}"
        );
    }
    let e = err("[server]\nmax_items_per_flush = 1001\n");
    assert!(e.contains("from 1 to 1000"), "{e}");
}

#[test]
fn max_items_per_flush_is_50_by_default_and_accepted_at_its_bounds() {
    assert_eq!(load("", &[]).unwrap().server.max_items_per_flush, 50);
    for n in [1, 1000] {
        let s = load(&format!("[server]\nmax_items_per_flush = {n}\n"), &[]).unwrap();
        assert_eq!(s.server.max_items_per_flush, n);
    }
}

#[test]
fn connection_limits_outside_their_ranges_are_refused_naming_key_value_and_range() {
    for (toml, key, value, range) in [
        (
            "header_timeout = \"0s\"",
            "server.header_timeout",
            "\"0s\"",
            "from 1s to 5m",
        ),
        (
            "header_timeout = \"6m\"",
            "server.header_timeout",
            "\"6m\"",
            "from 1s to 5m",
        ),
        (
            "body_timeout = \"11m\"",
            "server.body_timeout",
            "\"11m\"",
            "from 1s to 10m",
        ),
        (
            "idle_timeout = \"2h\"",
            "server.idle_timeout",
            "\"2h\"",
            "from 1s to 1h",
        ),
        (
            "idle_timeout = \"soon\"",
            "server.idle_timeout",
            "\"soon\"",
            "from 1s to 1h",
        ),
        (
            "max_connections = 0",
            "server.max_connections",
            "0",
            "from 1 to 65536",
        ),
        (
            "max_connections = 65537",
            "server.max_connections",
            "65537",
            "from 1 to 65536",
        ),
    ] {
        let e = err(&format!("[server]\n{toml}\n"));
        assert!(
            e.contains(key) && e.contains(value) && e.contains(range),
            "{toml}: {e}"
        );
    }
}

#[test]
fn connection_limits_have_defaults_and_are_accepted_at_their_bounds() {
    let s = load("", &[]).unwrap().server;
    assert_eq!(
        (
            s.header_timeout,
            s.body_timeout,
            s.idle_timeout,
            s.max_connections
        ),
        (
            Duration::from_secs(10),
            Duration::from_secs(30),
            Duration::from_secs(60),
            256
        )
    );
    let s = load(
        "[server]\nheader_timeout = \"5m\"\nbody_timeout = \"1s\"\nidle_timeout = \"1h\"\nmax_connections = 65536\n",
        &[],
    )
    .unwrap()
    .server;
    assert_eq!(s.header_timeout, Duration::from_secs(300));
    assert_eq!(s.body_timeout, Duration::from_secs(1));
    assert_eq!(s.idle_timeout, Duration::from_secs(3600));
    assert_eq!(s.max_connections, 65_536);
}

#[test]
fn tiktok_timeouts_default_to_30_seconds_per_request_and_2_minutes_per_call() {
    let s = load("", &[]).unwrap();
    assert_eq!(s.request_timeout, Duration::from_secs(30));
    assert_eq!(s.call_timeout, Duration::from_secs(120));
    let s = load(
        "[tiktok]\nrequest_timeout = \"300ms\"\ncall_timeout = \"1s\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(s.request_timeout, Duration::from_millis(300));
    assert_eq!(s.call_timeout, Duration::from_secs(1));
}
