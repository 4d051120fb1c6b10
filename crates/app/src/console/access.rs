//! Who may use the console. With `[console] token`, a login form: the right token opens a
//! session (a random id in an HttpOnly, SameSite=Strict cookie) that carries its own CSRF
//! token, which every POST must send back; failed logins are rate-limited. Without a token,
//! the console answers only when `serve` listens on a loopback address, and POSTs still need
//! the process's CSRF token. No secret is ever rendered.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use minijinja::context;
use rand::RngCore;
use serde::Deserialize;
use stockbridge_ports::Secret;

use super::Console;

/// The session cookie's name.
pub const COOKIE: &str = "stockbridge_session";
/// How long a session lasts.
const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// How long a login form stays valid.
const LOGIN_FORM_LIFETIME: Duration = Duration::from_secs(600);
/// Failed logins allowed per [`FAILURE_WINDOW`], from any client; more are refused with 429.
pub const MAX_FAILURES: usize = 5;
/// The window failed logins are counted over.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Open sessions and login forms kept at most (the oldest go first).
const MAX_KEPT: usize = 1000;

/// The session a guarded page runs in: its CSRF token, and whether there is a login.
#[derive(Debug, Clone)]
pub struct Session {
    /// The token every POST form carries.
    pub csrf: String,
    /// Whether the console has a login (a token is configured).
    pub logged_in: bool,
}

/// Sessions, login forms and failed logins.
pub struct Access {
    token: Option<Secret>,
    loopback: bool,
    /// The CSRF token of every POST when there is no login.
    open_csrf: String,
    sessions: Mutex<HashMap<String, (String, Instant)>>,
    login_forms: Mutex<HashMap<String, Instant>>,
    failures: Mutex<VecDeque<Instant>>,
}

/// 32 random bytes, hex.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Keeps at most `MAX_KEPT` entries, dropping expired ones and then the oldest.
fn prune<V>(map: &mut HashMap<String, V>, expiry: impl Fn(&V) -> Instant) {
    let now = Instant::now();
    map.retain(|_, v| expiry(v) > now);
    while map.len() >= MAX_KEPT {
        let Some(oldest) = map
            .iter()
            .min_by_key(|(_, v)| expiry(v))
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        map.remove(&oldest);
    }
}

impl Access {
    /// Access for this token and listen address.
    pub fn new(token: Option<Secret>, loopback: bool) -> Access {
        Access {
            token: token.filter(|t| !t.is_empty()),
            loopback,
            open_csrf: random_token(),
            sessions: Mutex::default(),
            login_forms: Mutex::default(),
            failures: Mutex::default(),
        }
    }

    /// The session of a request, if it may see the console.
    fn session(&self, headers: &HeaderMap) -> Option<Session> {
        if self.token.is_none() {
            return self.loopback.then(|| Session {
                csrf: self.open_csrf.clone(),
                logged_in: false,
            });
        }
        let id = session_cookie(headers)?;
        let sessions = self.sessions.lock().unwrap();
        let (csrf, expires) = sessions.get(&id)?;
        (*expires > Instant::now()).then(|| Session {
            csrf: csrf.clone(),
            logged_in: true,
        })
    }

    /// Whether `sent` is the session's CSRF token.
    pub fn csrf_ok(session: &Session, sent: &str) -> bool {
        same(session.csrf.as_bytes(), sent.as_bytes())
    }

    fn new_login_form(&self) -> String {
        let nonce = random_token();
        let mut forms = self.login_forms.lock().unwrap();
        prune(&mut forms, |at: &Instant| *at);
        forms.insert(nonce.clone(), Instant::now() + LOGIN_FORM_LIFETIME);
        nonce
    }

    /// Whether too many logins failed lately.
    fn throttled(&self) -> bool {
        let mut failures = self.failures.lock().unwrap();
        let now = Instant::now();
        while failures
            .front()
            .is_some_and(|at| now.duration_since(*at) > FAILURE_WINDOW)
        {
            failures.pop_front();
        }
        failures.len() >= MAX_FAILURES
    }
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then(|| value.to_owned())
        })
}

/// Lets a request through with its [`Session`], or sends it to the login form.
pub async fn guard(State(console): State<Console>, mut request: Request, next: Next) -> Response {
    if console.access.token.is_none() && !console.access.loopback {
        return refused_off_loopback();
    }
    match console.access.session(request.headers()) {
        Some(session) => {
            request.extensions_mut().insert(session);
            next.run(request).await
        }
        None if request.method() == axum::http::Method::GET => {
            Redirect::to("/login").into_response()
        }
        None => (StatusCode::FORBIDDEN, "log in first\n").into_response(),
    }
}

