//! The connections `serve` accepts, and how long and how many it keeps. A client that sends
//! nothing, or sends a byte a second, cannot hold the server: each HTTP/1.1 connection gets
//! a header read timeout (hyper's), an idle keep-alive timeout, and a body timeout (the
//! router's, see `serve.rs`); at most `max_connections` are open at once, lowered to fit the
//! process's open-file limit. At the cap, a new connection closes the oldest one that has
//! no request in flight, so `/healthz` and webhooks still get in while idle or slow clients
//! hold every slot; the accept loop never stops on "too many open files".
//!
//! A request head with both `Content-Length` and `Transfer-Encoding` (which two servers can
//! read as two different requests) is refused with 400 and the connection closed. hyper
//! drops `Content-Length` from such a request before the router sees it, so the head is
//! read as it arrived on the connection ([`Watched`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How long and how many connections are kept.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A request head must be complete within this, counted from when the connection opened
    /// or its previous response was sent.
    pub header_timeout: Duration,
    /// A connection with no request in flight and nothing received for this long is closed.
    pub idle_timeout: Duration,
    /// The most connections open at once (see [`fit_to_open_file_limit`]).
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    /// The `[server]` defaults: `header_timeout = "10s"`, `idle_timeout = "60s"`,
    /// `max_connections = 256`.
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 256,
        }
    }
}

/// Descriptors kept free of client connections for the state file, the connections to
/// Shopify and TikTok, and the log.
const RESERVED_DESCRIPTORS: u64 = 64;

/// `max_connections`, lowered when the process may not open that many files besides the
/// ones it needs itself: to the open-file limit less [`RESERVED_DESCRIPTORS`], or half the
/// limit when that is more. Logs when it lowers.
pub fn fit_to_open_file_limit(max_connections: usize) -> usize {
    let Some(limit) = open_file_limit() else {
        return max_connections;
    };
    let fits = limit
        .saturating_sub(RESERVED_DESCRIPTORS)
        .max(limit / 2)
        .max(1);
    let fits = usize::try_from(fits).unwrap_or(usize::MAX);
    if fits < max_connections {
        tracing::info!(
            configured = max_connections,
            used = fits,
            open_file_limit = limit,
            "server.max_connections lowered to fit the open-file limit"
        );
    }
    max_connections.min(fits)
}

#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting, lets every
/// connection finish the request it is serving, and returns once all are closed (so that
/// every clone of the router, and what it holds, is dropped).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Mutex::new(Open::default()));
    let stop = CancellationToken::new();
    let tasks = TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors: free one held by an idle client, or wait a moment for
                // one to close. Anything else (a connection reset before it was accepted)
                // concerns that connection only.
                let freed = out_of_descriptors(&e) && lock(&open).close_oldest_idle();
                if !freed {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(ACCEPT_PAUSE) => {}
                    }
                }
                continue;
            }
        };
        let entry = {
            let mut open = lock(&open);
            if open.conns.len() >= limits.max_connections && !open.close_oldest_idle() {
                // Every connection is serving a request; each ends within the timeouts.
                tracing::debug!("connection refused: every connection is serving a request");
                continue;
            }
            open.add()
        };
        tasks.spawn(connection(
            stream,
            router.clone(),
            limits,
            entry,
            open.clone(),
            stop.clone(),
        ));
    }
    drop(listener);
    stop.cancel();
    tasks.close();
    tasks.wait().await;
}

/// How long the accept loop pauses after an error it cannot remedy.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

