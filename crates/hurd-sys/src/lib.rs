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

// The stat buffer `io_stat` answers, as the C library lays it out
// (bindgen) and as MIG sends it (from the .defs, which follow the target's
// word size): 32 ints on i686, 22 longs on x86_64. The i686 stubs were
// once generated with a 64-bit preprocessor; this fails the build if the
// two views ever part.
#[cfg(all(target_os = "hurd", hurd_sys_generated))]
const _: () = assert!(
    core::mem::size_of::<raw::io_statbuf_t>() == if cfg!(target_pointer_width = "32") { 4 * 32 } else { 8 * 22 }
);
