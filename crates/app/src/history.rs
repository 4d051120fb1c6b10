//! What `audit` and `runs` share to read the history kept in the state store: opening the
//! store a configuration file names, and the `--limit` they take.

use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::Arc;

use stockbridge_ports::StateStore;

use crate::error::CommandError;
use crate::settings::Settings;
use crate::state;

/// What `--limit` of `audit` and `runs` accepts.
pub const LIMIT: RangeInclusive<usize> = 1..=100_000;

/// A `--limit` that is not a whole number in [`LIMIT`].
#[derive(Debug, thiserror::Error)]
#[error("expected a whole number from {} to {}", LIMIT.start(), LIMIT.end())]
pub struct LimitError;

/// Reads `--limit`: a whole number in [`LIMIT`]; clap turns a refusal into exit 2.
pub fn limit(text: &str) -> Result<usize, LimitError> {
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| LIMIT.contains(n))
        .ok_or(LimitError)
}

/// The state store named by the file's `[state] url` (default [`state::DEFAULT_STATE`], or a
/// PostgreSQL database), for the commands that only read it (`audit`, `runs`), and its
/// address for messages, with any password masked. Opening an SQLite file marks runs left
/// `running` by a stopped process as aborted.
///
/// # Errors
///
/// Exit 2 when the file cannot be read or is wrong (a bad `[state] url` included, or a state
/// file that is not private); exit 1 when the store cannot be opened or reached.
pub async fn open_state_store(
    config: &Path,
) -> Result<(Arc<dyn StateStore>, String), CommandError> {
    let settings = Settings::load(config).map_err(CommandError::configuration)?;
    let location = settings.state_location();
    let store = state::open(location).await?;
    Ok((store, state::redact(location)))
}
