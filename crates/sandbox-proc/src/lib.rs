//! sandbox-proc: the proc server behind an environment's `/servers/proc`.
//! Processes of the build see PIDs of their own namespace; the real PIDs
//! stay with the host's proc server.
//!
//! The mapping between the two is the pure [`pidmap::PidMap`].

#![deny(unsafe_code)]

pub mod pidmap;
