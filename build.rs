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
            "cargo::warning=hurd-sys: no GNU/Hurd sysroot (set HURD_SYSROOT, or HURD_SYSROOT_<target>, to one \
             with usr/include/hurd): only the crate's own code is checked, no MIG stubs or bindings are generated"
        );
        return;
    };
    println!("cargo::warning=hurd-sys: using the sysroot {}", sysroot.display());
    println!("cargo::rustc-cfg=hurd_sys_generated");
    println!("cargo::metadata=generated=1");
    generate::all(&sysroot);
}

/// `HURD_SYSROOT_<target>` (e.g. `HURD_SYSROOT_x86_64_unknown_hurd_gnu`)
/// for one target, else `HURD_SYSROOT`, else `/` on the Hurd itself.
fn sysroot() -> Option<PathBuf> {
    let target = env::var("TARGET").unwrap_or_default().replace('-', "_");
    let per_target = format!("HURD_SYSROOT_{target}");
    println!("cargo::rerun-if-env-changed={per_target}");
    let given =
        [per_target.as_str(), "HURD_SYSROOT"].into_iter().find_map(|v| env::var_os(v).filter(|s| !s.is_empty()));
    let candidate = match given {
        Some(s) => PathBuf::from(s),
        None if cfg!(target_os = "hurd") => PathBuf::from("/"),
        None => return None,
    };
    if !has_hurd_headers(&candidate) {
        println!(
            "cargo::warning=hurd-sys: {} has no usr/include/hurd/fs.defs: not a GNU/Hurd sysroot, ignored",
            candidate.display()
        );
        return None;
    }
    Some(candidate)
}

fn has_hurd_headers(root: &Path) -> bool {
    root.join("usr/include/hurd/fs.defs").is_file() || root.join("include/hurd/fs.defs").is_file()
}

mod generate {
    //! MIG over the sysroot's `.defs` (server side), weak defaults for the
    //! routines Rust does not define, the C compiled with `cc`, and bindgen
    //! over the headers.

    use std::env;
    use std::fmt::Write as _;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// An interface whose server side we generate.
    pub struct Interface {
        /// The `.defs`, under the sysroot's include directory.
        defs: &'static str,
        /// The name MIG gives its files and its demultiplexer (`NAME_server`).
        name: &'static str,
        /// The port types of the interface that MIG turns into a served
        /// object before a routine runs: (the `.defs`'s macro prefix, the C
        /// type). Every such argument, the request port and any other,
        /// becomes a `hurd_sys_object_t` (null when the port is not ours).
        objects: &'static [(&'static str, &'static str)],
    }

    /// Every interface served. Adding one is a line here and a module in
    /// hurd-server; the mutations and the demultiplexer are made from this.
    const SERVED: &[Interface] = &[
        Interface { defs: "hurd/io.defs", name: "io", objects: &[("IO", "io_t")] },
        Interface { defs: "hurd/fs.defs", name: "fs", objects: &[("FILE", "file_t")] },
        Interface { defs: "hurd/fsys.defs", name: "fsys", objects: &[("FSYS", "fsys_t")] },
        Interface { defs: "mach/notify.defs", name: "notify", objects: &[] },
        Interface { defs: "hurd/interrupt.defs", name: "interrupt", objects: &[] },
        Interface { defs: "hurd/process.defs", name: "process", objects: &[("PROCESS", "process_t")] },
        Interface {
            defs: "hurd/socket.defs",
            name: "socket",
            objects: &[("SOCKET", "socket_t"), ("PF", "pf_t"), ("ADDRPORT", "addr_port_t")],
        },
        Interface {
            defs: "mach/task_notify.defs",
            name: "task_notify",
            objects: &[("TASK_NOTIFY", "task_notify_port_t")],
        },
    ];

