//! Port classes and the ports served (libports' classes and bucket).
//!
//! Every port served here has a receive right in one of two port sets
//! and an entry ([`Slot`]) in one registry: its [`Class`], the object it
//! stands for (a value of the class's own type, which the routines of the
//! class's interfaces find by type), and, for an object that answers io
//! requests, its [`Io`] view. MIG's stubs call the intran here
//! ([`hurd_sys_object_from_port`]) before a routine runs and release the
//! reference after it.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use hurd::errno::Errno;
use hurd::port::{Notification, PortError, PortSet, RawPort, ReceiveRight, SendRight, request_notification};
use hurd_sys::raw;

use crate::io::Io;

/// A kind of port: what its objects are is the type its module serves;
/// this says how the registry treats its ports.
#[derive(Debug)]
pub struct Class {
    /// For logs: "protid", "control".
    pub name: &'static str,
    /// Whether a client's port of this class keeps the translator from
    /// leaving ([`open_ports`]).
    pub holds_up: bool,
    /// Which threads serve its ports.
    pub served_by: ServedBy,
    /// What to do when the last send right to one of its ports is gone,
    /// after the port stops being served.
    pub no_senders: Option<fn(&Slot)>,
}

/// Which threads serve a class's ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServedBy {
    /// The pool, which grows with blocked requests.
    Pool,
    /// The control port's own thread: no number of clients' requests
    /// blocked in the pool keeps a goaway from being answered.
    Control,
    /// A thread of notices alone, whose routines never wait on anyone:
    /// a server that sends them (a proc server holding its own lock) is
    /// never kept waiting, by blocked requests nor by a goaway at work.
    Notices,
    /// A thread of its own, for notices the kernel queues past any limit
    /// (the deaths of watched tasks): hundreds of processes ending at
    /// once take that one thread, not hundreds of the pool's, which a
    /// client's `interrupt_operation` needs within the second its C
    /// library waits for the answer.
    Deaths,
}

/// An object that stands for another server's: requests it has no reason
/// to look at go to that server as they came, and it answers the client
/// itself.
pub trait Forward: Send + Sync {
    /// The port of the other server's object this one stands for.
    fn forward_port(&self) -> Option<&SendRight> {
        None
    }

    /// Whether a request for `routine` (MIG's name, `io_read`) goes to
    /// [`Forward::forward_port`] as it came.
    fn forwards(&self, routine: &str) -> bool {
        let _ = routine;
        false
    }

    /// Where a request for `routine` goes as it came, if it does: decided
    /// once per request (an object whose port may change answers both in
    /// one look, so that what was decided is where the request goes).
    fn forward_for(&self, routine: &str) -> Option<&SendRight> {
        if self.forwards(routine) { self.forward_port() } else { None }
    }
}

/// An object ready to be served: its class, its value, its io view, and
/// what it forwards.
pub struct Object {
    class: &'static Class,
    value: Box<dyn Any + Send + Sync>,
    io: Option<Arc<dyn Io>>,
    forward: Option<Arc<dyn Forward>>,
    own: bool,
    kept: bool,
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Object({}{})", self.class.name, if self.own { ", own" } else { "" })
    }
}

impl Object {
    /// `value` as an object of `class`: the routines of the class's
    /// interfaces find it by its type.
    pub fn new<T: Any + Send + Sync>(class: &'static Class, value: T) -> Object {
        Object { class, value: Box::new(value), io: None, forward: None, own: false, kept: false }
    }

    /// The object forwards some requests as [`Forward`] says.
    pub fn with_forward(mut self, forward: Arc<dyn Forward>) -> Object {
        self.forward = Some(forward);
        self
    }

    /// The object answers io requests through `io`.
    pub fn with_io(mut self, io: Arc<dyn Io>) -> Object {
        self.io = Some(io);
        self
    }

