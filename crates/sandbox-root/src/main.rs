//! sandbox-root: arguments → spec → plan → (on the Hurd) bootstrap port,
//! startup, serve. `sandbox-root exec NODE -- CMD` runs CMD inside;
//! `sandbox-root run SPEC -- CMD` does the whole per-build sequence.

#![deny(unsafe_code)]

use std::ffi::OsString;
use std::path::PathBuf;

use sandbox_cli::{EXIT_DATA, EXIT_OS, Opt, Program, lexopt};
use sandbox_root::run::{Parsed, RunArgs};

const PROGRAM: Program = Program {
    name: "sandbox-root",
    version: env!("CARGO_PKG_VERSION"),
    usage: &[
        "[OPTION...] SPEC",
        "--check SPEC",
        "exec NODE [--] CMD [ARG...]",
        "run [--node=PATH] [--keep-failed] [--log-level=LEVEL] SPEC -- CMD [ARG...]",
    ],
    doc: "Serve the build environment that SPEC (a JSON file) describes, as the root translator \
of the node it is set on; or run CMD inside the environment served on NODE (as its root, in the \
spec's working directory, as the spec's user and group, with the spec's environment) and exit \
with CMD's status; or (run) do all of it for one build: check SPEC, set sandbox-root on a fresh \
node, run CMD inside, end everything of the environment whatever CMD did, check that nothing is \
left, remove the node it made, and exit with CMD's status.",
    options: &[
        Opt {
            short: Some('c'),
            long: "check",
            arg: None,
            doc: "validate SPEC, print the environment it describes, and exit",
        },
        Opt {
            short: None,
            long: "log-level",
            arg: Some("LEVEL"),
            doc: "log at LEVEL (error, warn, info, debug, trace; or module=level, as RUST_LOG), not \
RUST_LOG's; run passes it on to the translator and to exec",
        },
        Opt {
            short: None,
            long: "node",
            arg: Some("PATH"),
            doc: "run: set the environment on PATH (absent, or an empty regular file only you may write), \
not on a new file in a private directory in $TMPDIR or /tmp (which is removed afterwards; a PATH that \
was there stays, a plain file again); a file with more than one name is refused",
        },
        Opt {
            short: None,
            long: "keep-failed",
            arg: None,
            doc: "run: when CMD fails, hand the build directory to you (under sudo, to SUDO_UID); \
a file with more than one name, what a symbolic link names, and a node with a translator (and \
what is below it) are never changed",
        },
    ],
    footer: "run exits with CMD's status (128 + N for a CMD killed by signal N), 65 for a bad SPEC \
(nothing is started), 71 when a step fails or something of the environment is left (each is \
named); SIGINT, SIGTERM and SIGHUP end the build as CMD's end does, and run exits with 128 + N.\n\
The spec format is described in docs/spec.md.\n\
Example: settrans -a /tmp/build-root /hurd/sandbox-root spec.json\n\
(settrans takes the translator by its file name, not from PATH.)\n\
Example: sandbox-root run spec.json -- /bin/sh\n",
};

struct Args {
    check: bool,
    spec: PathBuf,
}

enum Mode {
    Serve(Args),
    Exec { node: PathBuf, command: Vec<OsString> },
    Run(RunArgs),
}

