//! What sandbox-root answers to `dir_lookup`: the composed tree's
//! resolution, turned into an answer under the open flags.
//!
//! Pure: the Hurd glue only carries the answer out (a new protid on a
//! node served here, a reparented host port, a server's port, or a
//! retry).

use hurd_translator::Errno;
use hurd_translator::open::{check_readonly, flags::*};
use hurd_translator::retry::{Follow, follow_symlink};
use sandbox_spec::{AbsPath, Access, Device, LookupError, NodeId, Resolution, Server, Tree};

/// How many symbolic links one lookup follows inside the environment
/// before it answers ELOOP.
pub const SYMLINK_MAX: usize = 32;

/// A node sandbox-root serves itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served<'t> {
    Directory(NodeId),
    Device(Device),
    File {
        path: &'t AbsPath,
        content: &'t str,
    },
    /// The link itself, opened with `O_NOLINK`.
    Symlink {
        path: &'t AbsPath,
        target: &'t str,
    },
}

/// The answer to one `dir_lookup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<'t> {
    /// A new protid on a node served here (the lookup is done).
    Serve(Served<'t>),
    /// The host's `host`, reparented so that `..` leads to the entry's
    /// directory and restricted to the client's credentials; the client
    /// reauthenticates it and looks up `rest` there.
    Host { entry: &'t AbsPath, host: &'t AbsPath, access: Access, rest: String },
    /// A server node: the client reauthenticates the server's port and
    /// looks up `rest` there.
    Server { server: Server, rest: String },
    /// A magical retry: an absolute name the client starts again with at
    /// its root (here, the environment's), or `fd/N`.
    Magical(String),
    /// `..` from the root of an environment seen from outside: `rest` is
    /// for the directory the environment's node sits in.
    Parent(String),
}

/// Answers a lookup of `name` from the directory `start` with the open
/// flags `flags`. `root_has_parent` is false for a chroot's root (and
/// every port derived from it), where `..` at the root stays there.
pub fn answer<'t>(
    tree: &'t Tree,
    start: NodeId,
    name: &str,
    flags: i32,
    root_has_parent: bool,
) -> Result<Answer<'t>, Errno> {
    let mut dir = start;
    // A name in dir_lookup is relative to the directory, leading slashes
    // or not (a client starts absolute names at its root itself; a host
    // file system hands back "/" for a trailing slash after `..` above a
    // reparented tree).
    let mut name = name.trim_start_matches('/').to_owned();
    for _ in 0..=SYMLINK_MAX {
        let resolution = tree.resolve_from(dir, &name, root_has_parent).map_err(|e| match e {
            LookupError::NotFound(_) => Errno::ENOENT,
            LookupError::NotDirectory(_) => Errno::ENOTDIR,
        })?;
        let not_a_directory = || if flags & O_DIRECTORY != 0 { Err(Errno::ENOTDIR) } else { Ok(()) };
        return match resolution {
            Resolution::Directory { node, .. } => {
                if flags & O_WRITE != 0 {
                    return Err(Errno::EISDIR);
                }
                if flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL {
                    return Err(Errno::EEXIST);
                }
                Ok(Answer::Serve(Served::Directory(node)))
            }
            Resolution::Firmlink { path, host, access, rest } => {
                if access == Access::ReadOnly {
                    check_readonly(flags)?;
                }
                Ok(Answer::Host { entry: path, host, access, rest })
            }
            Resolution::Device { device, .. } => {
                not_a_directory()?;
                Ok(Answer::Serve(Served::Device(device)))
            }
            Resolution::File { path, content } => {
                not_a_directory()?;
                check_readonly(flags)?;
                Ok(Answer::Serve(Served::File { path, content }))
            }
            Resolution::Symlink { path, target, rest } => {
                if rest.is_empty() && flags & O_NOLINK != 0 {
                    return Ok(Answer::Serve(Served::Symlink { path, target }));
                }
                match follow_symlink(target, &rest) {
                    Follow::Root(retry) => Ok(Answer::Magical(retry.name)),
                    Follow::Here(next) => {
                        // Go on in the link's own directory.
                        let Ok(Resolution::Directory { node, .. }) = tree.resolve(&parent_of(path)) else {
                            unreachable!("a link's parent is a directory of the tree");
                        };
                        dir = node;
                        name = next;
                        continue;
                    }
                }
            }
            Resolution::Server { server, rest, .. } => Ok(Answer::Server { server, rest }),
            Resolution::Magic { name, .. } => Ok(Answer::Magical(name)),
            Resolution::Parent { rest } => Ok(Answer::Parent(rest)),
        };
    }
    Err(Errno::ELOOP)
}

