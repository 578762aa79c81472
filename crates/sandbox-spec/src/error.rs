//! What can be wrong with a spec. Every problem names the JSON path it
//! was found at (`$.inputs[3]`) and why it was refused.

use std::fmt;

use crate::net::NetError;
use crate::path::{AbsPath, PathError};
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

    // Host paths that would open the host to the build.
    #[error(
        "the host's root `/` cannot be given to the build: it holds every host file, /servers, /dev and /proc among them"
    )]
    HostRoot,
    #[error("{path} is the host's {door} or lies inside it: {what}, which the build must not reach")]
    HostDoor { path: AbsPath, door: &'static str, what: &'static str },
    #[error("{path} holds the host's {door}: {what}, which the build must not reach")]
    HoldsHostDoor { path: AbsPath, door: &'static str, what: &'static str },
    #[error("{path} is writable, but {other_at} gives it read-only: the build could change what it is given read-only")]
    WritableIsReadOnly { path: AbsPath, other_at: String },
    #[error(
        "{path} is writable, but lies inside {other}, which {other_at} gives read-only: the build could change what it is given read-only"
    )]
    WritableInsideReadOnly { path: AbsPath, other: AbsPath, other_at: String },
    #[error(
        "{path} is writable and holds {other}, which {other_at} gives read-only: the build could rename or replace it"
    )]
    WritableHoldsReadOnly { path: AbsPath, other: AbsPath, other_at: String },
    #[error(
        "{path} and {other} (writable from {other_at}) overlap on the host: writable host paths must not be the same or lie one inside the other"
    )]
    WritableOverlap { path: AbsPath, other: AbsPath, other_at: String },
    #[error("{path} is writable and lies in the store {store}: only the build's outputs may be made there")]
    WritableInStore { path: AbsPath, store: AbsPath },
    #[error("{path} is writable and holds the store {store}: the build could change every item in it")]
    WritableHoldsStore { path: AbsPath, store: AbsPath },

    // Outputs: items of the store, made by the build.
    #[error("the output {output} is the store itself: an output is one item in it, {output}/NAME")]
    OutputIsStore { output: AbsPath },
    #[error("the output {output} is not directly in the store {store}: an output is one item in it, {store}/NAME")]
    OutputOutsideStore { output: AbsPath, store: AbsPath },

    #[error("{what} {id} is {why}: the build must run with ids of its own")]
    ReservedId { what: &'static str, id: u32, why: &'static str },
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
