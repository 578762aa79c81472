//! Port rights as owned values: each holds one user reference of one right
//! in this task and gives it back on `Drop`. A right leaves the value only
//! through [`SendRight::into_raw`] and the like, which say who owns it next.

use hurd_sys::raw;

use crate::errno::{Errno, check};

/// The name of a port right in this task, as the kernel numbers it.
pub type RawPort = raw::mach_port_t;

/// This task's own task port (not a reference we own).
pub fn task() -> RawPort {
    // SAFETY: the C library sets this variable once at start-up, before
    // Rust code runs, and never changes it afterwards.
    unsafe { raw::__mach_task_self_ }
}

/// Takes an array out-parameter of an RPC's reply: a copy of the `n`
/// elements at `p`, whose memory is freed when the reply put them out of
/// line (anywhere but in `buffer`, the caller's room for them).
///
/// # Safety
/// `p` and `n` are what the reply left: null, or `n` elements at `p`,
/// either in `buffer` or in memory the reply allocated for us.
pub unsafe fn take_array<T: Copy>(p: *const T, n: usize, buffer: *const T) -> Vec<T> {
    if p.is_null() || n == 0 {
        return Vec::new();
    }
    // SAFETY: see above.
    let copy = unsafe { std::slice::from_raw_parts(p, n) }.to_vec();
    if p != buffer {
        // SAFETY: out-of-line memory is ours to free; `copy` is ours.
        unsafe { raw::vm_deallocate(task(), p as raw::vm_address_t, std::mem::size_of_val(copy.as_slice())) };
    }
    copy
}

/// Whether `name` names a right at all (not null, not dead).
fn is_valid(name: RawPort) -> bool {
    name != raw::MACH_PORT_NULL && name != raw::HURD_SYS_PORT_DEAD
}

/// The notifications this suite asks the kernel for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notification {
    /// No send right to a port we receive on is left (a client let go).
    NoSenders,
    /// The port a right of ours names has died (its receiver is gone).
    DeadName,
}

/// Asks the kernel to tell `notify` (a port we receive on; the kernel
/// makes a send-once right for it) when `what` happens to the right
/// `name`. An earlier request on `name`, if any, is dropped.
pub fn request_notification(name: RawPort, what: Notification, notify: RawPort) -> Result<(), Errno> {
    let (id, sync) = match what {
        // With 1: told at once if there are no senders already but one
        // was made before; a port none was made for yet is told once its
        // first send right is gone (what a right made by a reply needs).
        Notification::NoSenders => (raw::MACH_NOTIFY_NO_SENDERS, 1),
        Notification::DeadName => (raw::MACH_NOTIFY_DEAD_NAME, 0),
    };
    let mut previous: RawPort = raw::MACH_PORT_NULL;
    // SAFETY: a request about a right of ours, answered to a port we
    // receive on; `previous` receives the send-once right of an earlier
    // request, if any.
    let code = unsafe {
        raw::mach_port_request_notification(
            task(),
            name,
            id as _,
            sync,
            notify,
            raw::MACH_MSG_TYPE_MAKE_SEND_ONCE as _,
            &mut previous,
        )
    };
    check(code)?;
    if is_valid(previous) {
        // SAFETY: the earlier request's send-once right is ours to drop.
        unsafe { raw::mach_port_deallocate(task(), previous) };
    }
    Ok(())
}

/// Sends `port` a no-senders notice, as the kernel would when its last
/// send right is gone (after `mscount` were made): what any holder of a
/// send right can forge. For tests of servers, which must not take it
/// for the kernel's.
pub fn forge_no_senders(port: &SendRight, mscount: u32) -> Result<(), Errno> {
    // SAFETY: the right is copied into the message; no answer comes.
    check(unsafe { raw::hurd_sys_notice_no_senders(port.as_raw(), mscount as _) })
}

