//! Serving: the glue between MIG's server stubs and a translator's Rust
//! objects.
//!
//! Every port a translator serves has a receive right in one port set and
//! an entry in the registry: the control port (fsys requests) maps to a
//! [`Control`], every port handed to a client maps to a [`Node`] (one
//! protid: a node as one client opened it). MIG's mutations
//! (`mig/mutations.h`) look the entry up before a server routine runs and
//! drop the reference after; the routines here turn the C arguments into
//! Rust values, call the object, and write the reply. A routine the Rust
//! side does not define answers EOPNOTSUPP (weak C defaults), as does a
//! trait method a translator does not implement; each logs once.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::{Arc, Mutex, OnceLock};

use hurd_sys::raw;

use crate::errno::{Errno, check};
use crate::port::{Notification, PortError, PortSet, RawPort, ReceiveRight, SendRight, request_notification, task};

/// The kinds of retry `dir_lookup` and `fsys_getroot` answer with.
pub use crate::fs::RetryKind;

/// A client's credentials, as `fsys_getroot` gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Credentials {
    pub uids: Vec<u32>,
    pub gids: Vec<u32>,
}

/// What a lookup answers: go on elsewhere, or a port to a node served here.
/// A magical retry carries no port.
pub enum Reply {
    Retry { kind: RetryKind, name: String, port: Option<SendRight> },
    Open(Arc<dyn Node>),
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Retry { kind, name, port } => {
                write!(f, "Retry({kind:?}, {name:?}, port {:?})", port.as_ref().map(SendRight::as_raw))
            }
            Reply::Open(_) => f.write_str("Open(..)"),
        }
    }
}

/// What `io_stat` reports of a node served here.
pub use crate::fs::Stat;

/// The translator itself, as its control port's requests address it.
pub trait Control: Send + Sync {
    /// `fsys_getroot`: a client reaches the node the translator sits on;
    /// `dotdot` is the directory it sits in, or none for a root that has
    /// no parent (`settrans --chroot` asks for one).
    fn getroot(&self, dotdot: Option<&SendRight>, creds: &Credentials, flags: i32) -> Result<Reply, Errno>;

    /// `fsys_goaway`. `Ok`: the translator leaves: the process exits as
    /// soon as the answer (success) is sent. `Err`: it stays, and the
    /// error is the answer.
    fn goaway(&self, flags: i32) -> Result<(), Errno>;

    /// `fsys_get_options`: the arguments that would recreate the
    /// translator as it is now (`fsysopts` prints them).
    fn options(&self) -> Vec<String>;

    /// `fsys_set_options`.
    fn set_options(&self, args: &[String]) -> Result<(), Errno> {
        let _ = args;
        Err(unsupported("fsys_set_options"))
    }

    /// Nobody holds the control port any more: the node was removed, or
    /// its file system dropped the translator. By default, leave.
    fn orphaned(&self) {
        log::info!("the control port has no senders left: leaving");
        std::process::exit(0);
    }
}

/// A node as one client opened it (a protid). Methods not implemented
/// answer EOPNOTSUPP and log once.
pub trait Node: Send + Sync {
    fn stat(&self) -> Result<Stat, Errno> {
        Err(unsupported("io_stat"))
    }

    fn read(&self, offset: i64, amount: usize) -> Result<Vec<u8>, Errno> {
        let _ = (offset, amount);
        Err(unsupported("io_read"))
    }

    /// `io_write` of `data` at `offset` (-1: at the open's offset);
    /// answers how much was written.
    fn write(&self, offset: i64, data: &[u8]) -> Result<usize, Errno> {
        let _ = (offset, data);
        Err(unsupported("io_write"))
    }

    /// `file_set_size` (also how the C library carries out `O_TRUNC`).
    fn set_size(&self, size: i64) -> Result<(), Errno> {
        let _ = size;
        Err(unsupported("file_set_size"))
    }

    /// `io_seek`: the new offset.
    fn seek(&self, offset: i64, whence: i32) -> Result<i64, Errno> {
        let _ = (offset, whence);
        Err(unsupported("io_seek"))
    }

    /// `dir_readdir`: the records of entries `entry..` (at most
    /// `nentries` when not negative, at most `bufsiz` bytes when not 0)
    /// and how many there are.
    fn readdir(&self, entry: usize, nentries: i32, bufsiz: usize) -> Result<(Vec<u8>, usize), Errno> {
        let _ = (entry, nentries, bufsiz);
        Err(unsupported("dir_readdir"))
    }

    /// The same open of the same node, as a client with `creds` sees it
    /// (`io_reauthenticate`, `io_restrict_auth`, `io_duplicate`).
    fn with_credentials(&self, creds: Credentials) -> Result<Arc<dyn Node>, Errno> {
        let _ = creds;
        Err(unsupported("io_reauthenticate"))
    }

    /// The same open, with `..` at the translator's root leading to
    /// `parent`, or staying at the root when there is none
    /// (`file_reparent`: how a chroot's root is made).
    fn reparent(&self, parent: Option<&SendRight>) -> Result<Arc<dyn Node>, Errno> {
        let _ = parent;
        Err(unsupported("file_reparent"))
    }

    /// The credentials this protid carries.
    fn credentials(&self) -> Credentials {
        Credentials::default()
    }

    /// Whether every request that would change the node or, for a
    /// directory, its entries (`dir_mkdir`, `dir_unlink`, `file_chmod`,
    /// `file_set_translator`, …) is refused with EROFS. Otherwise such
    /// requests answer EOPNOTSUPP: no translator here changes nodes.
    fn read_only(&self) -> bool {
        false
    }

    /// `dir_mkdir` of `name` with mode `mode` in this directory.
    fn mkdir(&self, name: &str, mode: u32) -> Result<(), Errno> {
        let _ = (name, mode);
        Err(self.refusal("dir_mkdir"))
    }

    /// `dir_rmdir` (`directory`) or `dir_unlink` of `name` in this
    /// directory.
    fn remove(&self, name: &str, directory: bool) -> Result<(), Errno> {
        let _ = name;
        Err(self.refusal(if directory { "dir_rmdir" } else { "dir_unlink" }))
    }

    /// `file_set_translator` with an active translator (its control port):
    /// the translator sets itself on this node. A node that takes it keeps
    /// a reference of its own.
    fn set_active_translator(&self, control: &SendRight) -> Result<(), Errno> {
        let _ = control;
        Err(self.refusal("file_set_translator"))
    }

    /// `file_set_translator` as a whole. By default an active translator
    /// alone goes to [`Node::set_active_translator`]; a passive record is
    /// never kept.
    fn set_translator(&self, request: &TranslatorRequest<'_>) -> Result<(), Errno> {
        match request.active {
            Some(control) if request.passive.is_empty() => self.set_active_translator(control),
            _ => Err(self.refusal("file_set_translator")),
        }
    }

    /// `dir_mkfile`: a new file no directory names yet.
    fn mkfile(&self, flags: i32, mode: u32) -> Result<Arc<dyn Node>, Errno> {
        let _ = (flags, mode);
        Err(self.refusal("dir_mkfile"))
    }

    /// `dir_link`: `file` (a node served here, or none: a port of another
    /// server) gets the name `name` in this directory.
    fn link(&self, file: Option<&Arc<dyn Node>>, name: &str, excl: bool) -> Result<(), Errno> {
        let _ = (file, name, excl);
        Err(self.refusal("dir_link"))
    }

    /// `dir_rename`: `name` here becomes `to_name` in `to_dir` (a node
    /// served here, or none).
    fn rename(&self, name: &str, to_dir: Option<&Arc<dyn Node>>, to_name: &str, excl: bool) -> Result<(), Errno> {
        let _ = (name, to_dir, to_name, excl);
        Err(self.refusal("dir_rename"))
    }

    /// The node to hand the exec server for `file_exec_paths` on this one
    /// (a new open of it for reading, in the client's name).
    fn exec_file(&self) -> Result<Arc<dyn Node>, Errno> {
        Err(unsupported("file_exec_paths"))
    }

    /// `file_get_translator_cntl`: the control port of the active
    /// translator on this node.
    fn translator_control(&self) -> Result<SendRight, Errno> {
        Err(unsupported("file_get_translator_cntl"))
    }

    /// `file_getlinknode`: the node `dir_link` is to take for this one.
    fn link_node(&self) -> Result<Arc<dyn Node>, Errno> {
        Err(unsupported("file_getlinknode"))
    }

    /// The port of the other server's node this node stands for, if it
    /// forwards requests there ([`Node::forwards`]).
    fn forward_port(&self) -> Option<&SendRight> {
        None
    }

