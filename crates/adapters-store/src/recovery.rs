//! Runs that a stopped process left `running` (killed, crashed, a power cut): marked
//! `aborted` when the state file is next opened, but only while no other process has it
//! open, since a live process's run is running, not lost.
//!
//! Every store over a file holds a shared advisory lock (`flock`) on `<file>-lock` for as long
//! as it lives. The kernel drops the lock when its holder goes, however it goes, so a store
//! that gets the lock exclusively knows that nobody else has the file open and that every
//! `running` run is an orphan. Two stores opened in one process lock like two processes.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};
use stockbridge_ports::StoreError;

use crate::error::{store_error, SqliteError};
use crate::private;

/// The note an orphaned run is marked with, shown as its `aborted` reason.
pub const STOPPED_NOTE: &str = "the process stopped before the run finished (killed, crashed \
     or the machine went down); the writes it made are in the audit log, and the next run \
     brings every quantity up to date";

/// Held for as long as a store over a file lives: other openers see the file in use.
#[derive(Debug)]
pub(crate) struct OpenLock {
    _file: File,
}

/// `<file>-lock`, beside the state file as SQLite's `-wal` and `-shm` are.
pub(crate) fn lock_path(state_file: &Path) -> PathBuf {
    private::companion(state_file, "-lock")
}

/// Takes the open lock on `state_file` and, when this is the only store over it, marks the
/// runs still `running` as aborted. Returns the lock, to hold while the store lives.
pub(crate) fn open_and_recover(
    state_file: &Path,
    conn: &mut Connection,
) -> Result<OpenLock, StoreError> {
    let path = lock_path(state_file);
    let file = private::create_private(&path)?;
    if alone(&file, &path)? {
        let marked = mark_orphans(conn)?;
        if marked > 0 {
            tracing::warn!(
                runs = marked,
                "runs left running by a stopped process marked aborted"
            );
        }
    }
    share(&file, &path)?;
    Ok(OpenLock { _file: file })
}

/// Marks every `running` run `aborted` with [`STOPPED_NOTE`]; how many. The end time stays
/// unknown: when the process stopped was not recorded.
pub(crate) fn mark_orphans(conn: &mut Connection) -> Result<usize, StoreError> {
    conn.execute(
        "UPDATE runs SET outcome = 'aborted', outcome_detail = ?1 WHERE outcome = 'running'",
        params![STOPPED_NOTE],
    )
    .map_err(store_error)
}

/// Whether the exclusive lock was had at once: no other store has the file open.
#[cfg(unix)]
fn alone(file: &File, path: &Path) -> Result<bool, StoreError> {
    use rustix::fs::{flock, FlockOperation};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(errno) => Err(lock_error(path, errno.into())),
    }
}

/// Turns the lock into a shared one (waiting out another opener's short recovery).
#[cfg(unix)]
fn share(file: &File, path: &Path) -> Result<(), StoreError> {
    use rustix::fs::{flock, FlockOperation};
    flock(file, FlockOperation::LockShared).map_err(|errno| lock_error(path, errno.into()))
}

/// Without `flock`, another process's open cannot be seen: nothing is marked, and a run of a
/// stopped process keeps reading as running.
#[cfg(not(unix))]
fn alone(_file: &File, _path: &Path) -> Result<bool, StoreError> {
    Ok(false)
}

#[cfg(not(unix))]
fn share(_file: &File, _path: &Path) -> Result<(), StoreError> {
    Ok(())
}

#[cfg(unix)]
fn lock_error(path: &Path, source: std::io::Error) -> StoreError {
    SqliteError::Lock {
        path: path.to_owned(),
        source,
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_sits_beside_the_state_file() {
        assert_eq!(
            lock_path(Path::new("/var/lib/stockbridge/state.db")),
            Path::new("/var/lib/stockbridge/state.db-lock")
        );
        assert_eq!(
            lock_path(Path::new("stockbridge.db")),
            Path::new("stockbridge.db-lock")
        );
    }
}
