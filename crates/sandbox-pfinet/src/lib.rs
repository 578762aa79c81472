//! sandbox-pfinet: the environment's `/servers/socket/2` and `/26` under
//! the `allow` and `host` network policies. It answers socket RPCs for
//! the build and passes to a stack only what the spec's policy allows:
//! the build's own loopback stack for binds and loopback addresses, the
//! host's for the destinations the policy lets out.
//!
//! The policy itself is the pure function [`verdict::verdict`]; what
//! passes to a stack as it came is [`pass`]; the serving (on the Hurd) is
//! `serve`.

#![deny(unsafe_code)]

pub mod pass;
pub mod sockaddr;
pub mod verdict;

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
pub mod serve;