    /// Whether a request for `routine` (MIG's name, `io_read`) goes to
    /// [`Node::forward_port`] as it came: a node that stands for another
    /// server's node forwards what it has no reason to look at, and the
    /// other server answers the client itself.
    fn forwards(&self, routine: &str) -> bool {
        let _ = routine;
        false
    }

    /// The other server's port this node stands for, if it stands for one
    /// in the group `group` (the tree a link or a rename may stay within).
    fn host_in(&self, group: &str) -> Option<&SendRight> {
        let _ = group;
        None
    }

    /// The answer to a change this node does not make: EROFS from a
    /// read-only node, else EOPNOTSUPP (logged once).
    fn refusal(&self, rpc: &str) -> Errno {
        refusal(self.read_only(), rpc)
    }

    /// `dir_lookup` of `name` from this node. The C library looks up the
    /// empty name on a node to open it again (readlink does, to read a
    /// link's contents).
    fn lookup(&self, name: &str, flags: i32, mode: u32) -> Result<Reply, Errno> {
        let _ = (name, flags, mode);
        Err(unsupported("dir_lookup"))
    }
}

/// A `file_set_translator` request.
#[derive(Debug)]
pub struct TranslatorRequest<'a> {
    /// The passive record (an argz vector), empty when none came.
    pub passive: &'a [u8],
    pub passive_flags: i32,
    pub active_flags: i32,
    pub oldtrans_flags: i32,
    /// The active translator's control port, if any.
    pub active: Option<&'a SendRight>,
}

/// The answer to a change a node does not make: EROFS when it is
/// read-only, else EOPNOTSUPP (logged once per routine).
pub fn refusal(read_only: bool, rpc: &str) -> Errno {
    if read_only { Errno::EROFS } else { unsupported(rpc) }
}

/// Logs, once per routine, that a translator was asked for something it
/// does not do, and gives the answer for it.
pub fn unsupported(routine: &str) -> Errno {
    log_once(log::Level::Info, routine, || format!("{routine}: not supported here (EOPNOTSUPP); said once"));
    Errno::EOPNOTSUPP
}

/// Logs `message()` at `level` the first time `what` happens.
fn log_once(level: log::Level, what: &str, message: impl FnOnce() -> String) {
    static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    if SEEN.lock().unwrap_or_else(|e| e.into_inner()).insert(what.to_owned()) {
        log::log!(level, "{}", message());
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("not started as a translator: this task has no bootstrap port (use settrans)")]
    NoBootstrap,
    #[error("fsys_startup: {0}")]
    Startup(Errno),
    #[error("setting up a port: {0}")]
    Port(#[from] PortError),
    #[error("requesting a no-senders notification on port {port}: {code}")]
    Notify { port: RawPort, code: Errno },
    #[error("serving one more port: {PORTS_MAX} are served already")]
    TooManyPorts,
}

enum Object {
    Control(Arc<dyn Control>),
    /// A node a client holds a port to.
    Node(Arc<dyn Node>),
    /// A node the translator keeps a port to for itself (a parent it gave
    /// to `file_reparent` once for many lookups): it does not hold the
    /// translator up.
    OwnNode(Arc<dyn Node>),
}

/// A served port: the receive right and what it stands for.
struct Slot {
    object: Object,
    _port: ReceiveRight,
}

/// Ordered maps, not hash maps: a translator may start before the
/// system has a random source (`/dev/urandom`), which std's hashing needs.
struct Registry {
    /// Every port handed to clients (and ours), served by the pool.
    set: PortSet,
    /// The control port alone, served by a thread of its own: no number of
    /// clients' requests blocked in the pool keeps a goaway from being
    /// answered.
    control_set: PortSet,
    slots: Mutex<BTreeMap<RawPort, Arc<Slot>>>,
}

fn registry() -> Result<&'static Registry, PortError> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    if let Some(r) = REGISTRY.get() {
        return Ok(r);
    }
    let set = PortSet::allocate()?;
    let control_set = PortSet::allocate()?;
    Ok(REGISTRY.get_or_init(|| Registry { set, control_set, slots: Mutex::new(BTreeMap::new()) }))
}

/// The most ports a translator serves at once: past it, a request that
/// would make one more fails (ENOMEM) rather than grow without bound.
pub const PORTS_MAX: usize = 1 << 16;

/// How many ports handed to clients are still held: what keeps a
/// translator that serves nodes itself from leaving.
pub fn open_ports() -> usize {
    registry().map_or(0, |reg| {
        let slots = reg.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.values().filter(|s| matches!(s.object, Object::Node(_))).count()
    })
}

/// Whether `port` is one this process serves: a send right to a port
/// whose receive right a task holds has the same name in its space. A
/// lookup answered elsewhere may lead back here (`..` to a parent given
/// to `file_reparent`).
pub fn serves(port: &SendRight) -> bool {
    registry().is_ok_and(|reg| reg.slots.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&port.as_raw()))
}

/// Serves `node` on a new port and gives a send right to it (for a
/// translator that needs a port to one of its own nodes, as the parent
/// given to `file_reparent`). While the port has senders, it keeps the
/// translator busy, as a client's port does.
pub fn serve_node(node: Arc<dyn Node>) -> Result<SendRight, ServerError> {
    serve_object(Object::Node(node))
}

/// As [`serve_node`], for a port the translator keeps for itself: it is
/// not counted among [`open_ports`].
pub fn serve_own_node(node: Arc<dyn Node>) -> Result<SendRight, ServerError> {
    serve_object(Object::OwnNode(node))
}

/// Serves `object` on a new port and gives a send right to it. The port
/// goes away when its last client's send right does (no-senders).
fn serve_object(object: Object) -> Result<SendRight, ServerError> {
    let port = ReceiveRight::allocate()?;
    let send = port.make_send()?;
    serve_on(port, object)?;
    Ok(send)
}

/// Serves `object` on `port`.
fn serve_on(port: ReceiveRight, object: Object) -> Result<(), ServerError> {
    let reg = registry()?;
    if reg.slots.lock().unwrap_or_else(|e| e.into_inner()).len() >= PORTS_MAX {
        return Err(ServerError::TooManyPorts);
    }
    if matches!(object, Object::Control(_)) {
        reg.control_set.insert(&port)?
    } else {
        reg.set.insert(&port)?
    }
    let name = port.as_raw();
    // The port itself is told when its last client lets go.
    request_notification(name, Notification::NoSenders, name)
        .map_err(|code| ServerError::Notify { port: name, code })?;
    let slot = Arc::new(Slot { object, _port: port });
    reg.slots.lock().unwrap_or_else(|e| e.into_inner()).insert(name, slot);
    Ok(())
}

/// Puts `node` behind the already served `port` in place of what was there.
fn replace_node(port: RawPort, node: Arc<dyn Node>) {
    let Ok(reg) = registry() else { return };
    let mut slots = reg.slots.lock().unwrap_or_else(|e| e.into_inner());
    let Some(old) = slots.remove(&port) else { return };
    // The receive right moves to the new slot; if a routine still runs on
    // the old one (a request that came before the auth server answered),
    // the old slot stays, with no credentials.
    match Arc::try_unwrap(old) {
        Ok(old) => {
            slots.insert(port, Arc::new(Slot { object: Object::Node(node), _port: old._port }));
        }
        Err(old) => {
            log::warn!("port {port}: in use while its credentials were set; it keeps none");
            slots.insert(port, old);
        }
    }
}

/// The name of this translator's control port (its receive right is in
/// the registry), once started.
static CONTROL: OnceLock<RawPort> = OnceLock::new();

/// Starts a translator: registers `control`, hands its port to the parent
/// file system through `fsys_startup`, and returns the node the
/// translator sits on.
pub fn startup(control: Arc<dyn Control>, open_flags: i32) -> Result<SendRight, ServerError> {
    let mut bootstrap: RawPort = 0;
    // SAFETY: reads this task's bootstrap port into `bootstrap`; we own the
    // reference it gives.
    let code = unsafe { raw::task_get_special_port(task(), raw::HURD_SYS_TASK_BOOTSTRAP_PORT, &mut bootstrap) };
    // SAFETY: a valid name from task_get_special_port is ours.
    let bootstrap = match (check(code), unsafe { SendRight::from_raw(bootstrap) }) {
        (Ok(()), Some(b)) => b,
        _ => return Err(ServerError::NoBootstrap),
    };
    log::debug!("startup: bootstrap {bootstrap:?}");
    let control_port = serve_object(Object::Control(control))?;
    log::debug!("startup: control {control_port:?}");
    let control_set = registry()?.control_set.as_raw();
    std::thread::spawn(move || server_loop(control_set, None, false));
    let _ = CONTROL.set(control_port.as_raw());
    let mut realnode: RawPort = 0;
    // SAFETY: gives the parent a send right to our control port (moved:
    // `into_raw` hands the reference over) and receives the underlying
    // node's send right into `realnode`.
    let code = unsafe {
        raw::fsys_startup(
            bootstrap.as_raw(),
            open_flags,
            control_port.into_raw(),
            raw::MACH_MSG_TYPE_MOVE_SEND as _,
            &mut realnode,
        )
    };
    check(code).map_err(ServerError::Startup)?;
    log::debug!("startup: realnode {realnode}");
    // SAFETY: fsys_startup's reply gave us this send right.
    unsafe { SendRight::from_raw(realnode) }.ok_or(ServerError::Startup(Errno::EIO))
}

