//! hurd-sys's build script (kept at the top of the tree, beside `mig/`).
//!
//! For a GNU/Hurd target with a sysroot it generates the crate's raw
//! declarations. For any other target it does nothing and says so; it never
//! fails there. For a GNU/Hurd target without a sysroot (type-checking from
//! another system) it says what is missing and generates nothing.
//!
//! Where the sysroot is: `HURD_SYSROOT`, else `/` when building on the Hurd.

use std::env;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=mig");
    println!("cargo::rerun-if-env-changed=HURD_SYSROOT");
    println!("cargo::rustc-check-cfg=cfg(hurd_sys_generated)");

    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os != "hurd" {
        println!("cargo::warning=hurd-sys: the target is {target_os}, not GNU/Hurd: nothing to generate");
        return;
    }
    let Some(sysroot) = sysroot() else {
        println!(
            "cargo::warning=hurd-sys: no GNU/Hurd sysroot (set HURD_SYSROOT to one with usr/include/hurd): \
             only the crate's own code is checked, no MIG stubs or bindings are generated"
        );
        return;
    };
    println!("cargo::warning=hurd-sys: using the sysroot {}", sysroot.display());
    println!("cargo::rustc-cfg=hurd_sys_generated");
    generate::all(&sysroot);
}

fn sysroot() -> Option<PathBuf> {
    let candidate = match env::var_os("HURD_SYSROOT") {
        Some(s) if !s.is_empty() => PathBuf::from(s),
        _ if cfg!(target_os = "hurd") => PathBuf::from("/"),
        _ => return None,
    };
    has_hurd_headers(&candidate).then_some(candidate)
}

fn has_hurd_headers(root: &Path) -> bool {
    root.join("usr/include/hurd/fs.defs").is_file() || root.join("include/hurd/fs.defs").is_file()
}

mod generate {
    use std::path::Path;

    /// Generates the bindings into OUT_DIR.
    pub fn all(sysroot: &Path) {
        let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
        let include = sysroot.join("usr/include");
        let bindings = bindgen::Builder::default()
            .header_contents("hurd-sys.h", "#include <hurd.h>\n#include <mach.h>\n")
            .clang_arg(format!("--sysroot={}", sysroot.display()))
            .clang_arg(format!("-I{}", include.display()))
            .clang_arg(format!("--target={}", std::env::var("TARGET").expect("cargo sets TARGET")))
            .allowlist_function("file_name_lookup")
            .allowlist_function("file_get_translator")
            .allowlist_function("mach_port_deallocate")
            .allowlist_function("mach_task_self")
            .allowlist_var("MACH_PORT_NULL")
            .use_core()
            .generate()
            .unwrap_or_else(|e| panic!("bindgen over {}: {e}", include.display()));
        bindings.write_to_file(out.join("bindings.rs")).expect("write bindings.rs");
    }
}
