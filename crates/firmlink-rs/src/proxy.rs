//! Host nodes served by proxy (see `hurd_translator::proxy`): every node a
//! client reaches below an entry is a [`HostNode`] of ours that holds the
//! host's port, with the client's identity, and forwards to it what it has
//! no reason to look at.

use std::sync::Arc;

use hurd::errno::Errno;
use hurd::fs::FS_TRANS_SET;
use hurd::fs::{self, Lookup};
use hurd::port::SendRight;
use hurd::server::{Credentials, Node, Reply, Stat, TranslatorRequest};
use hurd_translator::open::check_readonly;
use hurd_translator::proxy::{Access, HOPS_MAX, Next, forwards, next, passive_allowed};

// The pure decision's own copy of the flag is the headers' value.
const _: () = assert!(hurd_translator::proxy::FS_TRANS_FORCE == hurd::fs::FS_TRANS_FORCE);

/// Where a proxied node belongs: its access, and the tree (one entry of
/// an environment, one firmlink's target) that links and renames stay
/// within.
#[derive(Debug, Clone)]
pub struct Place {
    pub access: Access,
    pub group: Arc<str>,
}

/// One open of a host node, as one client opened it: the host's port
/// carries that client's identity and open flags.
#[derive(Debug)]
pub struct HostNode {
    host: SendRight,
    place: Place,
    creds: Credentials,
}

impl HostNode {
    pub fn new(host: SendRight, place: Place, creds: Credentials) -> Arc<HostNode> {
        Arc::new(HostNode { host, place, creds })
    }

    fn writable(&self) -> Result<(), Errno> {
        match self.place.access {
            Access::Writable => Ok(()),
            Access::ReadOnly => Err(Errno::EROFS),
        }
    }

    fn again(&self, host: SendRight, creds: Credentials) -> Arc<dyn Node> {
        HostNode::new(host, self.place.clone(), creds)
    }
}

/// Opens `name` below the host directory `dir` with `flags` (and `mode`
/// for a creation), for a client with `creds`, whose identity `dir`
/// carries: what the host names comes back as a [`HostNode`] of ours, and
/// a retry that leaves the tree (an absolute link, `..` above it, the
/// root of another translator below) as the host gave it.
pub fn open_below(
    dir: &SendRight,
    name: &str,
    flags: i32,
    mode: u32,
    place: &Place,
    creds: &Credentials,
) -> Result<Reply, Errno> {
    if place.access == Access::ReadOnly {
        check_readonly(flags)?;
    }
    let mut answer = fs::dir_lookup(dir, name, flags, mode).map_err(|e| e.code())?;
    for _ in 0..HOPS_MAX {
        let Lookup { kind, name, port } = answer;
        let Some(port) = port else {
            return Ok(Reply::Retry { kind, name, port: None });
        };
        match next(kind, &name, hurd::server::serves(&port)) {
            Next::Client => return Ok(Reply::Retry { kind, name, port: Some(port) }),
            Next::Done => return Ok(Reply::Open(HostNode::new(port, place.clone(), creds.clone()))),
            Next::Continue => answer = fs::dir_lookup(&port, &name, flags, mode).map_err(|e| e.code())?,
        }
    }
    Err(Errno::ELOOP)
}

impl Node for HostNode {
    fn forward_port(&self) -> Option<&SendRight> {
        Some(&self.host)
    }

    fn forwards(&self, routine: &str) -> bool {
        forwards(routine, self.place.access)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        fs::stat(&self.host).map_err(|e| e.code())
    }

    fn write(&self, _offset: i64, _data: &[u8]) -> Result<usize, Errno> {
        self.writable().and(Err(Errno::EOPNOTSUPP))
    }

    fn set_size(&self, _size: i64) -> Result<(), Errno> {
        self.writable().and(Err(Errno::EOPNOTSUPP))
    }

    fn with_credentials(&self, creds: Credentials) -> Result<Arc<dyn Node>, Errno> {
        // The host narrows the identity; it never widens it.
        let host = fs::restrict_auth(&self.host, &creds.uids, &creds.gids).map_err(|e| e.code())?;
        Ok(self.again(host, creds))
    }

