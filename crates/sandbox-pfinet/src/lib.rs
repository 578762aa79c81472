//! sandbox-pfinet: the environment's `/servers/socket/2` and `/26`. It
//! answers socket RPCs for the build and passes to the host's pfinet only
//! what the spec's network policy allows.
//!
//! The policy itself is the pure function [`verdict::verdict`].

#![deny(unsafe_code)]

pub mod sockaddr;
pub mod verdict;
