//! The fsys interface (`fsys.defs`): a translator's control port, which
//! its parent file system and `settrans`/`fsysopts` speak to. The class
//! [`CONTROL`], whose objects are `Arc<dyn Control>`.

use std::ffi::{c_char, c_int};
use std::sync::{Arc, OnceLock};

use hurd::errno::{Errno, check};
use hurd::port::{RawPort, SendRight, task};
use hurd_sys::raw;

use crate::Credentials;
use crate::fs::{Reply, write_reply};
use crate::ports::{self, Class, Object, ServedBy, ServerError, Slot};
use crate::routine::{bytes, ids, on, prototypes_agree, unsupported, with_request_right, write_data, write_port};

/// A translator's control port: served by a thread of its own, so that
/// no number of clients' requests blocked in the pool keeps a goaway from
/// being answered; when nobody holds it any more, the translator is told.
pub static CONTROL: Class =
    Class { name: "control", holds_up: false, served_by: ServedBy::Control, no_senders: Some(control_orphaned) };

fn control_orphaned(slot: &Slot) {
    if let Some(control) = slot.get::<Arc<dyn Control>>() {
        control.orphaned();
    }
}

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

/// The name of this translator's control port (its receive right is in
/// the registry), once started.
static CONTROL_PORT: OnceLock<RawPort> = OnceLock::new();

fn control_slot() -> Option<Arc<Slot>> {
    CONTROL_PORT.get().and_then(|&name| ports::lookup(name))
}

/// A send right to this translator's control port, once started.
pub(crate) fn control_port() -> Option<SendRight> {
    control_slot()?.port().make_send().map_err(|e| log::error!("making a control port right: {e}")).ok()
}

/// This translator's options as an argz vector, once started.
pub(crate) fn options_argz() -> Option<Result<Vec<u8>, Errno>> {
    let slot = control_slot()?;
    let control = slot.get::<Arc<dyn Control>>()?;
    Some(hurd::argz::encode(&control.options()).map_err(|_| Errno::EINVAL))
}

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
    let control_port = ports::serve(Object::new(&CONTROL, control))?;
    log::debug!("startup: control {control_port:?}");
    let set = ports::port_set(ServedBy::Control)?;
    std::thread::spawn(move || crate::message::server_loop(set, None, false));
    let _ = CONTROL_PORT.set(control_port.as_raw());
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

/// Runs an fsys routine on the control behind `object`.
///
/// # Safety
/// `object` is null or the object the stub holds for this call.
unsafe fn on_control(
    object: raw::hurd_sys_object_t,
    routine: &str,
    body: impl FnOnce(&Arc<dyn Control>) -> Result<(), Errno>,
) -> raw::kern_return_t {
    // SAFETY: as the caller's.
    unsafe { on::<Arc<dyn Control>>(object, routine, |control, _| body(control)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_fsys_getroot(
    fsys: raw::hurd_sys_object_t,
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
    let body = |control: &Arc<dyn Control>| {
        let creds = Credentials { uids: ids(uids, nuids), gids: ids(gids, ngids) };
        // SAFETY: the request moved a send right for `dotdot` to us, if
        // any; the out-parameters are the stub's.
        unsafe {
            with_request_right(dotdot, |dotdot| {
                let reply = control.getroot(dotdot, &creds, flags)?;
                write_reply(reply, false, do_retry, retry_name, file, file_poly)
            })
        }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_control(fsys, "fsys_getroot", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_fsys_goaway(fsys: raw::hurd_sys_object_t, flags: c_int) -> raw::kern_return_t {
    let body = |control: &Arc<dyn Control>| {
        control.goaway(flags)?;
        crate::message::leave_after_answer();
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_control(fsys, "fsys_goaway", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_fsys_get_options(
    server: raw::hurd_sys_object_t,
    options: *mut raw::data_t,
    len: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    let body = |control: &Arc<dyn Control>| {
        let argz = hurd::argz::encode(&control.options()).map_err(|_| Errno::EINVAL)?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_data(&argz, options, len) }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_control(server, "fsys_get_options", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_fsys_set_options(
    fsys: raw::hurd_sys_object_t,
    options: raw::const_data_t,
    len: raw::mach_msg_type_number_t,
    _do_children: c_int,
) -> raw::kern_return_t {
    let body = |control: &Arc<dyn Control>| {
        // SAFETY: MIG passes `len` bytes at `options`.
        let args = hurd::argz::decode(unsafe { bytes(options, len) }).map_err(|_| Errno::EINVAL)?;
        control.set_options(&args)
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_control(fsys, "fsys_set_options", body) }
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
            unsafe { write_port(underlying, realnode, realnode_poly) };
            0
        }
        None => Errno::EOPNOTSUPP.0,
    }
}

prototypes_agree!(S_fsys_getroot, S_fsys_goaway, S_fsys_startup, S_fsys_get_options, S_fsys_set_options);
