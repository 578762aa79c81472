//! Serving MIG interfaces, in the way libports and libtrivfs/libnetfs do
//! it on the Hurd.
//!
//! - [`ports`]: port classes and the ports served (one entry per receive
//!   right: its class, the object it stands for), and the intran every
//!   MIG stub calls to find that entry;
//! - [`message`]: the message server: a pool of threads that grows with
//!   blocked requests, the demultiplexer, forwarding a request as it came
//!   to the server a node stands for;
//! - `routine` (private): the shape every server routine shares (find the
//!   object of its class, run the safe method guarded, write the
//!   out-parameters, turn the result into a return code);
//! - one module per interface, each with its trait, its classes and its
//!   routines: [`io`], [`fs`] (files and directories), [`fsys`] (a
//!   translator's control port), [`notify`], [`interrupt`], [`process`]
//!   (a proc server's), [`task_notify`] (new-task notices), [`socket`]
//!   (a socket server's);
//! - [`helper`]: translators a translator starts for itself, and ends.
//!
//! Adding an interface is a line in build.rs's `SERVED` (its `.defs` and
//! its object port types) and a module here. Only [`Credentials`] and the
//! pure [`access`] exist off the Hurd.

#![deny(unsafe_code)]

pub mod access;

/// A client's credentials, as `fsys_getroot` gives them and a protid
/// carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Credentials {
    pub uids: Vec<u32>,
    pub gids: Vec<u32>,
}

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod ports;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod message;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
mod routine;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod io;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod fs;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod fsys;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod notify;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod interrupt;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod process;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod task_notify;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod socket;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(unsafe_code)]
pub mod helper;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
pub use {
    fs::{Node, Reply, RetryKind, Stat, TranslatorRequest, refusal, serve_kept_node, serve_node, serve_own_node},
    fsys::{Control, startup},
    io::Io,
    message::{THREADS_MAX, serve, serve_in_background},
    ports::{Forward, PORTS_MAX, ServerError, open_ports, serves},
    routine::unsupported,
};
