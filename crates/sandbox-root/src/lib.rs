//! sandbox-root: one translator that is a build's whole environment.
//!
//! `settrans -a NODE sandbox-root SPEC` reads the spec, validates it into a
//! plan before anything starts, and serves the plan's tree on NODE.
//! `sandbox-root --check SPEC` shows what it would serve; `sandbox-root
//! run SPEC -- CMD` is a build's whole sequence (`run`).

#![deny(unsafe_code)]

pub mod check;
pub mod host;
pub mod keep;
pub mod lookup;
pub mod reap;
pub mod run;
pub mod trust;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
pub mod exec;
#[cfg(all(target_os = "hurd", hurd_sys_generated))]
pub mod serve;
