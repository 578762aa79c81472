//! Read-only directories served by proxy: what a translator does with the
//! host's answer to a lookup below a directory it must keep read-only.
//!
//! Handing out the host's directory port would let a client go on below
//! it on the host, where only the host's permissions guard the files. A
//! translator that must refuse every change (EROFS) serves such
//! directories itself: it looks names up on the host for the client and
//! keeps every directory it meets its own. Files are handed to the client
//! opened without write access; their data never passes through the
//! translator.

use crate::retry::RetryKind;

/// What to do with one answer of the host's `dir_lookup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Hand the answer to the client as it is: a magical retry (an
    /// absolute symlink, started again at the client's root), a retry
    /// that leads back to this translator (`..` above the read-only tree),
    /// or the root of another translator below, which guards itself.
    Client,
    /// The lookup is done at the returned port: serve it read-only if it
    /// is a directory, else hand it over (it was opened read-only).
    Done,
    /// Look the name left up at the returned port, as the same user (the
    /// host's lookup stopped at a boundary it does not cross itself).
    Continue,
}

/// Decides what to do with the host's answer `kind`/`rest`; `leads_here`
/// says whether its port is one this translator serves.
pub fn next(kind: RetryKind, rest: &str, leads_here: bool) -> Next {
    match kind {
        RetryKind::Magical => Next::Client,
        _ if leads_here => Next::Client,
        RetryKind::Reauth => Next::Client,
        RetryKind::Normal if rest.is_empty() => Next::Done,
        RetryKind::Normal => Next::Continue,
    }
}

/// How many host answers one lookup follows before it answers ELOOP.
pub const HOPS_MAX: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_links_and_ways_back_go_to_the_client() {
        assert_eq!(next(RetryKind::Magical, "/gnu/store/x/bin/sh", false), Next::Client);
        assert_eq!(next(RetryKind::Magical, "tty", false), Next::Client);
        // `..` above the entry: the host answers with the parent we gave
        // it, one of our own ports.
        assert_eq!(next(RetryKind::Reauth, "etc/passwd", true), Next::Client);
        assert_eq!(next(RetryKind::Normal, "", true), Next::Client);
    }

    #[test]
    fn the_hosts_own_nodes_stay_with_us() {
        assert_eq!(next(RetryKind::Normal, "", false), Next::Done);
        assert_eq!(next(RetryKind::Normal, "lib/libc.so", false), Next::Continue);
    }

    #[test]
    fn other_translators_below_guard_themselves() {
        assert_eq!(next(RetryKind::Reauth, "", false), Next::Client);
        assert_eq!(next(RetryKind::Reauth, "sub", false), Next::Client);
    }
}