    pub fn all(sysroot: &Path) {
        let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
        let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
        // The build script sits at the top of the tree, beside mig/.
        let mig_dir = manifest.join("../../mig").canonicalize().expect("mig/ beside build.rs");
        let include = sysroot.join("usr/include");

        let mutations = out.join("mutations.h");
        std::fs::write(&mutations, mutations_h(SERVED)).expect("write mutations.h");
        let mut servers = Vec::new();
        let mut headers = Vec::new();
        for interface in SERVED {
            let server = out.join(format!("{}Server.c", interface.name));
            let header = out.join(format!("{}_S.h", interface.name));
            run_mig(&include, &mutations, &include.join(interface.defs), &server, &header);
            servers.push(server);
            headers.push(header);
        }
        // Requests we send without waiting (our own .defs): user side only.
        let nowait_user = out.join("nowaitUser.c");
        let nowait_header = out.join("nowait_U.h");
        run_mig_user(&include, &mig_dir.join("nowait.defs"), &nowait_user, &nowait_header);
        // Answers sent after the request's routine has returned (a wait
        // that blocks holds no thread): the sysroot's reply interface.
        let process_reply_user = out.join("process_replyUser.c");
        let process_reply_header = out.join("process_reply_U.h");
        run_mig_user(&include, &include.join("hurd/process_reply.defs"), &process_reply_user, &process_reply_header);
        // A notice as a client could forge it (our own .defs), for tests.
        let notice_user = out.join("noticeUser.c");
        let notice_header = out.join("notice_U.h");
        run_mig_user(&include, &mig_dir.join("notice.defs"), &notice_user, &notice_header);
        let defaults = out.join("defaults.c");
        std::fs::write(&defaults, weak_defaults(&headers)).expect("write defaults.c");
        let demux = out.join("demux.c");
        std::fs::write(&demux, demux_c(SERVED)).expect("write demux.c");

        let mut cc = cc::Build::new();
        if no_compiler_chosen() {
            cc.compiler("clang");
        }
        cc.flag(format!("--sysroot={}", sysroot.display()))
            .include(&mig_dir)
            .include(&out)
            .files(&servers)
            .file(&defaults)
            .file(&demux)
            .file(&nowait_user)
            .file(&notice_user)
            .file(&process_reply_user)
            .file(mig_dir.join("hurd-sys-glue.c"))
            .define("_GNU_SOURCE", None)
            .warnings(false)
            .compile("hurd_sys_stubs");
        // The user side of the Hurd's and Mach's interfaces is in the C
        // library's companions.
        println!("cargo::rustc-link-lib=dylib=hurduser");
        println!("cargo::rustc-link-lib=dylib=machuser");

        let mut wrapper = String::from(
            "#define _GNU_SOURCE 1\n#include <hurd.h>\n#include <hurd/fs.h>\n#include <hurd/io.h>\n\
             #include <hurd/fsys.h>\n#include <hurd/socket.h>\n#include <hurd/exec.h>\n#include <hurd/msg.h>\n#include <hurd/process.h>\n#include <hurd/paths.h>\n#include <mach.h>\n\
             #include <mach/notify.h>\n#include <mach/mig_errors.h>\n#include <hurd/hurd_types.h>\n#include <fcntl.h>\n#include \"hurd-sys-decls.h\"\n",
        );
        for h in headers.iter().chain([&nowait_header, &notice_header, &process_reply_header]) {
            let _ = writeln!(wrapper, "#include \"{}\"", h.display());
        }
        // Constants the headers define as casts, which bindgen cannot read
        // from a macro: given a name and a type here, their values still
        // come from the headers.
        for (name, ty, value) in [
            ("HURD_SYS_RIGHT_SEND", "mach_port_right_t", "MACH_PORT_RIGHT_SEND"),
            ("HURD_SYS_RIGHT_RECEIVE", "mach_port_right_t", "MACH_PORT_RIGHT_RECEIVE"),
            ("HURD_SYS_RIGHT_SEND_ONCE", "mach_port_right_t", "MACH_PORT_RIGHT_SEND_ONCE"),
            ("HURD_SYS_RIGHT_PORT_SET", "mach_port_right_t", "MACH_PORT_RIGHT_PORT_SET"),
            ("HURD_SYS_RIGHT_DEAD_NAME", "mach_port_right_t", "MACH_PORT_RIGHT_DEAD_NAME"),
            ("HURD_SYS_PORT_DEAD", "mach_port_t", "MACH_PORT_DEAD"),
            ("HURD_SYS_TASK_BOOTSTRAP_PORT", "int", "TASK_BOOTSTRAP_PORT"),
            // The slots of the port array exec hands a new program, and
            // the exec flags a translator's parent starts it with.
            ("HURD_SYS_INIT_PORT_CWDIR", "int", "INIT_PORT_CWDIR"),
            ("HURD_SYS_INIT_PORT_CRDIR", "int", "INIT_PORT_CRDIR"),
            ("HURD_SYS_INIT_PORT_AUTH", "int", "INIT_PORT_AUTH"),
            ("HURD_SYS_INIT_PORT_PROC", "int", "INIT_PORT_PROC"),
            ("HURD_SYS_INIT_PORT_CTTYID", "int", "INIT_PORT_CTTYID"),
            ("HURD_SYS_INIT_PORT_BOOTSTRAP", "int", "INIT_PORT_BOOTSTRAP"),
            ("HURD_SYS_INIT_PORT_MAX", "int", "INIT_PORT_MAX"),
            ("HURD_SYS_EXEC_DEFAULTS", "int", "EXEC_DEFAULTS"),
            ("HURD_SYS_INIT_UMASK", "int", "INIT_UMASK"),
            ("HURD_SYS_PORT_TYPE_DEAD_NAME", "mach_port_type_t", "MACH_PORT_TYPE_DEAD_NAME"),
            ("HURD_SYS_INIT_INT_MAX", "int", "INIT_INT_MAX"),
        ] {
            let _ = writeln!(wrapper, "static const {ty} {name} = {value};");
        }
        let target = env::var("TARGET").expect("cargo sets TARGET");
        let bindings = bindgen::Builder::default()
            .header_contents("hurd-sys-wrapper.h", &wrapper)
            .clang_arg(format!("--target={target}"))
            .clang_arg(format!("--sysroot={}", sysroot.display()))
            .clang_arg(format!("-I{}", mig_dir.display()))
            .clang_arg(format!("-I{}", out.display()))
            .use_core()
            .derive_default(true)
            .layout_tests(false)
            .allowlist_function(
                "file_name_lookup|file_name_lookup_under|getcwdir|getcrdir|setcrdir|getproc|getauth|setauth|getdport",
            )
            .allowlist_function("(io|file|dir|fsys|proc|auth|exec|msg|socket)_[a-z_0-9]+")
            .allowlist_function(
                "mach_port_[a-z_]+|mach_msg|mach_msg_server|mach_reply_port|task_[a-z_]+|thread_suspend|thread_info|vm_(allocate|deallocate)",
            )
            .allowlist_function("S_[a-z_0-9]+|do_mach_notify_[a-z_]+|exec_exec_paths|getdport")
            .allowlist_function("hurd_sys_[a-z_]+")
            .allowlist_var("__mach_task_self_|MACH_[A-Z_0-9]+|KERN_[A-Z_]+|FS_RETRY_[A-Z]+|FSYS_GOAWAY_[A-Z]+")
            .allowlist_var(
                "O_[A-Z]+|E[A-Z0-9]+|HURD_SYS_[A-Z_]+|TASK_[A-Z_]+_PORT|S_IF[A-Z]+|MIG_[A-Z_]+|FS_TRANS_[A-Z]+",
            )
            .allowlist_type("io_statbuf_t|retry_type|mach_msg_header_t|mig_reply_header_t")
            // What proc_getprocinfo answers: its layout and the kernel's
            // task and thread information it carries.
            .allowlist_type(
                "procinfo|task_basic_info|task_events_info|task_thread_times_info|thread_basic_info|thread_sched_info",
            )
            .allowlist_var("PI_FETCH_[A-Z_]+|TASK_(BASIC|EVENTS|THREAD_TIMES)_INFO|THREAD_(BASIC|SCHED)_INFO")
            .generate()
            .unwrap_or_else(|e| panic!("hurd-sys: bindgen over {}: {e}", include.display()));
        bindings.write_to_file(out.join("bindings.rs")).expect("write bindings.rs");
    }

