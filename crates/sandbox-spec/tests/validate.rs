//! Spec → plan: what a valid spec gives, and the exact problem each kind
//! of bad spec is refused with.

use sandbox_spec::{
    Access, Device, EntryKind, NetworkPolicy, PathError, ProblemKind, Provider, Resolution, SocketDomain, parse,
};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

fn example(name: &str) -> String {
    std::fs::read_to_string(format!("{EXAMPLES}/{name}")).expect("example exists")
}

/// A minimal spec with `extra` merged into its top level.
fn spec(extra: &str) -> String {
    let base = r#""version": 1,
        "build": { "host": "/tmp/b" },
        "user": { "name": "u", "uid": 1000, "group": "g", "gid": 100 }"#;
    if extra.is_empty() { format!("{{{base}}}") } else { format!("{{{base}, {extra}}}") }
}

/// The single problem a spec is refused with, as `(at, message)`.
fn refused(text: &str) -> (String, String) {
    let errors = parse(text).expect_err("spec must be refused");
    assert_eq!(errors.problems().len(), 1, "expected one problem, got: {errors}");
    let p = &errors.problems()[0];
    (p.at.clone(), p.kind.to_string())
}

#[test]
fn guix_example_gives_the_expected_plan() {
    let plan = parse(&example("guix-hello.json")).unwrap();
    let build = "/tmp/guix-build-hello-2.12.1.drv-0";
    assert_eq!(plan.build_dir.as_str(), build);
    assert_eq!(plan.exec.cwd.as_str(), build);
    assert_eq!((plan.exec.uid, plan.exec.gid), (30001, 30000));
    assert_eq!(plan.exec.env["NIX_STORE"], "/gnu/store");
    assert_eq!(plan.network, NetworkPolicy::Loopback);
    assert!(plan.servers.pid_namespace());
    assert_eq!(plan.servers.first_pid, 1);
    assert_eq!(plan.servers.sockets[&SocketDomain::Local], Provider::Private);
    assert_eq!(plan.servers.sockets[&SocketDomain::Inet], Provider::Filtered);

    match plan.tree.resolve(build).unwrap() {
        Resolution::Firmlink { host, access, rest, .. } => {
            assert_eq!(host.as_str(), build);
            assert_eq!(access, Access::ReadWrite);
            assert_eq!(rest, "");
        }
        other => panic!("build dir resolved to {other:?}"),
    }
    match plan.tree.resolve("/gnu/store/5hzjvbrpdhvqa8b1fjjqg8d9qwbkn0pw-glibc-2.39/lib/libc.so").unwrap() {
        Resolution::Firmlink { access, rest, .. } => {
            assert_eq!(access, Access::ReadOnly);
            assert_eq!(rest, "lib/libc.so");
        }
        other => panic!("input resolved to {other:?}"),
    }
    match plan.tree.resolve("/bin/sh").unwrap() {
        Resolution::Firmlink { host, access, .. } => {
            assert!(host.as_str().ends_with("bash-minimal-5.1.16/bin/sh"));
            assert_eq!(access, Access::ReadOnly);
        }
        other => panic!("/bin/sh resolved to {other:?}"),
    }
    let Resolution::File { content, .. } = plan.tree.resolve("/etc/passwd").unwrap() else { panic!() };
    assert!(content.contains("guixbuilder01:x:30001:30000:build user:/homeless-shelter:/bin/sh\n"), "{content}");
    let Resolution::File { content, .. } = plan.tree.resolve("/etc/group").unwrap() else { panic!() };
    assert!(content.contains("guixbuild:x:30000:\n"), "{content}");
    let Resolution::File { content, .. } = plan.tree.resolve("/etc/hosts").unwrap() else { panic!() };
    assert!(content.starts_with("127.0.0.1 localhost"), "{content}");
    assert_eq!(
        plan.tree.resolve("/dev/full").unwrap(),
        Resolution::Device { path: &sandbox_spec::AbsPath::parse("/dev/full").unwrap(), device: Device::Full }
    );
    // tty and ptmx only when asked.
    assert!(plan.tree.resolve("/dev/tty").is_err());
    assert!(plan.tree.resolve("/dev/ptmx").is_err());
    // /proc is off in this spec.
    assert!(plan.tree.resolve("/proc").is_err());
}

