//! sandbox-proc: the proc server behind an environment's `/servers/proc`.
//! Processes of the build see PIDs of their own namespace; the real PIDs
//! stay with the host's proc server.
//!
//! The mapping between the two is the pure [`pidmap::PidMap`]; the
//! namespace's decisions (what crosses its edge, and as which PID) are
//! the pure [`namespace::Namespace`]; `serve` (on the Hurd) answers the
//! proc interface with them, relaying to the host's proc server.

#![deny(unsafe_code)]

pub mod namespace;
pub mod pidmap;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
pub mod serve;
