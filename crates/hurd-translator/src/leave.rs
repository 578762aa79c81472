//! Carrying out a goaway: the decision is [`crate::goaway::decide`]; this
//! counts what holds the translator, and leaves.

use hurd::errno::Errno;

use crate::goaway::{Busy, Decision, GoawayFlags, decide};

/// Decides `fsys_goaway` with `flags` for a translator responsible for
/// `processes` live processes, whose own open ports hold it when
/// `ports_hold_it`: `Ok` to leave (the process exits once the answer is
/// sent), EBUSY to stay.
pub fn goaway(flags: i32, processes: usize, ports_hold_it: bool) -> Result<(), Errno> {
    let (flags, unknown) = GoawayFlags::from_bits(flags as u32);
    if unknown != 0 {
        log::warn!("fsys_goaway: unknown flags {unknown:#x} ignored");
    }
    let busy = Busy { open_ports: hurd_server::open_ports(), processes };
    match decide(flags, busy, ports_hold_it) {
        Decision::Refuse => {
            log::info!("fsys_goaway: busy ({busy:?}), staying");
            Err(Errno::EBUSY)
        }
        Decision::Leave { .. } => Ok(()),
    }
}