/// Sends `port` one message of `size` bytes (a header and zeros inline,
/// numbered `id`, no reply port), waiting at most five seconds for room:
/// what any holder of a send right can send. For tests of servers, which
/// must take a message of any size without ending.
pub fn send_inline(port: &SendRight, id: i32, size: usize) -> Result<(), Errno> {
    let header = std::mem::size_of::<raw::mach_msg_header_t>();
    let size = size.max(header).next_multiple_of(8);
    let mut message = vec![0u64; size / 8];
    let head: *mut raw::mach_msg_header_t = message.as_mut_ptr().cast();
    // SAFETY: the buffer holds `size` bytes, a header first (8-aligned);
    // the send copies our right to `port`, which stays ours.
    check(unsafe {
        (*head).msgh_bits = raw::MACH_MSG_TYPE_COPY_SEND as _;
        (*head).msgh_size = size as _;
        (*head).__bindgen_anon_1.msgh_remote_port = port.as_raw();
        (*head).__bindgen_anon_2.msgh_local_port = raw::MACH_PORT_NULL;
        (*head).msgh_id = id;
        raw::mach_msg(
            head,
            (raw::MACH_SEND_MSG | raw::MACH_SEND_TIMEOUT) as _,
            size as _,
            0,
            raw::MACH_PORT_NULL,
            5000,
            raw::MACH_PORT_NULL,
        )
    })
}

/// Why a port operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("mach_port_allocate of a {what}: {code}")]
    Allocate { what: &'static str, code: Errno },
    #[error("making a send right for port {port}: {code}")]
    MakeSend { port: RawPort, code: Errno },
    #[error("adding a reference to port {port}: {code}")]
    AddRef { port: RawPort, code: Errno },
    #[error("moving port {port} into port set {set}: {code}")]
    MoveMember { port: RawPort, set: RawPort, code: Errno },
}

/// Drops one user reference of `right` on `name` (a receive right or a
/// port set), logging a failure: a destructor cannot return one, and a
/// failure here means a reference was already lost elsewhere.
fn release(name: RawPort, right: raw::mach_port_right_t, what: &str) {
    // SAFETY: the caller owns one user reference of `right` on `name`,
    // which this gives back; nothing uses `name` through it afterwards.
    let code = unsafe { raw::mach_port_mod_refs(task(), name, right, -1) };
    match check(code) {
        Ok(()) => log::trace!("released {what} {name}"),
        Err(e) => log::warn!("releasing {what} {name}: {e}"),
    }
}

/// A send right: the right to send requests to a port.
#[derive(Debug)]
pub struct SendRight(RawPort);

impl SendRight {
    /// Takes ownership of one user reference of a send right.
    ///
    /// # Safety
    /// The caller must own that reference and give it up: nothing else
    /// may release it.
    pub unsafe fn from_raw(name: RawPort) -> Option<SendRight> {
        // `then`, not `then_some`: an eagerly built value for an invalid
        // name would be dropped, and release a reference nobody owns.
        is_valid(name).then(|| SendRight(name))
    }

    pub fn as_raw(&self) -> RawPort {
        self.0
    }

    /// Gives the reference up to the caller (to send it with
    /// `MACH_MSG_TYPE_MOVE_SEND`, for instance).
    pub fn into_raw(self) -> RawPort {
        let name = self.0;
        std::mem::forget(self);
        name
    }

    /// Whether the port is gone (its receiver died): the name is a dead
    /// name now.
    pub fn is_dead(&self) -> bool {
        let mut kind: raw::mach_port_type_t = 0;
        // SAFETY: asks about a name we hold.
        let code = unsafe { raw::mach_port_type(task(), self.0, &mut kind) };
        code != 0 || kind & raw::HURD_SYS_PORT_TYPE_DEAD_NAME != 0
    }

    /// A second reference to the same right.
    pub fn try_clone(&self) -> Result<SendRight, PortError> {
        // SAFETY: adds one user reference to a send right this value owns;
        // the new value owns the added reference.
        let code = unsafe { raw::mach_port_mod_refs(task(), self.0, raw::HURD_SYS_RIGHT_SEND, 1) };
        check(code).map_err(|code| PortError::AddRef { port: self.0, code })?;
        Ok(SendRight(self.0))
    }
}

/// Drops one user reference of a send or send-once right, or of the dead
/// name it became when its port was destroyed.
fn deallocate(name: RawPort, what: &str) {
    // SAFETY: the caller owns one user reference on `name`; nothing uses
    // the name through it afterwards.
    let code = unsafe { raw::mach_port_deallocate(task(), name) };
    match check(code) {
        Ok(()) => log::trace!("released {what} {name}"),
        Err(e) => log::warn!("releasing {what} {name}: {e}"),
    }
}

