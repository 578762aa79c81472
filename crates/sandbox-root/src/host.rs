//! What sandbox-root asks of the host's file systems, behind a seam: the
//! [`Host`] trait over the calls (lookups, restricting a port to a
//! client's identity, reparenting, stat, reading a link, mkdir, remove),
//! and the decisions made over them, generic in it. On the Hurd the real
//! implementation is over `hurd::fs` (`serve::HurdHost`); the tests here
//! use a recording double, so that what is opened, with which flags and
//! as whom, is checked anywhere.

use hurd_server::Credentials;
use hurd_translator::Errno;
use hurd_translator::open::flags::{O_CREAT, O_NOLINK, O_NOTRANS, O_READ};

const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;

/// The most of a link's target read.
pub const LINK_MAX: usize = 4096;

/// The host calls sandbox-root makes.
pub trait Host {
    /// A port to a host node.
    type Port;

    /// `name` (one name) in the directory `dir`, looked up with `flags`;
    /// EIO when the host answers with a retry rather than the node.
    fn lookup_in(&self, dir: &Self::Port, name: &str, flags: i32, mode: u32) -> Result<Self::Port, Errno>;

    /// The node at the absolute host path `path`, looked up by
    /// sandbox-root itself (with its own identity).
    fn lookup_path(&self, path: &str) -> Result<Self::Port, Errno>;

    /// `port` with no more identity than `creds` (`io_restrict_auth`).
    fn restrict(&self, port: &Self::Port, creds: &Credentials) -> Result<Self::Port, Errno>;

    /// `port` with `..` at its top leading to `parent` (`file_reparent`).
    fn reparent(&self, port: &Self::Port, parent: &Self::Port) -> Result<Self::Port, Errno>;

    /// The node's mode (type and permission bits).
    fn mode(&self, port: &Self::Port) -> Result<u32, Errno>;

    /// Up to `amount` bytes from the start of the node.
    fn read(&self, port: &Self::Port, amount: usize) -> Result<Vec<u8>, Errno>;

    fn mkdir(&self, dir: &Self::Port, name: &str, mode: u32) -> Result<(), Errno>;

    fn remove(&self, dir: &Self::Port, name: &str, directory: bool) -> Result<(), Errno>;
}

/// What a lookup through an output answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Output<P> {
    /// The output itself, opened as asked and reparented.
    Open(P),
    /// `rest` below the output (a directory), reparented.
    Below(P, String),
    /// The output is a link to an absolute name: the client starts again
    /// with it at its root, the environment's.
    Magical(String),
    /// The output is a link to a relative name: the client goes on with
    /// it from the output's directory inside.
    FromDir(String),
}

/// The output `name` in the store directory `store` (a port the client
/// could hold: its identity), with `rest` below it, looked up with the
/// client's `flags`. An output is the build's: every lookup of it is of
/// the node itself (`O_NOLINK | O_NOTRANS`), never of what a link or a
/// translator it set there names; a link is followed here, inside the
/// environment; and it is opened with the client's flags only once, so
/// that `O_EXCL` and `O_TRUNC` act once. `dotdot` gives the port `..`
/// from the output leads to.
#[allow(clippy::too_many_arguments)]
pub fn output<H: Host>(
    host: &H,
    store: &H::Port,
    name: &str,
    rest: &str,
    flags: i32,
    mode: u32,
    dotdot: impl FnOnce() -> Result<H::Port, Errno>,
) -> Result<Output<H::Port>, Errno> {
    let open_flags = if rest.is_empty() { flags } else { 0 };
    let lookup = |flags| host.lookup_in(store, name, flags | O_NOLINK | O_NOTRANS, mode);
    // What is there first, opened for nothing (a link's contents are
    // never changed for a client that asked to open what it names),
    // unless it is made now.
    let (node, opened) = match lookup(0) {
        Err(Errno::ENOENT) if rest.is_empty() && flags & O_CREAT != 0 => (lookup(open_flags)?, true),
        found => (found?, open_flags == 0),
    };
    if host.mode(&node)? & S_IFMT == S_IFLNK && (!rest.is_empty() || flags & O_NOLINK == 0) {
        let link = lookup(O_READ)?;
        let target = String::from_utf8(host.read(&link, LINK_MAX)?).map_err(|_| Errno::EINVAL)?;
        let name = if rest.is_empty() { target.clone() } else { format!("{target}/{rest}") };
        return Ok(if target.starts_with('/') { Output::Magical(name) } else { Output::FromDir(name) });
    }
    let dotdot = dotdot()?;
    // Opened as the client asked (still the node itself: whatever it
    // became meanwhile is the build's own).
    let node = if rest.is_empty() && !opened { lookup(open_flags)? } else { node };
    let node = host.reparent(&node, &dotdot)?;
    Ok(if rest.is_empty() { Output::Open(node) } else { Output::Below(node, rest.to_owned()) })
}