    /// A port the translator keeps for itself (`own`: a parent it gave to
    /// `file_reparent` once for many lookups) does not hold it up, nor do
    /// ports made from such a port by a lookup or `io_restrict_auth`.
    pub fn own(mut self, own: bool) -> Object {
        self.own = own;
        self
    }

    /// A port the translator keeps and hands out again and again (a
    /// root for one identity): it is served with no no-senders request,
    /// so that neither handing it out nor a client letting go costs a
    /// call to the kernel; it holds the translator up while the kernel
    /// says it has senders; [`release_kept`] ends it.
    pub fn kept(mut self) -> Object {
        self.kept = true;
        self
    }
}

/// A served port: the receive right and what it stands for.
pub struct Slot {
    class: &'static Class,
    value: Box<dyn Any + Send + Sync>,
    io: Option<Arc<dyn Io>>,
    forward: Option<Arc<dyn Forward>>,
    own: bool,
    kept: bool,
    /// A kept port given up ([`release_kept`]): from now on the kernel
    /// tells of its last sender.
    released: std::sync::atomic::AtomicBool,
    port: ReceiveRight,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Slot({} on {})", self.class.name, self.port.as_raw())
    }
}

impl Slot {
    pub fn class(&self) -> &'static Class {
        self.class
    }

    /// The object, if it is a `T`.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.value.downcast_ref()
    }

    /// The object's io view, if it answers io requests.
    pub fn io(&self) -> Option<&Arc<dyn Io>> {
        self.io.as_ref()
    }

    /// Where a request for `routine` goes as it came, if it does.
    pub fn forward_to(&self, routine: &str) -> Option<&SendRight> {
        self.forward.as_ref()?.forward_for(routine)
    }

    /// Where the object forwards what it forwards.
    pub fn forward_port(&self) -> Option<&SendRight> {
        self.forward.as_ref()?.forward_port()
    }

    /// Whether the translator keeps this port for itself.
    pub fn is_own(&self) -> bool {
        self.own
    }

    /// Whether the port is kept ([`Object::kept`]) and not released:
    /// the kernel sends it no no-senders notice, so one that comes is a
    /// client's forgery (which would end the port for every client it is
    /// handed to, and free its name for another while it is kept).
    pub fn kept_now(&self) -> bool {
        self.kept && !self.released.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The port's receive right.
    pub fn port(&self) -> &ReceiveRight {
        &self.port
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

/// Ordered maps, not hash maps: a translator may start before the
/// system has a random source (`/dev/urandom`), which std's hashing needs.
struct Registry {
    /// Ports served by the pool.
    pool: PortSet,
    /// The control port.
    control: PortSet,
    /// Notice ports.
    notices: PortSet,
    /// Ports told of deaths.
    deaths: PortSet,
    slots: Mutex<BTreeMap<RawPort, Arc<Slot>>>,
}

fn registry() -> Result<&'static Registry, PortError> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    if let Some(r) = REGISTRY.get() {
        return Ok(r);
    }
    let pool = PortSet::allocate()?;
    let control = PortSet::allocate()?;
    let notices = PortSet::allocate()?;
    let deaths = PortSet::allocate()?;
    Ok(REGISTRY.get_or_init(|| Registry { pool, control, notices, deaths, slots: Mutex::new(BTreeMap::new()) }))
}

