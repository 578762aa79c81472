//! firmlink-rs: arguments → bootstrap port → startup → serve.

#![deny(unsafe_code)]

use firmlink::options::Options;
use sandbox_cli::{EXIT_OS, Opt, Program};

const PROGRAM: Program = Program {
    name: "firmlink-rs",
    version: env!("CARGO_PKG_VERSION"),
    usage: &["[OPTION...] TARGET"],
    doc: "A translator for firmlinks: the node it sits on leads to TARGET, and `..` from inside TARGET \
leads back to where the link sits.",
    options: &[
        Opt {
            short: Some('r'),
            long: "readonly",
            arg: None,
            doc: "refuse every change through the link (EROFS), below a directory TARGET too, whatever the \
host's permissions",
        },
        Opt {
            short: Some('w'),
            long: "writable",
            arg: None,
            doc: "hand TARGET out as the client may use it (default)",
        },
        Opt {
            short: Some('t'),
            long: "timeout",
            arg: Some("SECONDS"),
            doc: "go away after SECONDS without a lookup (0: never)",
        },
    ],
    footer: "Example: settrans -a /tmp/link /hurd/firmlink-rs --readonly /gnu/store\n\
(settrans takes the translator by its file name, not from PATH.)\n",
};

fn main() {
    sandbox_cli::init_logging();
    let mut raw = Vec::new();
    for arg in std::env::args().skip(1) {
        if let Some(text) = PROGRAM.standard(&long_or_short(&arg)) {
            print!("{text}");
            return;
        }
        raw.push(arg);
    }
    let options = Options::parse(&raw, None).unwrap_or_else(|e| PROGRAM.usage_error(e));
    log::debug!("options: {:?}", options.to_args());
    if let Err(e) = serve(options) {
        PROGRAM.fail(EXIT_OS, e);
    }
}

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
fn serve(options: Options) -> Result<(), hurd_server::ServerError> {
    let program = std::env::args().next().unwrap_or_else(|| PROGRAM.name.to_owned());
    let idle = options.timeout;
    let link = firmlink::link::Firmlink::new(program, options);
    hurd_server::startup(link, hurd::fs::O_READ)?;
    hurd_server::serve(2, idle)
}

#[cfg(not(all(target_os = "hurd", hurd_sys_generated)))]
fn serve(_: Options) -> Result<(), String> {
    Err("serving a firmlink needs GNU/Hurd (and hurd-sys built from a GNU/Hurd sysroot)".into())
}

/// The standard options as lexopt would name them, so that `Program`
/// handles --help/--usage/--version the same for every program.
fn long_or_short(arg: &str) -> sandbox_cli::lexopt::Arg<'_> {
    use sandbox_cli::lexopt::Arg;
    match arg {
        "-?" => Arg::Short('?'),
        "-V" => Arg::Short('V'),
        _ => match arg.strip_prefix("--") {
            Some(long) => Arg::Long(long),
            None => Arg::Value(arg.into()),
        },
    }
}
