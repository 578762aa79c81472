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
use crate::port::{
    Notification, PortError, PortSet, RawPort, ReceiveRight, SendRight, request_notification, take_array, task,
};

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
    fn reparent(&self, parent: Option<SendRight>) -> Result<Arc<dyn Node>, Errno> {
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

/// The answer to a change a node does not make: EROFS when it is
/// read-only, else EOPNOTSUPP (logged once per routine).
pub fn refusal(read_only: bool, rpc: &str) -> Errno {
    if read_only { Errno::EROFS } else { unsupported(rpc) }
}

/// Logs, once per routine, that a translator was asked for something it
/// does not do, and gives the answer for it.
pub fn unsupported(routine: &str) -> Errno {
    static SEEN: Mutex<Option<BTreeSet<String>>> = Mutex::new(None);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if seen.get_or_insert_with(BTreeSet::new).insert(routine.to_owned()) {
        log::info!("{routine}: not supported here (EOPNOTSUPP); said once");
    }
    Errno::EOPNOTSUPP
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
    set: PortSet,
    slots: Mutex<BTreeMap<RawPort, Arc<Slot>>>,
}

fn registry() -> Result<&'static Registry, PortError> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    if let Some(r) = REGISTRY.get() {
        return Ok(r);
    }
    let set = PortSet::allocate()?;
    Ok(REGISTRY.get_or_init(|| Registry { set, slots: Mutex::new(BTreeMap::new()) }))
}

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
    reg.set.insert(&port)?;
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
    let helpers: Vec<_> = (1..threads.max(1)).map(|_| std::thread::spawn(move || server_loop(set, idle))).collect();
    server_loop(set, idle);
    drop(helpers);
    Ok(())
}

/// Starts `threads` threads serving requests for the life of the process,
/// and returns: for a translator that needs its own ports served while it
/// still sets itself up (a helper asks about the node it sits on).
pub fn serve_in_background(threads: usize) -> Result<(), ServerError> {
    let set = registry()?.set.as_raw();
    for _ in 0..threads {
        std::thread::spawn(move || server_loop(set, None));
    }
    Ok(())
}

