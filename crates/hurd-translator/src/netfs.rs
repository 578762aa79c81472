//! A netfs-like translator: a tree of nodes, served through protids that
//! each hold a peropen (one open: flags, offset) and a client's
//! credentials. The translator implements [`Filesystem`]; what it leaves
//! out answers EOPNOTSUPP (and is logged once).

use std::sync::Arc;

use hurd::errno::Errno;
use hurd::port::SendRight;
use hurd_server::fs::protid;
use hurd_server::ports::Object;
use hurd_server::{Credentials, Forward, Io, Node, Reply, RetryKind, Stat, refusal, unsupported};

use crate::dirent::{self, DirEntry};
use crate::peropen::Peropen;

/// What a lookup found.
#[derive(Debug)]
pub enum Found<N> {
    /// A node of this translator: the client gets a new protid on it.
    Node(Arc<N>),
    /// Somewhere else (a retry), or a node served otherwise.
    Reply(Reply),
    /// `..` at the root: `rest` is for the directory the translator sits
    /// in (only when the lookup was told the root has one).
    Parent(String),
}

/// The callbacks of a tree of nodes.
pub trait Filesystem: Send + Sync + 'static {
    type Node: Send + Sync + 'static;

    fn stat(&self, node: &Self::Node) -> Result<Stat, Errno>;

    /// `self` comes behind its `Arc`, so that a lookup can open protids of
    /// its own (a port to one of its directories, say). `root_has_parent`
    /// says whether `..` at the root may leave (it may not from a chroot's
    /// root, reparented to no parent).
    #[allow(clippy::too_many_arguments)]
    fn lookup(
        self: &Arc<Self>,
        dir: &Arc<Self::Node>,
        name: &str,
        flags: i32,
        mode: u32,
        creds: &Credentials,
        root_has_parent: bool,
    ) -> Result<Found<Self::Node>, Errno> {
        let _ = (dir, name, flags, mode, creds, root_has_parent);
        Err(unsupported("dir_lookup"))
    }

    /// `dir_mkdir` of `name` in the directory `dir`, for `creds`. By
    /// default refused as [`Filesystem::read_only`] says.
    fn mkdir(&self, dir: &Self::Node, name: &str, mode: u32, creds: &Credentials) -> Result<(), Errno> {
        let _ = (name, mode, creds);
        Err(refusal(self.read_only(dir), "dir_mkdir"))
    }

    /// An active translator sets itself on `node` (its control port); the
    /// node keeps a reference of its own if it takes it.
    fn set_active_translator(&self, node: &Self::Node, control: &SendRight) -> Result<(), Errno> {
        let _ = control;
        Err(refusal(self.read_only(node), "file_set_translator"))
    }

    /// `dir_rmdir` (`directory`) or `dir_unlink` of `name` in `dir`.
    fn remove(&self, dir: &Self::Node, name: &str, directory: bool, creds: &Credentials) -> Result<(), Errno> {
        let _ = (name, creds);
        Err(refusal(self.read_only(dir), if directory { "dir_rmdir" } else { "dir_unlink" }))
    }

    fn read(&self, node: &Self::Node, offset: i64, amount: usize) -> Result<Vec<u8>, Errno> {
        let _ = (node, offset, amount);
        Err(unsupported("io_read"))
    }

    fn write(&self, node: &Self::Node, offset: i64, data: &[u8]) -> Result<usize, Errno> {
        let _ = (node, offset, data);
        Err(unsupported("io_write"))
    }

    /// `file_set_size` (and `O_TRUNC`).
    fn set_size(&self, node: &Self::Node, size: i64) -> Result<(), Errno> {
        let _ = (node, size);
        Err(unsupported("file_set_size"))
    }

    /// Whether requests that would change `node` (or a directory's
    /// entries) are refused with EROFS rather than EOPNOTSUPP.
    fn read_only(&self, node: &Self::Node) -> bool {
        let _ = node;
        false
    }

    /// Every entry of a directory, `.` and `..` included, in order.
    fn readdir(&self, node: &Self::Node) -> Result<Vec<DirEntry>, Errno> {
        let _ = node;
        Err(unsupported("dir_readdir"))
    }
}

/// One client's port on one open of a node.
pub struct Protid<F: Filesystem> {
    fs: Arc<F>,
    peropen: Arc<Peropen<Arc<F::Node>>>,
    creds: Credentials,
    /// Where `..` at the translator's root leads: the directory it sits in
    /// (from `fsys_getroot`), or nowhere for a chroot's root
    /// (`file_reparent` to no parent). Ports made from this one keep it.
    root_parent: Option<Arc<SendRight>>,
}

