//! The composed tree: every path of the environment, and the one pure
//! function that says what a path inside it is.
//!
//! Directories that the spec only implies (`/gnu` and `/gnu/store` above
//! the store inputs) are virtual: sandbox-root serves them itself and
//! their listings hold exactly the entries below them. Every other node is
//! a leaf entry. A lookup that reaches a firmlink, a symlink or a server
//! stops there and hands the rest of the name to whoever serves that node;
//! `..` out of a firmlinked host tree comes back to the firmlink's parent
//! because the translator reparents the host port (`file_reparent`), so no
//! name resolves outside the environment.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::path::AbsPath;
use crate::plan::{Access, Device, Entry, EntryKind, Provider, Server};

/// Index of a node in its tree.
pub type NodeId = usize;

/// The root's id.
pub const ROOT: NodeId = 0;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    parent: NodeId,
    path: AbsPath,
    kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum NodeKind {
    Dir(BTreeMap<String, NodeId>),
    Leaf(Entry),
}

/// Why an entry could not be placed in the tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    #[error("{path} is given twice (first at {first})")]
    Duplicate { path: AbsPath, first: String },
    #[error("{path} lies inside {leaf} (from {leaf_origin}), which is not a directory of the environment")]
    InsideEntry { path: AbsPath, leaf: AbsPath, leaf_origin: String },
    #[error("{path} would hide {below} (from {below_origin}) below it")]
    Shadows { path: AbsPath, below: AbsPath, below_origin: String },
    #[error("the environment's root cannot be an entry")]
    Root,
}

/// What a name inside the environment is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution<'t> {
    /// A virtual directory; list it with [`Tree::list`].
    Directory {
        node: NodeId,
        path: &'t AbsPath,
    },
    /// A host file or directory: look `rest` up on the host side, starting
    /// at `host`.
    Firmlink {
        path: &'t AbsPath,
        host: &'t AbsPath,
        access: Access,
        rest: String,
    },
    Device {
        path: &'t AbsPath,
        device: Device,
    },
    File {
        path: &'t AbsPath,
        content: &'t str,
    },
    /// A link: the client goes on with `target` followed by `rest`.
    Symlink {
        path: &'t AbsPath,
        target: &'t str,
        rest: String,
    },
    /// A server node: `rest`, if any, is for that server.
    Server {
        path: &'t AbsPath,
        server: Server,
        rest: String,
    },
    /// A name the client's C library answers itself (`fd/N`, `tty`).
    Magic {
        path: &'t AbsPath,
        name: String,
    },
    /// `..` at the root, where the root has a parent outside (the
    /// environment seen from the host, not from a chroot): `rest` is to be
    /// looked up there.
    Parent {
        rest: String,
    },
}

/// Why a lookup failed (ENOENT, ENOTDIR).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("{0}: no such file or directory")]
    NotFound(String),
    #[error("{0}: not a directory")]
    NotDirectory(String),
}

