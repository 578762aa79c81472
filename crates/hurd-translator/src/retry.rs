//! Retries: how a lookup answers "go on elsewhere".
//!
//! `dir_lookup` answers with a retry kind, a name still to look up, and a
//! port. A translator that hands a lookup over (a firmlink, a symlink, a
//! server node) does it with a retry and stays out of the data path.

pub use hurd::retry::RetryKind;

/// A retry to send back, without its port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub kind: RetryKind,
    pub name: String,
}

impl Retry {
    /// The lookup is finished: the port is the file itself.
    pub fn done() -> Retry {
        Retry { kind: RetryKind::Normal, name: String::new() }
    }

    /// Continue at a port that another server gave us: the client must
    /// reauthenticate it (as a firmlink answers).
    pub fn reauth(rest: &str) -> Retry {
        Retry { kind: RetryKind::Reauth, name: rest.to_owned() }
    }
}

/// Joins a link's target with the rest of the name being looked up.
fn join(target: &str, rest: &str) -> String {
    match (target.is_empty(), rest.is_empty()) {
        (_, true) => target.to_owned(),
        (true, false) => rest.to_owned(),
        (false, false) if target.ends_with('/') => format!("{target}{rest}"),
        (false, false) => format!("{target}/{rest}"),
    }
}

/// What following a symbolic link inside a translator leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Follow {
    /// A relative target: go on in the link's own directory with this name.
    Here(String),
    /// An absolute target: the client starts again at its root.
    Root(Retry),
}

/// Follows a link whose contents are `target`, with `rest` still to look up.
pub fn follow_symlink(target: &str, rest: &str) -> Follow {
    let name = join(target, rest);
    if target.starts_with('/') { Follow::Root(Retry { kind: RetryKind::Magical, name }) } else { Follow::Here(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_go_on_here() {
        assert_eq!(follow_symlink("fd/0", ""), Follow::Here("fd/0".into()));
        assert_eq!(follow_symlink("../lib", "libc.so"), Follow::Here("../lib/libc.so".into()));
        assert_eq!(follow_symlink("dir/", "x"), Follow::Here("dir/x".into()));
    }

    #[test]
    fn absolute_links_restart_at_the_clients_root() {
        assert_eq!(
            follow_symlink("/gnu/store/x", "bin/sh"),
            Follow::Root(Retry { kind: RetryKind::Magical, name: "/gnu/store/x/bin/sh".into() })
        );
        assert_eq!(follow_symlink("/", ""), Follow::Root(Retry { kind: RetryKind::Magical, name: "/".into() }));
    }

    #[test]
    fn constructors() {
        assert_eq!(Retry::done(), Retry { kind: RetryKind::Normal, name: String::new() });
        assert_eq!(Retry::reauth("a/b"), Retry { kind: RetryKind::Reauth, name: "a/b".into() });
        assert_eq!(RetryKind::Magical as i32, 3);
    }
}
