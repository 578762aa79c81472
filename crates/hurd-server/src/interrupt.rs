//! `interrupt.defs`: a client's thread took a signal while waiting for
//! one of our replies.

use hurd::port::RawPort;
use hurd_sys::raw;

use crate::routine::prototypes_agree;

/// Requests are not cancelled: answering success makes the client wait
/// for the reply, which comes when the request is done. (Not answering,
/// or answering an error, makes the C library give the client's call up
/// with EIEIO.)
#[unsafe(no_mangle)]
pub extern "C" fn S_interrupt_operation(_object: RawPort, _seqno: raw::mach_port_seqno_t) -> raw::kern_return_t {
    0
}

prototypes_agree!(S_interrupt_operation);