/// Serves requests on `threads` threads until the process exits (a
/// goaway) or, with `idle` set, until no request has come for that long.
pub fn serve(threads: usize, idle: Option<std::time::Duration>) -> Result<(), ServerError> {
    let set = registry()?.set.as_raw();
    let threads = threads.max(1);
    THREADS.fetch_add(threads, std::sync::atomic::Ordering::SeqCst);
    let helpers: Vec<_> = (1..threads).map(|_| std::thread::spawn(move || server_loop(set, idle, true))).collect();
    server_loop(set, idle, true);
    drop(helpers);
    Ok(())
}

/// The most threads serving clients' requests at once. A request that
/// blocks (a lookup the host answers only when a FIFO has a writer, a
/// reauthentication whose client never finishes the handshake) holds
/// one; when none is left waiting, another is started, up to this.
pub const THREADS_MAX: usize = 256;

/// How long a thread started for a busy moment waits for a request
/// before it ends.
const EXTRA_IDLE: std::time::Duration = std::time::Duration::from_secs(30);

/// Room for a routine and the C library's message buffers, which grow on
/// the stack with the largest request received (the size of every other
/// thread's stack).
const EXTRA_STACK: usize = 2 * 1024 * 1024;

/// The pool's threads waiting for a request, and all of them.
static IDLE: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);
static THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A pool thread serving one request: when it was the last one waiting,
/// another is started (up to [`THREADS_MAX`]); it waits again on drop.
struct Busy;