    fn no_compiler_chosen() -> bool {
        let target = env::var("TARGET").unwrap_or_default();
        let names = [format!("CC_{target}"), format!("CC_{}", target.replace('-', "_")), "TARGET_CC".to_owned()];
        names.iter().all(|n| env::var_os(n).is_none())
    }

    /// MIG for this target: `HURD_MIG`, else Debian's `<arch>-gnu-mig`.
    fn mig_command() -> String {
        println!("cargo::rerun-if-env-changed=HURD_MIG");
        if let Some(m) = env::var_os("HURD_MIG") {
            return m.to_string_lossy().into_owned();
        }
        match env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
            Ok("x86") => "i686-gnu-mig".to_owned(),
            _ => "x86_64-gnu-mig".to_owned(),
        }
    }

    /// The MIG mutations, read with `-imacros` before every `.defs`: each
    /// object port type of `served` becomes a `hurd_sys_object_t`, looked
    /// up before the routine runs and released after it (the functions are
    /// hurd-server's, declared in `mig/hurd-sys-decls.h`).
    pub fn mutations_h(served: &[Interface]) -> String {
        let mut h = String::from("/* Generated by build.rs from its list of served interfaces. */\n");
        for (prefix, ctype) in served.iter().flat_map(|i| i.objects) {
            let _ = write!(
                h,
                "#define {prefix}_INTRAN hurd_sys_object_t hurd_sys_object_from_port ({ctype})\n\
                 #define {prefix}_INTRAN_PAYLOAD hurd_sys_object_t hurd_sys_object_from_payload\n\
                 #define {prefix}_DESTRUCTOR hurd_sys_object_release (hurd_sys_object_t)\n\
                 #define {prefix}_IMPORTS import \"hurd-sys-decls.h\";\n"
            );
        }
        h
    }

    /// `hurd_sys_demux`: every served interface's demultiplexer in turn
    /// (each handles its own message IDs only).
    pub fn demux_c(served: &[Interface]) -> String {
        let mut c = String::from("#include \"hurd-sys-decls.h\"\n");
        for i in served {
            let _ = writeln!(c, "extern boolean_t {}_server (mach_msg_header_t *, mach_msg_header_t *);", i.name);
        }
        c.push_str("boolean_t\nhurd_sys_demux (mach_msg_header_t *in, mach_msg_header_t *out)\n{\n  return ");
        let calls: Vec<String> = served.iter().map(|i| format!("{}_server (in, out)", i.name)).collect();
        c.push_str(&calls.join("\n    || "));
        c.push_str(";\n}\n");
        c
    }

    /// MIG over a sysroot `.defs`, for its server side, with the mutations.
    fn run_mig(include: &Path, mutations: &Path, defs: &Path, server: &Path, header: &Path) {
        mig(include, defs, |c| {
            c.arg("-imacros").arg(mutations).arg("-DSERVERPREFIX=S_");
            c.arg("-server").arg(server).arg("-sheader").arg(header);
            c.args(["-user", "/dev/null", "-header", "/dev/null"]);
        });
    }

    /// MIG over one of our own `.defs` (in mig/), for its user side only.
    fn run_mig_user(include: &Path, defs: &Path, user: &Path, header: &Path) {
        mig(include, defs, |c| {
            c.args(["-server", "/dev/null", "-sheader", "/dev/null"]);
            c.arg("-user").arg(user).arg("-header").arg(header);
        });
    }

    /// Runs MIG on `defs` with the target's preprocessor, the sysroot's
    /// headers only, and the outputs `outputs` names.
    fn mig(include: &Path, defs: &Path, outputs: impl FnOnce(&mut Command)) {
        let mig = mig_command();
        println!("cargo::rerun-if-changed={}", defs.display());
        let mut command = Command::new(&mig);
        command.args(["-cc", target_cpp()]).arg("-nostdinc").arg(format!("-I{}", include.display()));
        outputs(&mut command);
        let status = command
            .arg(defs)
            .status()
            .unwrap_or_else(|e| panic!("hurd-sys: cannot run {mig} (set HURD_MIG to the target's MIG): {e}"));
        assert!(status.success(), "hurd-sys: {mig} failed on {}", defs.display());
    }

    /// The preprocessor MIG runs the `.defs` through: against the sysroot
    /// only, and for the target's word size (their types, `time_t`,
    /// `long`, the size of `io_statbuf_t`, follow the target's, and the
    /// build machine's preprocessor is 64-bit).
    fn target_cpp() -> &'static str {
        match env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
            Ok("x86") => "cpp -m32",
            _ => "cpp",
        }
    }

    /// A weak definition of every server routine in `headers`, answering
    /// EOPNOTSUPP after logging once: the Rust side defines only the
    /// routines it implements, and its definitions take precedence.
    pub fn weak_defaults(headers: &[PathBuf]) -> String {
        let mut c = String::from("#include <errno.h>\n#include \"hurd-sys-decls.h\"\n");
        for h in headers {
            let text = std::fs::read_to_string(h).expect("read a MIG header");
            let _ = writeln!(c, "#include \"{}\"", h.display());
            for (name, params) in prototypes(&text) {
                let routine = name.trim_start_matches("S_").trim_start_matches("do_");
                let _ = writeln!(
                    c,
                    "__attribute__ ((weak)) kern_return_t {name} ({params})\n\
                     {{ hurd_sys_unimplemented (\"{routine}\"); return EOPNOTSUPP; }}"
                );
            }
        }
        c
    }

    /// The server routines a MIG header declares: `kern_return_t NAME`
    /// followed by its parameter list in parentheses.
    pub fn prototypes(header: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut lines = header.lines().peekable();
        while let Some(line) = lines.next() {
            let Some(name) = line.trim().strip_prefix("kern_return_t ") else { continue };
            let name = name.trim();
            if !(name.starts_with("S_") || name.starts_with("do_")) || name.contains('(') {
                continue;
            }
            if lines.peek().map(|l| l.trim()) != Some("(") {
                continue;
            }
            lines.next();
            let mut params = Vec::new();
            for l in lines.by_ref() {
                let l = l.trim();
                if l == ");" {
                    break;
                }
                params.push(l.trim_end_matches(',').to_owned());
            }
            out.push((name.to_owned(), params.join(", ")));
        }
        out
    }
}
