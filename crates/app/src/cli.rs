//! The command line of cli.md: parsing, dispatch and exit codes (0 done, 1 some updates
//! failed, 2 configuration, command line or credentials wrong, 3 the mass-drop breaker held
//! the zeroing writes).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use stockbridge_domain::Breaker;
use stockbridge_ports::RunKind;
use stockbridge_sandbox::SandboxOptions;
use tokio_util::sync::CancellationToken;

use crate::reconcile::{read_and_plan, reconcile_guarded, EngineError};
use crate::report;
use crate::settings::Settings;
use crate::wiring::{start_sandbox, wire, WireError, Wired};
use crate::writer::{Progress, WriterOptions};

/// Keeps TikTok Shop stock in step with a Shopify store, by the merchant's sync rules.
#[derive(Debug, Parser)]
#[command(name = "stockbridge", version, about)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// How `plan` and `sync` print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// A table for a person.
    #[default]
    Table,
    /// The JSON object of the reference.
    Json,
}

/// Options shared by `plan`, `sync` and `serve`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The configuration file (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Start the emulators in-process from this fixture and connect to them instead.
    #[arg(long, value_name = "FIXTURE")]
    pub sandbox: Option<PathBuf>,
    /// With --sandbox: write the emulators' state here when the command ends.
    #[arg(long, value_name = "FILE", requires = "sandbox")]
    pub sandbox_state_out: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read both stores, compute every number, write nothing; print what a sync would send.
    Plan {
        #[command(flatten)]
        run: RunArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// One full reconciliation: push the numbers that differ and record the run.
    Sync {
        #[command(flatten)]
        run: RunArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Let the mass-drop breaker's zeroing writes through (sync-rules.md §9).
        #[arg(long)]
        accept_drops: bool,
    },
    /// Run continuously: reconcile at start and on a schedule, apply Shopify webhooks.
    Serve {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Validate the file and check it against both stores.
    Check {
        /// The configuration file (TOML).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Check against the emulators started from this fixture.
        #[arg(long, value_name = "FIXTURE")]
        sandbox: Option<PathBuf>,
    },
    /// Run the Shopify and TikTok Shop emulators until stopped.
    Sandbox {
        /// The fixture (JSON).
        #[arg(long, value_name = "FILE")]
        fixture: PathBuf,
        /// Where to listen, e.g. 127.0.0.1:7300.
        #[arg(long, value_name = "ADDR")]
        listen: SocketAddr,
        /// Deliver Shopify webhooks here (repeatable).
        #[arg(long = "webhook-url", value_name = "URL")]
        webhook_urls: Vec<String>,
        /// TikTok requests per second before 429 (0 for no limit).
        #[arg(long, value_name = "N")]
        tiktok_rps: Option<u32>,
        /// Shopify GraphQL bucket size in cost points.
        #[arg(long, value_name = "POINTS")]
        shopify_bucket: Option<f64>,
        /// Shopify GraphQL restore rate in points per second.
        #[arg(long, value_name = "POINTS")]
        shopify_restore_rate: Option<f64>,
    },
    /// Start the emulators with an example store and show plan and sync against them.
    Demo,
    /// Show the audit log: every number pushed, newest first, with its explanation.
    Audit {
        /// The configuration file (its `[state] url` names the state store).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Only this SKU (the merchant SKU or the TikTok SKU id).
        #[arg(long, value_name = "SKU")]
        sku: Option<String>,
        /// At most this many entries (1 to 100000).
        #[arg(long, value_name = "N", default_value_t = 50)]
        #[arg(value_parser = crate::history::limit, allow_negative_numbers = true)]
        limit: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show the recorded runs (syncs and reconciliations), newest first, with their counts.
    Runs {
        /// The configuration file (its `[state] url` names the state store).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// At most this many runs (1 to 100000).
        #[arg(long, value_name = "N", default_value_t = 20)]
        #[arg(value_parser = crate::history::limit, allow_negative_numbers = true)]
        limit: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Runs the command line; the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.command {
        Command::Serve { .. } | Command::Sandbox { .. } => "info",
        _ => "warn",
    };
    crate::telemetry::init(level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(run(cli))
}

/// Runs a parsed command.
pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Plan { run, format } => plan_or_sync(&run, format, None).await,
        Command::Sync {
            run,
            format,
            accept_drops,
        } => plan_or_sync(&run, format, Some(accept_drops)).await,
        Command::Serve { run } => crate::serve::command(&run).await,
        Command::Check { config, sandbox } => crate::check::run(&config, sandbox.as_deref()).await,
        Command::Sandbox {
            fixture,
            listen,
            webhook_urls,
            tiktok_rps,
            shopify_bucket,
            shopify_restore_rate,
        } => {
            sandbox_command(
                &fixture,
                listen,
                webhook_urls,
                tiktok_rps,
                shopify_bucket,
                shopify_restore_rate,
            )
            .await
        }
        Command::Demo => crate::demo::run().await,
        Command::Audit {
            config,
            sku,
            limit,
            format,
        } => crate::audit::run(&config, sku.as_deref(), limit, format).await,
        Command::Runs {
            config,
            limit,
            format,
        } => crate::runs::run(&config, limit, format).await,
    }
}

/// Prints an error and returns its exit code.
pub fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

/// Loads the settings and wires the adapters (to the sandbox when asked).
pub async fn load_and_wire(
    run: &RunArgs,
    options: SandboxOptions,
) -> Result<(Settings, Wired), ExitCode> {
    let settings = Settings::load(&run.config).map_err(|e| fail(2, e))?;
    let wired = wire_settings(run, &settings, options).await?;
    Ok((settings, wired))
}

/// Wires the adapters for loaded settings (to the sandbox when the command line asks).
pub async fn wire_settings(
    run: &RunArgs,
    settings: &Settings,
    options: SandboxOptions,
) -> Result<Wired, ExitCode> {
    let sandbox = match &run.sandbox {
        Some(fixture) => Some(
            start_sandbox(fixture, options)
                .await
                .map_err(|e| fail(2, e))?,
        ),
        None => None,
    };
    wire(settings, sandbox).await.map_err(|e| match e {
        WireError::Store { .. } => fail(1, e),
        _ => fail(2, e),
    })
}

fn engine_failure(e: &EngineError) -> ExitCode {
    fail(if e.is_configuration() { 2 } else { 1 }, e)
}

/// A progress bar on standard error.
#[derive(Default)]
struct Bar(std::sync::Mutex<Option<indicatif::ProgressBar>>);

impl Progress for Bar {
    fn start(&self, total: u64) {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} lines written ({eta} left)",
        ) {
            bar.set_style(style);
        }
        *self.0.lock().unwrap() = Some(bar);
    }

    fn advance(&self, done: u64) {
        if let Some(bar) = self.0.lock().unwrap().as_ref() {
            bar.set_position(done);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.0.lock().unwrap().take() {
            bar.finish_and_clear();
        }
    }
}

/// `plan` (`accept_drops` `None`) or `sync`.
async fn plan_or_sync(run: &RunArgs, format: Format, accept_drops: Option<bool>) -> ExitCode {
    let (settings, wired) = match load_and_wire(run, SandboxOptions::default()).await {
        Ok(w) => w,
        Err(code) => return code,
    };
    let code = if let Some(accept_drops) = accept_drops {
        let breaker = if accept_drops {
            Breaker::off()
        } else {
            settings.breaker
        };
        sync(&settings, &wired, format, &breaker).await
    } else {
        match read_and_plan(&wired.stores, &settings.rules).await {
            Ok(snapshot) => {
                print_report(format, &snapshot.plan, None);
                ExitCode::SUCCESS
            }
            Err(e) => engine_failure(&e),
        }
    };
    if let Some(out) = &run.sandbox_state_out {
        if let Err(e) = wired.write_sandbox_state(out) {
            return fail(
                1,
                format!("cannot write --sandbox-state-out {}: {e}", out.display()),
            );
        }
    }
    code
}

fn print_report(
    format: Format,
    plan: &stockbridge_domain::Plan,
    statuses: Option<&[crate::writer::LineStatus]>,
) {
    match format {
        Format::Json => println!("{}", report::json(plan, statuses)),
        Format::Table => print!("{}", report::table(plan, statuses)),
    }
}

async fn sync(settings: &Settings, wired: &Wired, format: Format, breaker: &Breaker) -> ExitCode {
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted: finishing the writes in flight, starting no new ones");
            on_signal.cancel();
        }
    });
    let options = WriterOptions {
        concurrency: settings.concurrency,
        progress: std::io::stderr()
            .is_terminal()
            .then(|| Arc::new(Bar::default()) as Arc<dyn Progress>),
        ..WriterOptions::default()
    };
    let result = reconcile_guarded(
        &wired.stores,
        &settings.rules,
        breaker,
        RunKind::Sync,
        &options,
        &cancel,
    )
    .await;
    match result {
        Ok(report) => {
            print_report(format, &report.plan, Some(&report.statuses));
            if report.counts.failed > 0 {
                eprintln!(
                    "{} update(s) failed; they are listed above with the reason and will be retried by the next sync",
                    report.counts.failed
                );
            }
            if report.verdict.tripped {
                eprintln!("{}", report.verdict.reason(breaker));
                ExitCode::from(3)
            } else if report.counts.failed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => engine_failure(&e),
    }
}

