//! sandbox-root: arguments → spec → plan → (on the Hurd) bootstrap port,
//! startup, serve. `sandbox-root exec NODE -- CMD` runs CMD inside.

#![deny(unsafe_code)]

use std::ffi::OsString;
use std::path::PathBuf;

use sandbox_cli::{EXIT_DATA, EXIT_OS, Opt, Program, lexopt};

const PROGRAM: Program = Program {
    name: "sandbox-root",
    version: env!("CARGO_PKG_VERSION"),
    usage: &["[OPTION...] SPEC", "--check SPEC", "exec NODE [--] CMD [ARG...]"],
    doc: "Serve the build environment that SPEC (a JSON file) describes, as the root translator \
of the node it is set on; or run CMD inside the environment served on NODE (as its root, in the \
spec's working directory, as the spec's user and group, with the spec's environment) and exit \
with CMD's status.",
    options: &[Opt {
        short: Some('c'),
        long: "check",
        arg: None,
        doc: "validate SPEC, print the environment it describes, and exit",
    }],
    footer: "The spec format is described in docs/spec.md.\n\
Example: settrans -a /tmp/build-root /hurd/sandbox-root spec.json\n\
(settrans takes the translator by its file name, not from PATH.)\n",
};

struct Args {
    check: bool,
    spec: PathBuf,
}

enum Mode {
    Serve(Args),
    Exec { node: PathBuf, command: Vec<OsString> },
}

fn parse_args() -> Result<Mode, lexopt::Error> {
    use lexopt::prelude::*;
    let mut check = false;
    let mut spec = None;
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        if let Some(text) = PROGRAM.standard(&arg) {
            print!("{text}");
            std::process::exit(0);
        }
        match arg {
            Short('c') | Long("check") => check = true,
            Value(v) if spec.is_none() && !check && v == "exec" => {
                let node = parser.value().map_err(|_| "exec: missing NODE: the environment's node")?;
                let mut command: Vec<OsString> = parser.raw_args()?.collect();
                if command.first().is_some_and(|a| a == "--") {
                    command.remove(0);
                }
                if command.is_empty() {
                    return Err("exec: missing CMD: the command to run inside".into());
                }
                return Ok(Mode::Exec { node: node.into(), command });
            }
            Value(v) if spec.is_none() => spec = Some(PathBuf::from(v)),
            _ => return Err(arg.unexpected()),
        }
    }
    let spec = spec.ok_or("missing SPEC: the JSON file describing the environment")?;
    Ok(Mode::Serve(Args { check, spec }))
}

fn main() {
    sandbox_cli::init_logging();
    let args = match parse_args().unwrap_or_else(|e| PROGRAM.usage_error(e)) {
        Mode::Serve(args) => args,
        Mode::Exec { node, command } => match exec(&node, &command) {
            Ok(status) => std::process::exit(status),
            Err(e) => PROGRAM.fail(EXIT_OS, e),
        },
    };
    let name = args.spec.display().to_string();
    let text = std::fs::read_to_string(&args.spec).unwrap_or_else(|e| PROGRAM.fail(EXIT_DATA, format!("{name}: {e}")));
    let plan = match sandbox_spec::parse(&text) {
        Ok(plan) => plan,
        Err(errors) => {
            for problem in errors.problems() {
                eprintln!("{}: {name}: {problem}", PROGRAM.name);
            }
            std::process::exit(EXIT_DATA);
        }
    };
    log::debug!("{name}: {} entries", plan.tree.entries().len());
    let unserved = sandbox_root::check::unserved(&plan);
    if args.check {
        print!("{}", sandbox_root::check::report(&name, &plan));
        for what in &unserved {
            eprintln!("{}: {name}: warning: sandbox-root would refuse to serve this: {what}", PROGRAM.name);
        }
        return;
    }
    let existing = sandbox_root::check::existing_outputs(&plan, on_host);
    if !unserved.is_empty() || !existing.is_empty() {
        for what in unserved.iter().chain(&existing) {
            eprintln!("{}: {name}: {what}", PROGRAM.name);
        }
        std::process::exit(EXIT_DATA);
    }
    if let Err(e) = serve(plan, &args.spec) {
        PROGRAM.fail(EXIT_OS, e);
    }
}

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
fn serve(plan: sandbox_spec::Plan, spec: &std::path::Path) -> Result<(), String> {
    // fsysopts shows, and `exec` reads, the spec by its absolute name.
    let spec = std::fs::canonicalize(spec).map_err(|e| format!("{}: {e}", spec.display()))?;
    let program = std::env::args().next().unwrap_or_else(|| PROGRAM.name.to_owned());
    sandbox_root::serve::run(plan, vec![program, spec.display().to_string()]).map_err(|e| e.to_string())
}

/// Whether anything is at the host path `path`: the node itself, never
/// through a link or a translator on it.
#[cfg(all(target_os = "hurd", hurd_sys_generated))]
fn on_host(path: &str) -> bool {
    hurd::fs::lookup(path.as_ref(), hurd::fs::O_NOTRANS | hurd::fs::O_NOLINK, 0).is_ok()
}

#[cfg(not(all(target_os = "hurd", hurd_sys_generated)))]
fn on_host(path: &str) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
fn exec(node: &std::path::Path, command: &[OsString]) -> Result<i32, sandbox_root::exec::ExecError> {
    sandbox_root::exec::exec(node, command)
}

#[cfg(not(all(target_os = "hurd", hurd_sys_generated)))]
fn exec(_: &std::path::Path, _: &[OsString]) -> Result<i32, String> {
    Err("exec needs GNU/Hurd (and hurd-sys built from a GNU/Hurd sysroot)".into())
}

#[cfg(not(all(target_os = "hurd", hurd_sys_generated)))]
fn serve(_: sandbox_spec::Plan, _: &std::path::Path) -> Result<(), String> {
    Err(format!(
        "serving an environment needs GNU/Hurd (this is {}, or hurd-sys was built without a sysroot); --check works anywhere",
        std::env::consts::OS
    ))
}
