//! The command-line conventions of the suite, modelled on GNU argp: a
//! `--help` that lists options in two columns, `--usage`, `--version`,
//! errors as `PROGRAM: message` on stderr with exit status 64 for usage
//! errors, and logging through `RUST_LOG`.

#![deny(unsafe_code)]

use std::fmt::Write as _;

pub use lexopt;

/// Exit status for a command-line mistake (argp's, sysexits' EX_USAGE).
pub const EXIT_USAGE: i32 = 64;
/// Exit status for input that was read and refused (EX_DATAERR).
pub const EXIT_DATA: i32 = 65;
/// Exit status when the system refused (EX_OSERR).
pub const EXIT_OS: i32 = 71;

/// One option as `--help` shows it.
#[derive(Debug, Clone, Copy)]
pub struct Opt {
    pub short: Option<char>,
    pub long: &'static str,
    /// The argument's name, e.g. `SECONDS`, if the option takes one.
    pub arg: Option<&'static str>,
    pub doc: &'static str,
}

/// A program's description for `--help`, `--usage` and `--version`.
#[derive(Debug, Clone, Copy)]
pub struct Program {
    pub name: &'static str,
    pub version: &'static str,
    /// Usage lines after the program name, e.g. `[OPTION...] SPEC`.
    pub usage: &'static [&'static str],
    /// What the program does, one paragraph.
    pub doc: &'static str,
    pub options: &'static [Opt],
    /// Text after the options (environment, examples).
    pub footer: &'static str,
}

const STANDARD: [Opt; 3] = [
    Opt { short: Some('?'), long: "help", arg: None, doc: "give this help list" },
    Opt { short: None, long: "usage", arg: None, doc: "give a short usage message" },
    Opt { short: Some('V'), long: "version", arg: None, doc: "print program version" },
];

impl Program {
    pub fn help(&self) -> String {
        let mut out = String::new();
        for (i, u) in self.usage.iter().enumerate() {
            let lead = if i == 0 { "Usage:" } else { "  or: " };
            let _ = writeln!(out, "{lead} {} {u}", self.name);
        }
        let _ = writeln!(out, "{}\n", self.doc);
        for opt in self.options.iter().chain(STANDARD.iter()) {
            let short = match opt.short {
                Some(c) => format!("-{c}, "),
                None => "    ".to_owned(),
            };
            let long = match opt.arg {
                Some(a) => format!("--{}={a}", opt.long),
                None => format!("--{}", opt.long),
            };
            let left = format!("  {short}{long}");
            if left.len() < 28 {
                let _ = writeln!(out, "{left:<29}{}", opt.doc);
            } else {
                let _ = writeln!(out, "{left}\n{:29}{}", "", opt.doc);
            }
        }
        if !self.footer.is_empty() {
            let _ = write!(out, "\n{}", self.footer);
            if !self.footer.ends_with('\n') {
                out.push('\n');
            }
        }
        let _ = writeln!(
            out,
            "\nRUST_LOG=debug (or trace) logs what the program does to stderr. settrans starts a translator\n\
             with an empty environment: give it one with\n  settrans -a NODE /bin/env RUST_LOG=debug \
             $(command -v {}) ARG...",
            self.name
        );
        out
    }

    pub fn usage_text(&self) -> String {
        let mut out = String::new();
        for u in self.usage {
            let _ = writeln!(out, "Usage: {} {u}", self.name);
        }
        out
    }

    pub fn version_text(&self) -> String {
        format!("{} (hurd-sandbox) {}\n", self.name, self.version)
    }

    /// Handles the options every program has. `Some(text)` is what to
    /// print on stdout before exiting with success.
    pub fn standard(&self, arg: &lexopt::Arg<'_>) -> Option<String> {
        use lexopt::Arg::{Long, Short};
        match arg {
            Short('?') | Long("help") => Some(self.help()),
            Long("usage") => Some(self.usage_text()),
            Short('V') | Long("version") => Some(self.version_text()),
            _ => None,
        }
    }