#[test]
fn every_example_is_valid() {
    for name in ["guix-hello.json", "minimal.json", "fixed-output.json", "allow-list.json"] {
        if let Err(e) = parse(&example(name)) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn defaults_fill_a_minimal_spec() {
    let plan = parse(&spec("")).unwrap();
    assert_eq!(plan.build_dir.as_str(), "/tmp/b");
    assert_eq!(plan.user.home.as_str(), sandbox_spec::DEFAULT_HOME);
    assert_eq!(plan.hostname, "localhost");
    let names: Vec<_> = plan
        .tree
        .entries()
        .into_iter()
        .filter(|(_, e)| matches!(e.kind, EntryKind::Device(_)))
        .map(|(p, _)| p.to_string())
        .collect();
    assert_eq!(names, ["/dev/fd", "/dev/full", "/dev/null", "/dev/random", "/dev/urandom", "/dev/zero"]);
    assert!(matches!(plan.tree.resolve("/dev/stdout"), Ok(Resolution::Symlink { target: "fd/1", .. })));
    let Resolution::File { content, .. } = plan.tree.resolve("/etc/hostname").unwrap() else { panic!() };
    assert_eq!(content, "localhost\n");
    // Below /dev/fd, the C library answers.
    assert!(matches!(plan.tree.resolve("/dev/fd/3"), Ok(Resolution::Magic { name, .. }) if name == "fd/3"));
    assert!(matches!(plan.tree.resolve("/dev/fd"), Ok(Resolution::Device { device: Device::Fd, .. })));
}

#[test]
fn given_files_replace_generated_ones() {
    let plan = parse(&spec(r#""files": [{"path": "/etc/passwd", "content": "x:x:1:1::/:/bin/sh\n"}]"#)).unwrap();
    let Resolution::File { content, .. } = plan.tree.resolve("/etc/passwd").unwrap() else { panic!() };
    assert_eq!(content, "x:x:1:1::/:/bin/sh\n");
    let entry = plan.tree.entries().into_iter().find(|(p, _)| p.as_str() == "/etc/passwd").unwrap().1;
    assert_eq!(entry.origin, "$.files[0].path");
}

#[test]
fn a_firmlinked_etc_takes_the_place_of_generated_files() {
    let plan = parse(&spec(r#""paths": [{"host": "/etc"}]"#)).unwrap();
    assert!(matches!(plan.tree.resolve("/etc/passwd"), Ok(Resolution::Firmlink { rest, .. }) if rest == "passwd"));
}

#[test]
fn syntax_errors_give_line_and_column() {
    let (at, msg) = refused("{\n  \"version\": 1,\n  oops\n}");
    assert_eq!(at, "line 3, column 3");
    assert!(msg.starts_with("not valid JSON"), "{msg}");
}

#[test]
fn version_is_checked_first() {
    assert_eq!(refused(r#"{"build": {}}"#).0, "$");
    let (at, msg) = refused(r#"{"version": 2, "whatever": true}"#);
    assert_eq!(at, "$.version");
    assert_eq!(msg, "version 2 is not known: this sandbox-root reads version 1");
    assert_eq!(refused(r#"{"version": "1"}"#).1, "version \"1\" is not known: this sandbox-root reads version 1");
}

#[test]
fn unknown_fields_are_named_where_they_are() {
    let (at, msg) = refused(&spec(r#""inputz": []"#));
    assert_eq!(at, "$.inputz");
    assert!(msg.contains("unknown field `inputz`"), "{msg}");
    let (at, msg) = refused(&spec(r#""paths": [{"host": "/a", "writeable": true}]"#));
    assert_eq!(at, "$.paths[0].writeable");
    assert!(msg.contains("unknown field `writeable`"), "{msg}");
}

#[test]
fn wrong_types_and_missing_fields() {
    let (at, msg) = refused(&spec(r#""inputs": [1]"#));
    assert_eq!(at, "$.inputs[0]");
    assert!(msg.contains("expected a string"), "{msg}");
    let (at, msg) = refused(r#"{"version": 1, "build": {"host": "/b"}}"#);
    assert_eq!(at, "$");
    assert!(msg.contains("missing field `user`"), "{msg}");
    let (at, msg) = refused(&spec(r#""servers": {"proc": "shared"}"#));
    assert_eq!(at, "$.servers.proc");
    assert!(msg.contains("unknown variant `shared`"), "{msg}");
}

#[test]
fn relative_and_dotted_paths_are_refused() {
    let (at, msg) = refused(&spec(r#""inputs": ["/gnu/store/a", "gnu/store/b"]"#));
    assert_eq!((at.as_str(), msg.as_str()), ("$.inputs[1]", "\"gnu/store/b\" is not an absolute path"));
    let errors = parse(&spec(r#""paths": [{"host": "/gnu/../etc", "path": "/x/./y"}]"#)).unwrap_err();
    let got: Vec<_> = errors.problems().iter().map(|p| (p.at.as_str(), p.kind.clone())).collect();
    assert_eq!(
        got,
        [
            ("$.paths[0].host", ProblemKind::Path(PathError::DotDot("/gnu/../etc".into()))),
            ("$.paths[0].path", ProblemKind::Path(PathError::Dot("/x/./y".into()))),
        ]
    );
}

#[test]
fn a_path_given_twice_names_both_places() {
    let (at, msg) = refused(&spec(r#""inputs": ["/gnu/store/a", "/gnu/store/b", "/gnu/store/a/"]"#));
    assert_eq!(at, "$.inputs[2]");
    assert_eq!(msg, "/gnu/store/a is given twice (first at $.inputs[0])");
}

#[test]
fn outputs_are_made_by_the_build_at_their_own_path() {
    let plan =
        parse(&spec(r#""inputs": ["/gnu/store/a-in"], "outputs": ["/gnu/store/b-out", "/gnu/store/c-doc"]"#)).unwrap();
    match plan.tree.resolve("/gnu/store/b-out/bin/x") {
        Ok(Resolution::Firmlink { host, access: Access::Output, rest, .. }) => {
            assert_eq!(host.as_str(), "/gnu/store/b-out");
            assert_eq!(rest, "bin/x");
        }
        other => panic!("{other:?}"),
    }
    let names: Vec<&str> = plan
        .tree
        .list(match plan.tree.resolve("/gnu/store") {
            Ok(Resolution::Directory { node, .. }) => node,
            other => panic!("{other:?}"),
        })
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, ["a-in", "b-out", "c-doc"]);
    let (at, msg) = refused(&spec(r#""inputs": ["/gnu/store/a"], "outputs": ["/gnu/store/a"]"#));
    assert_eq!((at.as_str(), msg.as_str()), ("$.outputs[0]", "/gnu/store/a is given twice (first at $.inputs[0])"));
    let (at, _) = refused(&spec(r#""outputs": ["gnu/store/x"]"#));
    assert_eq!(at, "$.outputs[0]");
}

#[test]
fn entries_inside_or_above_others_are_refused() {
    let (at, msg) =
        refused(&spec(r#""inputs": ["/gnu/store/a"], "paths": [{"host": "/opt/x", "path": "/gnu/store/a/bin"}]"#));
    assert_eq!(at, "$.paths[0].path");
    assert_eq!(
        msg,
        "/gnu/store/a/bin lies inside /gnu/store/a (from $.inputs[0]), which is not a directory of the environment"
    );

    let (at, msg) = refused(&spec(r#""inputs": ["/gnu/store/a"], "paths": [{"host": "/gnu"}]"#));
    assert_eq!(at, "$.paths[0].host");
    assert_eq!(msg, "/gnu would hide /gnu/store/a (from $.inputs[0]) below it");

    // Listed devices cannot sit inside a firmlinked /dev...
    let (at, msg) = refused(&spec(r#""paths": [{"host": "/dev"}], "devices": ["null"]"#));
    assert_eq!(at, "$.devices[0]");
    assert_eq!(msg, "/dev/null lies inside /dev (from $.paths[0].host), which is not a directory of the environment");
    // ...while the default ones give way to it.
    let plan = parse(&spec(r#""paths": [{"host": "/dev"}]"#)).unwrap();
    assert!(matches!(plan.tree.resolve("/dev/null"), Ok(Resolution::Firmlink { rest, .. }) if rest == "null"));
    // Server nodes never give way: a firmlinked /servers would bypass them.
    let errors = parse(&spec(r#""paths": [{"host": "/servers"}]"#)).unwrap_err();
    let at: Vec<_> = errors.problems().iter().map(|p| p.at.as_str()).collect();
    assert_eq!(at, ["$.servers.proc", "$.servers.sockets.local", "$.servers.sockets.inet", "$.servers.sockets.inet6"]);
    assert_eq!(
        errors.problems()[0].kind.to_string(),
        "/servers/proc lies inside /servers (from $.paths[0].host), which is not a directory of the environment"
    );
}

#[test]
fn the_root_cannot_be_an_entry() {
    let (at, msg) = refused(&spec(r#""paths": [{"host": "/", "path": "/"}]"#));
    assert_eq!((at.as_str(), msg.as_str()), ("$.paths[0].path", "the environment's root cannot be an entry"));
}

#[test]
fn unknown_and_repeated_devices() {
    let errors = parse(&spec(r#""devices": ["null", "sda", "null"]"#)).unwrap_err();
    let got: Vec<_> = errors.problems().iter().map(|p| format!("{p}")).collect();
    assert_eq!(
        got,
        [
            "$.devices[1]: no device \"sda\": the devices are null, zero, full, random, urandom, tty, ptmx, fd",
            "$.devices[2]: device \"null\" is listed twice",
        ]
    );
    let plan = parse(&spec(r#""devices": ["null", "tty", "ptmx"]"#)).unwrap();
    // tty is each process's own controlling terminal: a name for its C library.
    assert!(matches!(plan.tree.resolve("/dev/tty"), Ok(Resolution::Magic { name, .. }) if name == "tty"));
    assert!(matches!(plan.tree.resolve("/dev/ptmx"), Ok(Resolution::Device { device: Device::Ptmx, .. })));
    assert!(plan.tree.resolve("/dev/zero").is_err(), "only the devices listed");
    assert!(plan.tree.resolve("/dev/stdin").is_err(), "no fd, no stdio links");
}

#[test]
fn network_ranges_and_ports_are_checked() {
    let errors = parse(&spec(
        r#""network": {"policy": "allow", "allow": [
            {"range": "10.0.0.0/8", "ports": [0, "80-70", 443]},
            {"range": "300.1.2.3"},
            {"range": "10.1.2.3/16"}]}"#,
    ))
    .unwrap_err();
    let got: Vec<_> = errors.problems().iter().map(|p| format!("{p}")).collect();
    assert_eq!(
        got,
        [
            "$.network.allow[0].ports[0]: \"0\" is not a port (1-65535) or a range of ports such as \"8000-8080\"",
            "$.network.allow[0].ports[1]: \"80-70\": the first port of a range is above the last",
            "$.network.allow[1].range: \"300.1.2.3\" is not an IPv4 or IPv6 address",
            "$.network.allow[2].range: \"10.1.2.3/16\" has bits set past its /16 prefix (did you mean 10.1.0.0/16?)",
        ]
    );
}

#[test]
fn allow_rules_are_kept_in_the_plan() {
    let plan = parse(&example("allow-list.json")).unwrap();
    let NetworkPolicy::Allow(rules) = &plan.network else { panic!("{:?}", plan.network) };
    assert_eq!(rules.len(), 2);
    assert!(rules[0].matches("192.0.2.9".parse().unwrap(), 8080));
    assert!(!rules[0].matches("192.0.2.9".parse().unwrap(), 22));
    assert!(rules[1].matches("2001:db8::5".parse().unwrap(), 22));
    assert_eq!(plan.build_dir.as_str(), "/build");
}

#[test]
fn network_settings_that_contradict_each_other() {
    assert_eq!(
        refused(&spec(r#""network": {"policy": "allow"}"#)),
        ("$.network.allow".into(), "policy \"allow\" needs at least one rule".into())
    );
    assert_eq!(
        refused(&spec(r#""network": {"allow": [{"range": "10.0.0.0/8"}]}"#)),
        ("$.network.allow".into(), "rules are read only with \"policy\": \"allow\"".into())
    );
    let (at, msg) = refused(&spec(r#""servers": {"sockets": {"inet": "host"}}"#));
    assert_eq!(at, "$.servers.sockets.inet");
    assert!(msg.starts_with("the host's socket server would bypass the network policy"), "{msg}");
    // The host's local sockets are not the network: allowed with any policy.
    let plan = parse(&spec(r#""servers": {"sockets": {"local": "host"}}"#)).unwrap();
    assert_eq!(plan.servers.sockets[&SocketDomain::Local], Provider::Host);
    let (at, _) = refused(&spec(r#""servers": {"sockets": {"inet6": "private"}}"#));
    assert_eq!(at, "$.servers.sockets.inet6");
    let (at, _) = refused(&spec(r#""servers": {"sockets": {"local": "filtered"}}"#));
    assert_eq!(at, "$.servers.sockets.local");
}

#[test]
fn servers_follow_the_spec() {
    let plan =
        parse(&spec(r#""servers": {"proc": "host", "procfs": true, "sockets": {"inet": "none", "inet6": "none"}}"#))
            .unwrap();
    assert!(!plan.servers.pid_namespace());
    assert!(matches!(
        plan.tree.resolve("/servers/proc"),
        Ok(Resolution::Server { server: sandbox_spec::Server::Proc(Provider::Host), .. })
    ));
    assert!(matches!(plan.tree.resolve("/proc/self/stat"), Ok(Resolution::Server { rest, .. }) if rest == "self/stat"));
    assert!(plan.tree.resolve("/servers/socket/1").is_ok());
    assert!(plan.tree.resolve("/servers/socket/2").is_err());
    assert!(plan.tree.resolve("/servers/socket/26").is_err());
    assert_eq!(plan.servers.sockets.len(), 1);

    let plan = parse(&spec(r#""servers": {"proc": "none"}"#)).unwrap();
    assert!(plan.tree.resolve("/servers/proc").is_err());
    assert_eq!(refused(&spec(r#""servers": {"proc": "none", "procfs": true}"#)).0, "$.servers.procfs");
}

#[test]
fn first_pid_needs_a_namespace_and_a_range() {
    let (at, msg) = refused(&spec(r#""servers": {"proc": "host", "first_pid": 7}"#));
    assert_eq!(at, "$.servers.first_pid");
    assert!(msg.contains("needs a PID namespace"), "{msg}");
    let (at, msg) = refused(&spec(r#""servers": {"first_pid": 0}"#));
    assert_eq!((at.as_str(), msg.as_str()), ("$.servers.first_pid", "PID 0 is outside 1..30000"));
    assert_eq!(parse(&spec(r#""servers": {"first_pid": 300}"#)).unwrap().servers.first_pid, 300);
}

#[test]
fn the_working_directory_must_be_a_directory_inside() {
    let (at, msg) = refused(&spec(r#""exec": {"cwd": "/dev/null"}"#));
    assert_eq!(
        (at.as_str(), msg.as_str()),
        ("$.exec.cwd", "the working directory /dev/null is a device, not a directory of the environment")
    );
    let (_, msg) = refused(&spec(r#""exec": {"cwd": "/home/u"}"#));
    assert!(msg.contains("is not in the environment"), "{msg}");
    // A virtual directory and a place inside the build directory are fine.
    assert_eq!(parse(&spec(r#""exec": {"cwd": "/tmp"}"#)).unwrap().exec.cwd.as_str(), "/tmp");
    assert_eq!(parse(&spec(r#""exec": {"cwd": "/tmp/b/src"}"#)).unwrap().exec.cwd.as_str(), "/tmp/b/src");
}

#[test]
fn names_and_environment_are_checked() {
    let (at, msg) = refused(
        r#"{"version": 1, "build": {"host": "/b"}, "user": {"name": "a:b", "uid": 1, "group": "g", "gid": 1}}"#,
    );
    assert_eq!(
        (at.as_str(), msg.as_str()),
        ("$.user.name", "user name \"a:b\" may hold only letters, digits, `_`, `.` and `-`")
    );
    assert_eq!(refused(&spec(r#""hostname": "-bad""#)).0, "$.hostname");
    assert_eq!(refused(&spec(r#""exec": {"env": {"A=B": "1"}}"#)).0, "$.exec.env.A=B");
    assert_eq!(refused(&spec(r#""exec": {"env": {"A": "x\u0000y"}}"#)).0, "$.exec.env.A");
}

#[test]
fn all_problems_are_reported_at_once() {
    let errors = parse(&spec(r#""inputs": ["rel", "/a/../b"], "devices": ["disk"], "hostname": "a..b""#)).unwrap_err();
    let at: Vec<_> = errors.problems().iter().map(|p| p.at.as_str()).collect();
    assert_eq!(at, ["$.inputs[0]", "$.inputs[1]", "$.devices[0]", "$.hostname"]);
    // And the whole report is one problem a line.
    assert_eq!(errors.to_string().lines().count(), 4);
}
