//! `sandbox-root run` as a user types it, off the Hurd: its arguments,
//! and a bad spec refused as serving refuses it before anything starts.

use std::process::{Command, Output};

fn sandbox_root(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sandbox-root")).args(args).env_remove("RUST_LOG").output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A spec file of its own, with `body`.
fn spec(name: &str, body: &str) -> String {
    let path = std::env::temp_dir().join(format!("sandbox-root-run-cli-{name}-{}.json", std::process::id()));
    std::fs::write(&path, body).unwrap();
    path.display().to_string()
}

#[test]
fn help_names_run_and_its_options() {
    let out = sandbox_root(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(
        help.lines()
            .any(|l| l
                == "  or:  sandbox-root run [--node=PATH] [--keep-failed] [--log-level=LEVEL] SPEC -- CMD [ARG...]"),
        "{help}"
    );
    for option in ["--node=PATH", "--keep-failed", "--log-level=LEVEL"] {
        assert!(help.lines().any(|l| l.trim_start().starts_with(option)), "{option}: {help}");
    }
    // The same from inside run's own options.
    let out = sandbox_root(&["run", "--help"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), help);
    let out = sandbox_root(&["run", "--version"]);
    assert_eq!(text(&out.stdout), format!("sandbox-root (hurd-sandbox) {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors() {
    for (args, message) in [
        (&["run"][..], "sandbox-root: run: missing SPEC: the JSON file describing the environment"),
        (&["run", "s.json"], "sandbox-root: run: missing CMD: the command to run inside, after --"),
        (&["run", "s.json", "--"], "sandbox-root: run: missing CMD: the command to run inside, after --"),
        (&["run", "--log-level=loud", "s.json", "--", "x"], "sandbox-root: --log-level: 'loud' is not a level"),
    ] {
        let out = sandbox_root(args);
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with(message), "{args:?}: {stderr}");
    }
}

#[test]
fn a_bad_spec_is_refused_as_serving_refuses_it() {
    let bad = spec(
        "bad",
        r#"{"version": 1, "build": {"host": "/tmp/b"}, "inputs": ["rel"],
            "user": {"name": "u", "uid": 0, "group": "g", "gid": 100}}"#,
    );
    let served = sandbox_root(&[&bad]);
    let run = sandbox_root(&["run", &bad, "--", "/bin/true"]);
    assert_eq!(run.status.code(), Some(65));
    assert_eq!(served.status.code(), Some(65));
    let stderr = text(&run.stderr);
    assert_eq!(stderr, text(&served.stderr), "the same lines as serving");
    assert!(stderr.contains(&format!("sandbox-root: {bad}: $.inputs[0]")), "{stderr}");
    assert!(stderr.contains(&format!("sandbox-root: {bad}: $.user.uid")), "{stderr}");
    let missing = sandbox_root(&["run", "/nonexistent/spec.json", "--", "/bin/true"]);
    assert_eq!(missing.status.code(), Some(65));
    assert!(text(&missing.stderr).starts_with("sandbox-root: /nonexistent/spec.json: "));
    std::fs::remove_file(bad).unwrap();
}

#[test]
fn off_the_hurd_run_says_why_after_checking_the_spec() {
    let good = spec(
        "good",
        r#"{"version": 1, "build": {"host": "/tmp/b"}, "servers": {"proc": "host"},
            "user": {"name": "u", "uid": 1000, "group": "g", "gid": 100}}"#,
    );
    let out = sandbox_root(&["run", &good, "--", "/bin/true"]);
    assert_eq!(out.status.code(), Some(71));
    assert!(text(&out.stderr).contains("needs GNU/Hurd"), "{}", text(&out.stderr));
    std::fs::remove_file(good).unwrap();
}
