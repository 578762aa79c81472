//! Host nodes served by proxy (see `hurd_translator::proxy`): every node a
//! client reaches below an entry is a [`HostNode`] of ours that holds the
//! host's port, with the client's identity, and forwards to it what it has
//! no reason to look at.

use std::sync::Arc;

use hurd::errno::Errno;
use hurd::fs::{self, Lookup};
use hurd::fs::{FS_TRANS_EXCL, FS_TRANS_SET};
use hurd::port::SendRight;
use hurd_server::fs::protid;
use hurd_server::ports::Object;
use hurd_server::{Credentials, Forward, Io, Node, Reply, Stat, TranslatorRequest};
use hurd_translator::open::check_readonly;
use hurd_translator::proxy::{Access, HOPS_MAX, Next, forwards, next, passive_allowed};

// The pure decision's own copy of the flag is the headers' value.
const _: () = assert!(hurd_translator::proxy::FS_TRANS_FORCE == hurd::fs::FS_TRANS_FORCE);

/// Where a proxied node belongs: its access, the tree (one entry of an
/// environment, one firmlink's target) that links and renames stay
/// within, and the active translators set below it.
#[derive(Debug, Clone)]
pub struct Place {
    pub access: Access,
    pub group: Arc<str>,
    pub translators: Arc<Translators>,
}

/// Active translators clients set on host nodes, kept here and never on
/// the host: the host would hand such a translator a port to the
/// directory above it with no identity, which the translator could
/// reauthenticate into a host port of its own. Lookups through a proxy
/// meet them here instead, and get their root with a proxy of ours as
/// `..`. They end with their processes; the records end with us.
#[derive(Debug, Default)]
pub struct Translators {
    active: std::sync::Mutex<Vec<Active>>,
}

#[derive(Debug)]
struct Active {
    /// The node's identity port (`io_identity`).
    node: SendRight,
    control: SendRight,
}

impl Translators {
    fn any(&self) -> bool {
        !self.active.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }

    /// The control port of the translator on the node whose identity port
    /// is `node`, if one is set.
    fn on(&self, node: &SendRight) -> Option<SendRight> {
        let active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        active.iter().find(|a| a.node.as_raw() == node.as_raw()).and_then(|a| a.control.try_clone().ok())
    }

    /// Sets (or, with no control port, forgets) the translator on `node`.
    fn set(&self, node: SendRight, control: Option<SendRight>, exclusive: bool) -> Result<(), Errno> {
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        let at = active.iter().position(|a| a.node.as_raw() == node.as_raw());
        if exclusive && at.is_some() && control.is_some() {
            return Err(Errno::EBUSY);
        }
        if let Some(at) = at {
            active.remove(at);
        }
        if let Some(control) = control {
            active.push(Active { node, control });
        }
        Ok(())
    }
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
    } else if place.translators.any() {
        return walk(dir, name, flags, mode, place, creds);
    }
    let mut answer = fs::dir_lookup(dir, name, flags, mode).map_err(|e| e.code())?;
    for _ in 0..HOPS_MAX {
        let Lookup { kind, name, port } = answer;
        let Some(port) = port else {
            return Ok(Reply::Retry { kind, name, port: None });
        };
        match next(kind, &name, hurd_server::serves(&port)) {
            Next::Client => return Ok(Reply::Retry { kind, name, port: Some(port) }),
            Next::Done => return Ok(Reply::Open(HostNode::new(port, place.clone(), creds.clone()))),
            Next::Continue => answer = fs::dir_lookup(&port, &name, flags, mode).map_err(|e| e.code())?,
        }
    }
    Err(Errno::ELOOP)
}

/// `rest` after `name`, as one name.
fn join(name: &str, rest: &str) -> String {
    match (name.is_empty(), rest.is_empty()) {
        (_, true) => name.to_owned(),
        (true, false) => rest.to_owned(),
        (false, false) => format!("{name}/{rest}"),
    }
}

