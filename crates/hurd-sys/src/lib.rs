//! Raw declarations of the Mach and Hurd interfaces the suite serves and
//! calls. Everything here is generated at build time from a GNU/Hurd
//! sysroot (see the top-level `build.rs`): bindgen over its headers, MIG
//! over its `.defs` and our own MIG inputs in `mig/`. Nothing is generated
//! for other targets, where this crate is empty.
//!
//! This is one of the two places where `unsafe` lives; the safe layer
//! over it is the other.

#![no_std]

/// The raw bindings (bindgen over the sysroot's headers).
#[cfg(all(target_os = "hurd", hurd_sys_generated))]
#[allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    dead_code,
    unsafe_op_in_unsafe_fn,
    clippy::all,
    clippy::undocumented_unsafe_blocks,
    clippy::missing_safety_doc
)]
pub mod raw {
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

/// Whether this build has the generated declarations (a Hurd target with a
/// sysroot) or none (any other target, or a Hurd target checked without a
/// sysroot).
pub const GENERATED: bool = cfg!(all(target_os = "hurd", hurd_sys_generated));
