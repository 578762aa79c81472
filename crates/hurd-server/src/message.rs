//! The message server: threads receiving requests on the served ports,
//! the demultiplexer that hands each to its interface's routine, and the
//! forwarding of a request, as it came, to the server an object stands
//! for.

use std::ffi::{CStr, c_char};
use std::sync::Arc;

use hurd::errno::{Errno, check};
use hurd::port::{RawPort, ReceiveRight, SendRight};
use hurd_sys::raw;

use crate::ports::{ServerError, Slot};

/// Serves requests on `threads` threads until the process exits (a
/// goaway) or, with `idle` set, until no request has come for that long.
pub fn serve(threads: usize, idle: Option<std::time::Duration>) -> Result<(), ServerError> {
    let set = crate::ports::port_set(crate::ports::ServedBy::Pool)?;
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

/// Room for a routine (the size of every other thread's stack; the
/// message buffers are on the heap).
const EXTRA_STACK: usize = 2 * 1024 * 1024;

/// The pool's threads waiting for a request, and all of them.
static IDLE: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);
static THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A pool thread serving one request: when it was the last one waiting,
/// another is started (up to [`THREADS_MAX`]); it waits again on drop.
struct Busy;

impl Busy {
    fn start(id: raw::mach_msg_id_t) -> Busy {
        use std::sync::atomic::Ordering::SeqCst;
        InFlight::mark(id);
        if IDLE.fetch_sub(1, SeqCst) <= 1 {
            // Counted before it runs, so that a burst cannot pass the limit.
            if THREADS.fetch_add(1, SeqCst) < THREADS_MAX {
                if let Ok(set) = crate::ports::port_set(crate::ports::ServedBy::Pool) {
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
                // Said each time the pool fills up anew, with what holds
                // it: a routine that waits on someone shows in the count.
                if !SATURATED.swap(true, SeqCst) {
                    let n = SATURATIONS.fetch_add(1, SeqCst);
                    if n < 20 {
                        log::warn!(
                            "all {THREADS_MAX} server threads are busy; requests wait; serving: {}{}",
                            InFlight::summary(),
                            if n == 19 { " (said 20 times: no more)" } else { "" }
                        );
                    }
                }
            }
        }
        Busy
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering::SeqCst;
        InFlight::mark(0);
        if IDLE.fetch_add(1, SeqCst) >= 1 && SATURATED.swap(false, SeqCst) && SATURATIONS.load(SeqCst) <= 20 {
            log::info!("server threads free again");
        }
    }
}

/// Whether every pool thread was last seen busy, and how many times it
/// came to that (logged the first 20 times).
static SATURATED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static SATURATIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The message ID each pool thread is serving (0: none), by a slot each
/// thread holds while it lives: what the log names when the pool is full.
struct InFlight;

/// Slots for every pool thread: those started for busy moments, the
/// serving threads a translator asks for, and spares.
const SLOTS: usize = THREADS_MAX + 64;
static IN_FLIGHT: [std::sync::atomic::AtomicI32; SLOTS] = [const { std::sync::atomic::AtomicI32::new(0) }; SLOTS];
static SLOT_FREE: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());
static SLOT_NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

