//! The sandbox-root program as a user runs it.

use std::process::{Command, Output};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sandbox-root")).args(args).env_remove("RUST_LOG").output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn check_prints_the_guix_environment() {
    let spec = format!("{EXAMPLES}/guix-hello.json");
    let out = run(&["--check", &spec]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with(&format!("spec             {spec}: valid (version 1)\n")), "{stdout}");
    let tree: Vec<&str> = stdout.lines().skip_while(|l| !l.is_empty()).skip(1).collect();
    let names: Vec<String> = tree
        .iter()
        .map(|l| l.trim_start_matches(['│', '├', '└', '─', ' ']).split("  ").next().unwrap().to_owned())
        .collect();
    let expected = [
        "/",
        "bin",
        "sh",
        "dev",
        "fd",
        "full",
        "null",
        "random",
        "stderr",
        "stdin",
        "stdout",
        "urandom",
        "zero",
        "etc",
        "group",
        "hostname",
        "hosts",
        "passwd",
        "gnu",
        "store",
        "0hs2qyfd1k0zf0z4ny36q8gx5xi6x0dm-hello-2.12.1.tar.gz",
        "1zqhgsv3sk6vn1rxgb2m9cz7i7i0l8pz-bash-minimal-5.1.16",
        "5hzjvbrpdhvqa8b1fjjqg8d9qwbkn0pw-glibc-2.39",
        "6fbh8phmp3izay6c0dpggpxhcjn4xlm5-hello-2.12.1",
        "9rl6pgw8qlgx8kkpm03a8ln6a6x0mn5f-coreutils-9.1",
        "bx8w3b2m5bxp3hwq5hzbjkqmhwl5p8wd-gcc-14.2.0",
        "hj5zx8qbl0pr2gcyc7szm8an5y9dgcla-make-4.4.1",
        "v9ydvcmw6kmhcn5nnzr0c9zm08jrcdzm-hurd-headers-0.9.git20251029",
        "zz6b4hnwj2l9i3vl0w2dbmsl1ladq9y4-module-import",
        "servers",
        "proc",
        "socket",
        "1",
        "2",
        "26",
        "tmp",
        "guix-build-hello-2.12.1.drv-0",
    ];
    assert_eq!(names, expected, "{stdout}");
    let build = tree.last().unwrap();
    assert!(build.starts_with("    └── guix-build-hello-2.12.1.drv-0  "), "{build}");
    assert!(build.ends_with("  firmlink (writable) to the same path on the host"), "{build}");
    let output = tree.iter().find(|l| l.contains("── 6fbh8phmp3izay6c0dpggpxhcjn4xlm5-hello-2.12.1 ")).unwrap();
    assert!(output.ends_with("  firmlink (an output, made by the build) to the same path on the host"), "{output}");
    let full = tree.iter().find(|l| l.contains("── full ")).unwrap();
    assert!(full.ends_with("  device full: reads give zeros, writes fail with ENOSPC"), "{full}");
}