    fn reparent(&self, parent: Option<&SendRight>) -> Result<Arc<dyn Node>, Errno> {
        let host = fs::reparent(&self.host, parent).map_err(|e| e.code())?;
        Ok(self.again(host, self.creds.clone()))
    }

    fn exec_file(&self) -> Result<Arc<dyn Node>, Errno> {
        const S_IFMT: u32 = 0o170_000;
        const S_IFDIR: u32 = 0o040_000;
        let stat = fs::stat(&self.host).map_err(|e| e.code())?;
        // As a file system checks it: some execute bit, not a directory.
        // Set-user-ID and set-group-ID bits give nothing (the exec server
        // is asked directly, as with a Linux sandbox's nosuid).
        if stat.mode & 0o111 == 0 || stat.mode & S_IFMT == S_IFDIR {
            return Err(Errno::EACCES);
        }
        let file = fs::dir_lookup(&self.host, "", hurd::fs::O_READ, 0).map_err(|e| e.code())?;
        let port = file.port.ok_or(Errno::EIO)?;
        Ok(self.again(port, self.creds.clone()))
    }

    fn credentials(&self) -> Credentials {
        self.creds.clone()
    }

    fn read_only(&self) -> bool {
        self.place.access == Access::ReadOnly
    }

    fn set_translator(&self, request: &TranslatorRequest<'_>) -> Result<(), Errno> {
        self.writable()?;
        let sets_passive = request.passive_flags & FS_TRANS_SET != 0;
        if sets_passive && !passive_allowed(request.passive, request.passive_flags) {
            // The host would start it as the node's owner, with the host's
            // root, and keep the record after the build: never.
            let record = String::from_utf8_lossy(request.passive).replace('\0', " ");
            log::info!("refused the passive translator {:?} on a node of {} (EPERM)", record.trim(), self.place.group);
            return Err(Errno::EPERM);
        }
        // (An active part with no control port clears one, which the C
        // library asks for when it makes a link: there is none here.)
        if request.active.is_some() {
            // Set on the host's node, the host would hand it a port to the
            // directory above with no identity, which it can
            // reauthenticate into a host port of the build user's: not
            // until sandbox-root keeps such translators itself.
            log::info!("refused an active translator on a node of {} (EPERM)", self.place.group);
            return Err(Errno::EPERM);
        }
        if sets_passive {
            // A link or a socket node, as the C library makes them.
            fs::set_passive_translator(&self.host, request.passive_flags, request.passive).map_err(|e| e.code())?;
        }
        Ok(())
    }

    fn mkfile(&self, flags: i32, mode: u32) -> Result<Arc<dyn Node>, Errno> {
        self.writable()?;
        let host = fs::mkfile(&self.host, flags, mode).map_err(|e| e.code())?;
        Ok(self.again(host, self.creds.clone()))
    }

    fn link(&self, file: Option<&Arc<dyn Node>>, name: &str, excl: bool) -> Result<(), Errno> {
        self.writable()?;
        // Only within the same writable tree, as across a bind mount.
        let file = file.and_then(|f| f.host_in(&self.place.group)).ok_or(Errno::EXDEV)?;
        fs::link(&self.host, file, name, excl).map_err(|e| e.code())
    }

    fn rename(&self, name: &str, to_dir: Option<&Arc<dyn Node>>, to_name: &str, excl: bool) -> Result<(), Errno> {
        self.writable()?;
        let to_dir = to_dir.and_then(|d| d.host_in(&self.place.group)).ok_or(Errno::EXDEV)?;
        fs::rename(&self.host, name, to_dir, to_name, excl).map_err(|e| e.code())
    }

    fn link_node(&self) -> Result<Arc<dyn Node>, Errno> {
        let host = fs::getlinknode(&self.host).map_err(|e| e.code())?;
        Ok(self.again(host, self.creds.clone()))
    }

    fn host_in(&self, group: &str) -> Option<&SendRight> {
        (self.place.access == Access::Writable && *self.place.group == *group).then_some(&self.host)
    }

    fn lookup(&self, name: &str, flags: i32, mode: u32) -> Result<Reply, Errno> {
        open_below(&self.host, name, flags, mode, &self.place, &self.creds)
    }
}
