//! sandbox-root: arguments → spec → plan → (on the Hurd) bootstrap port,
//! startup, serve.

#![deny(unsafe_code)]

use std::path::PathBuf;

use sandbox_cli::{EXIT_DATA, EXIT_OS, Opt, Program, lexopt};

const PROGRAM: Program = Program {
    name: "sandbox-root",
    version: env!("CARGO_PKG_VERSION"),
    usage: &["[OPTION...] SPEC", "--check SPEC"],
    doc: "Serve the build environment that SPEC (a JSON file) describes, as the root translator \
of the node it is set on.",
    options: &[Opt {
        short: Some('c'),
        long: "check",
        arg: None,
        doc: "validate SPEC, print the environment it describes, and exit",
    }],
    footer: "The spec format is described in docs/spec.md.\n\
Example: settrans -a /tmp/build-root sandbox-root spec.json\n",
};

struct Args {
    check: bool,
    spec: PathBuf,
}

fn parse_args() -> Result<Args, lexopt::Error> {
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
            Value(v) if spec.is_none() => spec = Some(PathBuf::from(v)),
            _ => return Err(arg.unexpected()),
        }
    }
    let spec = spec.ok_or("missing SPEC: the JSON file describing the environment")?;
    Ok(Args { check, spec })
}

fn main() {
    sandbox_cli::init_logging();
    let args = parse_args().unwrap_or_else(|e| PROGRAM.usage_error(e));
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
    if args.check {
        print!("{}", sandbox_root::check::report(&name, &plan));
        return;
    }
    if let Err(e) = serve(plan) {
        PROGRAM.fail(EXIT_OS, e);
    }
}

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
fn serve(plan: sandbox_spec::Plan) -> Result<(), hurd::server::ServerError> {
    sandbox_root::serve::run(plan, std::env::args().collect())
}

#[cfg(not(all(target_os = "hurd", hurd_sys_generated)))]
fn serve(_: sandbox_spec::Plan) -> Result<(), String> {
    Err(format!(
        "serving an environment needs GNU/Hurd (this is {}, or hurd-sys was built without a sysroot); --check works anywhere",
        std::env::consts::OS
    ))
}
