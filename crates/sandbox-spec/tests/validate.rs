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

    // Listed devices cannot sit inside a firmlinked /dev (a host directory
    // of the spec's: the host's own /dev is refused, see below)...
    let (at, msg) = refused(&spec(r#""paths": [{"host": "/opt/dev", "path": "/dev"}], "devices": ["null"]"#));
    assert_eq!(at, "$.devices[0]");
    assert_eq!(msg, "/dev/null lies inside /dev (from $.paths[0].path), which is not a directory of the environment");
    // ...while the default ones give way to it.
    let plan = parse(&spec(r#""paths": [{"host": "/opt/dev", "path": "/dev"}]"#)).unwrap();
    assert!(matches!(plan.tree.resolve("/dev/null"), Ok(Resolution::Firmlink { rest, .. }) if rest == "null"));
    // Server nodes never give way: a firmlinked /servers would bypass them.
    let errors = parse(&spec(r#""paths": [{"host": "/opt/servers", "path": "/servers"}]"#)).unwrap_err();
    let at: Vec<_> = errors.problems().iter().map(|p| p.at.as_str()).collect();
    assert_eq!(at, ["$.servers.proc", "$.servers.sockets.local", "$.servers.sockets.inet", "$.servers.sockets.inet6"]);
    assert_eq!(
        errors.problems()[0].kind.to_string(),
        "/servers/proc lies inside /servers (from $.paths[0].path), which is not a directory of the environment"
    );
}

#[test]
fn the_root_cannot_be_an_entry() {
    let (at, msg) = refused(&spec(r#""paths": [{"host": "/opt/root", "path": "/"}]"#));
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

/// A minimal spec with `build` as its build directory and `extra` merged
/// into its top level.
fn spec_with_build(build: &str, extra: &str) -> String {
    let base = format!(
        r#""version": 1, "build": {build},
        "user": {{ "name": "u", "uid": 1000, "group": "g", "gid": 100 }}"#
    );
    if extra.is_empty() { format!("{{{base}}}") } else { format!("{{{base}, {extra}}}") }
}

/// A minimal spec with `user` as its build user.
fn spec_with_user(user: &str) -> String {
    format!(r#"{{"version": 1, "build": {{"host": "/tmp/b"}}, "user": {user}}}"#)
}

/// Every problem a spec is refused with, as `(at, message)`.
fn problems(text: &str) -> Vec<(String, String)> {
    let errors = parse(text).expect_err("spec must be refused");
    errors.problems().iter().map(|p| (p.at.clone(), p.kind.to_string())).collect()
}

#[test]
fn host_servers_devices_and_processes_are_refused() {
    // Each door, at it or below it, wherever a host path is given.
    for (given, at, path, door) in [
        (r#""paths": [{"host": "/servers", "path": "/s"}]"#, "$.paths[0].host", "/servers", "/servers"),
        (r#""paths": [{"host": "/servers/socket", "path": "/s"}]"#, "$.paths[0].host", "/servers/socket", "/servers"),
        (
            r#""paths": [{"host": "/servers/socket/2", "path": "/s"}]"#,
            "$.paths[0].host",
            "/servers/socket/2",
            "/servers",
        ),
        (
            r#""paths": [{"host": "/servers/password", "path": "/s"}]"#,
            "$.paths[0].host",
            "/servers/password",
            "/servers",
        ),
        (
            r#""paths": [{"host": "/dev/hd0", "path": "/disk", "writable": true}]"#,
            "$.paths[0].host",
            "/dev/hd0",
            "/dev",
        ),
        (r#""paths": [{"host": "/proc", "path": "/p"}]"#, "$.paths[0].host", "/proc", "/proc"),
        (
            r#""paths": [{"host": "/var/guix/daemon-socket/socket", "path": "/s"}]"#,
            "$.paths[0].host",
            "/var/guix/daemon-socket/socket",
            "/var/guix/daemon-socket",
        ),
        (r#""inputs": ["/dev/null"]"#, "$.inputs[0]", "/dev/null", "/dev"),
        (r#""inputs": ["/proc/1"]"#, "$.inputs[0]", "/proc/1", "/proc"),
        (r#""outputs": ["/dev/new"]"#, "$.outputs[0]", "/dev/new", "/dev"),
    ] {
        let errors = parse(&spec(given)).unwrap_err();
        let [p] = errors.problems() else { panic!("{given}: {errors}") };
        assert_eq!(p.at, at, "{given}");
        match &p.kind {
            ProblemKind::HostDoor { path: got, door: got_door, .. } => {
                assert_eq!((got.as_str(), *got_door), (path, door), "{given}");
            }
            other => panic!("{given}: {other}"),
        }
        let msg = p.kind.to_string();
        assert!(msg.starts_with(&format!("{path} is the host's {door} or lies inside it: ")), "{msg}");
        assert!(msg.ends_with(", which the build must not reach"), "{msg}");
    }
    let (at, msg) = refused(&spec(r#""paths": [{"host": "/servers/socket", "path": "/s"}]"#));
    assert_eq!(at, "$.paths[0].host");
    assert_eq!(
        msg,
        "/servers/socket is the host's /servers or lies inside it: the nodes the host's servers answer on (sockets, \
         exec, password, crash and more), which the build must not reach"
    );
    let errors = parse(&spec_with_build(r#"{"host": "/dev/shm/b", "path": "/build"}"#, "")).unwrap_err();
    assert!(
        matches!(
            &errors.problems()[0],
            sandbox_spec::Problem { at, kind: ProblemKind::HostDoor { door: "/dev", .. } } if at == "$.build.host"
        ),
        "{errors}"
    );

    // A directory above a door hands the door over too, and the host's
    // root is above everything.
    let (at, msg) = refused(&spec(r#""paths": [{"host": "/var", "path": "/v"}]"#));
    assert_eq!(at, "$.paths[0].host");
    assert_eq!(
        msg,
        "/var holds the host's /var/guix/daemon-socket: guix-daemon's socket, through which a client builds and adds \
         to the store, which the build must not reach"
    );
    let (at, msg) = refused(&spec(r#""paths": [{"host": "/", "path": "/host"}]"#));
    assert_eq!(at, "$.paths[0].host");
    assert_eq!(
        msg,
        "the host's root `/` cannot be given to the build: it holds every host file, /servers, /dev and /proc among them"
    );
    assert_eq!(refused(&spec_with_build(r#"{"host": "/", "path": "/build"}"#, "")).0, "$.build.host");
    // (An input at `/` is also the environment's root.)
    let got = problems(&spec(r#""inputs": ["//"]"#));
    assert_eq!(got[0].0, "$.inputs[0]");
    assert!(got[0].1.starts_with("the host's root `/` cannot be given to the build"), "{got:?}");

    // Ordinary directories, the translators' programs among them, are fine
    // (and a name that merely starts like a door's is no door).
    let plan = parse(&spec(
        r#""paths": [{"host": "/bin"}, {"host": "/lib"}, {"host": "/hurd"}, {"host": "/etc"},
            {"host": "/devices"}, {"host": "/var/guix/profiles", "path": "/profiles"},
            {"host": "/gnu/store/abc-bash/bin/sh", "path": "/usr/bin/sh"}]"#,
    ))
    .unwrap();
    assert!(matches!(plan.tree.resolve("/hurd/ext2fs"), Ok(Resolution::Firmlink { rest, .. }) if rest == "ext2fs"));
}

#[test]
fn what_the_build_writes_stays_off_what_it_reads() {
    // A build directory inside a read-only input or path.
    let (at, msg) = refused(&spec_with_build(
        r#"{"host": "/srv/in/build", "path": "/build"}"#,
        r#""paths": [{"host": "/srv/in", "path": "/in"}]"#,
    ));
    assert_eq!(at, "$.build.host");
    assert_eq!(
        msg,
        "/srv/in/build is writable, but lies inside /srv/in, which $.paths[0].host gives read-only: the build could \
         change what it is given read-only"
    );
    let (at, msg) =
        refused(&spec_with_build(r#"{"host": "/gnu/store/a/b", "path": "/build"}"#, r#""inputs": ["/gnu/store/a"]"#));
    assert_eq!(at, "$.build.host");
    assert!(msg.contains("lies inside /gnu/store/a, which $.inputs[0] gives read-only"), "{msg}");

    // A writable path that holds a read-only one, or is one.
    let (at, msg) = refused(&spec(r#""paths": [{"host": "/tmp/b/src", "path": "/src"}]"#));
    assert_eq!(at, "$.build.host");
    assert_eq!(
        msg,
        "/tmp/b is writable and holds /tmp/b/src, which $.paths[0].host gives read-only: the build could rename or \
         replace it"
    );
    let (at, msg) = refused(&spec(
        r#""paths": [{"host": "/srv/x", "path": "/a"}, {"host": "/srv/x", "path": "/b", "writable": true}]"#,
    ));
    assert_eq!(at, "$.paths[1].host");
    assert_eq!(
        msg,
        "/srv/x is writable, but $.paths[0].host gives it read-only: the build could change what it is given read-only"
    );
    let (at, msg) = refused(&spec(r#""paths": [{"host": "/gnu/store/a", "path": "/a"}], "outputs": ["/gnu/store/a"]"#));
    assert_eq!(
        (at.as_str(), msg.as_str()),
        (
            "$.outputs[0]",
            "/gnu/store/a is writable, but $.paths[0].host gives it read-only: the build could change what it is given read-only"
        )
    );
    // An output inside a read-only view of the whole store.
    let (at, msg) = refused(&spec(r#""paths": [{"host": "/gnu/store", "path": "/ro"}], "outputs": ["/gnu/store/x"]"#));
    assert_eq!(at, "$.outputs[0]");
    assert!(msg.starts_with("/gnu/store/x is writable, but lies inside /gnu/store, which $.paths[0].host"), "{msg}");

    // Writable paths do not overlap each other: the later one is refused.
    let (at, msg) = refused(&spec(r#""paths": [{"host": "/tmp/b/cache", "path": "/cache", "writable": true}]"#));
    assert_eq!(at, "$.paths[0].host");
    assert_eq!(
        msg,
        "/tmp/b/cache and /tmp/b (writable from $.build.host) overlap on the host: writable host paths must not be \
         the same or lie one inside the other"
    );
    let (at, _) = refused(&spec(
        r#""paths": [{"host": "/srv/w", "path": "/w1", "writable": true}, {"host": "/srv/w", "path": "/w2", "writable": true}]"#,
    ));
    assert_eq!(at, "$.paths[1].host");
    let got = problems(&spec_with_build(
        r#"{"host": "/srv/s", "path": "/build"}"#,
        r#""store": "/srv/s", "outputs": ["/srv/s/x"]"#,
    ));
    assert_eq!(
        got,
        [
            (
                "$.build.host".to_owned(),
                "/srv/s is writable and holds the store /srv/s: the build could change every item in it".to_owned()
            ),
            (
                "$.outputs[0]".to_owned(),
                "/srv/s/x and /srv/s (writable from $.build.host) overlap on the host: writable host paths must not be \
                 the same or lie one inside the other"
                    .to_owned()
            ),
        ]
    );

    // But for outputs, the build writes nowhere in the store or above it.
    let (at, msg) = refused(&spec(r#""paths": [{"host": "/gnu/store/zzz-other", "path": "/o", "writable": true}]"#));
    assert_eq!(at, "$.paths[0].host");
    assert_eq!(
        msg,
        "/gnu/store/zzz-other is writable and lies in the store /gnu/store: only the build's outputs may be made there"
    );
    let (at, msg) = refused(&spec_with_build(r#"{"host": "/gnu", "path": "/build"}"#, ""));
    assert_eq!(at, "$.build.host");
    assert!(msg.contains("holds the store /gnu/store"), "{msg}");

    // Read-only paths may nest, and writable ones lie beside them.
    parse(&spec(
        r#""inputs": ["/gnu/store/a-bash"], "outputs": ["/gnu/store/b-out"],
            "paths": [{"host": "/gnu/store/a-bash/bin/sh", "path": "/bin/sh"}, {"host": "/srv/w", "path": "/w", "writable": true},
                      {"host": "/tmp/bb", "path": "/bb"}]"#,
    ))
    .unwrap();
}

#[test]
fn outputs_are_items_directly_in_the_store() {
    let plan = parse(&spec(r#""outputs": ["/gnu/store/abc-out"]"#)).unwrap();
    assert_eq!(plan.store.as_str(), sandbox_spec::DEFAULT_STORE);
    let plan =
        parse(&spec(r#""store": "/srv/store/", "outputs": ["/srv/store/abc-out", "/srv/store/abc-doc"]"#)).unwrap();
    assert_eq!(plan.store.as_str(), "/srv/store");

    for (output, at) in
        [("/tmp/out", "$.outputs[0]"), ("/gnu/store/a/b", "$.outputs[0]"), ("/gnu/storex", "$.outputs[0]")]
    {
        let (got, msg) = refused(&spec(&format!(r#""outputs": ["{output}"]"#)));
        assert_eq!(got, at);
        assert_eq!(
            msg,
            format!(
                "the output {output} is not directly in the store /gnu/store: an output is one item in it, /gnu/store/NAME"
            )
        );
    }
    let (at, msg) = refused(&spec(r#""outputs": ["/gnu/store"]"#));
    assert_eq!(
        (at.as_str(), msg.as_str()),
        ("$.outputs[0]", "the output /gnu/store is the store itself: an output is one item in it, /gnu/store/NAME")
    );
    let (at, msg) = refused(&spec(r#""store": "/srv/s", "outputs": ["/gnu/store/abc-out"]"#));
    assert_eq!(at, "$.outputs[0]");
    assert!(msg.contains("is not directly in the store /srv/s"), "{msg}");
    for name in ["a\nb", ".hidden", "a b", "a:b"] {
        let output = serde_json_string(&format!("/gnu/store/{name}"));
        let (at, msg) = refused(&spec(&format!(r#""outputs": [{output}]"#)));
        assert_eq!(at, "$.outputs[0]", "{name:?}");
        assert_eq!(
            msg,
            format!(
                "output name {name:?} may hold only letters, digits and `+-._?=`, and not start with `.` (as a store \
                 item's name)"
            )
        );
    }
    // An output that is an input is given twice, once.
    let (at, msg) = refused(&spec(r#""inputs": ["/gnu/store/a"], "outputs": ["/gnu/store/a"]"#));
    assert_eq!((at.as_str(), msg.as_str()), ("$.outputs[0]", "/gnu/store/a is given twice (first at $.inputs[0])"));

    // The store is a host path like any other.
    let (at, msg) = refused(&spec(r#""store": "gnu/store""#));
    assert_eq!((at.as_str(), msg.as_str()), ("$.store", "\"gnu/store\" is not an absolute path"));
    let (at, msg) = refused(&spec(r#""store": "/""#));
    assert_eq!(at, "$.store");
    assert!(msg.starts_with("the host's root `/` cannot be given"), "{msg}");
    assert_eq!(refused(&spec(r#""store": "/dev""#)).0, "$.store");
}

/// `text` as a JSON string, quotes included.
fn serde_json_string(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[test]
fn the_build_runs_with_ids_of_its_own() {
    let user =
        |uid: u64, gid: u64| spec_with_user(&format!(r#"{{"name": "u", "uid": {uid}, "group": "g", "gid": {gid}}}"#));
    let (at, msg) = refused(&user(0, 100));
    assert_eq!(
        (at.as_str(), msg.as_str()),
        ("$.user.uid", "uid 0 is root's, which may do anything on the host: the build must run with ids of its own")
    );
    let (at, msg) = refused(&user(1000, 0));
    assert_eq!(
        (at.as_str(), msg.as_str()),
        (
            "$.user.gid",
            "gid 0 is the root group's, which owns the host's system files: the build must run with ids of its own"
        )
    );
    let (at, msg) = refused(&user(65534, 100));
    assert_eq!(
        (at.as_str(), msg.as_str()),
        (
            "$.user.uid",
            "uid 65534 is nobody's, which anything else running as nobody has too: the build must run with ids of \
             its own"
        )
    );
    let (at, msg) = refused(&user(1000, 4_294_967_295));
    assert_eq!(
        (at.as_str(), msg.as_str()),
        (
            "$.user.gid",
            "gid 4294967295 is -1, which chown and the set*id calls read as \"leave it unchanged\": the build must \
             run with ids of its own"
        )
    );
    let at: Vec<String> = problems(&user(0, 0)).into_iter().map(|(at, _)| at).collect();
    assert_eq!(at, ["$.user.uid", "$.user.gid"]);
    // Low ids that are not root's are the daemon's to choose.
    assert_eq!(parse(&user(1, 1)).unwrap().exec.uid, 1);
}

#[test]
fn values_written_into_generated_files_cannot_break_them() {
    let user = |home: &str| {
        spec_with_user(&format!(r#"{{"name": "u", "uid": 1000, "group": "g", "gid": 100, "home": {home}}}"#))
    };
    let reason = "holds `:` or a control character such as a newline, which would break /etc/passwd";
    for home in ["/home/a:b", "/home/u\nroot::0:0::/:/bin/sh", "/home/u\r"] {
        let (at, msg) = refused(&user(&serde_json_string(home)));
        assert_eq!(at, "$.user.home", "{home:?}");
        assert_eq!(msg, format!("home directory {home:?} {reason}"));
    }
    assert_eq!(refused(&user(r#""home""#)), ("$.user.home".to_owned(), "\"home\" is not an absolute path".to_owned()));
    assert_eq!(parse(&user(r#""/home/u""#)).unwrap().user.home.as_str(), "/home/u");

    // Host names go into /etc/hosts and /etc/hostname.
    for name in ["a\nb", "a b", "a\tb", "a\u{0}b", "a/b", "a:b"] {
        let (at, msg) = refused(&spec(&format!(r#""hostname": {}"#, serde_json_string(name))));
        assert_eq!(at, "$.hostname", "{name:?}");
        assert_eq!(msg, format!("host name {name:?} may hold only letters, digits, `-` and dots"));
    }

    // The accounts the generated files have already are not the build's.
    let named = |name: &str, group: &str| {
        spec_with_user(&format!(r#"{{"name": "{name}", "uid": 1000, "group": "{group}", "gid": 100}}"#))
    };
    assert_eq!(
        refused(&named("root", "g")),
        (
            "$.user.name".to_owned(),
            "user name \"root\" is an account the generated /etc/passwd has already, with another id".to_owned()
        )
    );
    assert_eq!(refused(&named("nobody", "g")).0, "$.user.name");
    assert_eq!(
        refused(&named("u", "nogroup")),
        (
            "$.user.group".to_owned(),
            "group name \"nogroup\" is a group the generated /etc/group has already, with another id".to_owned()
        )
    );
}

#[test]
fn nul_bytes_are_refused_wherever_they_are() {
    let got = problems(&spec(
        r#""paths": [{"host": "/a\u0000", "path": "/b\u0000"}], "inputs": ["/gnu/store/x\u0000"],
            "outputs": ["/gnu/store/y\u0000"], "store": "/gnu/store\u0000",
            "exec": {"cwd": "/tmp\u0000", "env": {"K\u0000": "v", "V": "\u0000"}}"#,
    ));
    let at: Vec<&str> = got.iter().map(|(at, _)| at.as_str()).collect();
    assert_eq!(
        at,
        [
            "$.store",
            "$.inputs[0]",
            "$.outputs[0]",
            "$.paths[0].host",
            "$.paths[0].path",
            "$.exec.cwd",
            "$.exec.env.K\u{0}",
            "$.exec.env.V"
        ]
    );
    assert!(got[..6].iter().all(|(_, msg)| msg.ends_with("has a NUL byte")), "{got:?}");
    assert!(got[6].1.contains("must be non-empty, without `=` or NUL"), "{got:?}");
    assert!(got[7].1.ends_with("has a NUL byte"), "{got:?}");
}