thread_local! {
    static SLOT: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

impl InFlight {
    /// Takes a slot for this thread (none when all are taken: it is then
    /// not counted).
    fn enter() {
        let free = SLOT_FREE.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let slot = free.or_else(|| {
            let n = SLOT_NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (n < SLOTS).then_some(n)
        });
        SLOT.with(|s| s.set(slot));
    }

    /// Gives this thread's slot back.
    fn leave() {
        if let Some(slot) = SLOT.with(|s| s.take()) {
            IN_FLIGHT[slot].store(0, std::sync::atomic::Ordering::Relaxed);
            SLOT_FREE.lock().unwrap_or_else(|e| e.into_inner()).push(slot);
        }
    }

    fn mark(id: raw::mach_msg_id_t) {
        if let Some(slot) = SLOT.with(|s| s.get()) {
            IN_FLIGHT[slot].store(id, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// "24020 x200, 21003 x56": the message IDs being served, most first.
    fn summary() -> String {
        let mut counts = std::collections::BTreeMap::<i32, usize>::new();
        for slot in &IN_FLIGHT {
            let id = slot.load(std::sync::atomic::Ordering::Relaxed);
            if id != 0 {
                *counts.entry(id).or_default() += 1;
            }
        }
        let mut counts: Vec<_> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let parts: Vec<String> = counts.iter().map(|(id, n)| format!("message {id} x{n}")).collect();
        if parts.is_empty() { "nothing counted".to_owned() } else { parts.join(", ") }
    }
}

/// The demultiplexer of the pool's threads: [`demux`], counted.
unsafe extern "C" fn pool_demux(
    request: *mut raw::mach_msg_header_t,
    reply: *mut raw::mach_msg_header_t,
) -> raw::boolean_t {
    // SAFETY: the message server passes a received request.
    let _busy = Busy::start(unsafe { (*request).msgh_id });
    // SAFETY: as the message server gives them to us.
    unsafe { demux(request, reply) }
}

/// Starts `threads` threads serving requests for the life of the process,
/// and returns: for a translator that needs its own ports served while it
/// still sets itself up (a helper asks about the node it sits on).
pub fn serve_in_background(threads: usize) -> Result<(), ServerError> {
    let set = crate::ports::port_set(crate::ports::ServedBy::Pool)?;
    THREADS.fetch_add(threads, std::sync::atomic::Ordering::SeqCst);
    for _ in 0..threads {
        std::thread::spawn(move || server_loop(set, None, true));
    }
    Ok(())
}

/// One thread's serving, until the process exits or (with `idle`) no
/// request came for that long. A thread of the pool (`pool`) is counted
/// among those that serve clients.
pub(crate) fn server_loop(set: RawPort, idle: Option<std::time::Duration>, pool: bool) {
    use std::sync::atomic::Ordering::SeqCst;
    let demultiplexer = if pool { pool_demux } else { demux };
    if pool {
        InFlight::enter();
        IDLE.fetch_add(1, SeqCst);
    }
    let mut seen = REQUESTS.load(std::sync::atomic::Ordering::Relaxed);
    loop {
        // SAFETY: the demultiplexer is valid for the life of the process
        // and `set` a port set we hold; `serve_requests` receives, calls
        // it, and sends the replies.
        let code = unsafe { serve_requests(demultiplexer, set, idle) };
        if idle.is_some() && check(code) == Err(Errno::MACH_RCV_TIMED_OUT) {
            // A request to another thread or set (the control port's)
            // during the wait counts too.
            let now = REQUESTS.load(std::sync::atomic::Ordering::Relaxed);
            if now != seen {
                seen = now;
                continue;
            }
            if pool {
                InFlight::leave();
                IDLE.fetch_sub(1, SeqCst);
                THREADS.fetch_sub(1, SeqCst);
            }
            return;
        }
        log::error!("the message server stopped: {:?}", Errno(code));
    }
}

/// The room a request is first received into; a larger one grows it,
/// up to [`REQUEST_MAX`].
const REQUEST_ROOM: usize = 8 * 1024;

/// The largest request served: no routine takes more inline (larger data
/// comes out of line). A larger message is dropped unread: the C
/// library's message server would make room for it twice on the stack of
/// the thread that received it, and a client could so end the server.
const REQUEST_MAX: usize = 256 * 1024;

/// How long an answer may wait for room at its reply port: a send-once
/// right (what the C library makes) always has room; a send right a
/// client gave instead, whose queue it keeps full, would hold the thread.
const ANSWER_WAIT_MS: u32 = 5000;

/// Receives requests on `set`, has `demux` serve each and sends its
/// answer, until a receive times out (with `idle`) or fails: the C
/// library's message server loop, with the request's room on the heap
/// and bounded ([`REQUEST_MAX`]), and answers that may not wait for room
/// ([`ANSWER_WAIT_MS`]): an answer that cannot go is destroyed (its
/// rights and memory given back) and the thread goes on.
///
/// # Safety
/// `demux` is a MIG demultiplexer for what `set` receives.
unsafe fn serve_requests(
    demux: unsafe extern "C" fn(*mut raw::mach_msg_header_t, *mut raw::mach_msg_header_t) -> raw::boolean_t,
    set: RawPort,
    idle: Option<std::time::Duration>,
) -> raw::kern_return_t {
    let receive_timeout = idle.map(|t| t.as_millis().min(u32::MAX as u128) as u32);
    let mut room = REQUEST_ROOM;
    // u64s: every message starts 8-aligned.
    let mut request: Vec<u64> = vec![0; room / 8];
    let mut reply: Vec<u64> = vec![0; room / 8];
    let mut receiving = raw::MACH_RCV_MSG;
    if receive_timeout.is_some() {
        receiving |= raw::MACH_RCV_TIMEOUT;
    }
    // (One timeout for both: the receive's when idle ends the thread, else
    // the answer's.)
    let timeout = receive_timeout.unwrap_or(ANSWER_WAIT_MS);
    let header = |buffer: &mut Vec<u64>| buffer.as_mut_ptr().cast::<raw::mach_msg_header_t>();
    // Receives into `request`: `large` leaves a request too large for the
    // room queued (its header says its size); without it, the kernel
    // destroys such a request.
    let receive = |request: &mut Vec<u64>, room: usize, large: bool| {
        let options = if large { receiving | raw::MACH_RCV_LARGE } else { receiving };
        // SAFETY: a receive into a buffer of `room` bytes, on a set we hold.
        unsafe { raw::mach_msg(header(request), options as _, 0, room as _, set, timeout, raw::MACH_PORT_NULL) }
    };
    let mut code = receive(&mut request, room, true);
    loop {
        if code == raw::MACH_RCV_TOO_LARGE as i32 {
            // SAFETY: the kernel wrote the header of the message it kept.
            let needed = unsafe { (*header(&mut request)).msgh_size } as usize;
            if needed <= REQUEST_MAX {
                room = room.max(needed.next_multiple_of(8));
                request.resize(room / 8, 0);
                reply.resize(room / 8, 0);
                code = receive(&mut request, room, true);
                continue;
            }
            crate::routine::log_once(log::Level::Warn, "request too large", || {
                format!("a message of {needed} bytes, more than any request ({REQUEST_MAX}): dropped; said once")
            });
            // Whatever comes first is taken now, into room for any request:
            // the large one (destroyed: then a plain receive again), or
            // another, served as usual.
            room = REQUEST_MAX;
            request.resize(room / 8, 0);
            reply.resize(room / 8, 0);
            code = receive(&mut request, room, false);
            if code == raw::MACH_RCV_TOO_LARGE as i32 {
                code = receive(&mut request, room, true);
            }
            continue;
        }
        if code != 0 {
            return code;
        }
        // SAFETY: a received request, and room for its answer (MIG's
        // answers need no more room than the largest request).
        unsafe { demux(header(&mut request), header(&mut reply)) };
        let answer = header(&mut reply);
        // SAFETY: MIG wrote a reply header, RetCode included.
        let ret = unsafe { (*answer.cast::<raw::mig_reply_header_t>()).RetCode };
        if ret == raw::MIG_NO_REPLY {
            code = receive(&mut request, room, true);
            continue;
        }
        if ret != 0 {
            // A failed routine took nothing of the request: its rights and
            // memory go, but its reply port (the received header's remote
            // port), which the error answer uses.
            // SAFETY: the request as received, its reply port cleared.
            unsafe {
                let req = header(&mut request);
                (*req).__bindgen_anon_1.msgh_remote_port = raw::MACH_PORT_NULL;
                raw::hurd_sys_msg_destroy(req);
            }
        }
        // SAFETY: the answer MIG wrote.
        let (to, size, bits) =
            unsafe { ((*answer).__bindgen_anon_1.msgh_remote_port, (*answer).msgh_size, (*answer).msgh_bits) };
        if to == raw::MACH_PORT_NULL {
            // Nobody to answer: what the answer carries goes.
            if bits & raw::MACH_MSGH_BITS_COMPLEX as raw::mach_msg_bits_t != 0 {
                // SAFETY: as above.
                unsafe { raw::hurd_sys_msg_destroy(answer) };
            }
            code = receive(&mut request, room, true);
            continue;
        }
        // The answer goes from `reply`, and the next request comes into
        // the same buffer: the two change places.
        std::mem::swap(&mut request, &mut reply);
        // SAFETY: the answer (now in `request`), of its own size; the next
        // request into the same room.
        code = unsafe {
            raw::mach_msg(
                header(&mut request),
                (raw::MACH_SEND_MSG | raw::MACH_SEND_TIMEOUT | receiving | raw::MACH_RCV_LARGE) as _,
                size,
                room as _,
                set,
                timeout,
                raw::MACH_PORT_NULL,
            )
        };
        if code == raw::MACH_SEND_INVALID_DEST as i32 || code == raw::MACH_SEND_TIMED_OUT as i32 {
            // The client is gone, or gave a reply port without room: the
            // answer is ours again, and destroyed.
            // SAFETY: the answer as the failed send left it.
            unsafe { raw::hurd_sys_msg_destroy(header(&mut request)) };
            if code == raw::MACH_SEND_TIMED_OUT as i32 {
                crate::routine::log_once(log::Level::Warn, "answer timed out", || {
                    format!("an answer waited {ANSWER_WAIT_MS} ms for room at its reply port: dropped; said once")
                });
            }
            code = receive(&mut request, room, true);
        }
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
    /// The port entry the request being demultiplexed on this thread
    /// came to.
    static TARGET: std::cell::RefCell<Option<Arc<Slot>>> = const { std::cell::RefCell::new(None) };
    /// Rights a routine answered by copying them into the reply: kept
    /// until the reply has been sent (the next request on this thread).
    static HELD: std::cell::RefCell<Vec<SendRight>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Where the request goes as it came, when the routine found that its
    /// object forwards it (null: it does not): the port is the object's,
    /// which the request's entry keeps alive until it is sent.
    static FORWARD: std::cell::Cell<RawPort> = const { std::cell::Cell::new(raw::MACH_PORT_NULL) };
    /// The sequence number of the request being served on this thread,
    /// as its port counts them.
    static SEQNO: std::cell::Cell<raw::mach_port_seqno_t> = const { std::cell::Cell::new(0) };
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
/// destroyed or answered; `to` names a send right that stays ours for
/// the call.
unsafe fn forward(request: *mut raw::mach_msg_header_t, to: RawPort) -> raw::kern_return_t {
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
    header.__bindgen_anon_1.msgh_remote_port = to;
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

/// Requests received so far: an idle thread that sees it unchanged after
/// a whole wait knows that none came meanwhile. (A count, not a time: on
/// the Hurd every reading of the clock is a call to the kernel, which
/// every request would pay.)
static REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

unsafe extern "C" fn demux(request: *mut raw::mach_msg_header_t, reply: *mut raw::mach_msg_header_t) -> raw::boolean_t {
    REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // SAFETY: the message server passes a received request.
    let local = unsafe { (*request).__bindgen_anon_2.msgh_local_port };
    // The replies of this thread's earlier requests have been sent.
    HELD.with(|held| held.borrow_mut().clear());
    // SAFETY: as above.
    SEQNO.with(|s| s.set(unsafe { (*request).msgh_seqno }));
    TARGET.with(|t| *t.borrow_mut() = crate::ports::lookup(local));
    FORWARD.with(|f| f.set(raw::MACH_PORT_NULL));
    crate::ports::request_begins();
    // SAFETY: the message server passes a received request and room for the
    // reply.
    let handled = unsafe { raw::hurd_sys_demux(request, reply) != 0 };
    // (Kept to the end: a forwarded request goes to a right its object
    // holds.)
    let _target = TARGET.with(|t| t.borrow_mut().take());
    let to = FORWARD.with(|f| f.replace(raw::MACH_PORT_NULL));
    if to != raw::MACH_PORT_NULL {
        // SAFETY: the request is still whole (the routine did not run);
        // `to` is a send right of the target's object, which `target`
        // keeps.
        let code = unsafe { forward(request, to) };
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

/// The sequence number of the request being served on this thread,
/// among those its port received: a client's `interrupt_operation`
/// names the requests it interrupts as those its port received before it.
pub fn request_seqno() -> raw::mach_port_seqno_t {
    SEQNO.with(|s| s.get())
}

/// Whether a request numbered `request` on a port came before the
/// `interrupt_operation` numbered `interrupt` on it (the numbers wrap).
pub fn interrupts(interrupt: raw::mach_port_seqno_t, request: raw::mach_port_seqno_t) -> bool {
    (interrupt.wrapping_sub(request) as i32) > 0
}

/// Makes the request being served on this thread go on, as it came, to
/// the server its object stands for, instead of being answered here.
pub(crate) fn forward_this_request(to: &SendRight) {
    FORWARD.with(|f| f.set(to.as_raw()));
}

/// Keeps `right` until the answer of the request being served on this
/// thread has been sent (a `COPY_SEND` out-parameter names it).
pub(crate) fn hold_until_answered(right: SendRight) {
    HELD.with(|held| held.borrow_mut().push(right));
}

/// Makes the process exit once the request being served on this thread
/// (a goaway) has its answer.
pub(crate) fn leave_after_answer() {
    LEAVING.with(|leaving| leaving.set(true));
}

/// What the weak default of every routine Rust does not define calls.
///
/// # Safety
/// `name` is a NUL-terminated string (the C defaults pass a literal).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hurd_sys_unimplemented(name: *const c_char) {
    // SAFETY: the C defaults pass a string literal.
    let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
    // An object standing for another server's forwards what it does not
    // answer itself.
    let forwarded = TARGET.with(|t| {
        let target = t.borrow();
        let to = target.as_deref().and_then(|slot| slot.forward_to(&name));
        to.inspect(|to| forward_this_request(to)).is_some()
    });
    if !forwarded {
        crate::routine::unsupported(&name);
    }
}
