//! The test database harness (feature `testing`): every PostgreSQL test gets a schema of its
//! own in one server, so tests run in parallel and leave nothing behind.
//!
//! The server is, in this order: `STOCKBRIDGE_TEST_DATABASE_URL` when set; the local
//! `postgres://postgres@127.0.0.1:5432/test` when it answers; else one started for this test
//! process in a temporary directory with the machine's `initdb` and `pg_ctl` (from
//! `/usr/lib/postgresql/<version>/bin` or the `PATH`), stopped and removed when the process
//! ends. When none of these works the test is skipped with a loud message on stderr, unless
//! `STOCKBRIDGE_REQUIRE_POSTGRES` is set (CI sets it), which makes it fail instead.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio_postgres::NoTls;

/// The variable naming the server to test against.
pub const DATABASE_URL_VAR: &str = "STOCKBRIDGE_TEST_DATABASE_URL";
/// The variable that turns a missing server from a skip into a failure.
pub const REQUIRE_VAR: &str = "STOCKBRIDGE_REQUIRE_POSTGRES";
/// The server tried when [`DATABASE_URL_VAR`] is not set.
pub const LOCAL_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Why no test server could be had, or a statement to it failed.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The server refused a connection or a statement.
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
    /// A runtime, a port or a directory could not be had.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The thread asking whether a server answers panicked.
    #[error("the probe panicked")]
    ProbePanicked,
    /// [`DATABASE_URL_VAR`] names a server that does not answer.
    #[error("{DATABASE_URL_VAR} is set but its server does not answer: {0}")]
    NamedServerSilent(#[source] Box<HarnessError>),
    /// No server at [`LOCAL_URL`], and none could be started.
    #[error("no server at {LOCAL_URL}, and {0}")]
    NoServer(#[source] Box<HarnessError>),
    /// Neither `/usr/lib/postgresql/<version>/bin` nor the `PATH` has `initdb`.
    #[error("no initdb was found to start one")]
    NoInitdb,
    /// The server's temporary directory could not be made.
    #[error("cannot create {}: {source}", dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A command (`initdb`, `pg_ctl`, ...) could not be run.
    #[error("cannot run {command}: {source}")]
    Run {
        /// The command, as `Debug` shows it.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// A command ran and failed (its stderr was passed on).
    #[error("{command} failed: {status}")]
    Failed {
        /// The command, as `Debug` shows it.
        command: String,
        /// How it ended.
        status: ExitStatus,
    },
    /// A command printed something other than UTF-8.
    #[error(transparent)]
    NotUtf8(#[from] std::string::FromUtf8Error),
    /// The watcher that stops the started server could not be started.
    #[error("cannot start the watcher: {0}")]
    Watcher(#[source] std::io::Error),
}

/// A schema of its own in the test server, dropped (with everything in it) when dropped.
pub struct TestDatabase {
    server: String,
    schema: String,
    url: String,
}

impl TestDatabase {
    /// A new, empty schema; `None` (after saying so loudly) when no server can be had.
    ///
    /// # Panics
    ///
    /// When no server can be had and [`REQUIRE_VAR`] is set, or the schema cannot be made.
    pub async fn new() -> Option<TestDatabase> {
        let server = match server() {
            Ok(url) => url.to_owned(),
            Err(why) => {
                if std::env::var_os(REQUIRE_VAR).is_some() {
                    panic!("{REQUIRE_VAR} is set but no PostgreSQL is available: {why}");
                }
                eprintln!(
                    "\n*** POSTGRESQL TESTS SKIPPED: {why}\n*** set {DATABASE_URL_VAR}, run a \
                     server on 127.0.0.1:5432, or install PostgreSQL's initdb and pg_ctl\n"
                );
                return None;
            }
        };
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let schema = format!(
            "sb_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        execute(&server, &format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create the test schema {schema}: {e}"));
        // The schema's name is also the connections' application name, so that dropping the
        // schema can end connections a failed test left in a transaction.
        let url = format!(
            "{}&application_name={schema}",
            with_search_path(&server, &schema)
        );
        Some(TestDatabase {
            server,
            schema,
            url,
        })
    }

    /// The URL of the schema: the server's, with the schema first on the `search_path`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema's name.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The URL of the server, without the schema.
    pub fn server_url(&self) -> &str {
        &self.server
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server = self.server.clone();
        let sql = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = '{schema}' AND pid <> pg_backend_pid(); \
             DROP SCHEMA IF EXISTS {schema} CASCADE",
            schema = self.schema
        );
        // Drop may run inside a Tokio runtime, which must not block: a thread of its own.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(execute(&server, &sql))
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop the test schema {}: {e}", self.schema);
        }
    }
}

/// Appends `options=-csearch_path=<schema>` to a URL.
pub fn with_search_path(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-csearch_path%3D{schema}")
}

async fn execute(url: &str, sql: &str) -> Result<(), HarnessError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    let driver = tokio::spawn(connection);
    let done = client.batch_execute(sql).await;
    drop(client);
    let _ = driver.await;
    Ok(done?)
}

