//! `stockbridge plan` and `stockbridge sync`: read both stores and plan; `sync` then writes
//! what differs through the engine, with a progress bar on a terminal and Ctrl-C stopping
//! cleanly.

use std::io::IsTerminal;
use std::sync::Arc;

use stockbridge_domain::Breaker;
use stockbridge_ports::RunKind;
use stockbridge_sandbox::SandboxOptions;
use tokio_util::sync::CancellationToken;

use crate::engine::{read_and_plan, reconcile_guarded, Progress, WriterOptions};
use crate::error::CommandError;
use crate::report::{self, Format};
use crate::settings::Settings;
use crate::wiring::{load_and_wire, RunArgs, Wired};

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

/// `stockbridge plan`.
pub async fn plan(run: &RunArgs, format: Format) -> Result<(), CommandError> {
    plan_or_sync(run, format, None).await
}

/// `stockbridge sync`; with `accept_drops`, the mass-drop breaker is off for this run.
pub async fn sync(run: &RunArgs, format: Format, accept_drops: bool) -> Result<(), CommandError> {
    plan_or_sync(run, format, Some(accept_drops)).await
}

/// `plan` (`accept_drops` `None`) or `sync`.
async fn plan_or_sync(
    run: &RunArgs,
    format: Format,
    accept_drops: Option<bool>,
) -> Result<(), CommandError> {
    let (settings, wired) = load_and_wire(run, SandboxOptions::default()).await?;
    let result = if let Some(accept_drops) = accept_drops {
        let breaker = if accept_drops {
            Breaker::off()
        } else {
            settings.breaker
        };
        write_differences(&settings, &wired, format, &breaker).await
    } else {
        match read_and_plan(&wired.stores, &settings.rules).await {
            Ok(snapshot) => {
                report::print(format, &snapshot.plan, None);
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    };
    let written = wired.write_sandbox_state_out(run);
    match (result, written) {
        (Err(e), Err(out)) => {
            tracing::error!(error = %out, "the emulators' state was not written");
            Err(e)
        }
        (result, written) => result.and(written),
    }
}

async fn write_differences(
    settings: &Settings,
    wired: &Wired,
    format: Format,
    breaker: &Breaker,
) -> Result<(), CommandError> {
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
    };
    let report = reconcile_guarded(
        &wired.stores,
        &settings.rules,
        breaker,
        RunKind::Sync,
        &options,
        &cancel,
    )
    .await?;
    report::print(format, &report.plan, Some(&report.statuses));
    let failed = (report.counts.failed > 0).then(|| {
        format!(
            "{} update(s) failed; they are listed above with the reason and will be retried by the next sync",
            report.counts.failed
        )
    });
    if report.verdict.tripped {
        let reason = report.verdict.reason(breaker);
        return Err(CommandError::breaker_held(anyhow::anyhow!(
            "{}",
            failed.map_or(reason.clone(), |f| format!("{reason}\n{f}"))
        )));
    }
    match failed {
        Some(f) => Err(CommandError::failed(anyhow::anyhow!(f))),
        None => Ok(()),
    }
}