/// [`open_below`] one name at a time, so that a node carrying one of the
/// active translators kept here ([`Translators`]) is met: its root is
/// asked for with a proxy of the directory as `..`, and the client goes on
/// there.
fn walk(
    dir: &SendRight,
    name: &str,
    flags: i32,
    mode: u32,
    place: &Place,
    creds: &Credentials,
) -> Result<Reply, Errno> {
    let mut here = dir.try_clone().map_err(|_| Errno::EIO)?;
    let mut rest = name.to_owned();
    for _ in 0..HOPS_MAX * 8 {
        let name = rest.trim_start_matches('/').to_owned();
        let (first, after) = name.split_once('/').unwrap_or((&name, ""));
        let last = after.is_empty();
        let step_flags = if last { flags } else { 0 };
        let Lookup { kind, name: left, port } = fs::dir_lookup(&here, first, step_flags, mode).map_err(|e| e.code())?;
        let Some(port) = port else {
            return Ok(Reply::Retry { kind, name: join(&left, after), port: None });
        };
        match next(kind, &left, hurd_server::serves(&port)) {
            Next::Client => return Ok(Reply::Retry { kind, name: join(&left, after), port: Some(port) }),
            Next::Continue => {
                here = port;
                rest = join(&left, after);
                continue;
            }
            Next::Done => {}
        }
        if !(last && flags & fs::O_NOTRANS != 0) {
            if let Some(reply) = translated(&port, &here, after, step_flags, place, creds)? {
                return Ok(reply);
            }
        }
        if last {
            return Ok(Reply::Open(HostNode::new(port, place.clone(), creds.clone())));
        }
        here = port;
        rest = after.to_owned();
    }
    Err(Errno::ELOOP)
}

/// If `node` (looked up in `dir`) carries a translator kept here: the
/// retry to its root for a client with `creds`, `rest` left to look up.
fn translated(
    node: &SendRight,
    dir: &SendRight,
    rest: &str,
    flags: i32,
    place: &Place,
    creds: &Credentials,
) -> Result<Option<Reply>, Errno> {
    let Ok((id, _)) = fs::identity(node) else { return Ok(None) };
    let Some(control) = place.translators.on(&id) else { return Ok(None) };
    let dir = dir.try_clone().map_err(|_| Errno::EIO)?;
    let dotdot = hurd_server::serve_node(HostNode::new(dir, place.clone(), creds.clone())).map_err(|e| {
        log::error!("{e}");
        Errno::ENOMEM
    })?;
    match fs::getroot(&control, Some(&dotdot), &creds.uids, &creds.gids, flags) {
        Ok(root) => Ok(Some(Reply::Retry { kind: root.kind, name: join(&root.name, rest), port: root.port })),
        // The translator is gone: the node is a plain node again.
        Err(e) if e.code() == Errno::MACH_SEND_INVALID_DEST => {
            place.translators.set(id, None, false)?;
            Ok(None)
        }
        Err(e) => Err(e.code()),
    }
}

impl HostNode {
    /// The identity port of the node, if the client may set a translator
    /// on it: as a file system checks it, only its owner (or root).
    fn owned_identity(&self) -> Result<SendRight, Errno> {
        let stat = fs::stat(&self.host).map_err(|e| e.code())?;
        if !self.creds.uids.iter().any(|&u| u == stat.uid || u == 0) {
            return Err(Errno::EPERM);
        }
        Ok(fs::identity(&self.host).map_err(|e| e.code())?.0)
    }
}

impl Forward for HostNode {
    fn forward_port(&self) -> Option<&SendRight> {
        Some(&self.host)
    }

    fn forwards(&self, routine: &str) -> bool {
        forwards(routine, self.place.access)
    }
}

impl Io for HostNode {
    fn stat(&self) -> Result<Stat, Errno> {
        fs::stat(&self.host).map_err(|e| e.code())
    }

    fn write(&self, _offset: i64, _data: &[u8]) -> Result<usize, Errno> {
        self.writable().and(Err(Errno::EOPNOTSUPP))
    }

    fn with_credentials(&self, creds: Credentials) -> Result<Object, Errno> {
        // The host narrows the identity; it never widens it.
        let host = fs::restrict_auth(&self.host, &creds.uids, &creds.gids).map_err(|e| e.code())?;
        Ok(protid(self.again(host, creds)))
    }

    fn credentials(&self) -> Credentials {
        self.creds.clone()
    }
}

impl Node for HostNode {
    fn set_size(&self, _size: i64) -> Result<(), Errno> {
        self.writable().and(Err(Errno::EOPNOTSUPP))
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
        if request.active.is_some() || request.active_flags & FS_TRANS_SET != 0 {
            // An active translator (or none, to clear one) is kept here,
            // never set on the host's node (see [`Translators`]).
            let id = self.owned_identity()?;
            let control = request.active.map(|c| c.try_clone().map_err(|_| Errno::EIO)).transpose()?;
            let exclusive = request.active_flags & FS_TRANS_EXCL != 0;
            self.place.translators.set(id, control, exclusive)?;
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

    fn translator_control(&self) -> Result<SendRight, Errno> {
        let id = self.owned_identity()?;
        self.place.translators.on(&id).ok_or(Errno::ENXIO)
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
