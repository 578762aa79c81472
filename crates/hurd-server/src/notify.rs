//! The notifications (`notify.defs`) the kernel sends to the ports served
//! here: each port asks to be told when its last sender is gone.

use hurd::port::RawPort;
use hurd_sys::raw;

use crate::routine::prototypes_agree;

/// No client holds a send right to `port` any more: stop serving it, and
/// tell its class.
#[unsafe(no_mangle)]
pub extern "C" fn do_mach_notify_no_senders(port: RawPort, _mscount: raw::mach_port_mscount_t) -> raw::kern_return_t {
    if crate::ports::lookup(port).is_some_and(|slot| slot.kept_now()) {
        log::warn!("port {port}: a no-senders notice for a port still kept, not the kernel's: ignored");
        return 0;
    }
    if let Some(slot) = crate::ports::forget(port) {
        log::debug!("port {port}: no senders left, no longer served");
        if let Some(hook) = slot.class().no_senders {
            hook(&slot);
        }
    }
    0
}

/// A right that a port served here asked about has died: the port's
/// object is told (a notice port's, [`crate::task_notify::NewTask`]).
/// The notification brought a reference to the dead name, released here.
#[unsafe(no_mangle)]
pub extern "C" fn do_mach_notify_dead_name(port: RawPort, name: raw::mach_port_name_t) -> raw::kern_return_t {
    if let Some(slot) = crate::ports::lookup(port) {
        if let Some(notices) = slot.get::<std::sync::Arc<dyn crate::task_notify::NewTask>>() {
            notices.dead_name(name);
        }
    }
    // SAFETY: the notification's own reference to the dead name.
    let _ = unsafe { raw::mach_port_deallocate(hurd::port::task(), name) };
    0
}

prototypes_agree!(do_mach_notify_no_senders, do_mach_notify_dead_name);