fn parent_of(path: &AbsPath) -> String {
    match path.as_str().rsplit_once('/') {
        Some(("", _)) | None => "/".to_owned(),
        Some((parent, _)) => parent.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandbox_spec::{Entry, EntryKind, Provider, ROOT};

    fn p(s: &str) -> AbsPath {
        AbsPath::parse(s).unwrap()
    }

    fn tree() -> Tree {
        let plan = sandbox_spec::parse(
            r#"{"version": 1, "build": {"host": "/var/b", "path": "/build"},
                "inputs": ["/gnu/store/aaa-bash"],
                "user": {"name": "u", "uid": 1000, "group": "g", "gid": 100}}"#,
        )
        .unwrap();
        let mut t = plan.tree;
        let link = |target: &str| Entry { origin: "t".into(), kind: EntryKind::Symlink { target: target.into() } };
        t.insert(&p("/bin/sh"), link("/gnu/store/aaa-bash/bin/bash")).unwrap();
        t.insert(&p("/bin/bash"), link("sh")).unwrap();
        t.insert(&p("/loop/a"), link("b")).unwrap();
        t.insert(&p("/loop/b"), link("a")).unwrap();
        t
    }

    #[test]
    fn virtual_directories_are_served_here() {
        let t = tree();
        assert_eq!(
            answer(&t, ROOT, "/gnu/store", O_READ, false),
            Ok(Answer::Serve(Served::Directory(dir(&t, "/gnu/store"))))
        );
        assert_eq!(answer(&t, ROOT, "/gnu", O_READ | O_WRITE, false), Err(Errno::EISDIR));
        assert_eq!(answer(&t, ROOT, "/gnu", O_CREAT | O_EXCL, false), Err(Errno::EEXIST));
        assert_eq!(answer(&t, ROOT, "/nope", O_READ, false), Err(Errno::ENOENT));
        assert_eq!(answer(&t, ROOT, "/dev/null/x", O_READ, false), Err(Errno::ENOTDIR));
    }

    fn dir(t: &Tree, path: &str) -> NodeId {
        match t.resolve(path) {
            Ok(Resolution::Directory { node, .. }) => node,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn read_only_inputs_refuse_writes_whatever_the_host_says() {
        let t = tree();
        let ok = answer(&t, ROOT, "/gnu/store/aaa-bash/bin/bash", O_READ | O_EXEC, false).unwrap();
        assert_eq!(
            ok,
            Answer::Host {
                entry: &p("/gnu/store/aaa-bash"),
                host: &p("/gnu/store/aaa-bash"),
                access: Access::ReadOnly,
                rest: "bin/bash".into()
            }
        );
        for flags in [O_WRITE, O_READ | O_WRITE, O_READ | O_TRUNC, O_CREAT] {
            assert_eq!(answer(&t, ROOT, "/gnu/store/aaa-bash/new", flags, false), Err(Errno::EROFS), "{flags:#x}");
        }
        // The build directory takes writes.
        assert!(matches!(
            answer(&t, ROOT, "/build/out.o", O_WRITE | O_CREAT, false),
            Ok(Answer::Host { access: Access::ReadWrite, .. })
        ));
    }

    #[test]
    fn generated_files_and_devices() {
        let t = tree();
        assert!(matches!(answer(&t, ROOT, "/etc/passwd", O_READ, false), Ok(Answer::Serve(Served::File { .. }))));
        assert_eq!(answer(&t, ROOT, "/etc/passwd", O_WRITE, false), Err(Errno::EROFS));
        assert_eq!(answer(&t, ROOT, "/etc/passwd", O_READ | O_DIRECTORY, false), Err(Errno::ENOTDIR));
        assert_eq!(answer(&t, ROOT, "/dev/full", O_WRITE, false), Ok(Answer::Serve(Served::Device(Device::Full))));
        assert_eq!(answer(&t, ROOT, "/dev/fd/1", O_WRITE, false), Ok(Answer::Magical("fd/1".into())));
        // stdin is a relative link to fd/0: followed here, answered by libc.
        assert_eq!(answer(&t, ROOT, "/dev/stdin", O_READ, false), Ok(Answer::Magical("fd/0".into())));
    }

    #[test]
    fn names_are_relative_to_the_directory_even_with_a_slash() {
        let t = tree();
        let store = dir(&t, "/gnu/store");
        assert_eq!(answer(&t, store, "/", O_READ, false), Ok(Answer::Serve(Served::Directory(store))));
        assert_eq!(answer(&t, dir(&t, "/gnu"), "//store", O_READ, false), Ok(Answer::Serve(Served::Directory(store))));
        assert_eq!(answer(&t, store, "/etc", O_READ, false), Err(Errno::ENOENT));
    }

    #[test]
    fn tty_is_the_clients_own_and_only_when_asked() {
        let plan = |devices: &str| {
            sandbox_spec::parse(&format!(
                r#"{{"version": 1, "build": {{"host": "/var/b", "path": "/build"}}, "devices": {devices},
                    "user": {{"name": "u", "uid": 1000, "group": "g", "gid": 100}}}}"#
            ))
            .unwrap()
            .tree
        };
        let with = plan(r#"["null", "tty"]"#);
        assert_eq!(answer(&with, ROOT, "/dev/tty", O_READ | O_WRITE, false), Ok(Answer::Magical("tty".into())));
        assert_eq!(answer(&with, ROOT, "/dev/tty/x", O_READ, false), Err(Errno::ENOTDIR));
        assert_eq!(answer(&tree(), ROOT, "/dev/tty", O_READ, false), Err(Errno::ENOENT));
    }

    #[test]
    fn links_are_followed_or_opened() {
        let t = tree();
        // Absolute: the client starts again at its root, the environment's.
        assert_eq!(
            answer(&t, ROOT, "/bin/sh", O_READ, false),
            Ok(Answer::Magical("/gnu/store/aaa-bash/bin/bash".into()))
        );
        // Relative: followed here, then absolute.
        assert_eq!(
            answer(&t, ROOT, "/bin/bash", O_READ, false),
            Ok(Answer::Magical("/gnu/store/aaa-bash/bin/bash".into()))
        );
        // O_NOLINK opens the link itself, only as the last component.
        assert_eq!(
            answer(&t, ROOT, "/bin/bash", O_NOLINK, false),
            Ok(Answer::Serve(Served::Symlink { path: &p("/bin/bash"), target: "sh" }))
        );
        assert_eq!(answer(&t, ROOT, "/loop/a", O_READ, false), Err(Errno::ELOOP));
    }

    #[test]
    fn servers_get_the_rest() {
        let t = tree();
        assert_eq!(
            answer(&t, ROOT, "/servers/socket/1", 0, false),
            Ok(Answer::Server {
                server: Server::Socket { domain: sandbox_spec::SocketDomain::Local, provider: Provider::Private },
                rest: String::new()
            })
        );
    }

    #[test]
    fn dotdot_at_the_root_leaves_only_with_a_parent() {
        let t = tree();
        assert_eq!(answer(&t, ROOT, "../x", O_READ, true), Ok(Answer::Parent("x".into())));
        assert_eq!(answer(&t, ROOT, "../x", O_READ, false), Err(Errno::ENOENT));
    }

    #[test]
    fn dotdot_from_anywhere_stays_inside() {
        let t = tree();
        let store = dir(&t, "/gnu/store");
        assert_eq!(
            answer(&t, store, "../../../../etc/hosts", O_READ, false).map(|a| matches!(a, Answer::Serve(_))),
            Ok(true)
        );
        assert_eq!(answer(&t, ROOT, "..", O_READ, false), Ok(Answer::Serve(Served::Directory(ROOT))));
    }
}