fn refused_off_loopback() -> Response {
    (
        StatusCode::FORBIDDEN,
        "the console is off: serve listens beyond loopback and configuration key console.token is not set; set STOCKBRIDGE__CONSOLE__TOKEN to use it\n",
    )
        .into_response()
}

/// `GET /login`.
pub async fn login_form(State(console): State<Console>) -> Response {
    if console.access.token.is_none() {
        if !console.access.loopback {
            return refused_off_loopback();
        }
        return Redirect::to("/").into_response();
    }
    login_page(&console, StatusCode::OK, None)
}

fn login_page(console: &Console, status: StatusCode, error: Option<&str>) -> Response {
    let nonce = console.access.new_login_form();
    console.templates.page(
        status,
        "login.html",
        context! { title => "Log in", csrf => nonce, error => error },
    )
}

/// The login form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /login`.
pub async fn login(State(console): State<Console>, Form(form): Form<LoginForm>) -> Response {
    let access = &console.access;
    let Some(token) = &access.token else {
        return Redirect::to("/").into_response();
    };
    if access.throttled() {
        return login_page(
            &console,
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many failed logins: wait a minute and try again."),
        );
    }
    let form_known = access
        .login_forms
        .lock()
        .unwrap()
        .remove(&form.csrf)
        .is_some_and(|expires| expires > Instant::now());
    if !form_known {
        return login_page(
            &console,
            StatusCode::FORBIDDEN,
            Some("The form expired or did not come from this console: try again."),
        );
    }
    if !same(token.expose().as_bytes(), form.token.as_bytes()) {
        access.failures.lock().unwrap().push_back(Instant::now());
        tracing::warn!("console login refused: wrong token");
        return login_page(&console, StatusCode::UNAUTHORIZED, Some("Wrong token."));
    }
    let id = random_token();
    {
        let mut sessions = access.sessions.lock().unwrap();
        prune(&mut sessions, |(_, at): &(String, Instant)| *at);
        sessions.insert(
            id.clone(),
            (random_token(), Instant::now() + SESSION_LIFETIME),
        );
    }
    let cookie = format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_LIFETIME.as_secs()
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

/// A POST form that only carries its CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
}

/// The answer to a POST whose CSRF token is missing or wrong.
pub fn csrf_refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        "refused: the form's CSRF token is missing or wrong; reload the page and try again\n",
    )
        .into_response()
}

/// `POST /logout`.
pub async fn logout(
    State(console): State<Console>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !Access::csrf_ok(&session, &form.csrf) {
        return csrf_refused();
    }
    if let Some(id) = session_cookie(&headers) {
        console.access.sessions.lock().unwrap().remove(&id);
    }
    let cookie = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, value.parse().unwrap());
        headers
    }

    #[test]
    fn without_a_token_only_a_loopback_console_has_a_session() {
        assert!(Access::new(None, true).session(&HeaderMap::new()).is_some());
        assert!(Access::new(None, false)
            .session(&HeaderMap::new())
            .is_none());
    }

    #[test]
    fn with_a_token_only_a_known_unexpired_session_cookie_opens_the_console() {
        let access = Access::new(Some(Secret::new("t")), true);
        assert!(access.session(&HeaderMap::new()).is_none());
        access.sessions.lock().unwrap().insert(
            "abc".into(),
            ("csrf1".into(), Instant::now() + SESSION_LIFETIME),
        );
        let session = access
            .session(&with_cookie("other=1; stockbridge_session=abc"))
            .unwrap();
        assert!(Access::csrf_ok(&session, "csrf1"));
        assert!(!Access::csrf_ok(&session, "csrf2"));
        assert!(!Access::csrf_ok(&session, ""));
        assert!(access
            .session(&with_cookie("stockbridge_session=abd"))
            .is_none());
    }

    #[test]
    fn five_failed_logins_within_a_minute_throttle_the_next() {
        let access = Access::new(Some(Secret::new("t")), true);
        for _ in 0..MAX_FAILURES - 1 {
            access.failures.lock().unwrap().push_back(Instant::now());
        }
        assert!(!access.throttled());
        access.failures.lock().unwrap().push_back(Instant::now());
        assert!(access.throttled());
    }

    #[test]
    fn comparison_needs_equal_length_and_bytes() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secret1"));
    }
}