    /// Reports a usage error argp's way and exits.
    pub fn usage_error(&self, message: impl std::fmt::Display) -> ! {
        eprintln!("{}: {message}", self.name);
        eprintln!("Try `{} --help' or `{} --usage' for more information.", self.name, self.name);
        std::process::exit(EXIT_USAGE)
    }

    /// Reports an error and exits with `status`.
    pub fn fail(&self, status: i32, message: impl std::fmt::Display) -> ! {
        eprintln!("{}: {message}", self.name);
        std::process::exit(status)
    }
}

/// Starts logging to stderr, filtered by `RUST_LOG` (warnings by default).
pub fn init_logging() {
    init_logging_at(None);
}

/// Starts logging to stderr, filtered by `level` (a `--log-level`: a
/// level such as `debug`, or anything `RUST_LOG` takes) when given, and
/// otherwise by `RUST_LOG` (warnings by default).
pub fn init_logging_at(level: Option<&str>) {
    let mut builder = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"));
    if let Some(level) = level {
        builder.parse_filters(level);
    }
    builder.format_timestamp_millis().init();
}

/// Whether `text` is a `--log-level`: `off`, `error`, `warn`, `info`,
/// `debug` or `trace`, or such levels and `RUST_LOG`'s `module=level`
/// items, joined by commas.
pub fn is_log_filter(text: &str) -> bool {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let level = |l: &str| LEVELS.iter().any(|known| known.eq_ignore_ascii_case(l));
    let module = |m: &str| !m.is_empty() && m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    !text.is_empty()
        && text.split(',').all(|item| match item.split_once('=') {
            Some((m, l)) => module(m) && level(l),
            None => level(item),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Program = Program {
        name: "frob",
        version: "1.2.3",
        usage: &["[OPTION...] FILE", "--check FILE"],
        doc: "Frob a file.",
        options: &[
            Opt { short: Some('c'), long: "check", arg: None, doc: "only check" },
            Opt { short: Some('t'), long: "timeout", arg: Some("SECONDS"), doc: "give up after SECONDS" },
            Opt { short: None, long: "a-very-long-option-name", arg: Some("VALUE"), doc: "wraps" },
        ],
        footer: "",
    };

    #[test]
    fn help_lists_options_in_two_columns() {
        let help = P.help();
        let lines: Vec<&str> = help.lines().collect();
        assert_eq!(lines[0], "Usage: frob [OPTION...] FILE");
        assert_eq!(lines[1], "  or:  frob --check FILE");
        assert!(lines.contains(&"  -c, --check                only check"));
        assert!(lines.contains(&"  -t, --timeout=SECONDS      give up after SECONDS"));
        assert!(lines.contains(&"      --a-very-long-option-name=VALUE"));
        assert!(lines.contains(&"  -?, --help                 give this help list"));
        assert!(lines.contains(&"  -V, --version              print program version"));
    }

    #[test]
    fn log_filters() {
        for good in ["debug", "TRACE", "off", "sandbox_root=debug", "warn,sandbox_root::run=trace"] {
            assert!(is_log_filter(good), "{good}");
        }
        for bad in ["", "loud", "hurd", "a=loud", "debug,", "x y", "=debug"] {
            assert!(!is_log_filter(bad), "{bad}");
        }
    }

    #[test]
    fn standard_options() {
        use lexopt::Arg;
        assert_eq!(P.standard(&Arg::Long("version")).unwrap(), "frob (hurd-sandbox) 1.2.3\n");
        assert_eq!(P.standard(&Arg::Short('V')), P.standard(&Arg::Long("version")));
        assert!(P.standard(&Arg::Short('?')).unwrap().starts_with("Usage: frob"));
        assert_eq!(
            P.standard(&Arg::Long("usage")).unwrap(),
            "Usage: frob [OPTION...] FILE\nUsage: frob --check FILE\n"
        );
        assert_eq!(P.standard(&Arg::Short('c')), None);
    }
}
