//! `task_notify.defs`: the kernel's (or, for a task namespace, the proc
//! server's) notice that a task was created. The class [`NEW_TASK`],
//! whose objects are `Arc<dyn NewTask>`.

use std::sync::Arc;

use hurd::errno::Errno;
use hurd::port::{RawPort, SendRight};
use hurd_sys::raw;

use crate::ports::{Class, Forward, ServedBy, Slot};
use crate::routine::{on, prototypes_agree};

/// Ports new-task notices come to. A proc server that sends them (and,
/// for a task namespace, relays its questions about the namespace's
/// processes to them) waits for each answer, holding its own lock: they
/// are served by their own thread.
pub static NEW_TASK: Class =
    Class { name: "new-task notices", holds_up: false, served_by: ServedBy::Notices, no_senders: None };

/// Ports the deaths of watched tasks are told to (dead-name
/// notifications, which the kernel queues past any limit): served by a
/// thread of their own, apart from [`NEW_TASK`]'s, so that a flood of
/// deaths, however long they take to handle, never fills the queue a
/// proc server waits on, nor takes the pool's threads from clients.
/// Their objects are the same `Arc<dyn NewTask>`.
pub static DEATHS: Class =
    Class { name: "death notices", holds_up: false, served_by: ServedBy::Deaths, no_senders: None };

/// Who is told of new tasks, and of the tasks it watches dying.
pub trait NewTask: Forward {
    /// `task` was made by `parent`.
    fn new_task(&self, task: SendRight, parent: SendRight);

    /// A task this port asked to hear of (a dead-name notification
    /// requested to it) is gone: `name` is its name here, now dead.
    fn dead_name(&self, name: RawPort) {
        let _ = name;
    }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_mach_notify_new_task(
    notify: raw::hurd_sys_object_t,
    task: RawPort,
    parent: RawPort,
) -> raw::kern_return_t {
    let body = |n: &Arc<dyn NewTask>, _: &Slot| {
        // SAFETY: the notice moved both send rights to us (a simple
        // routine: nothing answers it, and the rights are ours whatever
        // we answer).
        let (task, parent) = unsafe { (SendRight::from_raw(task), SendRight::from_raw(parent)) };
        match (task, parent) {
            (Some(task), Some(parent)) => n.new_task(task, parent),
            _ => log::debug!("a new-task notice without its task or parent"),
        }
        Ok::<(), Errno>(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on::<Arc<dyn NewTask>>(notify, "mach_notify_new_task", body) }
}

prototypes_agree!(S_mach_notify_new_task);