impl Busy {
    fn start() -> Busy {
        use std::sync::atomic::Ordering::SeqCst;
        if IDLE.fetch_sub(1, SeqCst) <= 1 {
            // Counted before it runs, so that a burst cannot pass the limit.
            if THREADS.fetch_add(1, SeqCst) < THREADS_MAX {
                if let Ok(set) = registry().map(|r| r.set.as_raw()) {
                    let spawned = std::thread::Builder::new()
                        .stack_size(EXTRA_STACK)
                        .spawn(move || server_loop(set, Some(EXTRA_IDLE), true));
                    if let Err(e) = spawned {
                        THREADS.fetch_sub(1, SeqCst);
                        log::warn!("starting one more server thread: {e}");
                    }
                }
            } else {
                THREADS.fetch_sub(1, SeqCst);
                log_once(log::Level::Warn, "server threads", || {
                    format!("all {THREADS_MAX} server threads are busy; requests wait")
                });
            }
        }
        Busy
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        IDLE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The demultiplexer of the pool's threads: [`demux`], counted.
unsafe extern "C" fn pool_demux(
    request: *mut raw::mach_msg_header_t,
    reply: *mut raw::mach_msg_header_t,
) -> raw::boolean_t {
    let _busy = Busy::start();
    // SAFETY: as the C library gives them to us.
    unsafe { demux(request, reply) }
}

/// Starts `threads` threads serving requests for the life of the process,
/// and returns: for a translator that needs its own ports served while it
/// still sets itself up (a helper asks about the node it sits on).
pub fn serve_in_background(threads: usize) -> Result<(), ServerError> {
    let set = registry()?.set.as_raw();
    THREADS.fetch_add(threads, std::sync::atomic::Ordering::SeqCst);
    for _ in 0..threads {
        std::thread::spawn(move || server_loop(set, None, true));
    }
    Ok(())
}

/// One thread's serving, until the process exits or (with `idle`) no
/// request came for that long. A thread of the pool (`pool`) is counted
/// among those that serve clients.
fn server_loop(set: RawPort, idle: Option<std::time::Duration>, pool: bool) {
    use std::sync::atomic::Ordering::SeqCst;
    let demultiplexer = if pool { pool_demux } else { demux };
    if pool {
        IDLE.fetch_add(1, SeqCst);
    }
    loop {
        // SAFETY: the demultiplexer is valid for the life of the process
        // and `set` a port set we hold; the C library receives, calls it,
        // and sends the replies.
        let code = unsafe {
            match idle {
                None => raw::mach_msg_server(Some(demultiplexer), 0, set),
                Some(t) => raw::hurd_sys_msg_server_timeout(
                    Some(demultiplexer),
                    0,
                    set,
                    raw::MACH_RCV_TIMEOUT as _,
                    t.as_millis().min(u32::MAX as u128) as _,
                ),
            }
        };
        if let Some(idle) = idle.filter(|_| check(code) == Err(Errno::MACH_RCV_TIMED_OUT)) {
            // A request to another set (the control port's) counts too.
            if since_last_request() < idle {
                continue;
            }
            if pool {
                IDLE.fetch_sub(1, SeqCst);
                THREADS.fetch_sub(1, SeqCst);
            }
            return;
        }
        log::error!("the message server stopped: {:?}", Errno(code));
    }
}

/// Receives one request on `port` (waiting up to `timeout`), serves it and
/// sends the answer: how a helper's `fsys_startup` is served before the
/// server's threads run. MACH_RCV_TIMED_OUT when none came.
pub(crate) fn serve_one(port: &ReceiveRight, timeout: std::time::Duration) -> Result<(), Errno> {
    // Room for any request and answer of the startup protocol.
    let mut request = [0u64; 512];
    let mut reply = [0u64; 512];
    let request_header: *mut raw::mach_msg_header_t = request.as_mut_ptr().cast();
    let reply_header: *mut raw::mach_msg_header_t = reply.as_mut_ptr().cast();
    // SAFETY: receives into a buffer of the size given, from a port whose
    // receive right we hold.
    let code = unsafe {
        raw::mach_msg(
            request_header,
            (raw::MACH_RCV_MSG | raw::MACH_RCV_TIMEOUT) as _,
            0,
            std::mem::size_of_val(&request) as _,
            port.as_raw(),
            timeout.as_millis().min(u32::MAX as u128) as _,
            raw::MACH_PORT_NULL,
        )
    };
    check(code)?;
    // SAFETY: a received request and room for its answer, as a MIG
    // demultiplexer wants them.
    if unsafe { demux(request_header, reply_header) } == 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    // SAFETY: the answer MIG wrote.
    check(unsafe { send_reply(reply_header) })
}

/// Sends an answer MIG wrote, to the request's reply port (which moves
/// that send-once right), outside `mach_msg_server`.
///
/// # Safety
/// `reply` is a whole reply MIG wrote for a request received here.
unsafe fn send_reply(reply: *mut raw::mach_msg_header_t) -> raw::kern_return_t {
    // SAFETY: see above; the size is the reply's own.
    unsafe {
        raw::mach_msg(
            reply,
            raw::MACH_SEND_MSG as _,
            (*reply).msgh_size,
            0,
            raw::MACH_PORT_NULL,
            0,
            raw::MACH_PORT_NULL,
        )
    }
}

thread_local! {
    /// Set by a goaway that leaves, on the thread serving it.
    static LEAVING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The served object the request being demultiplexed on this thread
    /// came to.
    static TARGET: std::cell::RefCell<Option<Arc<Slot>>> = const { std::cell::RefCell::new(None) };
    /// Set when the routine found that its node forwards the request.
    static FORWARD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs one routine addressed to a protid: `body` gets the node and
/// whether the port is one the translator keeps for itself. A node that
/// forwards `routine` ([`Node::forward`]) does not run it: the request
/// goes on to the other server as it came. A panic in `body` is caught
/// here, logged and answered with EIO, so that no request ends the
/// translator.
///
/// # Safety
/// `protid` is null or the protid the stub holds for this call.
unsafe fn on_protid(
    protid: raw::hurd_sys_protid_t,
    routine: &str,
    body: impl FnOnce(&Arc<dyn Node>, bool) -> raw::kern_return_t,
) -> raw::kern_return_t {
    // SAFETY: see above.
    let slot = unsafe { slot(protid.cast()) };
    let Some(node) = node_of(slot) else { return Errno::EOPNOTSUPP.0 };
    if node.forwards(routine) && node.forward_port().is_some() {
        FORWARD.with(|f| f.set(true));
        return Errno::EOPNOTSUPP.0;
    }
    let own = is_own(slot);
    guarded(routine, || body(node, own))
}

/// Runs one routine addressed to the control port, as [`on_protid`].
///
/// # Safety
/// `control` is null or the control the stub holds for this call.
unsafe fn on_control(
    control: raw::hurd_sys_control_t,
    routine: &str,
    body: impl FnOnce(&Arc<dyn Control>) -> raw::kern_return_t,
) -> raw::kern_return_t {
    // SAFETY: see above.
    let Some(control) = control_of(unsafe { slot(control.cast()) }) else { return Errno::EOPNOTSUPP.0 };
    guarded(routine, || body(control))
}

/// `body`'s answer, or EIO if it panicked (logged with the routine).
fn guarded(routine: &str, body: impl FnOnce() -> raw::kern_return_t) -> raw::kern_return_t {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(code) => code,
        Err(_) => {
            log::error!("{routine}: the routine panicked; answered EIO");
            Errno::EIO.0
        }
    }
}

/// Sends `request`, as received, on to `to`, with its reply port: the
/// other server answers the client. Without a timeout: a send that times
/// out hands the message back with its rights renamed, which the message
/// server could then not destroy; `to` is a file system's port, which
/// empties its queue. On failure (a dead port: nothing was sent) the
/// header is as it was received, so that the request can be destroyed and
/// answered.
///
/// # Safety
/// `request` is a whole request received on this thread and not yet
/// destroyed or answered.
unsafe fn forward(request: *mut raw::mach_msg_header_t, to: &SendRight) -> raw::kern_return_t {
    // SAFETY: see above; the header's port fields are ports here (no
    // protected payload is used).
    let header = unsafe { &mut *request };
    // SAFETY: as above: both unions hold port names.
    let (remote, local) =
        unsafe { (header.__bindgen_anon_1.msgh_remote_port, header.__bindgen_anon_2.msgh_local_port) };
    let bits = header.msgh_bits;
    let reply_type = bits & raw::MACH_MSGH_BITS_REMOTE_MASK as raw::mach_msg_bits_t;
    // Remote (the destination) in the low byte, local (the reply port)
    // in the next.
    header.msgh_bits = (bits & raw::MACH_MSGH_BITS_COMPLEX as raw::mach_msg_bits_t)
        | raw::MACH_MSG_TYPE_COPY_SEND as raw::mach_msg_bits_t
        | (reply_type << 8);
    header.__bindgen_anon_2.msgh_local_port = remote;
    header.__bindgen_anon_1.msgh_remote_port = to.as_raw();
    // SAFETY: a whole message of the size its header gives; the rights
    // and memory it carries move to the other server.
    let code = unsafe {
        raw::mach_msg(
            request,
            raw::MACH_SEND_MSG as _,
            header.msgh_size,
            0,
            raw::MACH_PORT_NULL,
            0,
            raw::MACH_PORT_NULL,
        )
    };
    if code != 0 {
        header.msgh_bits = bits;
        header.__bindgen_anon_1.msgh_remote_port = remote;
        header.__bindgen_anon_2.msgh_local_port = local;
    }
    code
}

/// When the last request came, in milliseconds since [`EPOCH`].
static LAST_REQUEST: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();

fn now_ms() -> u64 {
    EPOCH.get_or_init(std::time::Instant::now).elapsed().as_millis().try_into().unwrap_or(u64::MAX)
}

fn since_last_request() -> std::time::Duration {
    let last = LAST_REQUEST.load(std::sync::atomic::Ordering::Relaxed);
    std::time::Duration::from_millis(now_ms().saturating_sub(last))
}

unsafe extern "C" fn demux(request: *mut raw::mach_msg_header_t, reply: *mut raw::mach_msg_header_t) -> raw::boolean_t {
    LAST_REQUEST.store(now_ms(), std::sync::atomic::Ordering::Relaxed);
    // SAFETY: the C library passes a received request.
    let local = unsafe { (*request).__bindgen_anon_2.msgh_local_port };
    TARGET.with(|t| *t.borrow_mut() = lookup(local));
    FORWARD.with(|f| f.set(false));
    // SAFETY: the C library passes a received request and room for the
    // reply; each MIG demultiplexer handles its own message IDs only.
    let handled = unsafe {
        raw::io_server(request, reply) != 0
            || raw::fs_server(request, reply) != 0
            || raw::fsys_server(request, reply) != 0
            || raw::notify_server(request, reply) != 0
            || raw::interrupt_server(request, reply) != 0
    };
    let target = TARGET.with(|t| t.borrow_mut().take());
    if FORWARD.with(|f| f.replace(false)) {
        let to = target.as_deref().and_then(|slot| node_of(Some(slot))).and_then(|node| node.forward_port());
        let code = match to {
            // SAFETY: the request is still whole: the routine did not run.
            Some(to) => unsafe { forward(request, to) },
            None => Errno::EOPNOTSUPP.0,
        };
        let answer = if code == 0 {
            raw::MIG_NO_REPLY
        } else {
            log::warn!("forwarding a request: {}", Errno(code));
            Errno::EIO.0
        };
        // SAFETY: MIG wrote a reply header, of which RetCode is part.
        unsafe { (*reply.cast::<raw::mig_reply_header_t>()).RetCode = answer };
        return 1;
    }
    if LEAVING.with(|leaving| leaving.get()) {
        // The goaway's caller gets its answer before the process is gone
        // (otherwise it sees "server died", which settrans --chroot takes
        // as a failure).
        // SAFETY: the reply MIG just wrote.
        let code = unsafe { send_reply(reply) };
        if code != 0 {
            log::warn!("answering the goaway: {}", Errno(code));
        }
        log::info!("going away");
        std::process::exit(0);
    }
    handled as raw::boolean_t
}

// ---- what the MIG mutations call --------------------------------------

fn lookup(port: RawPort) -> Option<Arc<Slot>> {
    let reg = registry().ok()?;
    reg.slots.lock().unwrap_or_else(|e| e.into_inner()).get(&port).cloned()
}

/// The slot behind `port` if it is a control (`control`) or a node, as a
/// reference handed to a MIG stub (released by [`release_slot`]).
fn intran(port: RawPort, control: bool) -> *const Slot {
    match lookup(port) {
        Some(slot) if matches!(slot.object, Object::Control(_)) == control => Arc::into_raw(slot),
        _ => std::ptr::null(),
    }
}

/// Drops a reference [`intran`] handed out.
fn release_slot(slot: *const Slot) {
    if !slot.is_null() {
        // SAFETY: a non-null slot pointer comes from Arc::into_raw in intran.
        drop(unsafe { Arc::from_raw(slot) });
    }
}

/// The intran of io and fs requests: the protid behind `port`, or null.
#[unsafe(no_mangle)]
pub extern "C" fn hurd_sys_protid_from_port(port: RawPort) -> raw::hurd_sys_protid_t {
    intran(port, false) as raw::hurd_sys_protid_t
}

/// The destructor of io and fs requests.
#[unsafe(no_mangle)]
pub extern "C" fn hurd_sys_protid_release(protid: raw::hurd_sys_protid_t) {
    release_slot(protid as *const Slot);
}

/// The intran of fsys requests: the control behind `port`, or null.
#[unsafe(no_mangle)]
pub extern "C" fn hurd_sys_control_from_port(port: RawPort) -> raw::hurd_sys_control_t {
    intran(port, true) as raw::hurd_sys_control_t
}

/// The destructor of fsys requests.
#[unsafe(no_mangle)]
pub extern "C" fn hurd_sys_control_release(control: raw::hurd_sys_control_t) {
    release_slot(control as *const Slot);
}

/// Protected payloads are not used: no request carries one.
#[unsafe(no_mangle)]
pub extern "C" fn hurd_sys_protid_from_payload(_payload: std::ffi::c_ulong) -> raw::hurd_sys_protid_t {
    std::ptr::null_mut()
}

/// Protected payloads are not used: no request carries one.
#[unsafe(no_mangle)]
pub extern "C" fn hurd_sys_control_from_payload(_payload: std::ffi::c_ulong) -> raw::hurd_sys_control_t {
    std::ptr::null_mut()
}

/// What the weak default of every routine Rust does not define calls.
///
/// # Safety
/// `name` is a NUL-terminated string (the C defaults pass a literal).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hurd_sys_unimplemented(name: *const c_char) {
    // SAFETY: the C defaults pass a string literal.
    let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
    // A node standing for another server's forwards what it does not
    // answer itself.
    let forwards = TARGET.with(|t| {
        t.borrow()
            .as_deref()
            .and_then(|slot| node_of(Some(slot)))
            .is_some_and(|node| node.forwards(&name) && node.forward_port().is_some())
    });
    if forwards {
        FORWARD.with(|f| f.set(true));
    } else {
        unsupported(&name);
    }
}

/// The object behind a protid pointer, borrowed for one routine.
///
/// # Safety
/// `p` is null or came from the intran and is still held by the stub.
unsafe fn slot<'a>(p: *mut c_void) -> Option<&'a Slot> {
    // SAFETY: see above: the stub holds the reference until the destructor.
    unsafe { (p as *const Slot).as_ref() }
}

fn node_of(slot: Option<&Slot>) -> Option<&Arc<dyn Node>> {
    match slot {
        Some(Slot { object: Object::Node(n) | Object::OwnNode(n), .. }) => Some(n),
        _ => None,
    }
}

/// Whether the port behind `slot` is one the translator keeps for itself.
/// Ports made from such a port by a lookup or `io_restrict_auth` (a helper
/// asking about the nodes we gave it) are its own too; a reauthentication
/// is a client's.
fn is_own(slot: Option<&Slot>) -> bool {
    matches!(slot, Some(Slot { object: Object::OwnNode(_), .. }))
}

fn control_of(slot: Option<&Slot>) -> Option<&Arc<dyn Control>> {
    match slot {
        Some(Slot { object: Object::Control(c), .. }) => Some(c),
        _ => None,
    }
}

/// A node a routine made, served on a new port for the client.
fn served(node: Result<Arc<dyn Node>, Errno>) -> Result<SendRight, raw::kern_return_t> {
    node.map_err(|e| e.0).and_then(|n| serve_node(n).map_err(|_| Errno::ENOMEM.0))
}

/// Answers one port in the out-parameters `port`/`poly` (moved to the
/// client), or the error.
///
/// # Safety
/// `port` and `poly` are a routine's out-parameters for one port.
unsafe fn answer_port(
    result: Result<SendRight, raw::kern_return_t>,
    port: *mut RawPort,
    poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    match result {
        Ok(right) => {
            // SAFETY: see above.
            unsafe {
                *port = right.into_raw();
                *poly = raw::MACH_MSG_TYPE_MOVE_SEND as _;
            }
            0
        }
        Err(code) => code,
    }
}

/// A send right a request brought: the routine's only once it answers
/// success (on an error the message server destroys the request, rights
/// included). Dropping it never releases the right, even when the
/// routine panics; [`RequestRight::keep`] takes it on success.
struct RequestRight(std::mem::ManuallyDrop<Option<SendRight>>);

impl RequestRight {
    /// # Safety
    /// `name` is null or a send right the request being served brought.
    unsafe fn new(name: RawPort) -> RequestRight {
        // SAFETY: see above; ManuallyDrop keeps it from being released
        // unless kept.
        RequestRight(std::mem::ManuallyDrop::new(unsafe { SendRight::from_raw(name) }))
    }

