//! What can be wrong with a spec. Every problem names the JSON path it
//! was found at (`$.inputs[3]`) and why it was refused.

use std::fmt;

use crate::net::NetError;
use crate::path::PathError;
use crate::tree::InsertError;

/// One thing wrong with a spec, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {kind}")]
pub struct Problem {
    /// A JSON path into the spec: `$` is the whole document.
    pub at: String,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    #[error("not valid JSON: {0}")]
    Syntax(String),
    #[error("{0}")]
    Schema(String),
    #[error("no \"version\": a spec says which version of the format it is written in (this is {current})", current = crate::SPEC_VERSION)]
    MissingVersion,
    #[error("version {found} is not known: this sandbox-root reads version {current}", current = crate::SPEC_VERSION)]
    UnknownVersion { found: String },
    #[error("{0}")]
    Path(#[from] PathError),
    #[error("{0}")]
    Conflict(#[from] InsertError),
    #[error("{0}")]
    Net(#[from] NetError),
    #[error("no device {name:?}: the devices are {known}")]
    UnknownDevice { name: String, known: String },
    #[error("device {0:?} is listed twice")]
    DeviceTwice(String),
    #[error("{what} {name:?} {reason}")]
    BadName { what: &'static str, name: String, reason: &'static str },
    #[error("{0}")]
    Inconsistent(String),
    #[error("the working directory {cwd} is {what}, not a directory of the environment")]
    CwdNotDirectory { cwd: String, what: String },
}

/// Every problem found in a spec, in document order; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<Problem>);

impl SpecErrors {
    pub(crate) fn one(at: impl Into<String>, kind: ProblemKind) -> Self {
        SpecErrors(vec![Problem { at: at.into(), kind }])
    }

    pub fn problems(&self) -> &[Problem] {
        &self.0
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}
