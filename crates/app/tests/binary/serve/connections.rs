//! What a client that holds connections open can do to `serve`: idle, slow-header and
//! slow-body connections are closed after their timeouts; with every descriptor the
//! process may open held by idle connections, `/healthz` still answers; a request with both
//! `Content-Length` and `Transfer-Encoding` is refused.

use std::io::{Read, Write};
use std::net::TcpStream;

use super::*;

/// The `[server]` lines of a server with one-second connection timeouts.
const SHORT_TIMEOUTS: &str =
    "header_timeout = \"1s\"\nidle_timeout = \"1s\"\nbody_timeout = \"1s\"\n";

fn address(serve: &ServeProcess) -> String {
    serve.url.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection; whether it did within `limit`.
fn closed_by_server(stream: &mut TcpStream, limit: Duration) -> bool {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Writes `first`, then one byte of `rest` every 200 ms until the server stops taking
/// them (a client as slow as the issue's).
fn trickle(address: &str, first: &str, rest: &'static [u8]) -> TcpStream {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(first.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        for byte in rest.iter().cycle() {
            std::thread::sleep(Duration::from_millis(200));
            if writer.write_all(&[*byte]).is_err() {
                return;
            }
        }
    });
    stream
}

#[test]
fn idle_slow_header_and_slow_body_connections_are_closed_after_their_timeouts() {
    let w = world(SHORT_TIMEOUTS);
    let serve = ServeProcess::start(&w.config);
    let address = address(&serve);
    let mut idle: Vec<TcpStream> = (0..10)
        .map(|_| TcpStream::connect(&address).unwrap())
        .collect();
    let mut slow_header = trickle(
        &address,
        "POST /webhooks/shopify HTTP/1.1\r\n",
        b"X-Slow: y\r\n",
    );
    let mut slow_body = trickle(
        &address,
        "POST /webhooks/shopify HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
        b"{",
    );
    for (i, stream) in idle.iter_mut().enumerate() {
        assert!(
            closed_by_server(stream, Duration::from_secs(15)),
            "idle connection {i} closed"
        );
    }
    assert!(
        closed_by_server(&mut slow_header, Duration::from_secs(15)),
        "a head sent a byte at a time is cut off"
    );
    assert!(
        closed_by_server(&mut slow_body, Duration::from_secs(15)),
        "a body sent a byte at a time is cut off"
    );
    let healthz = reqwest::blocking::get(format!("{}/healthz", serve.url)).unwrap();
    assert_eq!(healthz.status().as_u16(), 200);
}

#[cfg(unix)]
#[test]
fn healthz_answers_while_idle_connections_hold_every_descriptor_the_process_may_open() {
    use rustix::process::{prlimit, Pid, Resource, Rlimit};

    let w = world("");
    let toml = std::fs::read_to_string(&w.config).unwrap();
    let port: u16 = toml
        .lines()
        .find_map(|l| l.strip_prefix("listen = \"127.0.0.1:"))
        .unwrap()
        .trim_end_matches('"')
        .parse()
        .unwrap();
    let serve = ServeLogged::spawn(&w.config, port, &[]);
    let pid = Pid::from_child(&serve.child);
    let limit = Rlimit {
        current: Some(128),
        maximum: Some(128),
    };
    prlimit(Some(pid), Resource::Nofile, limit).expect("the open-file limit is lowered");
    assert!(serve.wait_healthy(Duration::from_secs(30)));

    let address = format!("127.0.0.1:{port}");
    let held: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(&address).unwrap())
        .collect();
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let healthz = client.get(format!("{}/healthz", serve.url)).send();
    assert!(
        healthz.as_ref().is_ok_and(|r| r.status().is_success()),
        "/healthz answered with 200 idle connections open: {healthz:?}"
    );
    drop(held);
}

#[test]
fn a_request_with_both_content_length_and_transfer_encoding_is_refused_with_400() {
    let w = world("");
    let serve = ServeProcess::start(&w.config);
    let mut stream = TcpStream::connect(address(&serve)).unwrap();
    stream
        .write_all(
            b"POST /webhooks/shopify HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\
              Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        )
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("Content-Length and Transfer-Encoding"),
        "{answer}"
    );
}