impl Drop for SendRight {
    fn drop(&mut self) {
        deallocate(self.0, "send right");
    }
}

/// A send-once right: one reply may be sent with it.
#[derive(Debug)]
pub struct SendOnceRight(RawPort);

impl SendOnceRight {
    /// # Safety
    /// As [`SendRight::from_raw`], for a send-once right.
    pub unsafe fn from_raw(name: RawPort) -> Option<SendOnceRight> {
        is_valid(name).then(|| SendOnceRight(name))
    }

    pub fn into_raw(self) -> RawPort {
        let name = self.0;
        std::mem::forget(self);
        name
    }
}

impl Drop for SendOnceRight {
    fn drop(&mut self) {
        deallocate(self.0, "send-once right");
    }
}

/// A new `right` (a receive right or a port set) in this task; the caller
/// owns it.
fn allocate(right: raw::mach_port_right_t, what: &'static str) -> Result<RawPort, PortError> {
    let mut name: RawPort = 0;
    // SAFETY: `name` is a valid place for the kernel to write the new
    // right's name; the caller owns the right it names afterwards.
    let code = unsafe { raw::mach_port_allocate(task(), right, &mut name) };
    check(code).map_err(|code| PortError::Allocate { what, code })?;
    Ok(name)
}

/// A receive right: the port itself, on which requests arrive.
#[derive(Debug)]
pub struct ReceiveRight(RawPort);

impl ReceiveRight {
    /// A new port.
    pub fn allocate() -> Result<ReceiveRight, PortError> {
        allocate(raw::HURD_SYS_RIGHT_RECEIVE, "receive right").map(ReceiveRight)
    }

    pub fn as_raw(&self) -> RawPort {
        self.0
    }

    /// Lets up to `limit` messages wait on the port (the kernel's most is
    /// 16) before a sender blocks.
    pub fn set_queue_limit(&self, limit: u32) -> Result<(), Errno> {
        // SAFETY: a receive right we hold.
        check(unsafe { raw::mach_port_set_qlimit(task(), self.0, limit as _) })
    }

    /// Whether any send right to this port exists (the kernel's own
    /// count: a port served without a no-senders request asks it).
    pub fn has_senders(&self) -> Result<bool, Errno> {
        let mut status = std::mem::MaybeUninit::<raw::mach_port_status_t>::zeroed();
        // SAFETY: asks about a receive right we hold; the kernel fills the
        // status it is given room for.
        check(unsafe { raw::mach_port_get_receive_status(task(), self.0, status.as_mut_ptr()) })?;
        // SAFETY: filled by the successful call (and zeroed before).
        Ok(unsafe { status.assume_init() }.mps_srights != 0)
    }

    /// A send right to this port, for a client.
    pub fn make_send(&self) -> Result<SendRight, PortError> {
        // SAFETY: we hold the receive right, so the kernel may make a send
        // right for it under the same name; the new value owns it.
        let code = unsafe { raw::mach_port_insert_right(task(), self.0, self.0, raw::MACH_MSG_TYPE_MAKE_SEND as _) };
        check(code).map_err(|code| PortError::MakeSend { port: self.0, code })?;
        Ok(SendRight(self.0))
    }
}

impl Drop for ReceiveRight {
    fn drop(&mut self) {
        release(self.0, raw::HURD_SYS_RIGHT_RECEIVE, "receive right");
    }
}

/// A port set: one name to receive on for many ports.
#[derive(Debug)]
pub struct PortSet(RawPort);

impl PortSet {
    pub fn allocate() -> Result<PortSet, PortError> {
        allocate(raw::HURD_SYS_RIGHT_PORT_SET, "port set").map(PortSet)
    }

    pub fn as_raw(&self) -> RawPort {
        self.0
    }

    /// Messages to `port` now arrive on this set.
    pub fn insert(&self, port: &ReceiveRight) -> Result<(), PortError> {
        // SAFETY: both names are rights this task holds for as long as the
        // borrowed values live.
        let code = unsafe { raw::mach_port_move_member(task(), port.0, self.0) };
        check(code).map_err(|code| PortError::MoveMember { port: port.0, set: self.0, code })
    }
}

impl Drop for PortSet {
    fn drop(&mut self) {
        release(self.0, raw::HURD_SYS_RIGHT_PORT_SET, "port set");
    }
}
