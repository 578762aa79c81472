//! Serving the environment on the Hurd: the plan's tree as a netfs-like
//! translator. Virtual directories, device nodes, generated files and
//! links are served here; writable host entries are handed out as
//! in-process firmlinks (a reauthenticating retry with the reparented host
//! port), read-only ones are served by proxy (`firmlink::readonly`);
//! server nodes are answered with the host's server or with the root of a
//! helper started here (a pflocal, a loopback-only pfinet), which ends
//! with sandbox-root however it ends.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use firmlink::link::{own_target_for_client, target_for_client};
use firmlink::proxy::{Place, open_below};
use hurd::errno::Errno;
use hurd::port::SendRight;
use hurd_server::helper::{Helper, HelperError, Watcher};
use hurd_server::{Control, Credentials, Reply, RetryKind, ServerError, Stat};
use hurd_translator::dirent::{DT_CHR, DT_DIR, DT_LNK, DT_REG, DT_UNKNOWN, DirEntry};
use hurd_translator::netfs::{Filesystem, Found, Protid};
use hurd_translator::proxy::Access as ProxyAccess;
use hurd_translator::roots::{KEPT_MAX, Kept};
use sandbox_spec::{
    Access, Device, DirentType, NetworkPolicy, NodeId, Plan, Provider, ROOT, Resolution, Server, SocketDomain,
};

use crate::check::{INET6_NODE, Serves, SocketHelper};
use crate::host::Output;
use crate::lookup::{Answer, Served, answer};
use hurd_translator::peropen::window;

const S_IFDIR: u32 = 0o040_000;
const S_IFCHR: u32 = 0o020_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;

/// The most a device read answers at once.
const DEVICE_READ_MAX: usize = 64 * 1024;

