//! firmlink-rs: what `/hurd/firmlink TARGET` does, as a program and as a
//! library that sandbox-root uses in-process.
//!
//! On `fsys_getroot` the target is looked up with the translator's own
//! credentials, reparented so that `..` from it leads back to where the
//! link sits, restricted to the client's credentials and handed to the
//! client in a retry. A target that does not exist reads as a symlink to
//! it. Beyond the C translator: `--readonly` (every node below the target
//! is served by proxy, so that every change below is EROFS), and it goes away when told
//! to even while clients hold ports, and (with `--timeout`) when unused.

#![deny(unsafe_code)]

pub mod options;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
pub mod link;
#[cfg(all(target_os = "hurd", hurd_sys_generated))]
pub mod proxy;
#[cfg(all(target_os = "hurd", hurd_sys_generated))]
pub mod readonly;
