//! How a command ends when it does not succeed: one error type for every command, carrying
//! the exit code of cli.md; `cli::main` prints it once, as `error: MESSAGE`.

use std::fmt;
use std::process::ExitCode;

use stockbridge_domain::RuleError;

use crate::engine::EngineError;
use crate::wiring::WireError;

/// Why a command failed, with its exit code.
#[derive(Debug)]
pub struct CommandError {
    code: u8,
    error: anyhow::Error,
}

impl CommandError {
    /// Exit 2: the configuration, the command line or the credentials are wrong; nothing was
    /// pushed.
    pub fn configuration(error: impl Into<anyhow::Error>) -> CommandError {
        CommandError {
            code: 2,
            error: error.into(),
        }
    }

    /// Exit 1: the command ran but did not finish its work (some updates failed, a store
    /// could not be read or written).
    pub fn failed(error: impl Into<anyhow::Error>) -> CommandError {
        CommandError {
            code: 1,
            error: error.into(),
        }
    }

    /// Exit 3: the mass-drop breaker held the zeroing writes; the rest was written.
    pub fn breaker_held(error: impl Into<anyhow::Error>) -> CommandError {
        CommandError {
            code: 3,
            error: error.into(),
        }
    }

    /// The exit code: 1, 2 or 3.
    pub fn code(&self) -> u8 {
        self.code
    }

    /// The process's exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The errors of this workspace name their causes in their own text.
        write!(f, "{}", self.error)
    }
}

impl From<EngineError> for CommandError {
    fn from(e: EngineError) -> CommandError {
        if e.is_configuration() {
            CommandError::configuration(e)
        } else {
            CommandError::failed(e)
        }
    }
}

impl From<WireError> for CommandError {
    /// A state store that cannot be opened is exit 1; anything else is the configuration.
    fn from(e: WireError) -> CommandError {
        match e {
            WireError::Store { .. } => CommandError::failed(e),
            _ => CommandError::configuration(e),
        }
    }
}

/// Rule errors as the text of an error, one a line: "the rules do not fit the stores:" and
/// then each error after `  - `.
pub(crate) fn rules_do_not_fit(errors: &[RuleError]) -> String {
    let mut text = "the rules do not fit the stores:".to_owned();
    for e in errors {
        text.push_str(&format!("\n  - {e}"));
    }
    text
}
