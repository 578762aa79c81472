//! The safe layer over hurd-sys: what the suite's programs use of Mach and
//! the Hurd, without `unsafe` outside this crate.
//!
//! - [`argz`]: the NUL-separated strings of translator options;
//! - [`retry`]: the kinds of retry a lookup answers with;
//! - [`errno`]: every return code (the kernel's, MIG's, a server's errno)
//!   as one typed value, converted in one place;
//! - `port`: send, send-once and receive rights and port sets, each an
//!   owned value released on `Drop`;
//! - `fs`: looking up nodes and reading their translators;
//! - `process`: asking the proc server;
//! - `auth`: this process's identity (every id), and becoming one user;
//! - `procserver`: asking a proc server about any process, through a
//!   given proc port;
//! - `spawn`: starting a program in a private proc server's PID namespace;
//! - `socket`: asking a socket server and its sockets.
//!
//! This is the client side: serving ports (a translator's, a proc
//! server's) is hurd-server's.
//!
//! Only [`argz`], [`errno`] and [`retry`] exist off the Hurd; the rest needs hurd-sys's bindings,
//! generated from a GNU/Hurd sysroot.

pub mod argz;
pub mod errno;
pub mod retry;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod port;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod fs;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod process;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod auth;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod procserver;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod spawn;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod socket;

pub use errno::Errno;
