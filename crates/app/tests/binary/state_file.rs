//! The state file holds tokens: a path that is a symbolic link or another user's file is
//! refused with exit 2 and the reason; a file open to group or others is tightened to 0600
//! and the operator told; the lock file beside it is 0600 too.

use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;

use crate::binary::support::*;

/// `sync` against the in-process emulators, keeping its state in `state`.
fn sync_with_state(dir: &Path, state: &Path) -> Run {
    let config = write(
        dir,
        "stockbridge.toml",
        &format!("[state]\nurl = \"sqlite://{}\"\n", state.display()),
    );
    let fixture = write(dir, "fixture.json", SEED);
    run(
        &[
            "sync",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
            "--sandbox",
            fixture.to_str().unwrap(),
        ],
        &[],
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o777
}

#[test]
fn a_state_path_that_is_a_dangling_link_is_refused_and_nothing_is_created_at_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("somewhere-else.db");
    let state = dir.path().join("state.db");
    symlink(&target, &state).unwrap();
    let synced = sync_with_state(dir.path(), &state);
    assert_eq!(synced.code, 2, "{}", synced.stderr);
    assert!(
        synced.stderr.contains("is a symbolic link"),
        "{}",
        synced.stderr
    );
    assert!(!target.exists(), "the link was not followed");
}

#[test]
fn a_state_file_of_another_user_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    std::fs::write(&state, b"").unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o644)).unwrap();
    let Ok(()) = std::os::unix::fs::chown(&state, Some(4242), None) else {
        panic!("this test gives a file to another user, which needs root");
    };
    let synced = sync_with_state(dir.path(), &state);
    assert_eq!(synced.code, 2, "{}", synced.stderr);
    assert!(
        synced.stderr.contains("belongs to user id 4242"),
        "{}",
        synced.stderr
    );
    assert_eq!(
        std::fs::metadata(&state).unwrap().len(),
        0,
        "nothing written"
    );
    assert_eq!(mode(&state), 0o644, "another user's file is not touched");
}

#[test]
fn a_state_file_open_to_others_is_tightened_to_0600_and_the_operator_told() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let first = sync_with_state(dir.path(), &state);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(mode(&state), 0o600, "a new file is owner-only");
    let lock = dir.path().join("state.db-lock");
    assert_eq!(mode(&lock), 0o600, "the lock file is owner-only");

    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o666)).unwrap();
    let second = sync_with_state(dir.path(), &state);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(mode(&state), 0o600);
    assert_eq!(mode(&lock), 0o600);
    assert!(
        second.stderr.contains("tightened to owner-only"),
        "{}",
        second.stderr
    );
}
