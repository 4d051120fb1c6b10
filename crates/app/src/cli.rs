//! The command line of cli.md: parsing and dispatch. Every command returns a
//! [`CommandError`] carrying its exit code (0 done, 1 some updates failed, 2 configuration,
//! command line or credentials wrong, 3 the mass-drop breaker held the zeroing writes),
//! printed here once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::CommandError;
use crate::report::Format;
use crate::wiring::RunArgs;

/// Keeps TikTok Shop stock in step with a Shopify store, by the merchant's sync rules.
#[derive(Debug, Parser)]
#[command(name = "stockbridge", version, about)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
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
        /// Deliver TikTok order webhooks here (repeatable).
        #[arg(long = "tiktok-webhook-url", value_name = "URL")]
        tiktok_webhook_urls: Vec<String>,
        /// TikTok requests per second before 429 (0 for no limit).
        #[arg(long, value_name = "N")]
        tiktok_rps: Option<u32>,
        /// Shopify GraphQL bucket size in cost points.
        #[arg(long, value_name = "POINTS")]
        shopify_bucket: Option<f64>,
        /// Shopify GraphQL restore rate in points per second.
        #[arg(long, value_name = "POINTS")]
        shopify_restore_rate: Option<f64>,
        /// Serve N copies of the fixture's store: shop k (1..N) is `shop-k.myshopify.com`
        /// with cipher `SHOP_k` and every other credential with `-k` appended.
        #[arg(long, value_name = "N")]
        shops: Option<usize>,
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
    /// Manage the shops of a fleet (a worker's file names its PostgreSQL database).
    Shops {
        /// What to do.
        #[command(subcommand)]
        action: crate::shops::ShopsCommand,
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
    let result = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(e) => Err(CommandError::failed(anyhow::anyhow!(
            "cannot start the async runtime: {e}"
        ))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// Runs a parsed command.
pub async fn run(cli: Cli) -> Result<(), CommandError> {
    match cli.command {
        Command::Plan { run, format } => crate::sync::plan(&run, format).await,
        Command::Sync {
            run,
            format,
            accept_drops,
        } => crate::sync::sync(&run, format, accept_drops).await,
        Command::Serve { run } => crate::serve::command(&run).await,
        Command::Check { config, sandbox } => crate::check::run(&config, sandbox.as_deref()).await,
        Command::Sandbox {
            fixture,
            listen,
            webhook_urls,
            tiktok_webhook_urls,
            tiktok_rps,
            shopify_bucket,
            shopify_restore_rate,
            shops,
        } => {
            crate::sandbox::run(
                (&fixture, shops),
                listen,
                (webhook_urls, tiktok_webhook_urls),
                tiktok_rps,
                shopify_bucket,
                shopify_restore_rate,
            )
            .await
        }
        Command::Demo => crate::demo::run().await,
        Command::Shops { action } => crate::shops::run(action).await,
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