async fn sandbox_command(
    fixture: &Path,
    listen: SocketAddr,
    webhook_urls: Vec<String>,
    tiktok_rps: Option<u32>,
    shopify_bucket: Option<f64>,
    shopify_restore_rate: Option<f64>,
) -> ExitCode {
    let fixture = match stockbridge_sandbox::Fixture::load(fixture) {
        Ok(f) => f,
        Err(e) => return fail(2, e),
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => return fail(2, format!("cannot listen on {listen}: {e}")),
    };
    let mut options = SandboxOptions {
        webhook_urls,
        ..SandboxOptions::default()
    };
    if let Some(rps) = tiktok_rps {
        options.tiktok_requests_per_second = (rps > 0).then_some(rps);
    }
    // The defaults are valid, so a failed check after setting one flag names that flag.
    if let Some(b) = shopify_bucket {
        options.shopify_bucket_size = b;
        if let Err(e) = options.validate() {
            return fail(2, format!("--shopify-bucket: {e}"));
        }
    }
    if let Some(r) = shopify_restore_rate {
        options.shopify_restore_rate = r;
        if let Err(e) = options.validate() {
            return fail(2, format!("--shopify-restore-rate: {e}"));
        }
    }
    let sandbox = match stockbridge_sandbox::Sandbox::start(fixture, listener, options).await {
        Ok(s) => s,
        Err(e) => return fail(2, e),
    };
    let base = sandbox.base_url();
    println!("Shopify Admin GraphQL: {base}/admin/api/2026-10/graphql.json");
    println!("TikTok Shop API:       {base}");
    println!("TikTok token host:     {base}");
    println!("Control API:           {base}/_sandbox/");
    println!("Listening; Ctrl-C or SIGTERM stops.");
    crate::serve::shutdown_signal().await;
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}