fn out_of_descriptors(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        let errno = rustix::io::Errno::from_io_error(e);
        errno == Some(rustix::io::Errno::MFILE) || errno == Some(rustix::io::Errno::NFILE)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

fn lock(open: &Mutex<Open>) -> std::sync::MutexGuard<'_, Open> {
    open.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The open connections, oldest first.
#[derive(Default)]
struct Open {
    next: u64,
    conns: BTreeMap<u64, Entry>,
}

/// One open connection, as the accept loop sees it.
#[derive(Clone)]
struct Entry {
    id: u64,
    /// Requests being served.
    busy: Arc<AtomicUsize>,
    /// Cancelled to close the connection at once.
    close: CancellationToken,
}

impl Open {
    fn add(&mut self) -> Entry {
        let entry = Entry {
            id: self.next,
            busy: Arc::default(),
            close: CancellationToken::new(),
        };
        self.next += 1;
        self.conns.insert(entry.id, entry.clone());
        entry
    }

    /// Closes the oldest connection with no request in flight; whether there was one.
    fn close_oldest_idle(&mut self) -> bool {
        let oldest = self
            .conns
            .values()
            .find(|c| c.busy.load(Ordering::Acquire) == 0)
            .map(|c| c.id);
        let Some(entry) = oldest.and_then(|id| self.conns.remove(&id)) else {
            return false;
        };
        entry.close.cancel();
        true
    }
}

/// Serves one connection until it ends, is closed for room, idles out, or the server stops.
async fn connection(
    stream: TcpStream,
    router: Router,
    limits: ConnectionLimits,
    entry: Entry,
    open: Arc<Mutex<Open>>,
    stop: CancellationToken,
) {
    let watched = Watched::new(stream);
    let activity = watched.activity.clone();
    let head = watched.head.clone();
    let busy = entry.busy.clone();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let guard = Busy::enter(busy.clone(), activity.clone(), head.clone());
        let refused = head.smuggling_suspect(&request);
        let router = router.clone();
        async move {
            let _guard = guard;
            if refused {
                tracing::warn!(
                    reason = "both Content-Length and Transfer-Encoding",
                    "request refused"
                );
                return Ok::<_, std::convert::Infallible>(ambiguous_length());
            }
            Ok(router.oneshot(request).await.unwrap_or_else(|e| match e {}))
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let activity = watched.activity.clone();
    let conn = builder.serve_connection(TokioIo::new(watched), service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        let idle_at = activity.last() + limits.idle_timeout;
        tokio::select! {
            _ = conn.as_mut() => break,
            () = entry.close.cancelled() => break,
            () = stop.cancelled(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(idle_at), if !closing => {
                let idle = entry.busy.load(Ordering::Acquire) == 0
                    && activity.last() + limits.idle_timeout <= Instant::now();
                if idle {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
    lock(&open).conns.remove(&entry.id);
}

fn ambiguous_length() -> Response<Body> {
    let mut response = Response::new(Body::from(
        "a request may not carry both Content-Length and Transfer-Encoding\n",
    ));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

/// When the connection last received bytes or finished a request.
struct Activity {
    start: Instant,
    millis: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            start: Instant::now(),
            millis: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let millis = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.millis.fetch_max(millis, Ordering::AcqRel);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.millis.load(Ordering::Acquire))
    }
}

/// Counts a request in flight from its head to its response; then the connection is active
/// again, and the next request head is read afresh.
struct Busy {
    busy: Arc<AtomicUsize>,
    activity: Arc<Activity>,
    head: Arc<HeadReader>,
}

impl Busy {
    fn enter(busy: Arc<AtomicUsize>, activity: Arc<Activity>, head: Arc<HeadReader>) -> Busy {
        busy.fetch_add(1, Ordering::AcqRel);
        Busy {
            busy,
            activity,
            head,
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.activity.touch();
        self.head.restart();
        self.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The longest request head read for the length check; hyper refuses longer ones itself.
const MAX_HEAD: usize = 64 * 1024;

/// The bytes of the request head being received, as they arrived.
#[derive(Default)]
struct HeadReader {
    state: Mutex<HeadState>,
}

#[derive(Default)]
struct HeadState {
    /// Bytes since the previous request finished, until a head is complete.
    partial: Vec<u8>,
    /// The last complete head.
    complete: Option<Vec<u8>>,
    /// Whether the head is complete (or given up on) and bytes are no longer kept.
    done: bool,
}

impl HeadReader {
    fn state(&self) -> std::sync::MutexGuard<'_, HeadState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn received(&self, bytes: &[u8]) {
        let mut state = self.state();
        if state.done {
            return;
        }
        let from = state.partial.len().saturating_sub(3);
        state.partial.extend_from_slice(bytes);
        if let Some(end) = find(&state.partial[from..], b"\r\n\r\n") {
            let mut head = std::mem::take(&mut state.partial);
            head.truncate(from + end + 4);
            state.complete = Some(head);
            state.done = true;
        } else if state.partial.len() > MAX_HEAD {
            state.partial = Vec::new();
            state.done = true;
        }
    }

    fn restart(&self) {
        let mut state = self.state();
        *state = HeadState::default();
    }

    /// Whether the head received for `request` carries both `Content-Length` and
    /// `Transfer-Encoding`. A head that cannot be told apart (bytes of a pipelined request,
    /// say) is not refused: hyper's reading, which lets `Transfer-Encoding` win, stands.
    fn smuggling_suspect<B>(&self, request: &Request<B>) -> bool {
        let Some(head) = self.state().complete.take() else {
            return false;
        };
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut parsed = httparse::Request::new(&mut headers);
        if !matches!(parsed.parse(&head), Ok(httparse::Status::Complete(_))) {
            return false;
        }
        let same_request = parsed.method == Some(request.method().as_str())
            && parsed.path.is_some_and(|p| {
                request
                    .uri()
                    .path_and_query()
                    .is_some_and(|q| q.as_str() == p)
            });
        let has = |name: &str| {
            parsed
                .headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case(name))
        };
        same_request && has("content-length") && has("transfer-encoding")
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A client connection that notes when it last received bytes and keeps the request head.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
    head: Arc<HeadReader>,
}

impl Watched {
    fn new(stream: TcpStream) -> Watched {
        Watched {
            stream,
            activity: Arc::new(Activity::new()),
            head: Arc::default(),
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        let received = &buf.filled()[before..];
        if !received.is_empty() {
            this.activity.touch();
            this.head.received(received);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suspect(arrived: &[&[u8]], method: &str, uri: &str) -> bool {
        let reader = HeadReader::default();
        for bytes in arrived {
            reader.received(bytes);
        }
        let request = Request::builder().method(method).uri(uri).body(()).unwrap();
        reader.smuggling_suspect(&request)
    }

    #[test]
    fn a_head_with_both_lengths_is_suspect_even_when_it_arrives_in_pieces() {
        let head: &[&[u8]] = &[
            b"POST /webhooks/shopify HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r",
            b"\nTransfer-Encoding: chunked\r\n\r",
            b"\n4\r\nbody\r\n0\r\n\r\n",
        ];
        assert!(suspect(head, "POST", "/webhooks/shopify"));
    }

    #[test]
    fn a_head_with_one_length_or_of_another_request_is_not_suspect() {
        let chunked: &[&[u8]] =
            &[b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"];
        assert!(!suspect(chunked, "POST", "/a"));
        let both: &[&[u8]] =
            &[b"POST /a HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"];
        assert!(!suspect(both, "POST", "/b"), "not this request's head");
        assert!(!suspect(&[b"\x00garbage\r\n\r\n"], "POST", "/a"));
    }

    #[test]
    fn the_oldest_connection_without_a_request_in_flight_is_closed_for_room() {
        let mut open = Open::default();
        let first = open.add();
        let second = open.add();
        let third = open.add();
        first.busy.fetch_add(1, Ordering::AcqRel);
        assert!(open.close_oldest_idle());
        assert!(!first.close.is_cancelled(), "busy connections stay");
        assert!(second.close.is_cancelled());
        assert!(!third.close.is_cancelled());
        third.busy.fetch_add(1, Ordering::AcqRel);
        assert!(!open.close_oldest_idle(), "every connection is busy");
    }
}
