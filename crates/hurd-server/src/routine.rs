//! The shape every server routine shares: find the object of its class
//! behind the request port, run the safe method (guarded: a panic answers
//! EIO), write the out-parameters, turn the result into a return code.
//! And the out-parameter writers the interfaces share.

use std::any::Any;
use std::collections::BTreeSet;
use std::ffi::{CStr, c_char};
use std::sync::Mutex;

use hurd::errno::Errno;
use hurd::port::{RawPort, SendRight, task};
use hurd_sys::raw;

use crate::message;
use crate::ports::{Slot, borrow};

/// Runs one routine on the port entry the stub found: `body` gets it. An
/// object that forwards `routine` ([`crate::ports::Forward`]) does not
/// run it: the request goes on to the other server as it came. A request
/// on a port not served here answers EOPNOTSUPP.
///
/// # Safety
/// `object` is null or the object the stub holds for this call.
pub(crate) unsafe fn on_slot(
    object: raw::hurd_sys_object_t,
    routine: &str,
    body: impl FnOnce(&Slot) -> Result<(), Errno>,
) -> raw::kern_return_t {
    // SAFETY: see above.
    let Some(slot) = (unsafe { borrow(object) }) else { return Errno::EOPNOTSUPP.0 };
    if let Some(to) = slot.forward_to(routine) {
        message::forward_this_request(to);
        return Errno::EOPNOTSUPP.0;
    }
    guarded(routine, || body(slot))
}

/// [`on_slot`] for a routine of an interface whose objects are `T`s: a
/// port of another class answers EOPNOTSUPP.
///
/// # Safety
/// As [`on_slot`].
pub(crate) unsafe fn on<T: Any>(
    object: raw::hurd_sys_object_t,
    routine: &str,
    body: impl FnOnce(&T, &Slot) -> Result<(), Errno>,
) -> raw::kern_return_t {
    // SAFETY: as the caller's.
    unsafe {
        on_slot(object, routine, |slot| match slot.get::<T>() {
            Some(value) => body(value, slot),
            None => Err(Errno::EOPNOTSUPP),
        })
    }
}

/// `body`'s answer, or EIO if it panicked (logged with the routine), so
/// that no request ends the translator.
fn guarded(routine: &str, body: impl FnOnce() -> Result<(), Errno>) -> raw::kern_return_t {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => e.0,
        Err(_) => {
            log::error!("{routine}: the routine panicked; answered EIO");
            Errno::EIO.0
        }
    }
}

/// Logs, once per routine, that a translator was asked for something it
/// does not do, and gives the answer for it.
pub fn unsupported(routine: &str) -> Errno {
    log_once(log::Level::Info, routine, || format!("{routine}: not supported here (EOPNOTSUPP); said once"));
    Errno::EOPNOTSUPP
}

/// Logs `message()` at `level` the first time `what` happens.
pub(crate) fn log_once(level: log::Level, what: &str, message: impl FnOnce() -> String) {
    static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    if SEEN.lock().unwrap_or_else(|e| e.into_inner()).insert(what.to_owned()) {
        log::log!(level, "{}", message());
    }
}

/// A `string_t` argument, as UTF-8 (EINVAL otherwise).
///
/// # Safety
/// `s` is MIG's NUL-terminated string, valid for the call.
pub(crate) unsafe fn string<'a>(s: raw::const_string_t) -> Result<&'a str, Errno> {
    // SAFETY: see above.
    unsafe { CStr::from_ptr(s) }.to_str().map_err(|_| Errno::EINVAL)
}

/// A `data_t` argument of `len` bytes.
///
/// # Safety
/// `data` is null or MIG's pointer to `len` bytes, valid for the call.
pub(crate) unsafe fn bytes<'a>(data: raw::const_data_t, len: raw::mach_msg_type_number_t) -> &'a [u8] {
    if len == 0 || data.is_null() {
        &[]
    } else {
        // SAFETY: see above.
        unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len as usize) }
    }
}

/// An id array argument.
pub(crate) fn ids(p: *const u32, n: raw::mach_msg_type_number_t) -> Vec<u32> {
    if p.is_null() || n == 0 {
        return Vec::new();
    }
    // SAFETY: MIG passes `n` ids at `p`.
    unsafe { std::slice::from_raw_parts(p, n as usize) }.to_vec()
}