#[test]
fn a_bad_spec_is_refused_with_every_problem_named() {
    let dir = std::env::temp_dir().join(format!("sandbox-root-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("bad.json");
    std::fs::write(
        &spec,
        r#"{"version": 1, "build": {"host": "tmp/b"}, "inputs": ["/gnu/store/x", "/gnu/store/x"],
            "user": {"name": "u", "uid": 1, "group": "g", "gid": 1}}"#,
    )
    .unwrap();
    let out = run(&["--check", spec.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(out.stdout.is_empty(), "nothing printed as if valid");
    let name = spec.display();
    assert_eq!(
        text(&out.stderr),
        format!(
            "sandbox-root: {name}: $.build.host: \"tmp/b\" is not an absolute path\n\
             sandbox-root: {name}: $.inputs[1]: /gnu/store/x is given twice (first at $.inputs[0])\n"
        )
    );
}

#[test]
fn a_missing_spec_file_is_named() {
    let out = run(&["--check", "/nonexistent/spec.json"]);
    assert_eq!(out.status.code(), Some(65));
    assert_eq!(text(&out.stderr), "sandbox-root: /nonexistent/spec.json: No such file or directory (os error 2)\n");
}

#[test]
fn usage_errors_exit_64() {
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(64));
    assert!(text(&out.stderr).starts_with("sandbox-root: missing SPEC"), "{}", text(&out.stderr));
    let out = run(&["--frobnicate", "x.json"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(text(&out.stderr).contains("--frobnicate"));
    assert!(text(&out.stderr).contains("Try `sandbox-root --help'"));
}

#[test]
fn help_and_version() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.starts_with("Usage: sandbox-root [OPTION...] SPEC\n"));
    assert!(help.contains("  -c, --check"));
    let out = run(&["-V"]);
    assert_eq!(text(&out.stdout), format!("sandbox-root (hurd-sandbox) {}\n", env!("CARGO_PKG_VERSION")));
}

/// Writes `spec` to a file of its own and runs sandbox-root with `args`
/// and that file's name last.
fn run_with_spec(args: &[&str], spec: &str) -> (Output, String) {
    // A directory of its own per call: tests run in parallel.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("sandbox-root-test-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("spec.json");
    std::fs::write(&file, spec).unwrap();
    let name = file.display().to_string();
    let mut all = args.to_vec();
    all.push(&name);
    let out = run(&all);
    std::fs::remove_dir_all(&dir).unwrap();
    (out, name)
}

#[cfg(not(target_os = "hurd"))]
const HOST_SERVERS: &str = r#"{"version": 1, "build": {"host": "/tmp/b"},
    "user": {"name": "u", "uid": 1000, "group": "g", "gid": 100},
    "servers": {"proc": "host", "sockets": {"local": "host", "inet": "none", "inet6": "none"}}}"#;

#[cfg(not(target_os = "hurd"))]
#[test]
fn serving_off_the_hurd_says_why_after_validating() {
    let (out, _) = run_with_spec(&[], HOST_SERVERS);
    assert_eq!(out.status.code(), Some(71));
    assert!(text(&out.stderr).contains("needs GNU/Hurd"), "{}", text(&out.stderr));
}

#[test]
fn servers_not_served_yet_are_refused_by_name_before_anything_starts() {
    // A /proc of the environment is not served yet.
    let spec = r#"{"version": 1, "build": {"host": "/tmp/b"},
        "user": {"name": "u", "uid": 1000, "group": "g", "gid": 100},
        "servers": {"procfs": true}}"#;
    let (out, name) = run_with_spec(&[], spec);
    assert_eq!(out.status.code(), Some(65));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    // (Not the PID namespace, the private pflocal, nor IP on loopback
    // only: those are served.)
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with(&format!("sandbox-root: {name}: $.servers.procfs")), "{stderr}");
    // --check shows the environment, and warns.
    let (out, _) = run_with_spec(&["--check"], spec);
    assert!(out.status.success());
    assert!(!out.stdout.is_empty());
    assert!(text(&out.stderr).contains("warning: sandbox-root would refuse to serve this: $.servers.procfs"));
    // minimal.json keeps the defaults, all served: nothing to warn of.
    let out = run(&["--check", &format!("{EXAMPLES}/minimal.json")]);
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn exec_needs_a_node_and_a_command() {
    let out = run(&["exec"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(text(&out.stderr).starts_with("sandbox-root: exec: missing NODE"), "{}", text(&out.stderr));
    let out = run(&["exec", "/tmp/build-root", "--"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(text(&out.stderr).starts_with("sandbox-root: exec: missing CMD"), "{}", text(&out.stderr));
}

#[cfg(not(target_os = "hurd"))]
#[test]
fn exec_off_the_hurd_says_why() {
    let out = run(&["exec", "/tmp/build-root", "--", "/bin/true"]);
    assert_eq!(out.status.code(), Some(71));
    assert!(text(&out.stderr).contains("exec needs GNU/Hurd"), "{}", text(&out.stderr));
}