/// The mode, and the `--log-level` given.
fn parse_args() -> Result<(Mode, Option<String>), lexopt::Error> {
    use lexopt::prelude::*;
    let mut check = false;
    let mut spec = None;
    let mut level = None;
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        if let Some(text) = PROGRAM.standard(&arg) {
            print!("{text}");
            std::process::exit(0);
        }
        match arg {
            Short('c') | Long("check") => check = true,
            Long("log-level") => level = Some(sandbox_root::run::log_level(parser.value()?)?),
            Value(v) if spec.is_none() && !check && v == "exec" => {
                let node = parser.value().map_err(|_| "exec: missing NODE: the environment's node")?;
                let mut command: Vec<OsString> = parser.raw_args()?.collect();
                if command.first().is_some_and(|a| a == "--") {
                    command.remove(0);
                }
                if command.is_empty() {
                    return Err("exec: missing CMD: the command to run inside".into());
                }
                return Ok((Mode::Exec { node: node.into(), command }, level));
            }
            Value(v) if spec.is_none() && !check && v == "run" => {
                return match sandbox_root::run::parse_args(&PROGRAM, &mut parser)? {
                    Parsed::Print(text) => {
                        print!("{text}");
                        std::process::exit(0)
                    }
                    Parsed::Run(mut args) => {
                        args.log_level = args.log_level.or(level);
                        let level = args.log_level.clone();
                        Ok((Mode::Run(args), level))
                    }
                };
            }
            Value(v) if spec.is_none() => spec = Some(PathBuf::from(v)),
            _ => return Err(arg.unexpected()),
        }
    }
    let spec = spec.ok_or("missing SPEC: the JSON file describing the environment")?;
    Ok((Mode::Serve(Args { check, spec }), level))
}

fn main() {
    let (mode, level) = parse_args().unwrap_or_else(|e| PROGRAM.usage_error(e));
    sandbox_cli::init_logging_at(level.as_deref());
    let args = match mode {
        Mode::Serve(args) => args,
        Mode::Exec { node, command } => {
            // (run starts exec with its ending signals blocked.)
            sandbox_root::run::unblock_signals();
            match exec(&node, &command) {
                Ok(status) => std::process::exit(status),
                Err(e) => PROGRAM.fail(EXIT_OS, e),
            }
        }
        Mode::Run(args) => std::process::exit(run(&args)),
    };
    let name = args.spec.display().to_string();
    let plan = sandbox_root::check::read(&args.spec, &name).unwrap_or_else(|problems| refuse(&problems));
    log::debug!("{name}: {} entries", plan.tree.entries().len());
    if args.check {
        print!("{}", sandbox_root::check::report(&name, &plan));
        for what in sandbox_root::check::unserved(&plan) {
            eprintln!("{}: {name}: warning: sandbox-root would refuse to serve this: {what}", PROGRAM.name);
        }
        return;
    }
    let refused = sandbox_root::check::refusals(&plan, &name, sandbox_root::check::on_host);
    if !refused.is_empty() {
        refuse(&refused);
    }
    if let Err(e) = serve(plan, &args.spec) {
        PROGRAM.fail(EXIT_OS, e);
    }
}

/// Reports a spec's problems, a line each, and exits.
fn refuse(problems: &[String]) -> ! {
    for problem in problems {
        eprintln!("{}: {problem}", PROGRAM.name);
    }
    std::process::exit(EXIT_DATA)
}

/// `run`: the sequence, then what it found, a line each; the status to
/// exit with.
fn run(args: &RunArgs) -> i32 {
    let outcome = sandbox_root::run::main(args);
    for note in &outcome.notes {
        eprintln!("{}: run: {note}", PROGRAM.name);
    }
    for error in &outcome.errors {
        match error {
            // (As serving reports them.)
            sandbox_root::run::RunError::Spec { problems } => {
                problems.iter().for_each(|p| eprintln!("{}: {p}", PROGRAM.name))
            }
            _ => eprintln!("{}: run: {error}", PROGRAM.name),
        }
    }
    outcome.status
}

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
fn serve(plan: sandbox_spec::Plan, spec: &std::path::Path) -> Result<(), String> {
    // fsysopts shows, and `exec` reads, the spec by its absolute name.
    let spec = std::fs::canonicalize(spec).map_err(|e| format!("{}: {e}", spec.display()))?;
    let program = std::env::args().next().unwrap_or_else(|| PROGRAM.name.to_owned());
    sandbox_root::serve::run(plan, vec![program, spec.display().to_string()]).map_err(|e| e.to_string())
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