/// One thread's serving, until the process exits or (with `idle`) no
/// request came for that long.
fn server_loop(set: RawPort, idle: Option<std::time::Duration>) {
    loop {
        // SAFETY: `demux` is a valid demultiplexer for the life of the
        // process and `set` a port set we hold; the C library receives,
        // calls it, and sends the replies.
        let code = unsafe {
            match idle {
                None => raw::mach_msg_server(Some(demux), 0, set),
                Some(t) => raw::hurd_sys_msg_server_timeout(
                    Some(demux),
                    0,
                    set,
                    raw::MACH_RCV_TIMEOUT as _,
                    t.as_millis().min(u32::MAX as u128) as _,
                ),
            }
        };
        if idle.is_some() && check(code) == Err(Errno::MACH_RCV_TIMED_OUT) {
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
}

unsafe extern "C" fn demux(request: *mut raw::mach_msg_header_t, reply: *mut raw::mach_msg_header_t) -> raw::boolean_t {
    // SAFETY: the C library passes a received request and room for the
    // reply; each MIG demultiplexer handles its own message IDs only.
    let handled = unsafe {
        raw::io_server(request, reply) != 0
            || raw::fs_server(request, reply) != 0
            || raw::fsys_server(request, reply) != 0
            || raw::notify_server(request, reply) != 0
            || raw::interrupt_server(request, reply) != 0
    };
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
    unsupported(&name);
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
    // SAFETY: the stub holds the control for this call.
    let Some(control) = control_of(unsafe { slot(fsys.cast()) }) else { return Errno::EOPNOTSUPP.0 };
    // SAFETY: the request moved a send right for `dotdot` to us, if any.
    let dotdot = unsafe { SendRight::from_raw(dotdot) };
    let creds = Credentials { uids: ids(uids, nuids), gids: ids(gids, ngids) };
    let code = match control.getroot(dotdot.as_ref(), &creds, flags) {
        // SAFETY: the out-parameters are the stub's.
        Ok(reply) => unsafe { write_reply(reply, false, do_retry, retry_name, file, file_poly) },
        Err(e) => e.0,
    };
    // The request's rights are ours only when we answer success; on an
    // error the message server destroys the request, rights included.
    if code != 0 {
        let _ = dotdot.map(SendRight::into_raw);
    }
    code
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_fsys_goaway(fsys: raw::hurd_sys_control_t, flags: c_int) -> raw::kern_return_t {
    // SAFETY: the stub holds the control for this call.
    match control_of(unsafe { slot(fsys.cast()) }).map(|control| control.goaway(flags)) {
        Some(Ok(())) => {
            LEAVING.with(|leaving| leaving.set(true));
            0
        }
        Some(Err(e)) => e.0,
        None => Errno::EOPNOTSUPP.0,
    }
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
    // SAFETY: the stub holds the control for this call.
    let Some(control) = control_of(unsafe { slot(server.cast()) }) else { return Errno::EOPNOTSUPP.0 };
    let Ok(argz) = crate::argz::encode(&control.options()) else { return Errno::EINVAL.0 };
    // SAFETY: the out-parameters are the stub's.
    unsafe { write_data(&argz, options, len) }
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
    // SAFETY: the stub holds the control for this call.
    let Some(control) = control_of(unsafe { slot(fsys.cast()) }) else { return Errno::EOPNOTSUPP.0 };
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
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_stat(io: raw::hurd_sys_protid_t, out: *mut raw::io_statbuf_t) -> raw::kern_return_t {
    // SAFETY: the stub holds the protid for this call.
    let Some(node) = node_of(unsafe { slot(io.cast()) }) else { return Errno::EOPNOTSUPP.0 };
    match node.stat() {
        Ok(s) => {
            let st = raw::io_statbuf_t {
                st_mode: s.mode,
                st_size: s.size,
                st_nlink: s.nlink,
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
    // SAFETY: the stub holds the protid for this call.
    let Some(node) = node_of(unsafe { slot(io.cast()) }) else { return Errno::EOPNOTSUPP.0 };
    match node.read(offset, amount) {
        // SAFETY: the out-parameters are the stub's.
        Ok(bytes) => unsafe { write_data(&bytes[..bytes.len().min(amount)], data, len) },
        Err(e) => e.0,
    }
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
    // SAFETY: the stub holds the protid for this call.
    let slot = unsafe { slot(dir.cast()) };
    let Some(node) = node_of(slot) else { return Errno::EOPNOTSUPP.0 };
    let own = is_own(slot);
    // SAFETY: MIG passes a NUL-terminated string_t.
    let Ok(name) = unsafe { CStr::from_ptr(name) }.to_str() else { return Errno::EINVAL.0 };
    match node.lookup(name, flags, mode) {
        // SAFETY: the out-parameters are the stub's.
        Ok(reply) => unsafe { write_reply(reply, own, do_retry, retry_name, result, result_poly) },
        Err(e) => e.0,
    }
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
    // SAFETY: the stub holds the protid for this call.
    let Some(node) = node_of(unsafe { slot(io.cast()) }) else { return Errno::EOPNOTSUPP.0 };
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
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_set_size(file: raw::hurd_sys_protid_t, size: raw::loff_t) -> raw::kern_return_t {
    // SAFETY: the stub holds the protid for this call.
    let Some(node) = node_of(unsafe { slot(file.cast()) }) else { return Errno::EOPNOTSUPP.0 };
    match node.set_size(size) {
        Ok(()) => 0,
        Err(e) => e.0,
    }
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
    // SAFETY: the stub holds the protid for this call.
    let Some(node) = node_of(unsafe { slot(io.cast()) }) else { return Errno::EOPNOTSUPP.0 };
    match node.seek(offset, whence) {
        Ok(n) => {
            // SAFETY: the stub gives room for the new offset.
            unsafe { *newp = n };
            0
        }
        Err(e) => e.0,
    }
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
    // SAFETY: the stub holds the protid for this call.
    let Some(node) = node_of(unsafe { slot(dir.cast()) }) else { return Errno::EOPNOTSUPP.0 };
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
}

/// Asks the auth server who is behind `rendezvous`, handing it `port` for
/// the client: the client's effective user and group ids.
fn authenticate(rendezvous: RawPort, port: RawPort) -> Result<Credentials, Errno> {
    let mut bufs = [[0u32; 64]; 4];
    let mut ptrs: [raw::idarray_t; 4] = [std::ptr::null_mut(); 4];
    let mut lens: [raw::mach_msg_type_number_t; 4] = [0; 4];
    for i in 0..4 {
        ptrs[i] = bufs[i].as_mut_ptr();
        lens[i] = bufs[i].len() as _;
    }
    // SAFETY: getauth gives a reference we release below; the rendezvous
    // right is moved to the auth server; the four arrays are valid buffers
    // of the lengths given.
    let code = unsafe {
        let auth = raw::getauth();
        let [eu, au, eg, ag] = &mut ptrs;
        let [neu, nau, neg, nag] = &mut lens;
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
    };
    check(code)?;
    // SAFETY: the reply left lens[i] ids at ptrs[i], in bufs[i] or out of line.
    let [uids, _, gids, _] =
        std::array::from_fn(|i| unsafe { take_array(ptrs[i].cast_const(), lens[i] as usize, bufs[i].as_ptr()) });
    Ok(Credentials { uids, gids })
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_reauthenticate(io: raw::hurd_sys_protid_t, rendezvous: RawPort) -> raw::kern_return_t {
    // SAFETY: the stub holds the protid for this call.
    let Some(node) = node_of(unsafe { slot(io.cast()) }) else { return Errno::EOPNOTSUPP.0 };
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
    // SAFETY: the stub holds the protid for this call.
    let slot = unsafe { slot(io.cast()) };
    let Some(node) = node_of(slot) else { return Errno::EOPNOTSUPP.0 };
    let own = is_own(slot);
    let have = node.credentials();
    let (want_u, want_g) = (ids(uids, nuids), ids(gids, ngids));
    // No more than both the protid and the request allow.
    let creds = Credentials {
        uids: have.uids.iter().copied().filter(|u| want_u.contains(u)).collect(),
        gids: have.gids.iter().copied().filter(|g| want_g.contains(g)).collect(),
    };
    let serve = |n| if own { serve_own_node(n) } else { serve_node(n) };
    match node.with_credentials(creds).map_err(|e| e.0).and_then(|n| serve(n).map_err(|_| Errno::ENOMEM.0)) {
        Ok(port) => {
            // SAFETY: the out-parameters are the stub's.
            unsafe {
                *new = port.into_raw();
                *new_poly = raw::MACH_MSG_TYPE_MOVE_SEND as _;
            }
            0
        }
        Err(code) => code,
    }
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
    // SAFETY: the stub holds the protid for this call.
    let Some(node) = node_of(unsafe { slot(file.cast()) }) else { return Errno::EOPNOTSUPP.0 };
    // SAFETY: the request brought a send right for `parent` (or null).
    let parent = unsafe { SendRight::from_raw(parent) };
    let reparented = node.reparent(parent).map_err(|e| e.0).and_then(|n| serve_node(n).map_err(|_| Errno::ENOMEM.0));
    match reparented {
        Ok(port) => {
            // SAFETY: the out-parameters are the stub's.
            unsafe {
                *new_file = port.into_raw();
                *new_file_poly = raw::MACH_MSG_TYPE_MOVE_SEND as _;
            }
            0
        }
        Err(code) => code,
    }
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
    // SAFETY: the stub holds the protid for this call.
    let Some(node) = node_of(unsafe { slot(io.cast()) }) else { return Errno::EOPNOTSUPP.0 };
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
    // SAFETY: the stub holds the protid for this call.
    let Some(node) = node_of(unsafe { slot(file.cast()) }) else { return Errno::EOPNOTSUPP.0 };
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
    // SAFETY: the stub holds the protid for this call.
    if node_of(unsafe { slot(file.cast()) }).is_none() {
        return Errno::EOPNOTSUPP.0;
    }
    let control = CONTROL.get().and_then(|&name| lookup(name));
    let Some(control) = control_of(control.as_deref()) else { return Errno::EOPNOTSUPP.0 };
    let Ok(argz) = crate::argz::encode(&control.options()) else { return Errno::EINVAL.0 };
    // SAFETY: the out-parameters are the stub's.
    unsafe { write_data(&argz, options, len) }
}

/// The answer to a request that would change `object` (a protid): EROFS
/// from a read-only node, else EOPNOTSUPP.
///
/// # Safety
/// `object` is the protid the stub holds for this call.
unsafe fn refuse_change(object: raw::hurd_sys_protid_t, rpc: &str) -> raw::kern_return_t {
    // SAFETY: see above.
    match node_of(unsafe { slot(object.cast()) }) {
        Some(node) => node.refusal(rpc).0,
        None => Errno::EOPNOTSUPP.0,
    }
}

/// A directory change by name, carried out by the node (`mkdir`,
/// `remove`).
///
/// # Safety
/// `object` is the protid the stub holds for this call; `name` is MIG's
/// NUL-terminated string.
unsafe fn change_entry(
    object: raw::hurd_sys_protid_t,
    name: raw::const_string_t,
    change: impl FnOnce(&Arc<dyn Node>, &str) -> Result<(), Errno>,
) -> raw::kern_return_t {
    // SAFETY: see above.
    let Some(node) = node_of(unsafe { slot(object.cast()) }) else { return Errno::EOPNOTSUPP.0 };
    // SAFETY: see above.
    let Ok(name) = unsafe { CStr::from_ptr(name) }.to_str() else { return Errno::EINVAL.0 };
    match change(node, name) {
        Ok(()) => 0,
        Err(e) => e.0,
    }
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
    unsafe { change_entry(dir, name, |node, name| node.mkdir(name, mode)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_rmdir(dir: raw::hurd_sys_protid_t, name: raw::const_string_t) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { change_entry(dir, name, |node, name| node.remove(name, true)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_unlink(dir: raw::hurd_sys_protid_t, name: raw::const_string_t) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { change_entry(dir, name, |node, name| node.remove(name, false)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_link(
    dir: raw::hurd_sys_protid_t,
    _: raw::hurd_sys_protid_t,
    _: raw::const_string_t,
    _: c_int,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(dir, "dir_link") }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_rename(
    dir: raw::hurd_sys_protid_t,
    _: raw::const_string_t,
    _: raw::hurd_sys_protid_t,
    _: raw::const_string_t,
    _: c_int,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(dir, "dir_rename") }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_mkfile(
    dir: raw::hurd_sys_protid_t,
    _: c_int,
    _: raw::mode_t,
    _: *mut RawPort,
    _: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(dir, "dir_mkfile") }
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

/// An active translator sets itself on a node (a helper's `-6 NAME`, say);
/// passive translators are not kept.
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_file_set_translator(
    file: raw::hurd_sys_protid_t,
    _passive_flags: c_int,
    _active_flags: c_int,
    _oldtrans_flags: c_int,
    _passive: raw::const_data_t,
    passive_len: raw::mach_msg_type_number_t,
    active: RawPort,
) -> raw::kern_return_t {
    // SAFETY: the stub holds the protid for this call.
    let Some(node) = node_of(unsafe { slot(file.cast()) }) else { return Errno::EOPNOTSUPP.0 };
    // SAFETY: the request moved a send right for `active` to us, if any.
    let active = unsafe { SendRight::from_raw(active) };
    let code = match &active {
        Some(control) if passive_len == 0 => match node.set_active_translator(control) {
            Ok(()) => 0,
            Err(e) => e.0,
        },
        _ => node.refusal("file_set_translator").0,
    };
    // The request's rights are ours only when we answer success.
    if code != 0 {
        let _ = active.map(SendRight::into_raw);
    }
    code
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
        S_interrupt_operation,
        do_mach_notify_no_senders,
    );
}
