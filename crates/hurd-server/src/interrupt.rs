//! `interrupt.defs`: a client's thread took a signal while waiting for
//! one of our replies, and asks that the requests its port received
//! before this one end.

use std::sync::Arc;

use hurd::port::RawPort;
use hurd_sys::raw;

use crate::process::Process;
use crate::routine::prototypes_agree;

/// An object that forwards its requests to another server forwards this
/// one too (that server is the one still working on them). A process
/// port's object is told ([`Process::interrupted`]): a request of its
/// that waits (`proc_wait`) answers EINTR. Any other request is not
/// cancelled: answering success makes the client wait for the reply,
/// which comes when the request is done. (The C library waits a minute
/// for it after a signal, then gives the call up with EIEIO: a request
/// that can wait longer must end here.)
#[unsafe(no_mangle)]
pub extern "C" fn S_interrupt_operation(object: RawPort, seqno: raw::mach_port_seqno_t) -> raw::kern_return_t {
    let Some(slot) = crate::ports::lookup(object) else { return 0 };
    if let Some(to) = slot.forward_to("interrupt_operation") {
        crate::message::forward_this_request(to);
    } else if let Some(process) = slot.get::<Arc<dyn Process>>() {
        process.interrupted(seqno);
    }
    0
}

prototypes_agree!(S_interrupt_operation);
