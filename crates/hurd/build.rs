//! Sets `hurd_sys_generated` when hurd-sys generated its bindings (a
//! GNU/Hurd target with a sysroot), so that the code over them is compiled
//! exactly then. Every crate with such code uses this one script (`build =
//! "../hurd/build.rs"`) and depends on hurd-sys directly, since cargo
//! gives hurd-sys's `DEP_HURD_SYS_*` metadata to direct dependents only.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(hurd_sys_generated)");
    println!("cargo::rerun-if-env-changed=DEP_HURD_SYS_GENERATED");
    if std::env::var_os("DEP_HURD_SYS_GENERATED").is_some() {
        println!("cargo::rustc-cfg=hurd_sys_generated");
    }
}
