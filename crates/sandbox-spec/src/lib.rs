//! The build environment spec and everything that can be decided from it
//! without an operating system: parsing, validation, the plan and the
//! composed tree that sandbox-root serves.
//!
//! spec (JSON) → [`parse`] → [`Plan`] → the translators apply it.

#![deny(unsafe_code)]

mod error;
pub mod net;
pub mod path;
mod plan;
mod raw;
pub mod tree;
mod validate;

pub use error::{Problem, ProblemKind, SpecErrors};
pub use net::{IpRange, NetError, PortRange};
pub use path::{AbsPath, PathError};
pub use plan::{
    Access, AllowRule, Device, Entry, EntryKind, Exec, NetworkPolicy, Plan, Provider, Server, Servers, SocketDomain,
    User,
};
pub use tree::{DirentType, InsertError, LookupError, NodeId, ROOT, Resolution, Tree};
pub use validate::{DEFAULT_HOME, DEFAULT_STORE};

/// The version of the spec format this crate reads.
pub const SPEC_VERSION: u64 = 1;

/// The origin of entries the plan adds by itself.
pub const DEFAULT_ORIGIN: &str = "(default)";

/// PIDs of a private namespace lie below this bound (as the Hurd's proc
/// server wraps its own PIDs at 30000).
pub const MAX_PID: u32 = 30_000;

/// Parses and validates a spec. On failure, every problem found is
/// returned, each with its JSON path.
pub fn parse(text: &str) -> Result<Plan, SpecErrors> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        SpecErrors::one(format!("line {}, column {}", e.line(), e.column()), ProblemKind::Syntax(e.to_string()))
    })?;
    // The version decides how the rest is read, so it is checked first and
    // alone: a spec from a newer daemon gets "unknown version", not a list
    // of unknown fields.
    match value.get("version") {
        None => return Err(SpecErrors::one("$", ProblemKind::MissingVersion)),
        Some(v) if v.as_u64() == Some(SPEC_VERSION) => {}
        Some(v) => return Err(SpecErrors::one("$.version", ProblemKind::UnknownVersion { found: v.to_string() })),
    }
    let raw: raw::Spec = serde_path_to_error::deserialize(value).map_err(|e| {
        let at = match e.path().to_string().as_str() {
            "." => "$".to_owned(),
            p => format!("$.{p}"),
        };
        SpecErrors::one(at, ProblemKind::Schema(e.into_inner().to_string()))
    })?;
    validate::validate(raw)
}
