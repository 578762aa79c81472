//! hurd-probe: asks the Hurd through the safe layer and prints the answer.
//!
//!   hurd-probe translator PATH   the passive translator on PATH
//!   hurd-probe pids              this process's PIDs, from the proc server
//!   hurd-probe options PATH [OPTION...]
//!                                the options of the translator on PATH itself
//!                                (fsysopts reaches a firmlink's target instead);
//!                                with OPTIONs, set them first
//!   hurd-probe bench-lookup PATH COUNT
//!                                look PATH up and stat it COUNT times; print
//!                                the mean nanoseconds per lookup and stat

#![deny(unsafe_code)]

use sandbox_cli::{EXIT_OS, Program};

const PROGRAM: Program = Program {
    name: "hurd-probe",
    version: env!("CARGO_PKG_VERSION"),
    usage: &["translator PATH", "pids", "options PATH [OPTION...]", "bench-lookup PATH COUNT"],
    doc: "Ask the Hurd a small question through hurd-sandbox's safe layer, and print the answer.",
    options: &[],
    footer: "",
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(first) = args.first() {
        let arg = match first.as_str() {
            "--help" => Some(sandbox_cli::lexopt::Arg::Long("help")),
            "--version" => Some(sandbox_cli::lexopt::Arg::Long("version")),
            _ => None,
        };
        if let Some(text) = arg.and_then(|a| PROGRAM.standard(&a)) {
            print!("{text}");
            return;
        }
    }
    let question = parse(&args).unwrap_or_else(|m| PROGRAM.usage_error(m));
    match ask(&question) {
        Ok(answer) => println!("{answer}"),
        Err(m) => PROGRAM.fail(EXIT_OS, m),
    }
}

#[derive(Debug, PartialEq)]
enum Question {
    Translator(std::path::PathBuf),
    Pids,
    BenchLookup(std::path::PathBuf, u32),
    Options(std::path::PathBuf, Vec<String>),
}

fn parse(args: &[String]) -> Result<Question, String> {
    match args {
        [cmd, path] if cmd == "translator" => Ok(Question::Translator(path.into())),
        [cmd] if cmd == "pids" => Ok(Question::Pids),
        [cmd, path, set @ ..] if cmd == "options" => Ok(Question::Options(path.into(), set.to_vec())),
        [cmd, path, count] if cmd == "bench-lookup" => match count.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Question::BenchLookup(path.into(), n)),
            _ => Err(format!("COUNT must be a positive number, not {count:?}")),
        },
        [] => Err("no question: `translator PATH` or `pids`".into()),
        _ => Err(format!("unknown question: {}", args.join(" "))),
    }
}

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
fn ask(question: &Question) -> Result<String, String> {
    match question {
        Question::Translator(path) => {
            let node = hurd::fs::lookup(path, hurd::fs::O_NOTRANS, 0).map_err(|e| e.to_string())?;
            Ok(hurd::fs::translator(&node).map_err(|e| e.to_string())?.join(" "))
        }
        Question::Pids => {
            let p = hurd::process::pids().map_err(|e| e.to_string())?;
            Ok(format!("pid {} ppid {} orphaned {}", p.pid, p.ppid, p.orphaned))
        }
        Question::Options(path, set) => {
            let node = hurd::fs::lookup(path, hurd::fs::O_NOTRANS, 0).map_err(|e| e.to_string())?;
            let control = hurd::fs::translator_control(&node).map_err(|e| e.to_string())?;
            if !set.is_empty() {
                hurd::fs::set_options(&control, set).map_err(|e| e.to_string())?;
            }
            Ok(hurd::fs::options(&control).map_err(|e| e.to_string())?.join(" "))
        }
        Question::BenchLookup(path, count) => {
            let start = std::time::Instant::now();
            for _ in 0..*count {
                let node = hurd::fs::lookup(path, hurd::fs::O_READ, 0).map_err(|e| e.to_string())?;
                hurd::fs::stat(&node).map_err(|e| e.to_string())?;
            }
            Ok(format!("{}", start.elapsed().as_nanos() / u128::from(*count)))
        }
    }
}

#[cfg(not(all(target_os = "hurd", hurd_sys_generated)))]
fn ask(_: &Question) -> Result<String, String> {
    Err("needs GNU/Hurd (and hurd-sys built from a GNU/Hurd sysroot)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse(&s(&["translator", "/servers/socket/1"])),
            Ok(Question::Translator("/servers/socket/1".into()))
        );
        assert_eq!(parse(&s(&["pids"])), Ok(Question::Pids));
        assert!(parse(&s(&[])).unwrap_err().starts_with("no question"));
        assert_eq!(parse(&s(&["pids", "x"])), Err("unknown question: pids x".into()));
        assert_eq!(parse(&s(&["bench-lookup", "/a", "10"])), Ok(Question::BenchLookup("/a".into(), 10)));
        assert!(parse(&s(&["bench-lookup", "/a", "0"])).is_err());
        assert_eq!(parse(&s(&["options", "/l"])), Ok(Question::Options("/l".into(), vec![])));
        assert_eq!(parse(&s(&["options", "/l", "-r"])), Ok(Question::Options("/l".into(), vec!["-r".into()])));
    }
}