fn slots() -> Option<std::sync::MutexGuard<'static, BTreeMap<RawPort, Arc<Slot>>>> {
    registry().ok().map(|reg| reg.slots.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The port set of the ports `by` serves.
pub(crate) fn port_set(by: ServedBy) -> Result<RawPort, PortError> {
    let reg = registry()?;
    Ok(match by {
        ServedBy::Pool => reg.pool.as_raw(),
        ServedBy::Control => reg.control.as_raw(),
        ServedBy::Notices => reg.notices.as_raw(),
        ServedBy::Deaths => reg.deaths.as_raw(),
    })
}

/// The most ports a translator serves at once: past it, a request that
/// would make one more fails (ENOMEM) rather than grow without bound.
pub const PORTS_MAX: usize = 1 << 16;

/// How many ports handed to clients are still held, of classes that hold
/// the translator up: what keeps a translator that serves nodes itself
/// from leaving.
pub fn open_ports() -> usize {
    // The kernel's count of each port's send rights, not the entries
    // alone: a client that has just ended (its parent waited for it, and
    // then asks for a goaway) has no rights left, while the no-senders
    // notices of its ports may still be queued behind other requests.
    // (A kept port is never told of, so only the count says it is free.
    // A port made for an answer still on its way has no senders yet: a
    // goaway that comes meanwhile may leave, and the client that asked
    // finds the port dead, as any lookup racing a goaway may.)
    slots().map_or(0, |slots| {
        slots.values().filter(|s| s.class.holds_up && !s.own).filter(|s| s.port.has_senders().unwrap_or(true)).count()
    })
}

/// Whether `port` is one this process serves: a send right to a port
/// whose receive right a task holds has the same name in its space. A
/// lookup answered elsewhere may lead back here (`..` to a parent given
/// to `file_reparent`).
pub fn serves(port: &SendRight) -> bool {
    slots().is_some_and(|slots| slots.contains_key(&port.as_raw()))
}

/// Serves `object` on a new port and gives a send right to it. The port
/// goes away when its last client's send right does (no-senders).
pub fn serve(object: Object) -> Result<SendRight, ServerError> {
    let port = ReceiveRight::allocate()?;
    let send = port.make_send()?;
    serve_on(port, object)?;
    Ok(send)
}

/// Serves `object` on a new port with no send right yet, and gives its
/// name: for the answer of the request being served, which makes the
/// client's send right (`MACH_MSG_TYPE_MAKE_SEND`), one call to the
/// kernel fewer than a right made here and moved. The no-senders request
/// counts from that first right, so the answer must hand it out: an
/// answer the kernel cannot deliver is destroyed by the C library's
/// message server, which makes and drops the right, and the port ends as
/// any other. A caller that fails after this and before answering must
/// [`destroy`] the port.
pub fn serve_made(object: Object) -> Result<RawPort, ServerError> {
    let port = ReceiveRight::allocate()?;
    let name = port.as_raw();
    serve_on(port, object)?;
    Ok(name)
}

/// Serves `object` on `port`.
pub fn serve_on(port: ReceiveRight, object: Object) -> Result<(), ServerError> {
    let reg = registry()?;
    if reg.slots.lock().unwrap_or_else(|e| e.into_inner()).len() >= PORTS_MAX {
        return Err(ServerError::TooManyPorts);
    }
    let name = port.as_raw();
    // The port itself is told when its last client lets go (a kept one
    // only once it is released).
    if !object.kept {
        request_notification(name, Notification::NoSenders, name)
            .map_err(|code| ServerError::Notify { port: name, code })?;
    }
    let Object { class, value, io, forward, own, kept } = object;
    let slot = Arc::new(Slot { class, value, io, forward, own, kept, released: Default::default(), port });
    // In the table before any thread may receive on it: a client can hold
    // a send right already (a reauthenticated port is served once the
    // auth server has answered), and its first request must find the
    // object, not a name that is not ours yet.
    reg.slots.lock().unwrap_or_else(|e| e.into_inner()).insert(name, slot.clone());
    let added = match class.served_by {
        ServedBy::Pool => reg.pool.insert(&slot.port),
        ServedBy::Control => reg.control.insert(&slot.port),
        ServedBy::Notices => {
            // As many notices as may wait, then their thread.
            let _ = slot.port.set_queue_limit(16);
            static THREAD: std::sync::Once = std::sync::Once::new();
            reg.notices.insert(&slot.port).inspect(|()| serve_alone(&THREAD, &reg.notices))
        }
        ServedBy::Deaths => {
            static THREAD: std::sync::Once = std::sync::Once::new();
            reg.deaths.insert(&slot.port).inspect(|()| serve_alone(&THREAD, &reg.deaths))
        }
    };
    if let Err(e) = added {
        reg.slots.lock().unwrap_or_else(|e| e.into_inner()).remove(&name);
        return Err(e.into());
    }
    Ok(())
}

/// Starts, once (`thread`), the thread of its own that serves `set`.
fn serve_alone(thread: &'static std::sync::Once, set: &PortSet) {
    let set = set.as_raw();
    thread.call_once(|| {
        std::thread::spawn(move || crate::message::server_loop(set, None, false));
    });
}

/// One more send right to the kept port `port` (see [`Object::kept`]),
/// if it is still served.
pub fn make_send(port: RawPort) -> Option<SendRight> {
    let slot = lookup(port)?;
    if !slot.kept {
        return None;
    }
    slot.port.make_send().ok()
}

/// Ends the kept port `port` once its last client lets go (at once if
/// none holds it): from now on it is a port like the others. No more
/// send rights may be made to it.
pub fn release_kept(port: RawPort) {
    if let Some(slot) = lookup(port) {
        slot.released.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    if let Err(code) = request_notification(port, Notification::NoSenders, port) {
        // (It stays, counted while it has senders: a leak, not a client's
        // port cut.)
        log::warn!("port {port}: releasing it: {code}");
    }
}

/// The entry of `port`, if it is served here.
pub fn lookup(port: RawPort) -> Option<Arc<Slot>> {
    slots()?.get(&port).cloned()
}

/// Stops serving `port` (its last sender is gone): its entry, if it had
/// one. The receive right goes with the last reference.
pub(crate) fn forget(port: RawPort) -> Option<Arc<Slot>> {
    slots()?.remove(&port)
}

/// Stops serving `port` and destroys it (once no routine runs on it):
/// its senders hold a dead name, and are told so if they asked.
pub fn destroy(port: RawPort) {
    drop(forget(port));
}

/// The intran of every object port type (see build.rs): the entry behind
/// `port` as a reference handed to the stub, or null when the port is
/// not served here.
#[unsafe(no_mangle)]
pub extern "C" fn hurd_sys_object_from_port(port: RawPort) -> raw::hurd_sys_object_t {
    match lookup(port) {
        Some(slot) => Arc::into_raw(slot) as raw::hurd_sys_object_t,
        None => {
            if port != raw::MACH_PORT_NULL {
                FOREIGN.with(|f| f.set(true));
            }
            std::ptr::null_mut()
        }
    }
}

thread_local! {
    /// Set when an object argument of the request being served on this
    /// thread was a port that is not ours (its object is null, as for no
    /// port at all).
    static FOREIGN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Starts a request on this thread: no foreign port seen yet.
pub(crate) fn request_begins() {
    FOREIGN.with(|f| f.set(false));
}

/// Whether an object argument of the request being served on this thread
/// was a port that is not ours, rather than no port.
pub(crate) fn foreign_argument() -> bool {
    FOREIGN.with(|f| f.get())
}

/// The destructor of every object port type: drops what the intran gave.
#[unsafe(no_mangle)]
pub extern "C" fn hurd_sys_object_release(object: raw::hurd_sys_object_t) {
    let slot = object as *const Slot;
    if !slot.is_null() {
        // SAFETY: a non-null object comes from Arc::into_raw in the intran.
        drop(unsafe { Arc::from_raw(slot) });
    }
}

/// Protected payloads are not used: no request carries one.
#[unsafe(no_mangle)]
pub extern "C" fn hurd_sys_object_from_payload(_payload: std::ffi::c_ulong) -> raw::hurd_sys_object_t {
    std::ptr::null_mut()
}

/// The entry behind an object a stub passed, borrowed for one routine.
///
/// # Safety
/// `object` is null or came from the intran and is still held by the stub.
pub(crate) unsafe fn borrow<'a>(object: raw::hurd_sys_object_t) -> Option<&'a Slot> {
    // SAFETY: see above: the stub holds the reference until the destructor.
    unsafe { (object as *const Slot).as_ref() }
}
