//! Whether `sandbox-root exec` may trust the translator on a node as an
//! environment of its caller's: pure, from what the node and its
//! translator say.
//!
//! Only a node's owner (or root) can set a translator on it. So a node
//! that the caller owns, that nobody else may write, and whose translator
//! is sandbox-root by the name it was started with, carries a
//! sandbox-root the caller (or root) set; its last option names the spec.
//! A node of anyone else's could carry any program that answers the same
//! options, and the builder would run wherever that program says.

use std::path::Path;

/// Write permission for the group and for others.
const S_IWGRP: u32 = 0o020;
const S_IWOTH: u32 = 0o002;

/// What the node and its translator say of themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFacts {
    /// The node's owner and mode (as the node itself, not its translator,
    /// answers).
    pub owner: u32,
    pub mode: u32,
    /// The translator's options (`fsys_get_options`): its program, then
    /// its arguments.
    pub options: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Untrusted {
    #[error("it is owned by uid {owner}, not by the caller (uid {caller}): anyone's could be there")]
    NotOwned { owner: u32, caller: u32 },
    #[error("its mode {mode:o} lets others than its owner write it")]
    Writable { mode: u32 },
    #[error("its translator is not sandbox-root: {options:?}")]
    NotSandboxRoot { options: Vec<String> },
}

/// The spec the environment on the node was started with, if the caller
/// (uid `caller`) may trust it (see the module's text).
pub fn spec_of(facts: &NodeFacts, caller: u32) -> Result<&str, Untrusted> {
    only_theirs(facts.owner, facts.mode, caller)?;
    match facts.options.as_slice() {
        [program, .., spec]
            if Path::new(program).file_name().is_some_and(|n| n == "sandbox-root") && spec.starts_with('/') =>
        {
            Ok(spec)
        }
        _ => Err(Untrusted::NotSandboxRoot { options: facts.options.clone() }),
    }
}

/// Whether a file (a node, a spec) with `owner` and `mode` can have been
/// changed by nobody but uid `caller` (and root).
pub fn only_theirs(owner: u32, mode: u32, caller: u32) -> Result<(), Untrusted> {
    if owner != caller {
        return Err(Untrusted::NotOwned { owner, caller });
    }
    if mode & (S_IWGRP | S_IWOTH) != 0 {
        return Err(Untrusted::Writable { mode: mode & 0o7777 });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(owner: u32, mode: u32, options: &[&str]) -> NodeFacts {
        NodeFacts { owner, mode, options: options.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn the_callers_own_sandbox_root() {
        let f = facts(0, 0o100_644, &["/hurd/sandbox-root", "/tmp/b.json"]);
        assert_eq!(spec_of(&f, 0), Ok("/tmp/b.json"));
    }

    #[test]
    fn a_node_of_someone_elses_is_not_trusted() {
        let f = facts(30001, 0o100_644, &["/hurd/sandbox-root", "/tmp/b.json"]);
        assert_eq!(spec_of(&f, 0), Err(Untrusted::NotOwned { owner: 30001, caller: 0 }));
    }

    #[test]
    fn a_node_others_may_write_is_not_trusted() {
        let f = facts(0, 0o100_666, &["/hurd/sandbox-root", "/tmp/b.json"]);
        assert_eq!(spec_of(&f, 0), Err(Untrusted::Writable { mode: 0o666 }));
        let f = facts(0, 0o100_664, &["/hurd/sandbox-root", "/tmp/b.json"]);
        assert!(matches!(spec_of(&f, 0), Err(Untrusted::Writable { .. })));
    }

    #[test]
    fn only_sandbox_root_by_its_file_name() {
        for options in [
            &["/tmp/evil-sandbox-root", "/tmp/b.json"][..],
            &["/hurd/firmlink", "/"],
            &["/hurd/sandbox-root"],
            &["/hurd/sandbox-root", "relative.json"],
            &[],
        ] {
            let f = facts(0, 0o100_644, options);
            assert!(matches!(spec_of(&f, 0), Err(Untrusted::NotSandboxRoot { .. })), "{options:?}");
        }
        let f = facts(0, 0o100_644, &["sandbox-root", "/tmp/b.json"]);
        assert_eq!(spec_of(&f, 0), Ok("/tmp/b.json"));
    }
}
