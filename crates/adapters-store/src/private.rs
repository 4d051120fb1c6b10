//! The state file holds tokens, so it and its companions (`-lock`, `-wal`, `-shm`) must be
//! private to the user running Stockbridge. Before SQLite opens anything, each is checked:
//! a symbolic link or a file of another user is refused (a link could lead the tokens
//! anywhere, and another user's file is one they can read); a file readable or writable by
//! group or others is tightened to `0600`, with a warning saying so (as ssh-keygen's
//! advice for keys goes). A missing state or lock file is created `0600`.
//!
//! Each file is opened without following links and checked through that open descriptor, so
//! the file checked is the file kept.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use crate::error::SqliteError;

/// Whether a missing file is created or left missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IfMissing {
    Create,
    Skip,
}

/// Opens `path` for reading and writing after the checks above, creating it owner-only when
/// it is missing.
pub(crate) fn create_private(path: &Path) -> Result<File, SqliteError> {
    open_private(path, IfMissing::Create)?
        .ok_or_else(|| open_error(path, io::Error::from(io::ErrorKind::NotFound)))
}

/// Checks `path` as above when it exists (SQLite creates a missing `-wal` or `-shm` with the
/// state file's mode).
pub(crate) fn check_if_present(path: &Path) -> Result<(), SqliteError> {
    open_private(path, IfMissing::Skip).map(drop)
}

fn open_private(path: &Path, if_missing: IfMissing) -> Result<Option<File>, SqliteError> {
    let unsafe_file = |problem: String| SqliteError::UnsafeFile {
        path: path.to_owned(),
        problem,
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(unsafe_file(
                "is a symbolic link; the file that holds the tokens is not reached through a \
                 link: set [state] url to the file itself"
                    .to_owned(),
            ))
        }
        Ok(meta) if !meta.is_file() => return Err(unsafe_file("is not a regular file".to_owned())),
        Ok(meta) => check_owner(path, &meta)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound && if_missing == IfMissing::Skip => {
            return Ok(None)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => return Err(open_error(path, source)),
    }
    let file = open_no_follow(path, if_missing).map_err(|source| open_error(path, source))?;
    check_owner_and_mode(path, &file)?;
    Ok(Some(file))
}

fn open_error(path: &Path, source: io::Error) -> SqliteError {
    SqliteError::CreateFile {
        path: path.to_owned(),
        source,
    }
}

#[cfg(unix)]
fn open_no_follow(path: &Path, if_missing: IfMissing) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = OpenOptions::new();
    options
        .read(true)
        .write(true)
        .create(if_missing == IfMissing::Create)
        .truncate(false)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    options.open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path, if_missing: IfMissing) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(if_missing == IfMissing::Create)
        .truncate(false)
        .open(path)
}

/// Refuses another user's file; tightens one that group or others may read or write.
#[cfg(unix)]
fn check_owner_and_mode(path: &Path, file: &File) -> Result<(), SqliteError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = file.metadata().map_err(|source| open_error(path, source))?;
    check_owner(path, &meta)?;
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|source| open_error(path, source))?;
        tracing::warn!(
            path = %path.display(),
            was = %format!("{mode:04o}"),
            now = "0600",
            "the state file was open to group or others and holds tokens: tightened to owner-only"
        );
    }
    Ok(())
}

#[cfg(unix)]
fn check_owner(path: &Path, meta: &std::fs::Metadata) -> Result<(), SqliteError> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(SqliteError::UnsafeFile {
            path: path.to_owned(),
            problem: format!(
                "belongs to user id {}, not to the user running Stockbridge (id {me}), who \
                 could then not keep the tokens in it from its owner: move it away, or set \
                 [state] url to a file of your own",
                meta.uid()
            ),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner_and_mode(_path: &Path, _file: &File) -> Result<(), SqliteError> {
    Ok(())
}

#[cfg(not(unix))]
fn check_owner(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), SqliteError> {
    Ok(())
}

/// `<file><suffix>`, beside the state file (`-lock`, `-wal`, `-shm`).
pub(crate) fn companion(state_file: &Path, suffix: &str) -> PathBuf {
    let mut path = state_file.as_os_str().to_owned();
    path.push(suffix);
    PathBuf::from(path)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o777
    }

    #[test]
    fn a_missing_file_is_created_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        create_private(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_missing_companion_is_left_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db-wal");
        check_if_present(&path).unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn a_file_open_to_others_is_tightened_to_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        check_if_present(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_dangling_link_is_refused_and_its_target_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.db");
        let path = dir.path().join("state.db");
        symlink(&target, &path).unwrap();
        let err = create_private(&path).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(!target.exists());
    }

    #[test]
    fn a_file_of_another_user_is_refused_and_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let mut path = dir.path().join("state.db");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let other = if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(&path, Some(4242), None).unwrap();
            4242
        } else {
            // Only root gives a file away; anyone else is handed one of root's.
            path = PathBuf::from("/etc/passwd");
            0
        };
        let err = create_private(&path).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("belongs to user id {other}")),
            "{err}"
        );
        assert_eq!(mode(&path), 0o644, "another user's file is not touched");
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = create_private(dir.path()).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
}
