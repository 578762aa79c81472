#![deny(unsafe_code)]
pub use sandbox_spec as spec;
