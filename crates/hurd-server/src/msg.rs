//! The msg interface (`msg.defs`) as a proc server sees it: a process's
//! message port, which the proc server tells of new process ids
//! (`msg_proc_newids`). The class [`MSGPORT`], whose objects are
//! `Arc<dyn MsgPort>`: a port that stands for a process's own message
//! port, forwarding what it does not answer itself.

use std::ffi::c_int;
use std::sync::Arc;

use hurd::errno::Errno;
use hurd::port::{RawPort, SendRight};
use hurd_sys::raw;

use crate::ports::{Class, Forward, ServedBy};
use crate::routine::{prototypes_agree, unsupported, with_request_right};

/// Message ports that stand for a process's: the proc server holds them,
/// which keeps nothing up.
pub static MSGPORT: Class =
    Class { name: "message port", holds_up: false, served_by: ServedBy::Pool, no_senders: None };

/// A process's message port, as its proc server addresses it.
pub trait MsgPort: Forward {
    /// `msg_proc_newids`: the process's parent, process group, and
    /// whether that is orphaned, as its proc server says them.
    fn proc_newids(&self, task: &SendRight, ppid: i32, pgrp: i32, orphaned: bool) -> Result<(), Errno> {
        let _ = (task, ppid, pgrp, orphaned);
        Err(unsupported("msg_proc_newids"))
    }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_msg_proc_newids(
    process: RawPort,
    task: RawPort,
    ppid: raw::pid_t,
    pgrp: raw::pid_t,
    orphaned: c_int,
) -> raw::kern_return_t {
    // (msg.defs's port type has no intran: the port is found by name.)
    let Some(slot) = crate::ports::lookup(process) else { return Errno::EOPNOTSUPP.0 };
    let Some(port) = slot.get::<Arc<dyn MsgPort>>() else { return Errno::EOPNOTSUPP.0 };
    // SAFETY: the request brought a send right for `task`.
    let result = unsafe {
        with_request_right(task, |task| port.proc_newids(task.ok_or(Errno::EINVAL)?, ppid, pgrp, orphaned != 0))
    };
    match result {
        Ok(()) => 0,
        Err(e) => e.0,
    }
}

prototypes_agree!(S_msg_proc_newids);