/// Writes one port out-parameter: `right`, moved to the client.
///
/// # Safety
/// `port` and `poly` are a routine's out-parameters for one port.
pub(crate) unsafe fn write_port(right: SendRight, port: *mut RawPort, poly: *mut raw::mach_msg_type_name_t) {
    // SAFETY: see above.
    unsafe {
        *port = right.into_raw();
        *poly = raw::MACH_MSG_TYPE_MOVE_SEND as _;
    }
}

/// Hands `bytes` back as a `data_t` out-parameter: into the stub's buffer
/// when it fits, else into pages the reply carries out of line.
///
/// # Safety
/// `data` and `len` are the stub's out-parameters.
pub(crate) unsafe fn write_data(
    bytes: &[u8],
    data: *mut raw::data_t,
    len: *mut raw::mach_msg_type_number_t,
) -> Result<(), Errno> {
    // SAFETY: the stub set *data to a buffer of *len bytes.
    unsafe {
        if bytes.len() > *len as usize {
            let mut addr: raw::vm_address_t = 0;
            hurd::errno::check(raw::vm_allocate(task(), &mut addr, bytes.len() as _, 1))?;
            *data = addr as raw::data_t;
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), (*data).cast::<u8>(), bytes.len());
        *len = bytes.len() as _;
    }
    Ok(())
}

/// Writes a `string_t` out-parameter (1024 bytes with the NUL).
///
/// # Safety
/// `out` is the stub's room for a `string_t`.
pub(crate) unsafe fn write_string(s: &str, out: *mut c_char) -> Result<(), Errno> {
    if s.len() >= 1024 || s.contains('\0') {
        return Err(Errno::ENAMETOOLONG);
    }
    // SAFETY: see above.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), out.cast::<u8>(), s.len());
        *out.add(s.len()) = 0;
    }
    Ok(())
}

/// A send right a request brought: the routine's only once it answers
/// success (on an error the message server destroys the request, rights
/// included). Dropping it never releases the right, even when the
/// routine panics; [`RequestRight::keep`] takes it on success.
pub(crate) struct RequestRight(std::mem::ManuallyDrop<Option<SendRight>>);

impl RequestRight {
    /// # Safety
    /// `name` is null or a send right the request being served brought.
    pub(crate) unsafe fn new(name: RawPort) -> RequestRight {
        // SAFETY: see above; ManuallyDrop keeps it from being released
        // unless kept.
        RequestRight(std::mem::ManuallyDrop::new(unsafe { SendRight::from_raw(name) }))
    }

    pub(crate) fn get(&self) -> Option<&SendRight> {
        self.0.as_ref()
    }

    /// The right, ours now that the routine succeeded.
    pub(crate) fn keep(mut self) -> Option<SendRight> {
        // SAFETY: taken once; `self` is forgotten with nothing left in it.
        unsafe { std::mem::ManuallyDrop::take(&mut self.0) }
    }
}

/// Runs `body` with the right a request brought, keeping the right (ours
/// then) only when `body` succeeds.
///
/// # Safety
/// As [`RequestRight::new`].
pub(crate) unsafe fn with_request_right(
    name: RawPort,
    body: impl FnOnce(Option<&SendRight>) -> Result<(), Errno>,
) -> Result<(), Errno> {
    // SAFETY: as the caller's.
    let right = unsafe { RequestRight::new(name) };
    body(right.get())?;
    drop(right.keep());
    Ok(())
}

/// A request that succeeded brought a send right to `slot`'s own port
/// (an argument MIG turned into an object): it is ours now, and would
/// keep the port from ever having no senders.
pub(crate) fn release_own_right(slot: Option<&Slot>) {
    if let Some(slot) = slot {
        let name = slot.port().as_raw();
        // SAFETY: one user reference of the send right the request
        // brought, under the port's own name, given back once.
        let code = unsafe { raw::mach_port_deallocate(task(), name) };
        if code != 0 {
            log::warn!("releasing a request's right to port {name}: {}", Errno(code));
        }
    }
}

/// Every server routine a module defines has the prototype MIG generated
/// for it: taking both as one function pointer type fails to compile when
/// the Rust definition and the C declaration (bindgen's, from MIG's
/// header) disagree.
macro_rules! prototypes_agree {
    ($($routine:ident),* $(,)?) => {
        #[allow(dead_code)]
        fn prototypes_agree() {
            $( let _ = [hurd_sys::raw::$routine, $routine]; )*
        }
    };
}
pub(crate) use prototypes_agree;