/// The server, found once per process.
fn server() -> Result<&'static str, &'static HarnessError> {
    static SERVER: OnceLock<Result<String, HarnessError>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            if let Ok(url) = std::env::var(DATABASE_URL_VAR) {
                return answers(&url)
                    .map(|()| url.clone())
                    .map_err(|e| HarnessError::NamedServerSilent(Box::new(e)));
            }
            if answers(LOCAL_URL).is_ok() {
                return Ok(LOCAL_URL.to_owned());
            }
            start_own().map_err(|e| HarnessError::NoServer(Box::new(e)))
        })
        .as_ref()
        .map(String::as_str)
}

/// Whether a server answers at `url`, asked from a thread of its own (the caller may be in a
/// runtime).
fn answers(url: &str) -> Result<(), HarnessError> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(execute(&url, "SELECT 1"))
    })
    .join()
    .map_err(|_| HarnessError::ProbePanicked)?
}

/// Holds the watcher's stdin open: when this process ends, the pipe closes and the watcher
/// stops the server and removes its directory.
static WATCHER: Mutex<Option<std::process::ChildStdin>> = Mutex::new(None);

/// Starts a server in a temporary directory with `initdb` and `pg_ctl`.
fn start_own() -> Result<String, HarnessError> {
    let bin = postgres_bin().ok_or(HarnessError::NoInitdb)?;
    let dir = std::env::temp_dir().join(format!("stockbridge-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|source| HarnessError::CreateDir {
        dir: dir.clone(),
        source,
    })?;
    let data = dir.join("data");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())?
        .port();
    // PostgreSQL refuses to run as root: then it runs as the `postgres` user.
    let as_root = run(Command::new("id").arg("-u"))
        .map(|uid| uid.trim() == "0")
        .unwrap_or(false);
    let wrap = |program: &Path| -> Command {
        if as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    };
    if as_root {
        run(Command::new("chown").args(["postgres:postgres"]).arg(&dir))?;
    }
    run(wrap(&bin.join("initdb"))
        .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
        .arg(&data))?;
    let options = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
        dir.display()
    );
    run(wrap(&bin.join("pg_ctl"))
        .args(["-w", "-D"])
        .arg(&data)
        .args(["-o", &options, "-l"])
        .arg(dir.join("log"))
        .arg("start"))?;
    let stop = format!(
        "read _; {} -D {} -m immediate stop >/dev/null 2>&1; rm -rf {}",
        bin.join("pg_ctl").display(),
        data.display(),
        dir.display()
    );
    let mut watcher = if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", "sh", "-c", &stop]);
        command
    } else {
        let mut command = Command::new("sh");
        command.args(["-c", &stop]);
        command
    };
    let child = watcher
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(HarnessError::Watcher)?;
    *WATCHER.lock().unwrap_or_else(|e| e.into_inner()) = child.stdin;
    eprintln!("started a PostgreSQL for these tests on 127.0.0.1:{port}");
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    answers(&url)?;
    Ok(url)
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb`, else the `PATH`'s.
fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return Some(bin);
    }
    let path = run(Command::new("sh").args(["-c", "command -v initdb"])).ok()?;
    Path::new(path.trim()).parent().map(Path::to_path_buf)
}

fn run(command: &mut Command) -> Result<String, HarnessError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|source| HarnessError::Run {
            command: format!("{command:?}"),
            source,
        })?;
    if !output.status.success() {
        let _ = std::io::stderr().write_all(&output.stderr);
        return Err(HarnessError::Failed {
            command: format!("{command:?}"),
            status: output.status,
        });
    }
    Ok(String::from_utf8(output.stdout)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_server_says_where_it_looked_and_why_none_was_started() {
        let why = HarnessError::NoServer(Box::new(HarnessError::NoInitdb));
        assert_eq!(
            why.to_string(),
            "no server at postgres://postgres@127.0.0.1:5432/test, and no initdb was found to \
             start one"
        );
        assert_eq!(
            std::error::Error::source(&why).map(ToString::to_string),
            Some("no initdb was found to start one".to_owned())
        );
    }

    #[test]
    fn a_failing_or_missing_command_is_a_typed_error() {
        let failed = run(&mut Command::new("false")).unwrap_err();
        assert!(
            matches!(&failed, HarnessError::Failed { command, status }
                if command.contains("false") && !status.success()),
            "{failed:?}"
        );
        let missing = run(&mut Command::new("/nonexistent/initdb")).unwrap_err();
        assert!(
            matches!(&missing, HarnessError::Run { command, .. } if command.contains("initdb")),
            "{missing:?}"
        );
        assert!(missing.to_string().starts_with("cannot run "));
    }
}