/// The host's node at `path`, looked up by sandbox-root and restricted to
/// `creds`: a port that carries no more than the client's identity,
/// whatever the client does with it.
pub fn node_for<H: Host>(host: &H, path: &str, creds: &Credentials) -> Result<H::Port, Errno> {
    host.restrict(&host.lookup_path(path)?, creds)
}

/// The directory of the host path `path`, as the client with `creds` may
/// use it, and the last name of `path` in it.
pub fn parent_of<'p, H: Host>(host: &H, path: &'p str, creds: &Credentials) -> Result<(H::Port, &'p str), Errno> {
    let (parent, name) = path.rsplit_once('/').ok_or(Errno::EINVAL)?;
    let parent = if parent.is_empty() { "/" } else { parent };
    Ok((node_for(host, parent, creds)?, name))
}

/// `mkdir` of the output at the host path `path`, as the client.
pub fn make_output_dir<H: Host>(host: &H, path: &str, mode: u32, creds: &Credentials) -> Result<(), Errno> {
    let (parent, name) = parent_of(host, path, creds)?;
    host.mkdir(&parent, name, mode)
}

/// Removes the output at the host path `path`, as the client.
pub fn remove_output<H: Host>(host: &H, path: &str, directory: bool, creds: &Credentials) -> Result<(), Errno> {
    let (parent, name) = parent_of(host, path, creds)?;
    host.remove(&parent, name, directory)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use super::*;

    const S_IFREG: u32 = 0o100_000;
    const S_IFDIR: u32 = 0o040_000;
    const O_EXCL: i32 = hurd_translator::open::flags::O_EXCL;
    const O_TRUNC: i32 = hurd_translator::open::flags::O_TRUNC;

    /// A port of the double: the host path it names, and as whom.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Port {
        path: String,
        /// None: sandbox-root's own identity.
        uids: Option<Vec<u32>>,
        reparented: bool,
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Call {
        LookupIn { path: String, flags: i32, uids: Option<Vec<u32>> },
        LookupPath(String),
        Restrict { path: String, uids: Vec<u32> },
        Reparent(String),
        Mode(String),
        Read(String),
        Mkdir { path: String, uids: Option<Vec<u32>> },
        Remove { path: String, uids: Option<Vec<u32>> },
    }

    /// A host of paths with modes and contents, recording every call.
    #[derive(Default)]
    struct Recording {
        nodes: RefCell<BTreeMap<String, (u32, String)>>,
        calls: RefCell<Vec<Call>>,
    }

    impl Recording {
        fn with(nodes: &[(&str, u32, &str)]) -> Recording {
            let r = Recording::default();
            for &(path, mode, content) in nodes {
                r.nodes.borrow_mut().insert(path.to_owned(), (mode, content.to_owned()));
            }
            r
        }

        fn record(&self, call: Call) {
            self.calls.borrow_mut().push(call);
        }

        fn calls(&self) -> Vec<Call> {
            self.calls.borrow().clone()
        }
    }

    fn join(dir: &str, name: &str) -> String {
        if dir == "/" { format!("/{name}") } else { format!("{dir}/{name}") }
    }

    impl Host for Recording {
        type Port = Port;

        fn lookup_in(&self, dir: &Port, name: &str, flags: i32, _mode: u32) -> Result<Port, Errno> {
            let path = join(&dir.path, name);
            self.record(Call::LookupIn { path: path.clone(), flags, uids: dir.uids.clone() });
            let exists = self.nodes.borrow().contains_key(&path);
            match (exists, flags & O_CREAT != 0, flags & O_EXCL != 0) {
                (true, _, true) if flags & O_CREAT != 0 => return Err(Errno::EEXIST),
                (false, false, _) => return Err(Errno::ENOENT),
                (false, true, _) => {
                    self.nodes.borrow_mut().insert(path.clone(), (S_IFREG | 0o644, String::new()));
                }
                _ => {}
            }
            if flags & O_TRUNC != 0 {
                if let Some(node) = self.nodes.borrow_mut().get_mut(&path) {
                    node.1.clear();
                }
            }
            Ok(Port { path, uids: dir.uids.clone(), reparented: false })
        }

        fn lookup_path(&self, path: &str) -> Result<Port, Errno> {
            self.record(Call::LookupPath(path.to_owned()));
            if path != "/" && !self.nodes.borrow().contains_key(path) {
                return Err(Errno::ENOENT);
            }
            Ok(Port { path: path.to_owned(), uids: None, reparented: false })
        }

        fn restrict(&self, port: &Port, creds: &Credentials) -> Result<Port, Errno> {
            self.record(Call::Restrict { path: port.path.clone(), uids: creds.uids.clone() });
            Ok(Port { uids: Some(creds.uids.clone()), ..port.clone() })
        }

        fn reparent(&self, port: &Port, _parent: &Port) -> Result<Port, Errno> {
            self.record(Call::Reparent(port.path.clone()));
            Ok(Port { reparented: true, ..port.clone() })
        }

        fn mode(&self, port: &Port) -> Result<u32, Errno> {
            self.record(Call::Mode(port.path.clone()));
            self.nodes.borrow().get(&port.path).map(|n| n.0).ok_or(Errno::ENOENT)
        }

        fn read(&self, port: &Port, amount: usize) -> Result<Vec<u8>, Errno> {
            self.record(Call::Read(port.path.clone()));
            let nodes = self.nodes.borrow();
            let content = &nodes.get(&port.path).ok_or(Errno::ENOENT)?.1;
            Ok(content.as_bytes()[..content.len().min(amount)].to_vec())
        }

        fn mkdir(&self, dir: &Port, name: &str, _mode: u32) -> Result<(), Errno> {
            self.record(Call::Mkdir { path: join(&dir.path, name), uids: dir.uids.clone() });
            Ok(())
        }

        fn remove(&self, dir: &Port, name: &str, _directory: bool) -> Result<(), Errno> {
            self.record(Call::Remove { path: join(&dir.path, name), uids: dir.uids.clone() });
            Ok(())
        }
    }

    fn client() -> Credentials {
        Credentials { uids: vec![1000], gids: vec![1000] }
    }

    /// The store directory as the client holds it.
    fn store() -> Port {
        Port { path: "/gnu/store".into(), uids: Some(vec![1000]), reparented: false }
    }

    fn dotdot() -> Result<Port, Errno> {
        Ok(Port { path: "(inside)".into(), uids: Some(vec![1000]), reparented: false })
    }

    fn lookups(calls: &[Call]) -> Vec<(String, i32)> {
        calls
            .iter()
            .filter_map(|c| match c {
                Call::LookupIn { path, flags, .. } => Some((path.clone(), *flags)),
                _ => None,
            })
            .collect()
    }

    const OUT: &str = "/gnu/store/abc-out";

    #[test]
    fn every_lookup_of_an_output_is_of_the_node_itself_and_as_the_client() {
        let host = Recording::with(&[(OUT, S_IFDIR | 0o755, "")]);
        let got = output(&host, &store(), "abc-out", "bin/x", O_READ, 0, dotdot).unwrap();
        assert_eq!(
            got,
            Output::Below(Port { path: OUT.into(), uids: Some(vec![1000]), reparented: true }, "bin/x".into())
        );
        for call in host.calls() {
            if let Call::LookupIn { flags, uids, .. } = call {
                assert_eq!(flags & (O_NOLINK | O_NOTRANS), O_NOLINK | O_NOTRANS, "{flags:#o}");
                assert_eq!(uids, Some(vec![1000]));
            }
        }
    }

    #[test]
    fn an_output_made_with_o_excl_is_opened_once() {
        let host = Recording::default();
        let flags = O_READ | O_CREAT | O_EXCL;
        let got = output(&host, &store(), "abc-out", "", flags, 0o644, dotdot).unwrap();
        assert!(matches!(got, Output::Open(Port { reparented: true, .. })));
        // The first lookup finds nothing; the second makes it; no third.
        assert_eq!(
            lookups(&host.calls()),
            vec![(OUT.to_owned(), O_NOLINK | O_NOTRANS), (OUT.to_owned(), flags | O_NOLINK | O_NOTRANS)]
        );
    }

    #[test]
    fn a_link_made_of_an_output_is_followed_inside_and_its_target_never_opened_as_asked() {
        for (target, want) in [
            ("/etc/shadow", Output::Magical("/etc/shadow".to_owned())),
            ("../other", Output::FromDir("../other".to_owned())),
        ] {
            let host = Recording::with(&[(OUT, S_IFLNK | 0o777, target)]);
            let got = output(&host, &store(), "abc-out", "", O_READ | O_TRUNC, 0, dotdot).unwrap();
            assert_eq!(got, want);
            // Never opened with the client's O_TRUNC; never reparented;
            // nothing looked up but the link itself.
            for (path, flags) in lookups(&host.calls()) {
                assert_eq!(path, OUT);
                assert_eq!(flags & O_TRUNC, 0);
            }
            assert!(!host.calls().iter().any(|c| matches!(c, Call::Reparent(_))));
            assert_eq!(host.nodes.borrow()[OUT].1, target, "the link's contents are unchanged");
        }
    }

    #[test]
    fn a_link_opened_as_itself_is_served_as_the_node() {
        let host = Recording::with(&[(OUT, S_IFLNK | 0o777, "/etc/shadow")]);
        let got = output(&host, &store(), "abc-out", "", O_READ | O_NOLINK, 0, dotdot).unwrap();
        assert!(matches!(got, Output::Open(Port { reparented: true, .. })), "{got:?}");
    }

    #[test]
    fn below_a_link_the_rest_goes_with_the_target() {
        let host = Recording::with(&[(OUT, S_IFLNK | 0o777, "/elsewhere")]);
        let got = output(&host, &store(), "abc-out", "lib/x.so", O_READ, 0, dotdot).unwrap();
        assert_eq!(got, Output::Magical("/elsewhere/lib/x.so".to_owned()));
    }

    #[test]
    fn an_output_not_made_yet_is_not_made_without_o_creat() {
        let host = Recording::default();
        assert_eq!(output(&host, &store(), "abc-out", "", O_READ, 0, dotdot), Err(Errno::ENOENT));
        assert_eq!(output(&host, &store(), "abc-out", "x", O_READ | O_CREAT, 0, dotdot), Err(Errno::ENOENT));
        assert!(host.nodes.borrow().is_empty());
    }

    #[test]
    fn a_failing_parent_port_opens_nothing_as_asked() {
        let host = Recording::with(&[(OUT, S_IFREG | 0o644, "data")]);
        let got = output(&host, &store(), "abc-out", "", O_READ | O_TRUNC, 0, || Err(Errno::ENOMEM));
        assert_eq!(got, Err(Errno::ENOMEM));
        assert_eq!(host.nodes.borrow()[OUT].1, "data", "not truncated");
    }

    #[test]
    fn host_nodes_and_outputs_are_changed_with_the_clients_identity() {
        let host = Recording::with(&[("/gnu/store", S_IFDIR | 0o775, "")]);
        make_output_dir(&host, OUT, 0o755, &client()).unwrap();
        remove_output(&host, OUT, true, &client()).unwrap();
        let calls = host.calls();
        assert!(calls.contains(&Call::Restrict { path: "/gnu/store".into(), uids: vec![1000] }));
        assert!(calls.contains(&Call::Mkdir { path: OUT.into(), uids: Some(vec![1000]) }));
        assert!(calls.contains(&Call::Remove { path: OUT.into(), uids: Some(vec![1000]) }));
        // Restricted before anything is done with it.
        let restrict = calls.iter().position(|c| matches!(c, Call::Restrict { .. })).unwrap();
        let mkdir = calls.iter().position(|c| matches!(c, Call::Mkdir { .. })).unwrap();
        assert!(restrict < mkdir);
        assert_eq!(parent_of(&host, "noslash", &client()).map(|_| ()), Err(Errno::EINVAL));
    }

    #[test]
    fn a_host_server_is_handed_out_restricted() {
        let host = Recording::with(&[("/servers/proc", S_IFREG | 0o666, "")]);
        let port = node_for(&host, "/servers/proc", &client()).unwrap();
        assert_eq!(port.uids, Some(vec![1000]));
        assert_eq!(node_for(&host, "/servers/none", &client()).map(|_| ()), Err(Errno::ENOENT));
    }
}
