//! The proc server, as this process sees it.

use hurd_sys::raw;

use crate::errno::{Errno, check};
use crate::port::SendRight;

#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("this process has no proc server port")]
    NoProcPort,
    #[error("proc_getpids: {code}")]
    GetPids { code: Errno },
}

/// What the proc server says of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pids {
    pub pid: i32,
    pub ppid: i32,
    /// Whether the process's group is orphaned.
    pub orphaned: bool,
}

/// A send right to this process's proc server.
pub fn proc_port() -> Result<SendRight, ProcError> {
    // SAFETY: getproc returns a new reference to the proc port, which the
    // caller owns.
    unsafe { SendRight::from_raw(raw::getproc()) }.ok_or(ProcError::NoProcPort)
}

/// Asks the proc server for this process's PIDs.
pub fn pids() -> Result<Pids, ProcError> {
    let proc = proc_port()?;
    let (mut pid, mut ppid, mut orphaned) = (0, 0, 0);
    // SAFETY: the three out-parameters are valid places for the reply.
    let code = unsafe { raw::proc_getpids(proc.as_raw(), &mut pid, &mut ppid, &mut orphaned) };
    check(code).map_err(|code| ProcError::GetPids { code })?;
    Ok(Pids { pid, ppid, orphaned: orphaned != 0 })
}