/// A node of the environment that sandbox-root serves itself.
#[derive(Debug, Clone)]
pub enum EnvNode {
    Dir(NodeId),
    Device(Device),
    /// A generated file: its path inside (for its inode number) and contents.
    File {
        path: Arc<str>,
        content: Arc<str>,
    },
    /// A link opened itself: its path inside and its target.
    Symlink {
        path: Arc<str>,
        target: Arc<str>,
    },
    /// The working directory given to helpers: its entries are the nodes
    /// they set themselves on, and nothing of the environment.
    HelperDir,
    /// A node of [`EnvNode::HelperDir`] a helper sets itself on.
    Slot(&'static str),
}

/// The environment: the plan, and how sandbox-root was started.
#[derive(Debug)]
pub struct Environment {
    plan: Plan,
    args: Vec<String>,
}

impl Environment {
    pub fn new(plan: Plan, args: Vec<String>) -> Arc<Environment> {
        Arc::new(Environment { plan, args })
    }
}

fn ino_of(path: &str) -> u64 {
    // FNV-1a: a stable inode number per path.
    path.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

impl Environment {
    fn stat(&self, node: &EnvNode) -> Result<Stat, Errno> {
        let (mode, size, ino) = match node {
            EnvNode::Dir(id) => (S_IFDIR | 0o555, 0, ino_of(self.plan.tree.path(*id).as_str())),
            EnvNode::Device(Device::Fd) => (S_IFDIR | 0o555, 0, ino_of("/dev/fd")),
            EnvNode::Device(d) => (S_IFCHR | 0o666, 0, ino_of(&format!("/dev/{}", d.name()))),
            EnvNode::File { path, content } => (S_IFREG | 0o444, content.len() as i64, ino_of(path)),
            EnvNode::Symlink { path, target } => (S_IFLNK | 0o777, target.len() as i64, ino_of(path)),
            EnvNode::HelperDir => (S_IFDIR | 0o555, 0, ino_of("/.helpers")),
            EnvNode::Slot(name) => (S_IFREG | 0o444, 0, ino_of(&format!("/.helpers/{name}"))),
        };
        Ok(Stat { mode, size, nlink: 1, uid: 0, gid: 0, ino })
    }

    fn read(&self, node: &EnvNode, offset: i64, amount: usize) -> Result<Vec<u8>, Errno> {
        let slice = |bytes: &[u8]| window(bytes, offset, amount).map(<[u8]>::to_vec);
        match node {
            EnvNode::File { content, .. } => slice(content.as_bytes()),
            EnvNode::Symlink { target, .. } => slice(target.as_bytes()),
            EnvNode::Device(Device::Null) => Ok(Vec::new()),
            EnvNode::Device(Device::Zero | Device::Full) => Ok(vec![0; amount.min(DEVICE_READ_MAX)]),
            // random and urandom are the host's nodes (see `lookup`).
            EnvNode::Device(_) => Err(Errno::ENOSYS),
            EnvNode::Slot(_) => Ok(Vec::new()),
            EnvNode::Dir(_) | EnvNode::HelperDir => Err(Errno::EISDIR),
        }
    }

    fn write(&self, node: &EnvNode, _offset: i64, data: &[u8]) -> Result<usize, Errno> {
        match node {
            EnvNode::Device(Device::Null | Device::Zero | Device::Random | Device::Urandom) => Ok(data.len()),
            EnvNode::Device(Device::Full) => Err(Errno::ENOSPC),
            EnvNode::Device(_) => Err(Errno::ENOSYS),
            EnvNode::File { .. } | EnvNode::Symlink { .. } | EnvNode::Slot(_) => Err(Errno::EROFS),
            EnvNode::Dir(_) | EnvNode::HelperDir => Err(Errno::EISDIR),
        }
    }

    fn readdir(&self, node: &EnvNode) -> Result<Vec<DirEntry>, Errno> {
        let EnvNode::Dir(id) = node else { return Err(Errno::ENOTDIR) };
        let tree = &self.plan.tree;
        let here = ino_of(tree.path(*id).as_str());
        let mut entries = vec![
            DirEntry { ino: here, kind: DT_DIR, name: ".".into() },
            DirEntry { ino: here, kind: DT_DIR, name: "..".into() },
        ];
        for (name, kind) in tree.list(*id) {
            let path = tree.path(*id).join(name);
            // An output is there once the build has made it.
            if let Ok(Resolution::Firmlink { host, access: Access::Output, .. }) = tree.resolve(path.as_str()) {
                if hurd::fs::lookup(host.as_str().as_ref(), hurd::fs::O_NOTRANS | hurd::fs::O_NOLINK, 0).is_err() {
                    continue;
                }
            }
            let kind = match kind {
                DirentType::Directory => DT_DIR,
                DirentType::Regular => DT_REG,
                DirentType::Symlink => DT_LNK,
                DirentType::CharDevice => DT_CHR,
                DirentType::Unknown => DT_UNKNOWN,
            };
            entries.push(DirEntry { ino: ino_of(path.as_str()), kind, name: name.to_owned() });
        }
        Ok(entries)
    }
}

/// The environment as the framework serves it: behind an `Arc`, which
/// lookups need to hand out ports to its own directories.
#[derive(Debug)]
pub struct EnvFs {
    env: Arc<Environment>,
    /// The tops of host entries as each set of credentials looks below
    /// them (see [`EnvFs::host_top`]).
    host_tops: Mutex<BTreeMap<(String, Credentials), Arc<SendRight>>>,
    /// The active translators the build set on host nodes, kept here.
    translators: Arc<firmlink::proxy::Translators>,
    /// The socket servers of its own the plan asks for, as helpers.
    socket_helpers: Vec<SocketHelper>,
    /// The helpers sandbox-root started, with what each serves.
    helpers: OnceLock<Vec<(SocketHelper, Helper)>>,
    /// The control ports of helpers set on nodes of ours, by node.
    slots: Mutex<BTreeMap<&'static str, SendRight>>,
    /// What clients are handed for each socket domain of the
    /// environment's own: a helper's root (reauthenticated by each
    /// client), or, under the `allow` and `host` policies, sandbox-pfinet's
    /// family server for IP (over the helper's stack and the host's).
    socket_roots: OnceLock<BTreeMap<SocketDomain, (SendRight, RetryKind)>>,
    /// The build's PID namespace, with `"proc": "private"`, and its
    /// admission port (handed only to root: `sandbox-root exec`).
    namespace: Option<(Arc<sandbox_proc::serve::Ns>, SendRight)>,
    /// The roots handed to the host's file systems, kept per identity
    /// and open flags (`hurd_translator::roots`): by name, served here.
    roots: Mutex<Kept<(Credentials, i32), hurd::port::RawPort>>,
}

/// How many tops of host entries (per entry and identity) are kept.
const HOST_TOPS_MAX: usize = 256;

/// How long a helper may take to start.
const HELPER_STARTUP: Duration = Duration::from_secs(30);

/// Why sandbox-root could not start serving.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("starting a helper: {0}")]
    Helper(#[from] HelperError),
    #[error("asking {program} for its root: {source}")]
    HelperRoot { program: String, source: hurd::fs::FsError },
    #[error("{program} did not set itself on its node {node}")]
    HelperSlot { program: String, node: &'static str },
    #[error("the build's PID namespace: {0}")]
    Namespace(#[from] sandbox_proc::serve::NsError),
    #[error("the network policy lets the build out through the host's {path}, which is not there: {source}")]
    HostStack { path: String, source: hurd::fs::FsError },
}

impl EnvFs {
    pub fn new(env: Arc<Environment>) -> Result<Arc<EnvFs>, RunError> {
        let namespace = match env.plan.servers.proc {
            Some(Provider::Private) => {
                let ns = sandbox_proc::serve::Ns::new(env.plan.servers.first_pid, env.plan.exec.uid)?;
                let admission = ns.admission()?;
                Some((ns, admission))
            }
            _ => None,
        };
        Ok(Arc::new(EnvFs {
            socket_helpers: crate::check::socket_helpers(&env.plan),
            env,
            host_tops: Mutex::new(BTreeMap::new()),
            translators: Arc::default(),
            helpers: OnceLock::new(),
            slots: Mutex::new(BTreeMap::new()),
            socket_roots: OnceLock::new(),
            namespace,
            roots: Mutex::new(Kept::new(KEPT_MAX)),
        }))
    }

    /// `rest` below the output at `host` (in the directory `dir` inside),
    /// opened with `flags`. An output may not be there yet, or be made and
    /// removed: it is looked up anew each time, by its name in the store
    /// directory (whose port is kept per client like an entry's top), as
    /// the client and never as us, and as the node itself: a link the
    /// build made of it is followed here, inside the environment (an
    /// absolute one from the client's root, a relative one from `dir`),
    /// and its port is reparented, so that `..` from it leads to `dir`.
    #[allow(clippy::too_many_arguments)]
    fn output(
        self: &Arc<Self>,
        host: &str,
        dir: NodeId,
        rest: &str,
        flags: i32,
        mode: u32,
        place: &Place,
        creds: &Credentials,
    ) -> Result<Reply, Errno> {
        let (store, name) = host.rsplit_once('/').ok_or(Errno::EINVAL)?;
        let store = if store.is_empty() { "/" } else { store };
        // (The key is the store's path, which no entry has.)
        let store = self.host_top(store, store, dir, creds, false)?;
        let answer =
            crate::host::output(&HurdHost, &store, name, rest, flags, mode, || self.dir_port(dir, creds, true))?;
        Ok(match answer {
            Output::Open(node) => Reply::Open(firmlink::proxy::HostNode::new(node, place.clone(), creds.clone())),
            Output::Below(node, rest) => open_below(&node, &rest, flags, mode, place, creds)?,
            Output::Magical(name) => Reply::Retry { kind: RetryKind::Magical, name, port: None },
            Output::FromDir(name) => {
                Reply::Retry { kind: RetryKind::Reauth, name, port: Some(self.dir_port(dir, creds, false)?) }
            }
        })
    }

    /// A port to our directory `dir` as `creds` sees it: one of our own
    /// (`own`: a parent for a host tree's `..`, which holds nothing up) or
    /// one for the client.
    fn dir_port(self: &Arc<Self>, dir: NodeId, creds: &Credentials, own: bool) -> Result<SendRight, Errno> {
        let served = if own {
            self.own_port(EnvNode::Dir(dir), creds)
        } else {
            hurd_server::serve_node(Protid::open(self.clone(), Arc::new(EnvNode::Dir(dir)), 0, creds.clone(), None))
        };
        served.map_err(|e| {
            log::error!("{e}");
            Errno::ENOMEM
        })
    }

    /// Starts the socket servers of the environment's own that the spec
    /// asks for ([`crate::check::socket_helpers`]), each told to the
    /// watcher before it runs. A helper may set itself on a node of ours
    /// while it starts: the server's threads must run.
    fn start_helpers(self: &Arc<Self>, watcher: &mut Watcher) -> Result<(), RunError> {
        let mut helpers = Vec::new();
        for plan in self.socket_helpers.iter().cloned() {
            // The node it sits on, as far as it knows: a file of ours.
            let path = format!("/servers/socket/{}", plan.domains[0].0.family());
            let node = EnvNode::File { path: path.into(), content: "".into() };
            let underlying = self.own_port(node, &Credentials::default())?;
            // Names in its arguments are nodes of ours (pfinet's -6).
            let cwd = if plan.args.is_empty() {
                None
            } else {
                Some(self.own_port(EnvNode::HelperDir, &Credentials::default())?)
            };
            let argv: Vec<String> =
                std::iter::once(plan.program).chain(plan.args.iter().copied()).map(String::from).collect();
            // Started so, pfinet has no interface but loopback.
            // (If this fails, those started end with us, by the watcher.)
            let helper = hurd_server::helper::start(&argv, underlying, cwd.as_ref(), watcher, HELPER_STARTUP)?;
            helpers.push((plan, helper));
        }
        log::debug!("helpers {helpers:?}, watched by process {}", watcher.pid());
        let _ = self.helpers.set(helpers);
        Ok(())
    }

    /// A port to a node of ours, as `creds` sees it, that sandbox-root
    /// gives only to its helpers and to the host (a parent for `..`): it
    /// does not keep sandbox-root from leaving.
    fn own_port(self: &Arc<Self>, node: EnvNode, creds: &Credentials) -> Result<SendRight, ServerError> {
        let protid = Protid::open(self.clone(), Arc::new(node), 0, creds.clone(), None);
        hurd_server::serve_own_node(protid)
    }

    /// Asks each helper for the root of each domain it serves, which
    /// clients are handed. A helper asks about the node it sits on (ours)
    /// meanwhile: the server's threads must run, and no client can reach
    /// the environment yet.
    fn connect_helpers(&self) -> Result<(), RunError> {
        let mut roots = BTreeMap::new();
        for (plan, helper) in self.helpers.get().into_iter().flatten() {
            let program = helper.program().to_owned();
            for &(domain, serves) in &plan.domains {
                let slot = match serves {
                    Serves::Bootstrap => None,
                    Serves::Node(node) => {
                        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
                        let control = slots.get(node).ok_or(RunError::HelperSlot { program: program.clone(), node })?;
                        Some(control.try_clone().map_err(|_| RunError::HelperSlot { program: program.clone(), node })?)
                    }
                };
                let control = slot.as_ref().unwrap_or(helper.control());
                // Its root with no identity: each client reauthenticates it.
                let root = hurd::fs::getroot(control, None, &[], &[], 0)
                    .map_err(|source| RunError::HelperRoot { program: program.clone(), source })?;
                roots.extend(root.port.map(|port| (domain, (port, RetryKind::Reauth))));
            }
        }
        self.filter_ip(&mut roots)?;
        let _ = self.socket_roots.set(roots);
        Ok(())
    }

    /// Under the `allow` and `host` policies, the filtered IP domains are
    /// sandbox-pfinet's: each family's server judges every address, over
    /// the helper's stack (its root in `roots`, replaced) and the host's.
    fn filter_ip(&self, roots: &mut BTreeMap<SocketDomain, (SendRight, RetryKind)>) -> Result<(), RunError> {
        let plan = &self.env.plan;
        if plan.network == NetworkPolicy::Loopback {
            return Ok(());
        }
        // With no identity: the sockets made there have no user's rights
        // (pfinet gives root's more).
        let host_stack = |domain: SocketDomain| {
            let path = format!("/servers/socket/{}", domain.family());
            hurd::fs::lookup(Path::new(&path), 0, 0)
                .and_then(|server| hurd::fs::restrict_auth(&server, &[], &[]))
                .map_err(|source| RunError::HostStack { path, source })
        };
        // Under `host`, the host's own addresses are asked of its stacks.
        let probe = |domain| if plan.network == NetworkPolicy::Host { host_stack(domain).ok() } else { None };
        let host = sandbox_pfinet::serve::HostProbe::new(probe(SocketDomain::Inet), probe(SocketDomain::Inet6));
        let policy = Arc::new(sandbox_pfinet::serve::Policy { network: plan.network.clone(), host });
        for domain in [SocketDomain::Inet, SocketDomain::Inet6] {
            if plan.servers.sockets.get(&domain) != Some(&Provider::Filtered) {
                continue;
            }
            let Some((own, _)) = roots.remove(&domain) else { continue };
            let stacks = sandbox_pfinet::serve::Stacks { own, host: Arc::new(host_stack(domain)?) };
            let family = sandbox_pfinet::serve::Family::new(domain.family() as i32, policy.clone(), stacks);
            roots.insert(domain, (family.serve()?, RetryKind::Normal));
        }
        Ok(())
    }

    /// The build's live processes: those of the build user (see
    /// [`crate::reap`]). A process the proc server cannot describe (gone
    /// meanwhile) is left out.
    fn build_processes(&self) -> Vec<i32> {
        let pids = match hurd::process::all_pids() {
            Ok(pids) => pids,
            Err(e) => {
                log::warn!("listing the build's processes: {e}");
                return Vec::new();
            }
        };
        let all: Vec<crate::reap::Process> = pids
            .into_iter()
            .filter_map(|pid| hurd::process::info(pid).ok())
            .map(|p| crate::reap::Process { pid: p.pid, owner: p.owner, zombie: p.zombie })
            .collect();
        let own = i32::try_from(std::process::id()).unwrap_or(0);
        crate::reap::build_processes(&all, self.env.plan.exec.uid, own)
    }

    /// The host path of the output named `name` in the directory `dir`:
    /// the only entries a builder may make or remove in the environment's
    /// own directories. EROFS for any other name.
    fn output_at(&self, dir: &EnvNode, name: &str) -> Result<String, Errno> {
        let EnvNode::Dir(id) = dir else { return Err(Errno::ENOTDIR) };
        match self.env.plan.tree.resolve_from(*id, name, false) {
            Ok(Resolution::Firmlink { host, access: Access::Output, rest, .. })
                if rest.is_empty() && !name.contains('/') =>
            {
                Ok(host.to_string())
            }
            _ => Err(Errno::EROFS),
        }
    }

    /// Ends every helper at once (a goaway that leaves).
    fn end_helpers(&self) {
        for (_, helper) in self.helpers.get().into_iter().flatten() {
            if let Err(e) = helper.terminate() {
                log::warn!("ending {}: {e}", helper.program());
            }
        }
    }

    /// The host's tree of the entry `entry` (at `host`, inside the
    /// directory `parent`), as `creds` looks below it: made once per entry
    /// and credentials, then kept, so that a lookup below it costs the host
    /// one `dir_lookup`. The parent port the host keeps for `..` is
    /// sandbox-root's own and holds nothing up. A top the build may
    /// change (`writable`: its build directory) is the node itself, not a
    /// translator the build set on it.
    fn host_top(
        self: &Arc<Self>,
        entry: &str,
        host: &str,
        parent: NodeId,
        creds: &Credentials,
        writable: bool,
    ) -> Result<Arc<SendRight>, Errno> {
        let key = (entry.to_owned(), creds.clone());
        let cached = self.host_tops.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
        if let Some(top) = cached {
            return Ok(top);
        }
        let dotdot = self.dir_port(parent, creds, true)?;
        let top = if writable { own_target_for_client } else { target_for_client };
        let top = Arc::new(top(host, Some(&dotdot), creds)?);
        let mut tops = self.host_tops.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: a client that reauthenticates with ever new ids makes
        // us forget some, not grow.
        while tops.len() >= HOST_TOPS_MAX {
            tops.pop_first();
        }
        Ok(tops.entry(key).or_insert(top).clone())
    }
}

impl Filesystem for EnvFs {
    type Node = EnvNode;

    fn stat(&self, node: &EnvNode) -> Result<Stat, Errno> {
        self.env.stat(node)
    }

    fn lookup(
        self: &Arc<Self>,
        dir: &Arc<EnvNode>,
        name: &str,
        flags: i32,
        mode: u32,
        creds: &Credentials,
        root_has_parent: bool,
    ) -> Result<Found<EnvNode>, Errno> {
        let env = &self.env;
        let start = match dir.as_ref() {
            EnvNode::Dir(id) => *id,
            // A helper looking up the node it is to set itself on.
            EnvNode::HelperDir => {
                let planned = self.helpers.get().is_none()
                    && self
                        .socket_helpers
                        .iter()
                        .flat_map(|h| h.domains.iter())
                        .any(|(_, serves)| *serves == Serves::Node(INET6_NODE));
                return match name {
                    "" => Ok(Found::Node(dir.clone())),
                    INET6_NODE if planned => Ok(Found::Node(Arc::new(EnvNode::Slot(INET6_NODE)))),
                    _ => Err(Errno::ENOENT),
                };
            }
            // Opening a node again (readlink does, with "").
            _ if name.is_empty() => return Ok(Found::Node(dir.clone())),
            _ => return Err(Errno::ENOTDIR),
        };
        let node = match answer(&env.plan.tree, start, name, flags, root_has_parent)? {
            Answer::Serve(Served::Directory(id)) => EnvNode::Dir(id),
            Answer::Serve(Served::Device(d @ (Device::Random | Device::Urandom))) => {
                // The host's own source, with the client's identity.
                let port = host_node_for(&format!("/dev/{}", d.name()), creds)?;
                return Ok(Found::Reply(Reply::Retry {
                    kind: RetryKind::Reauth,
                    name: String::new(),
                    port: Some(port),
                }));
            }
            Answer::Serve(Served::Device(d)) => EnvNode::Device(d),
            Answer::Serve(Served::File { path, content }) => {
                EnvNode::File { path: path.as_str().into(), content: content.into() }
            }
            Answer::Serve(Served::Symlink { path, target }) => {
                EnvNode::Symlink { path: path.as_str().into(), target: target.into() }
            }
            Answer::Host { entry, host, access, rest } => {
                // The entry's directory inside is where `..` from the top
                // of the host tree must lead.
                let parent = entry.as_str().rsplit_once('/').map_or("/", |(p, _)| if p.is_empty() { "/" } else { p });
                let Ok(sandbox_spec::Resolution::Directory { node: pid, .. }) = env.plan.tree.resolve(parent) else {
                    return Err(Errno::EIO);
                };
                // Every host node the client reaches below is a proxy of
                // ours, with the client's identity (`firmlink::proxy`).
                let place = Place {
                    access: if access == Access::ReadOnly { ProxyAccess::ReadOnly } else { ProxyAccess::Writable },
                    group: entry.as_str().into(),
                    translators: self.translators.clone(),
                };
                if access != Access::Output {
                    let top = self.host_top(entry.as_str(), host.as_str(), pid, creds, access == Access::ReadWrite)?;
                    return Ok(Found::Reply(open_below(&top, &rest, flags, mode, &place, creds)?));
                }
                return Ok(Found::Reply(self.output(host.as_str(), pid, &rest, flags, mode, &place, creds)?));
            }
            Answer::Server { server, rest } => {
                let host_path = match server {
                    Server::Socket { domain, provider: Provider::Private | Provider::Filtered } => {
                        // A server of the environment's own.
                        let root = self.socket_roots.get().and_then(|roots| roots.get(&domain));
                        let (port, kind) = root.ok_or(Errno::ENOSYS)?;
                        let port = port.try_clone().map_err(|_| Errno::EIO)?;
                        return Ok(Found::Reply(Reply::Retry { kind: *kind, name: rest, port: Some(port) }));
                    }
                    Server::Socket { domain, provider: Provider::Host } => {
                        format!("/servers/socket/{}", domain.family())
                    }
                    Server::Proc(Provider::Host) => "/servers/proc".to_owned(),
                    Server::Proc(Provider::Private) => {
                        // The namespace's admission, for `sandbox-root
                        // exec` (root) only: a build process never needs
                        // it (its proc port comes with its task).
                        let (_, admission) = self.namespace.as_ref().ok_or(Errno::ENOSYS)?;
                        if !creds.uids.contains(&0) {
                            return Err(Errno::EACCES);
                        }
                        let port = admission.try_clone().map_err(|_| Errno::EIO)?;
                        return Ok(Found::Reply(Reply::Retry {
                            kind: RetryKind::Normal,
                            name: rest,
                            port: Some(port),
                        }));
                    }
                    other => {
                        log::warn!("{other:?}: this server is not served yet");
                        return Err(Errno::ENOSYS);
                    }
                };
                // With no more than the client's identity, whether it
                // reauthenticates or not.
                let port = host_node_for(&host_path, creds)?;
                return Ok(Found::Reply(Reply::Retry { kind: RetryKind::Reauth, name: rest, port: Some(port) }));
            }
            Answer::Magical(name) => {
                return Ok(Found::Reply(Reply::Retry { kind: RetryKind::Magical, name, port: None }));
            }
            Answer::Parent(rest) => return Ok(Found::Parent(rest)),
        };
        Ok(Found::Node(Arc::new(node)))
    }

    fn read(&self, node: &EnvNode, offset: i64, amount: usize) -> Result<Vec<u8>, Errno> {
        self.env.read(node, offset, amount)
    }

    fn write(&self, node: &EnvNode, offset: i64, data: &[u8]) -> Result<usize, Errno> {
        self.env.write(node, offset, data)
    }

    fn readdir(&self, node: &EnvNode) -> Result<Vec<DirEntry>, Errno> {
        self.env.readdir(node)
    }

    fn mkdir(&self, dir: &EnvNode, name: &str, mode: u32, creds: &Credentials) -> Result<(), Errno> {
        crate::host::make_output_dir(&HurdHost, &self.output_at(dir, name)?, mode, creds)
    }

    fn remove(&self, dir: &EnvNode, name: &str, directory: bool, creds: &Credentials) -> Result<(), Errno> {
        crate::host::remove_output(&HurdHost, &self.output_at(dir, name)?, directory, creds)
    }

    fn set_active_translator(&self, node: &EnvNode, control: &SendRight) -> Result<(), Errno> {
        let EnvNode::Slot(name) = node else { return Err(Errno::EROFS) };
        let control = control.try_clone().map_err(|_| Errno::EIO)?;
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).insert(name, control);
        Ok(())
    }

    fn read_only(&self, _node: &EnvNode) -> bool {
        // The environment's shape is the spec's: nothing served here
        // changes.
        true
    }

    fn set_size(&self, node: &EnvNode, _size: i64) -> Result<(), Errno> {
        match node {
            // Truncating a device (`> /dev/null`) changes nothing.
            EnvNode::Device(_) => Ok(()),
            EnvNode::File { .. } | EnvNode::Symlink { .. } | EnvNode::Slot(_) => Err(Errno::EROFS),
            EnvNode::Dir(_) | EnvNode::HelperDir => Err(Errno::EISDIR),
        }
    }
}

/// The host's node at `path`, looked up by us and restricted to `creds`
/// ([`crate::host::node_for`]).
fn host_node_for(path: &str, creds: &Credentials) -> Result<SendRight, Errno> {
    crate::host::node_for(&HurdHost, path, creds)
}

/// The host's file systems, as `hurd::fs` reaches them.
#[derive(Debug)]
struct HurdHost;

impl crate::host::Host for HurdHost {
    type Port = SendRight;

    fn lookup_in(&self, dir: &SendRight, name: &str, flags: i32, mode: u32) -> Result<SendRight, Errno> {
        match hurd::fs::dir_lookup(dir, name, flags, mode).map_err(|e| e.code())? {
            hurd::fs::Lookup { kind: RetryKind::Normal, name, port: Some(port) } if name.is_empty() => Ok(port),
            other => {
                log::warn!("the host answered a lookup of {name:?} with {other:?}");
                Err(Errno::EIO)
            }
        }
    }

    fn lookup_path(&self, path: &str) -> Result<SendRight, Errno> {
        hurd::fs::lookup(path.as_ref(), 0, 0).map_err(|e| e.code())
    }

    fn restrict(&self, port: &SendRight, creds: &Credentials) -> Result<SendRight, Errno> {
        hurd::fs::restrict_auth(port, &creds.uids, &creds.gids).map_err(|e| e.code())
    }

    fn reparent(&self, port: &SendRight, parent: &SendRight) -> Result<SendRight, Errno> {
        hurd::fs::reparent(port, Some(parent)).map_err(|e| e.code())
    }

    fn mode(&self, port: &SendRight) -> Result<u32, Errno> {
        Ok(hurd::fs::stat(port).map_err(|e| e.code())?.mode)
    }

    fn read(&self, port: &SendRight, amount: usize) -> Result<Vec<u8>, Errno> {
        hurd::fs::read(port, 0, amount).map_err(|e| e.code())
    }

    fn mkdir(&self, dir: &SendRight, name: &str, mode: u32) -> Result<(), Errno> {
        hurd::fs::mkdir(dir, name, mode).map_err(|e| e.code())
    }

    fn remove(&self, dir: &SendRight, name: &str, directory: bool) -> Result<(), Errno> {
        hurd::fs::remove(dir, name, directory).map_err(|e| e.code())
    }
}

/// The translator's control side.
#[derive(Debug)]
pub struct EnvControl(pub Arc<EnvFs>);

impl Control for EnvControl {
    fn getroot(&self, dotdot: Option<&SendRight>, creds: &Credentials, flags: i32) -> Result<Reply, Errno> {
        let root = Arc::new(EnvNode::Dir(ROOT));
        // A chroot's root (reparented to no parent, or got without one by
        // `settrans --chroot`) has no `..`: a new one each time.
        let Some(dotdot) = dotdot else {
            return Ok(Reply::Open(Protid::open(self.0.clone(), root, flags, creds.clone(), None)));
        };
        // Seen from the host, `..` at the root leads to the directory the
        // node sits in: the host asks on every lookup that crosses the
        // node, and the root kept for the client's identity is handed out
        // again.
        let handed = |port| Reply::Retry { kind: RetryKind::Normal, name: String::new(), port: Some(port) };
        let key = (creds.clone(), flags);
        let mut roots = self.0.roots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(name) = roots.get(&key) {
            if let Some(port) = hurd_server::ports::make_send(name) {
                return Ok(handed(port));
            }
            roots.remove(&key);
        }
        let parent = Some(Arc::new(dotdot.try_clone().map_err(|_| Errno::EIO)?));
        let protid = Protid::open(self.0.clone(), root, flags, creds.clone(), parent);
        let name = hurd_server::serve_kept_node(protid).map_err(|e| {
            log::error!("{e}");
            Errno::ENOMEM
        })?;
        let port = hurd_server::ports::make_send(name).ok_or(Errno::EIO);
        for old in roots.insert(key, name) {
            hurd_server::ports::release_kept(old);
        }
        Ok(handed(port?))
    }

    fn goaway(&self, flags: i32) -> Result<(), Errno> {
        // Clients' ports into the environment and the build's processes
        // hold it, unless forced; forced, it ends the processes too: with
        // a PID namespace, every process of it, however it was made or
        // whoever it now is; with the host's proc, the build user's.
        if let Some((ns, _)) = &self.0.namespace {
            hurd_translator::leave::goaway(flags, ns.processes(), true)?;
            match ns.end(100) {
                0 => log::info!("ended the build's PID namespace"),
                left => log::warn!("{left} processes of the build's PID namespace are still there"),
            }
            self.0.end_helpers();
            return Ok(());
        }
        let build = self.0.build_processes();
        hurd_translator::leave::goaway(flags, build.len(), true)?;
        for pid in build {
            match hurd::process::terminate(pid) {
                Ok(()) => log::info!("ended the build's process {pid}"),
                Err(e) => log::warn!("{e}"),
            }
        }
        self.0.end_helpers();
        Ok(())
    }

    fn orphaned(&self) {
        log::info!("the control port has no senders left: leaving");
        self.0.end_helpers();
        std::process::exit(0);
    }

    fn options(&self) -> Vec<String> {
        self.0.env.args.clone()
    }
}

/// Starts serving `plan` on the node sandbox-root was set on, and serves
/// until told to go away.
pub fn run(plan: Plan, args: Vec<String>) -> Result<(), RunError> {
    let fs = EnvFs::new(Environment::new(plan, args))?;
    // Forked while this is the only thread; it ends the helpers whatever
    // becomes of us.
    let mut watcher = if fs.socket_helpers.is_empty() { None } else { Some(Watcher::fork()?) };
    hurd_server::serve_in_background(1)?;
    // Helpers before our own startup: one that cannot start makes settrans
    // fail, and no client reaches the environment before its servers.
    if let Some(watcher) = watcher.as_mut() {
        fs.start_helpers(watcher)?;
        fs.connect_helpers()?;
    }
    hurd_server::startup(Arc::new(EnvControl(fs)), hurd::fs::O_READ)?;
    Ok(hurd_server::serve(1, None)?)
}