/// The type a directory listing gives an entry (as `d_type` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirentType {
    Directory,
    Regular,
    Symlink,
    CharDevice,
    /// Known only to the host (firmlinks): clients stat to learn it.
    Unknown,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    /// A tree with only the root directory.
    pub fn new() -> Self {
        Tree { nodes: vec![Node { parent: ROOT, path: AbsPath::root(), kind: NodeKind::Dir(BTreeMap::new()) }] }
    }

    /// Places `entry` at `path`, creating the virtual directories above it.
    /// Refuses a path given twice and any entry inside or above another
    /// leaf entry: each path of the environment has exactly one meaning.
    pub fn insert(&mut self, path: &AbsPath, entry: Entry) -> Result<NodeId, InsertError> {
        if path.is_root() {
            return Err(InsertError::Root);
        }
        let names: Vec<&str> = path.components().collect();
        let (last, dirs) = names.split_last().expect("not the root");
        let mut cur = ROOT;
        for name in dirs {
            cur = match self.child(cur, name) {
                Some(id) => match &self.nodes[id].kind {
                    NodeKind::Dir(_) => id,
                    NodeKind::Leaf(leaf) => {
                        return Err(InsertError::InsideEntry {
                            path: path.clone(),
                            leaf: self.nodes[id].path.clone(),
                            leaf_origin: leaf.origin.clone(),
                        });
                    }
                },
                None => self.add(cur, name, NodeKind::Dir(BTreeMap::new())),
            };
        }
        if let Some(id) = self.child(cur, last) {
            return Err(match &self.nodes[id].kind {
                NodeKind::Leaf(first) => InsertError::Duplicate { path: path.clone(), first: first.origin.clone() },
                NodeKind::Dir(_) => {
                    let (below, below_origin) = self.first_leaf_below(id);
                    InsertError::Shadows { path: path.clone(), below, below_origin }
                }
            });
        }
        Ok(self.add(cur, last, NodeKind::Leaf(entry)))
    }

    fn add(&mut self, parent: NodeId, name: &str, kind: NodeKind) -> NodeId {
        let id = self.nodes.len();
        let path = self.nodes[parent].path.join(name);
        self.nodes.push(Node { parent, path, kind });
        match &mut self.nodes[parent].kind {
            NodeKind::Dir(children) => children.insert(name.to_owned(), id),
            NodeKind::Leaf(_) => unreachable!("children are only added to directories"),
        };
        id
    }

    fn child(&self, dir: NodeId, name: &str) -> Option<NodeId> {
        match &self.nodes[dir].kind {
            NodeKind::Dir(children) => children.get(name).copied(),
            NodeKind::Leaf(_) => None,
        }
    }

    fn first_leaf_below(&self, mut id: NodeId) -> (AbsPath, String) {
        loop {
            match &self.nodes[id].kind {
                NodeKind::Leaf(e) => return (self.nodes[id].path.clone(), e.origin.clone()),
                NodeKind::Dir(children) => {
                    id = *children.values().next().expect("virtual directories are only made above an entry")
                }
            }
        }
    }

    /// Resolves `name` from the root.
    pub fn resolve(&self, name: &str) -> Result<Resolution<'_>, LookupError> {
        self.resolve_at(ROOT, name)
    }

    /// Resolves `name` relative to the directory `start` (an absolute name
    /// starts at the root). `.` stays, `..` goes up, and `..` at the root
    /// stays at the root.
    pub fn resolve_at(&self, start: NodeId, name: &str) -> Result<Resolution<'_>, LookupError> {
        self.resolve_from(start, name, false)
    }

    /// As [`Tree::resolve_at`]; with `root_has_parent`, `..` at the root
    /// answers [`Resolution::Parent`] instead of staying there.
    pub fn resolve_from(
        &self,
        start: NodeId,
        name: &str,
        root_has_parent: bool,
    ) -> Result<Resolution<'_>, LookupError> {
        let mut cur = if name.starts_with('/') { ROOT } else { start };
        assert!(matches!(self.nodes[cur].kind, NodeKind::Dir(_)), "lookups start at a directory");
        let mut rest = name;
        loop {
            rest = rest.trim_start_matches('/');
            if rest.is_empty() {
                return Ok(Resolution::Directory { node: cur, path: &self.nodes[cur].path });
            }
            let (component, after) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            rest = after;
            match component {
                "." => continue,
                ".." if cur == ROOT && root_has_parent => {
                    return Ok(Resolution::Parent { rest: after.trim_start_matches('/').to_owned() });
                }
                ".." => {
                    cur = self.nodes[cur].parent;
                    continue;
                }
                _ => {}
            }
            let Some(id) = self.child(cur, component) else {
                return Err(LookupError::NotFound(self.nodes[cur].path.join(component).to_string()));
            };
            let node = &self.nodes[id];
            let entry = match &node.kind {
                NodeKind::Dir(_) => {
                    cur = id;
                    continue;
                }
                NodeKind::Leaf(entry) => entry,
            };
            let path = &node.path;
            let handed_on = after.trim_start_matches('/').to_owned();
            return match &entry.kind {
                EntryKind::Firmlink { host, access } => {
                    Ok(Resolution::Firmlink { path, host, access: *access, rest: handed_on })
                }
                EntryKind::Symlink { target } => Ok(Resolution::Symlink { path, target, rest: handed_on }),
                EntryKind::Server(server) => Ok(Resolution::Server { path, server: *server, rest: handed_on }),
                // Names below `fd` are each process's own descriptors: the
                // C library answers `fd/N` itself.
                EntryKind::Device(Device::Fd) if !handed_on.is_empty() => {
                    Ok(Resolution::Magic { path, name: format!("fd/{handed_on}") })
                }
                // Anything after a non-directory, even a lone `/`, is ENOTDIR.
                _ if !after.is_empty() => Err(LookupError::NotDirectory(path.to_string())),
                // The calling process's controlling terminal, which its C
                // library opens itself (as `/hurd/magic tty` answers).
                EntryKind::Device(Device::Tty) => Ok(Resolution::Magic { path, name: "tty".into() }),
                EntryKind::Device(device) => Ok(Resolution::Device { path, device: *device }),
                EntryKind::File { content } => Ok(Resolution::File { path, content }),
            };
        }
    }

    /// The entries of a virtual directory, by name (without `.` and `..`).
    /// Panics if `dir` is not a directory of this tree.
    pub fn list(&self, dir: NodeId) -> Vec<(&str, DirentType)> {
        let NodeKind::Dir(children) = &self.nodes[dir].kind else {
            panic!("list() of a leaf");
        };
        children.iter().map(|(name, &id)| (name.as_str(), self.dirent_type(id))).collect()
    }

    fn dirent_type(&self, id: NodeId) -> DirentType {
        match &self.nodes[id].kind {
            NodeKind::Dir(_) => DirentType::Directory,
            NodeKind::Leaf(e) => match &e.kind {
                EntryKind::Firmlink { .. } => DirentType::Unknown,
                EntryKind::Device(Device::Fd) => DirentType::Directory,
                EntryKind::Device(_) => DirentType::CharDevice,
                EntryKind::File { .. } | EntryKind::Server(_) => DirentType::Regular,
                EntryKind::Symlink { .. } => DirentType::Symlink,
            },
        }
    }

    /// Every leaf entry with its path, in path order.
    pub fn entries(&self) -> Vec<(&AbsPath, &Entry)> {
        let mut out = Vec::new();
        self.walk(ROOT, &mut |id| {
            if let NodeKind::Leaf(e) = &self.nodes[id].kind {
                out.push((&self.nodes[id].path, e));
            }
        });
        out
    }

    /// Every virtual directory's path, in path order, the root first.
    pub fn directories(&self) -> Vec<&AbsPath> {
        let mut out = Vec::new();
        self.walk(ROOT, &mut |id| {
            if let NodeKind::Dir(_) = &self.nodes[id].kind {
                out.push(&self.nodes[id].path);
            }
        });
        out
    }

    fn walk(&self, id: NodeId, f: &mut impl FnMut(NodeId)) {
        f(id);
        if let NodeKind::Dir(children) = &self.nodes[id].kind {
            for &child in children.values() {
                self.walk(child, f);
            }
        }
    }

    /// The path of a node.
    pub fn path(&self, id: NodeId) -> &AbsPath {
        &self.nodes[id].path
    }

    /// The environment drawn as a tree, one node a line with what it is:
    /// what `sandbox-root --check` prints.
    pub fn render(&self) -> String {
        let mut lines: Vec<(String, String)> = vec![("/".to_owned(), "directory".to_owned())];
        self.render_children(ROOT, "", &mut lines);
        let width = lines.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for (left, what) in lines {
            let pad = width - left.chars().count();
            let _ = writeln!(out, "{left}{:pad$}  {what}", "");
        }
        out
    }

    fn render_children(&self, dir: NodeId, prefix: &str, lines: &mut Vec<(String, String)>) {
        let NodeKind::Dir(children) = &self.nodes[dir].kind else { return };
        let count = children.len();
        for (i, (name, &id)) in children.iter().enumerate() {
            let last = i + 1 == count;
            let branch = if last { "└── " } else { "├── " };
            lines.push((format!("{prefix}{branch}{name}"), self.describe(id)));
            let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
            self.render_children(id, &deeper, lines);
        }
    }

    fn describe(&self, id: NodeId) -> String {
        let entry = match &self.nodes[id].kind {
            NodeKind::Dir(_) => return "directory".to_owned(),
            NodeKind::Leaf(e) => e,
        };
        match &entry.kind {
            EntryKind::Firmlink { host, access } if *host == self.nodes[id].path => {
                format!("firmlink ({access}) to the same path on the host")
            }
            EntryKind::Firmlink { host, access } => format!("firmlink ({access}) to {host}"),
            EntryKind::Device(d) => format!("device {}: {}", d.name(), d.behaviour()),
            EntryKind::File { content } => {
                let generated = if entry.origin == crate::DEFAULT_ORIGIN { ", generated" } else { "" };
                format!("file, {} bytes{generated}", content.len())
            }
            EntryKind::Symlink { target } => format!("symlink to {target}"),
            EntryKind::Server(s) => describe_server(*s),
        }
    }
}

fn describe_server(server: Server) -> String {
    let by = |p: Provider, own: &str| match p {
        Provider::Private | Provider::Filtered => format!("{p}, {own}"),
        Provider::Host => "the host's, through a firmlink".to_owned(),
    };
    match server {
        Server::Proc(p) => format!("server proc ({})", by(p, "sandbox-proc: a PID namespace")),
        Server::Procfs(p) => format!("server procfs ({})", by(p, "over the environment's proc")),
        Server::Socket { domain, provider } => {
            let own = match (domain, provider) {
                (crate::SocketDomain::Local, _) => "pflocal",
                (_, _) => "sandbox-pfinet",
            };
            format!("server socket {} ({})", domain.name(), by(provider, own))
        }
    }
}