impl<F: Filesystem> std::fmt::Debug for Protid<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Protid").field("flags", &self.peropen.flags).field("creds", &self.creds).finish()
    }
}

impl<F: Filesystem> Protid<F> {
    /// A new open of `node` with `flags`, as `creds` sees it, `..` at the
    /// root leading to `root_parent`.
    pub fn open(
        fs: Arc<F>,
        node: Arc<F::Node>,
        flags: i32,
        creds: Credentials,
        root_parent: Option<Arc<SendRight>>,
    ) -> Arc<Protid<F>> {
        Arc::new(Protid { fs, peropen: Arc::new(Peropen::new(node, flags)), creds, root_parent })
    }
}

impl<F: Filesystem> Forward for Protid<F> {}

impl<F: Filesystem> Io for Protid<F> {
    fn stat(&self) -> Result<Stat, Errno> {
        self.fs.stat(&self.peropen.node)
    }

    fn read(&self, offset: i64, amount: usize) -> Result<Vec<u8>, Errno> {
        let at = if offset >= 0 { offset } else { self.peropen.offset() };
        let bytes = self.fs.read(&self.peropen.node, at, amount)?;
        self.peropen.advance(offset, bytes.len());
        Ok(bytes)
    }

    fn write(&self, offset: i64, data: &[u8]) -> Result<usize, Errno> {
        let at = if offset >= 0 { offset } else { self.peropen.offset() };
        let n = self.fs.write(&self.peropen.node, at, data)?;
        self.peropen.advance(offset, n);
        Ok(n)
    }

    fn seek(&self, offset: i64, whence: i32) -> Result<i64, Errno> {
        let size = self.fs.stat(&self.peropen.node)?.size;
        self.peropen.seek(offset, whence, size)
    }

    fn with_credentials(&self, creds: Credentials) -> Result<Object, Errno> {
        Ok(protid(Arc::new(Protid {
            fs: self.fs.clone(),
            peropen: self.peropen.clone(),
            creds,
            root_parent: self.root_parent.clone(),
        })))
    }

    fn credentials(&self) -> Credentials {
        self.creds.clone()
    }
}

impl<F: Filesystem> Node for Protid<F> {
    fn set_size(&self, size: i64) -> Result<(), Errno> {
        self.fs.set_size(&self.peropen.node, size)
    }

    fn readdir(&self, entry: usize, nentries: i32, bufsiz: usize) -> Result<(Vec<u8>, usize), Errno> {
        let entries = self.fs.readdir(&self.peropen.node)?;
        Ok(dirent::encode(&entries, entry, nentries, bufsiz, std::mem::align_of::<u64>()))
    }

    fn reparent(&self, parent: Option<&SendRight>) -> Result<Arc<dyn Node>, Errno> {
        let parent = parent.map(|p| p.try_clone().map(Arc::new)).transpose().map_err(|_| Errno::EIO)?;
        Ok(Arc::new(Protid {
            fs: self.fs.clone(),
            peropen: self.peropen.clone(),
            creds: self.creds.clone(),
            root_parent: parent,
        }))
    }

    fn read_only(&self) -> bool {
        self.fs.read_only(&self.peropen.node)
    }

    fn mkdir(&self, name: &str, mode: u32) -> Result<(), Errno> {
        self.fs.mkdir(&self.peropen.node, name, mode, &self.creds)
    }

    fn remove(&self, name: &str, directory: bool) -> Result<(), Errno> {
        self.fs.remove(&self.peropen.node, name, directory, &self.creds)
    }

    fn set_active_translator(&self, control: &SendRight) -> Result<(), Errno> {
        self.fs.set_active_translator(&self.peropen.node, control)
    }

    fn lookup(&self, name: &str, flags: i32, mode: u32) -> Result<Reply, Errno> {
        let has_parent = self.root_parent.is_some();
        match self.fs.lookup(&self.peropen.node, name, flags, mode, &self.creds, has_parent)? {
            Found::Node(node) => Ok(Reply::Open(Protid::open(
                self.fs.clone(),
                node,
                flags,
                self.creds.clone(),
                self.root_parent.clone(),
            ))),
            Found::Reply(reply) => Ok(reply),
            Found::Parent(rest) => {
                // The directory the translator sits in, as its first
                // client got it: with no more than this client's identity.
                let parent = self.root_parent.as_ref().ok_or(Errno::EIO)?;
                let port = hurd::fs::restrict_auth(parent, &self.creds.uids, &self.creds.gids).map_err(|e| e.code())?;
                Ok(Reply::Retry { kind: RetryKind::Reauth, name: rest, port: Some(port) })
            }
        }
    }
}