    fn get(&self) -> Option<&SendRight> {
        self.0.as_ref()
    }

    /// The right, ours now that the routine succeeded.
    fn keep(mut self) -> Option<SendRight> {
        // SAFETY: taken once; `self` is forgotten with nothing left in it.
        unsafe { std::mem::ManuallyDrop::take(&mut self.0) }
    }
}

/// Writes a reply port: a retry's, or a new port for a node served here.
///
/// # Safety
/// The four pointers are the routine's out-parameters.
unsafe fn write_reply(
    reply: Reply,
    own: bool,
    do_retry: *mut raw::retry_type,
    retry_name: *mut c_char,
    result: *mut RawPort,
    result_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let (kind, name, port) = match reply {
        Reply::Retry { kind, name, port } => (kind, name, port),
        Reply::Open(node) => match serve_object(if own { Object::OwnNode(node) } else { Object::Node(node) }) {
            Ok(port) => (RetryKind::Normal, String::new(), Some(port)),
            Err(e) => {
                log::error!("{e}");
                return Errno::ENOMEM.0;
            }
        },
    };
    // string_t holds 1024 bytes with the NUL.
    if name.len() >= 1024 || name.contains('\0') {
        return Errno::ENAMETOOLONG.0;
    }
    // SAFETY: the stub gives room for a string_t and for one port.
    unsafe {
        std::ptr::copy_nonoverlapping(name.as_ptr(), retry_name.cast::<u8>(), name.len());
        *retry_name.add(name.len()) = 0;
        *do_retry = kind.raw();
        *result = port.map_or(raw::MACH_PORT_NULL, SendRight::into_raw);
        *result_poly = raw::MACH_MSG_TYPE_MOVE_SEND as _;
    }
    0
}

fn ids(p: *const u32, n: raw::mach_msg_type_number_t) -> Vec<u32> {
    if p.is_null() || n == 0 {
        return Vec::new();
    }
    // SAFETY: MIG passes `n` ids at `p`.
    unsafe { std::slice::from_raw_parts(p, n as usize) }.to_vec()
}

// ---- the routines ------------------------------------------------------

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_fsys_getroot(
    fsys: raw::hurd_sys_control_t,
    dotdot: RawPort,
    uids: raw::const_idarray_t,
    nuids: raw::mach_msg_type_number_t,
    gids: raw::const_idarray_t,
    ngids: raw::mach_msg_type_number_t,
    flags: c_int,
    do_retry: *mut raw::retry_type,
    retry_name: *mut c_char,
    file: *mut RawPort,
    file_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |control: &Arc<dyn Control>| -> raw::kern_return_t {
        // SAFETY: the request moved a send right for `dotdot` to us, if any.
        let dotdot = unsafe { RequestRight::new(dotdot) };
        let creds = Credentials { uids: ids(uids, nuids), gids: ids(gids, ngids) };
        let code = match control.getroot(dotdot.get(), &creds, flags) {
            // SAFETY: the out-parameters are the stub's.
            Ok(reply) => unsafe { write_reply(reply, false, do_retry, retry_name, file, file_poly) },
            Err(e) => e.0,
        };
        if code == 0 {
            drop(dotdot.keep());
        }
        code
    };
    // SAFETY: the stub holds the control for this call.
    unsafe { on_control(fsys, "fsys_getroot", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_fsys_goaway(fsys: raw::hurd_sys_control_t, flags: c_int) -> raw::kern_return_t {
    let body = |control: &Arc<dyn Control>| match control.goaway(flags) {
        Ok(()) => {
            LEAVING.with(|leaving| leaving.set(true));
            0
        }
        Err(e) => e.0,
    };
    // SAFETY: the stub holds the control for this call.
    unsafe { on_control(fsys, "fsys_goaway", body) }
}

/// Hands `bytes` back as a `data_t` out-parameter: into the stub's buffer
/// when it fits, else into pages the reply carries out of line.
///
/// # Safety
/// `data` and `len` are the stub's out-parameters.
unsafe fn write_data(
    bytes: &[u8],
    data: *mut raw::data_t,
    len: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    // SAFETY: the stub set *data to a buffer of *len bytes.
    unsafe {
        if bytes.len() > *len as usize {
            let mut addr: raw::vm_address_t = 0;
            let code = raw::vm_allocate(task(), &mut addr, bytes.len() as _, 1);
            if code != 0 {
                return code;
            }
            *data = addr as raw::data_t;
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), (*data).cast::<u8>(), bytes.len());
        *len = bytes.len() as _;
    }
    0
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_fsys_get_options(
    server: raw::hurd_sys_control_t,
    options: *mut raw::data_t,
    len: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    let body = |control: &Arc<dyn Control>| -> raw::kern_return_t {
        let Ok(argz) = crate::argz::encode(&control.options()) else { return Errno::EINVAL.0 };
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_data(&argz, options, len) }
    };
    // SAFETY: the stub holds the control for this call.
    unsafe { on_control(server, "fsys_get_options", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_fsys_set_options(
    fsys: raw::hurd_sys_control_t,
    options: raw::const_data_t,
    len: raw::mach_msg_type_number_t,
    _do_children: c_int,
) -> raw::kern_return_t {
    let body = |control: &Arc<dyn Control>| -> raw::kern_return_t {
        let bytes = if len == 0 {
            &[][..]
        } else {
            // SAFETY: MIG passes `len` bytes at `options`.
            unsafe { std::slice::from_raw_parts(options.cast::<u8>(), len as usize) }
        };
        let Ok(args) = crate::argz::decode(bytes) else { return Errno::EINVAL.0 };
        match control.set_options(&args) {
            Ok(()) => 0,
            Err(e) => e.0,
        }
    };
    // SAFETY: the stub holds the control for this call.
    unsafe { on_control(fsys, "fsys_set_options", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_stat(io: raw::hurd_sys_protid_t, out: *mut raw::io_statbuf_t) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        match node.stat() {
            Ok(s) => {
                // nlink_t is 32 bits on i686, 64 on x86_64 (a count of
                // links served here never nears 2^32).
                #[allow(clippy::unnecessary_cast)]
                let nlink = s.nlink as _;
                let st = raw::io_statbuf_t {
                    st_mode: s.mode,
                    st_size: s.size,
                    st_nlink: nlink,
                    st_uid: s.uid,
                    st_gid: s.gid,
                    st_ino: s.ino,
                    st_blksize: 4096,
                    st_fsid: std::process::id() as _,
                    ..Default::default()
                };
                // SAFETY: the stub gives room for one stat buffer.
                unsafe { *out = st };
                0
            }
            Err(e) => e.0,
        }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(io, "io_stat", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_read(
    io: raw::hurd_sys_protid_t,
    data: *mut raw::data_t,
    len: *mut raw::mach_msg_type_number_t,
    offset: raw::loff_t,
    amount: raw::vm_size_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        match node.read(offset, amount) {
            // SAFETY: the out-parameters are the stub's.
            Ok(bytes) => unsafe { write_data(&bytes[..bytes.len().min(amount)], data, len) },
            Err(e) => e.0,
        }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(io, "io_read", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_dir_lookup(
    dir: raw::hurd_sys_protid_t,
    name: raw::const_string_t,
    flags: c_int,
    mode: raw::mode_t,
    do_retry: *mut raw::retry_type,
    retry_name: *mut c_char,
    result: *mut RawPort,
    result_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, own: bool| -> raw::kern_return_t {
        // SAFETY: MIG passes a NUL-terminated string_t.
        let Ok(name) = unsafe { CStr::from_ptr(name) }.to_str() else { return Errno::EINVAL.0 };
        match node.lookup(name, flags, mode) {
            // SAFETY: the out-parameters are the stub's.
            Ok(reply) => unsafe { write_reply(reply, own, do_retry, retry_name, result, result_poly) },
            Err(e) => e.0,
        }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(dir, "dir_lookup", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_write(
    io: raw::hurd_sys_protid_t,
    data: raw::const_data_t,
    len: raw::mach_msg_type_number_t,
    offset: raw::loff_t,
    amount: *mut raw::vm_size_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        let bytes = if len == 0 {
            &[][..]
        } else {
            // SAFETY: MIG passes `len` bytes at `data`.
            unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len as usize) }
        };
        match node.write(offset, bytes) {
            Ok(n) => {
                // SAFETY: the stub gives room for the amount.
                unsafe { *amount = n as raw::vm_size_t };
                0
            }
            Err(e) => e.0,
        }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(io, "io_write", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_set_size(file: raw::hurd_sys_protid_t, size: raw::loff_t) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        match node.set_size(size) {
            Ok(()) => 0,
            Err(e) => e.0,
        }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(file, "file_set_size", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_seek(
    io: raw::hurd_sys_protid_t,
    offset: raw::loff_t,
    whence: c_int,
    newp: *mut raw::loff_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        match node.seek(offset, whence) {
            Ok(n) => {
                // SAFETY: the stub gives room for the new offset.
                unsafe { *newp = n };
                0
            }
            Err(e) => e.0,
        }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(io, "io_seek", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_dir_readdir(
    dir: raw::hurd_sys_protid_t,
    data: *mut raw::data_t,
    len: *mut raw::mach_msg_type_number_t,
    dealloc: *mut raw::boolean_t,
    entry: c_int,
    nentries: c_int,
    bufsiz: raw::vm_size_t,
    amount: *mut c_int,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        let Ok(entry) = usize::try_from(entry) else { return Errno::EINVAL.0 };
        match node.readdir(entry, nentries, bufsiz) {
            Ok((bytes, count)) => {
                // SAFETY: the out-parameters are the stub's; memory allocated
                // for an out-of-line reply is the reply's to free.
                unsafe {
                    *dealloc = 1;
                    *amount = count as c_int;
                    write_data(&bytes, data, len)
                }
            }
            Err(e) => e.0,
        }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(dir, "dir_readdir", body) }
}

/// Asks the auth server who is behind `rendezvous`, handing it `port` for
/// the client: the client's effective user and group ids.
fn authenticate(rendezvous: RawPort, port: RawPort) -> Result<Credentials, Errno> {
    let ids = crate::auth::receive_ids(|[eu, au, eg, ag], [neu, nau, neg, nag]| {
        // SAFETY: getauth gives a reference we release below; the
        // rendezvous right is moved to the auth server; the four arrays are
        // receive_ids's buffers of the lengths given.
        unsafe {
            let auth = raw::getauth();
            let code = raw::auth_server_authenticate(
                auth,
                rendezvous,
                raw::MACH_MSG_TYPE_MOVE_SEND as _,
                port,
                raw::MACH_MSG_TYPE_MAKE_SEND as _,
                eu,
                neu,
                au,
                nau,
                eg,
                neg,
                ag,
                nag,
            );
            raw::mach_port_deallocate(task(), auth);
            code
        }
    })?;
    Ok(Credentials { uids: ids.euids, gids: ids.egids })
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_reauthenticate(io: raw::hurd_sys_protid_t, rendezvous: RawPort) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        // The new port is served first with no credentials at all, so that a
        // request arriving before the auth server answers gets nothing more.
        let new = match node.with_credentials(Credentials::default()) {
            Ok(n) => n,
            Err(e) => return e.0,
        };
        let served = ReceiveRight::allocate().map_err(ServerError::from).and_then(|port| {
            let name = port.as_raw();
            serve_on(port, Object::Node(new)).map(|()| name)
        });
        let name = match served {
            Ok(n) => n,
            Err(e) => {
                log::error!("io_reauthenticate: {e}");
                return Errno::ENOMEM.0;
            }
        };
        // The rendezvous right is moved to the auth server whatever happens:
        // answer success so that the request is not destroyed again.
        match authenticate(rendezvous, name).and_then(|creds| node.with_credentials(creds)) {
            Ok(authed) => replace_node(name, authed),
            Err(e) => log::warn!("io_reauthenticate: {e}"),
        }
        0
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(io, "io_reauthenticate", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_restrict_auth(
    io: raw::hurd_sys_protid_t,
    new: *mut RawPort,
    new_poly: *mut raw::mach_msg_type_name_t,
    uids: raw::const_idarray_t,
    nuids: raw::mach_msg_type_number_t,
    gids: raw::const_idarray_t,
    ngids: raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, own: bool| -> raw::kern_return_t {
        let (want_u, want_g) = (ids(uids, nuids), ids(gids, ngids));
        // SAFETY: the out-parameters are the stub's.
        unsafe { restricted(node, own, &want_u, &want_g, new, new_poly) }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(io, "io_restrict_auth", body) }
}

/// `io_duplicate`: the same open with the same identity, on a new port.
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_duplicate(
    io: raw::hurd_sys_protid_t,
    new: *mut RawPort,
    new_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, own: bool| -> raw::kern_return_t {
        let have = node.credentials();
        // SAFETY: the out-parameters are the stub's.
        unsafe { restricted(node, own, &have.uids, &have.gids, new, new_poly) }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(io, "io_duplicate", body) }
}

/// A new port on `node`'s open with no more identity than both the node
/// and `uids`/`gids` allow, written to the out-parameters `new`/`new_poly`.
///
/// # Safety
/// `new` and `new_poly` are a routine's out-parameters for one port.
unsafe fn restricted(
    node: &Arc<dyn Node>,
    own: bool,
    want_u: &[u32],
    want_g: &[u32],
    new: *mut RawPort,
    new_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let have = node.credentials();
    // No more than both the protid and the request allow.
    let creds = Credentials {
        uids: have.uids.iter().copied().filter(|u| want_u.contains(u)).collect(),
        gids: have.gids.iter().copied().filter(|g| want_g.contains(g)).collect(),
    };
    let serve = |n| if own { serve_own_node(n) } else { serve_node(n) };
    let port = node.with_credentials(creds).map_err(|e| e.0).and_then(|n| serve(n).map_err(|_| Errno::ENOMEM.0));
    // SAFETY: the out-parameters are the caller's.
    unsafe { answer_port(port, new, new_poly) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_reparent(
    file: raw::hurd_sys_protid_t,
    parent: RawPort,
    new_file: *mut RawPort,
    new_file_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        // SAFETY: the request brought a send right for `parent` (or null).
        let parent = unsafe { RequestRight::new(parent) };
        // SAFETY: the out-parameters are the stub's.
        let code = unsafe { answer_port(served(node.reparent(parent.get())), new_file, new_file_poly) };
        if code == 0 {
            drop(parent.keep());
        }
        code
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(file, "file_reparent", body) }
}

/// The identity ports of the nodes served here (one per inode number,
/// kept for the life of the translator) and of the translator itself.
fn identity(ino: u64) -> Result<(SendRight, SendRight), PortError> {
    static IDS: Mutex<BTreeMap<u64, ReceiveRight>> = Mutex::new(BTreeMap::new());
    static FSID: OnceLock<ReceiveRight> = OnceLock::new();
    let fsid = match FSID.get() {
        Some(p) => p,
        None => {
            let port = ReceiveRight::allocate()?;
            FSID.get_or_init(|| port)
        }
    };
    let mut ids = IDS.lock().unwrap_or_else(|e| e.into_inner());
    let id = match ids.entry(ino) {
        std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::btree_map::Entry::Vacant(e) => e.insert(ReceiveRight::allocate()?),
    };
    Ok((id.make_send()?, fsid.make_send()?))
}

/// `io_identity`: which node this is (the C library's `getcwd` compares
/// them while it climbs through `..`).
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_identity(
    io: raw::hurd_sys_protid_t,
    idport: *mut RawPort,
    idport_poly: *mut raw::mach_msg_type_name_t,
    fsidport: *mut RawPort,
    fsidport_poly: *mut raw::mach_msg_type_name_t,
    fileno: *mut raw::ino64_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        let ino = match node.stat() {
            Ok(st) => st.ino,
            Err(e) => return e.0,
        };
        match identity(ino) {
            Ok((id, fsid)) => {
                // SAFETY: the out-parameters are the stub's.
                unsafe {
                    *idport = id.into_raw();
                    *idport_poly = raw::MACH_MSG_TYPE_MOVE_SEND as _;
                    *fsidport = fsid.into_raw();
                    *fsidport_poly = raw::MACH_MSG_TYPE_MOVE_SEND as _;
                    *fileno = ino;
                }
                0
            }
            Err(e) => {
                log::error!("io_identity: {e}");
                Errno::ENOMEM.0
            }
        }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(io, "io_identity", body) }
}

/// `file_getcontrol`: the translator's control port, for root only (it
/// can make the translator go away). fsysopts asks for it.
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_getcontrol(
    file: raw::hurd_sys_protid_t,
    control: *mut RawPort,
    control_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        if !node.credentials().uids.contains(&0) {
            return Errno::EPERM.0;
        }
        let Some(slot) = CONTROL.get().and_then(|&name| lookup(name)) else { return Errno::EOPNOTSUPP.0 };
        match slot._port.make_send() {
            Ok(send) => {
                // SAFETY: the out-parameters are the stub's.
                unsafe {
                    *control = send.into_raw();
                    *control_poly = raw::MACH_MSG_TYPE_MOVE_SEND as _;
                }
                0
            }
            Err(e) => {
                log::error!("file_getcontrol: {e}");
                Errno::ENOMEM.0
            }
        }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(file, "file_getcontrol", body) }
}

/// `file_get_fs_options`: the options of the translator serving the node
/// (what fsysopts prints when only asked to show them).
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_get_fs_options(
    file: raw::hurd_sys_protid_t,
    options: *mut raw::data_t,
    len: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    let body = |_: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        let control = CONTROL.get().and_then(|&name| lookup(name));
        let Some(control) = control_of(control.as_deref()) else { return Errno::EOPNOTSUPP.0 };
        let Ok(argz) = crate::argz::encode(&control.options()) else { return Errno::EINVAL.0 };
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_data(&argz, options, len) }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(file, "file_get_fs_options", body) }
}

/// The answer to a request that would change `object` (a protid): EROFS
/// from a read-only node, else EOPNOTSUPP.
///
/// # Safety
/// `object` is the protid the stub holds for this call.
unsafe fn refuse_change(object: raw::hurd_sys_protid_t, rpc: &str) -> raw::kern_return_t {
    // SAFETY: see above.
    unsafe { on_protid(object, rpc, |node, _| node.refusal(rpc).0) }
}

/// A directory change by name, carried out by the node (`mkdir`,
/// `remove`).
///
/// # Safety
/// `object` is the protid the stub holds for this call; `name` is MIG's
/// NUL-terminated string.
unsafe fn change_entry(
    object: raw::hurd_sys_protid_t,
    rpc: &str,
    name: raw::const_string_t,
    change: impl FnOnce(&Arc<dyn Node>, &str) -> Result<(), Errno>,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        // SAFETY: see above.
        let Ok(name) = unsafe { CStr::from_ptr(name) }.to_str() else { return Errno::EINVAL.0 };
        match change(node, name) {
            Ok(()) => 0,
            Err(e) => e.0,
        }
    };
    // SAFETY: see above.
    unsafe { on_protid(object, rpc, body) }
}

// The other requests that change a node or a directory's entries: none
// does here. Each is answered by `refuse_change`.

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_mkdir(
    dir: raw::hurd_sys_protid_t,
    name: raw::const_string_t,
    mode: raw::mode_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { change_entry(dir, "dir_mkdir", name, |node, name| node.mkdir(name, mode)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_rmdir(dir: raw::hurd_sys_protid_t, name: raw::const_string_t) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { change_entry(dir, "dir_rmdir", name, |node, name| node.remove(name, true)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_unlink(dir: raw::hurd_sys_protid_t, name: raw::const_string_t) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { change_entry(dir, "dir_unlink", name, |node, name| node.remove(name, false)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_link(
    dir: raw::hurd_sys_protid_t,
    file: raw::hurd_sys_protid_t,
    name: raw::const_string_t,
    excl: c_int,
) -> raw::kern_return_t {
    // SAFETY: the stub holds `file`'s protid (or null: not ours) for this call.
    let file = unsafe { slot(file.cast()) };
    // SAFETY: as the routine's own.
    let code = unsafe { change_entry(dir, "dir_link", name, |node, name| node.link(node_of(file), name, excl != 0)) };
    if code == 0 {
        release_own_right(file);
    }
    code
}

/// A request that succeeded brought a send right to `slot`'s own port
/// (an argument MIG turned into a protid): it is ours now, and would keep
/// the port from ever having no senders.
fn release_own_right(slot: Option<&Slot>) {
    if let Some(slot) = slot {
        // SAFETY: one user reference of the send right the request
        // brought, under the port's own name, given back once.
        let code = unsafe { raw::mach_port_deallocate(task(), slot._port.as_raw()) };
        if code != 0 {
            log::warn!("releasing a request's right to port {}: {}", slot._port.as_raw(), Errno(code));
        }
    }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_rename(
    dir: raw::hurd_sys_protid_t,
    name: raw::const_string_t,
    to_dir: raw::hurd_sys_protid_t,
    to_name: raw::const_string_t,
    excl: c_int,
) -> raw::kern_return_t {
    // SAFETY: the stub holds `to_dir`'s protid (or null: not ours) for this call.
    let to_dir = unsafe { slot(to_dir.cast()) };
    // SAFETY: MIG passes a NUL-terminated string_t.
    let Ok(to_name) = unsafe { CStr::from_ptr(to_name) }.to_str() else { return Errno::EINVAL.0 };
    let rename = |node: &Arc<dyn Node>, name: &str| node.rename(name, node_of(to_dir), to_name, excl != 0);
    // SAFETY: as the routine's own.
    let code = unsafe { change_entry(dir, "dir_rename", name, rename) };
    if code == 0 {
        release_own_right(to_dir);
    }
    code
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_mkfile(
    dir: raw::hurd_sys_protid_t,
    flags: c_int,
    mode: raw::mode_t,
    new: *mut RawPort,
    new_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        // SAFETY: the out-parameters are the stub's.
        unsafe { answer_port(served(node.mkfile(flags, mode)), new, new_poly) }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(dir, "dir_mkfile", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_chmod(file: raw::hurd_sys_protid_t, _: raw::mode_t) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(file, "file_chmod") }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_chown(
    file: raw::hurd_sys_protid_t,
    _: raw::uid_t,
    _: raw::gid_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(file, "file_chown") }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_chauthor(file: raw::hurd_sys_protid_t, _: raw::uid_t) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(file, "file_chauthor") }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_chflags(file: raw::hurd_sys_protid_t, _: c_int) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(file, "file_chflags") }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_utimes(
    file: raw::hurd_sys_protid_t,
    _: raw::time_value_t,
    _: raw::time_value_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(file, "file_utimes") }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_utimens(
    file: raw::hurd_sys_protid_t,
    _: raw::timespec_t,
    _: raw::timespec_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(file, "file_utimens") }
}

/// `file_set_translator`: what the node does with it is its own
/// ([`Node::set_translator`]).
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_file_set_translator(
    file: raw::hurd_sys_protid_t,
    passive_flags: c_int,
    active_flags: c_int,
    oldtrans_flags: c_int,
    passive: raw::const_data_t,
    passive_len: raw::mach_msg_type_number_t,
    active: RawPort,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        // SAFETY: the request moved a send right for `active` to us, if any.
        let active = unsafe { RequestRight::new(active) };
        let passive = if passive_len == 0 || passive.is_null() {
            &[][..]
        } else {
            // SAFETY: MIG passes `passive_len` bytes at `passive`.
            unsafe { std::slice::from_raw_parts(passive.cast::<u8>(), passive_len as usize) }
        };
        let request = TranslatorRequest { passive, passive_flags, active_flags, oldtrans_flags, active: active.get() };
        match node.set_translator(&request) {
            Ok(()) => {
                drop(active.keep());
                0
            }
            Err(e) => e.0,
        }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(file, "file_set_translator", body) }
}

/// `file_get_translator_cntl`: what the node says.
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_get_translator_cntl(
    file: raw::hurd_sys_protid_t,
    control: *mut RawPort,
    control_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        // SAFETY: the out-parameters are the stub's.
        unsafe { answer_port(node.translator_control().map_err(|e| e.0), control, control_poly) }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(file, "file_get_translator_cntl", body) }
}

/// `file_getlinknode`: what the node says `dir_link` should take.
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_getlinknode(
    file: raw::hurd_sys_protid_t,
    linknode: *mut RawPort,
    linknode_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        // SAFETY: the out-parameters are the stub's.
        unsafe { answer_port(served(node.link_node()), linknode, linknode_poly) }
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(file, "file_getlinknode", body) }
}

/// The exec server, as this translator reaches it.
fn exec_server() -> Result<&'static SendRight, Errno> {
    static EXEC: OnceLock<SendRight> = OnceLock::new();
    if let Some(exec) = EXEC.get() {
        return Ok(exec);
    }
    let exec = crate::fs::lookup("/servers/exec".as_ref(), 0, 0).map_err(|e| e.code())?;
    Ok(EXEC.get_or_init(|| exec))
}

/// `file_exec_paths`: the node names the file to run ([`Node::exec_file`]),
/// and the exec server is asked to load it into the client's task with a
/// port of ours for it, so that no port of another server's reaches the
/// program (an interpreter gets a script as `/dev/fd/N`).
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_file_exec_paths(
    file: raw::hurd_sys_protid_t,
    task: RawPort,
    flags: c_int,
    path: raw::const_string_t,
    abspath: raw::const_string_t,
    argv: raw::const_data_t,
    argv_len: raw::mach_msg_type_number_t,
    envp: raw::const_data_t,
    envp_len: raw::mach_msg_type_number_t,
    fds: raw::const_portarray_t,
    fds_len: raw::mach_msg_type_number_t,
    ports: raw::const_portarray_t,
    ports_len: raw::mach_msg_type_number_t,
    ints: raw::const_intarray_t,
    ints_len: raw::mach_msg_type_number_t,
    dealloc: raw::const_mach_port_name_array_t,
    dealloc_len: raw::mach_msg_type_number_t,
    destroy: raw::const_mach_port_name_array_t,
    destroy_len: raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _own: bool| -> raw::kern_return_t {
        let exec = match exec_server() {
            Ok(exec) => exec,
            Err(e) => return e.0,
        };
        let right = match served(node.exec_file()) {
            Ok(right) => right,
            Err(code) => return code,
        };
        // SAFETY: every pointer and length is the request's, handed on as
        // it came; the rights are copied into the exec server's request.
        let code = unsafe {
            raw::exec_exec_paths(
                exec.as_raw(),
                right.as_raw(),
                raw::MACH_MSG_TYPE_COPY_SEND as _,
                task,
                flags,
                path,
                abspath,
                argv,
                argv_len,
                envp,
                envp_len,
                fds,
                raw::MACH_MSG_TYPE_COPY_SEND as _,
                fds_len,
                ports,
                raw::MACH_MSG_TYPE_COPY_SEND as _,
                ports_len,
                ints,
                ints_len,
                dealloc,
                dealloc_len,
                destroy,
                destroy_len,
            )
        };
        if code == 0 {
            // The request's rights are ours on success: the exec server
            // has its copies.
            let release = |name: RawPort| {
                // SAFETY: a right the request brought, released once.
                drop(unsafe { SendRight::from_raw(name) })
            };
            release(task);
            for array in [(fds, fds_len), (ports, ports_len)] {
                if !array.0.is_null() {
                    // SAFETY: MIG passes `len` names at the pointer.
                    unsafe { std::slice::from_raw_parts(array.0, array.1 as usize) }.iter().copied().for_each(release);
                }
            }
        }
        code
    };
    // SAFETY: the stub holds the protid for this call.
    unsafe { on_protid(file, "file_exec_paths", body) }
}

/// A client's thread took a signal while waiting for one of our replies.
/// Requests are not cancelled: answering success makes the client wait
/// for the reply, which comes when the request is done. (Not answering,
/// or answering an error, makes the C library give the client's call up
/// with EIEIO.)
#[unsafe(no_mangle)]
pub extern "C" fn S_interrupt_operation(_object: RawPort, _seqno: raw::mach_port_seqno_t) -> raw::kern_return_t {
    0
}

/// A helper we are starting answers on its bootstrap port with its control
/// port; it gets the node it sits on.
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_fsys_startup(
    bootstrap: RawPort,
    _flags: c_int,
    control: RawPort,
    realnode: *mut RawPort,
    realnode_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    match crate::helper::startup_request(bootstrap, control) {
        Some(underlying) => {
            // SAFETY: the out-parameters are the stub's.
            unsafe {
                *realnode = underlying.into_raw();
                *realnode_poly = raw::MACH_MSG_TYPE_MOVE_SEND as _;
            }
            0
        }
        None => Errno::EOPNOTSUPP.0,
    }
}

/// No client holds a send right to `port` any more: stop serving it.
#[unsafe(no_mangle)]
pub extern "C" fn do_mach_notify_no_senders(port: RawPort, _mscount: raw::mach_port_mscount_t) -> raw::kern_return_t {
    if let Ok(reg) = registry() {
        let removed = reg.slots.lock().unwrap_or_else(|e| e.into_inner()).remove(&port);
        match removed.as_deref() {
            Some(Slot { object: Object::Control(control), .. }) => control.orphaned(),
            Some(_) => log::debug!("port {port}: no senders left, no longer served"),
            None => {}
        }
    }
    0
}

/// Every server routine defined here has the prototype MIG generated for
/// it: taking both as one function pointer type fails to compile when
/// the Rust definition and the C declaration (bindgen's, from MIG's
/// header) disagree.
#[allow(dead_code)]
fn prototypes_agree() {
    macro_rules! agree {
        ($($routine:ident),* $(,)?) => {
            $( let _ = [raw::$routine, $routine]; )*
        };
    }
    agree!(
        S_fsys_getroot,
        S_fsys_goaway,
        S_fsys_startup,
        S_fsys_get_options,
        S_fsys_set_options,
        S_io_stat,
        S_io_read,
        S_io_write,
        S_io_seek,
        S_io_reauthenticate,
        S_io_duplicate,
        S_io_restrict_auth,
        S_io_identity,
        S_dir_lookup,
        S_dir_readdir,
        S_dir_mkdir,
        S_dir_rmdir,
        S_dir_unlink,
        S_dir_link,
        S_dir_rename,
        S_dir_mkfile,
        S_file_set_size,
        S_file_reparent,
        S_file_getcontrol,
        S_file_get_fs_options,
        S_file_chmod,
        S_file_chown,
        S_file_chauthor,
        S_file_chflags,
        S_file_utimes,
        S_file_utimens,
        S_file_set_translator,
        S_file_exec_paths,
        S_file_getlinknode,
        S_file_get_translator_cntl,
        S_interrupt_operation,
        do_mach_notify_no_senders,
    );
}
