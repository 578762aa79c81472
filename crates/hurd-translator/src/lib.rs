//! A small framework for Hurd translators, in the Hurd's vocabulary: nodes
//! (what is served), peropens (one open of a node: flags and offset), and
//! protids (a peropen seen with one set of credentials: what a client's
//! port names). The parts that are decisions (retries, goaway, options,
//! open checks) are pure and tested anywhere; the server loop and the
//! glue to the MIG stubs exist only on the Hurd.

#![deny(unsafe_code)]

pub mod dirent;
pub mod goaway;
pub mod open;
pub mod peropen;
pub mod proxy;
pub mod retry;
pub mod roots;

pub use hurd::argz;
pub use hurd::errno::{self, Errno};

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
pub mod leave;
#[cfg(all(target_os = "hurd", hurd_sys_generated))]
pub mod netfs;
