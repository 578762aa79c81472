//! `--check`: the environment a spec describes, as a person reads it.

use std::fmt::Write as _;
use std::path::Path;

use sandbox_spec::{Access, Device, EntryKind, NetworkPolicy, Plan, Provider, Resolution, SPEC_VERSION, SocketDomain};

/// A summary of the plan followed by its tree.
pub fn report(spec_name: &str, plan: &Plan) -> String {
    let mut out = String::new();
    let mut row = |key: &str, value: String| {
        let _ = writeln!(out, "{key:<17}{value}");
    };
    row("spec", format!("{spec_name}: valid (version {SPEC_VERSION})"));
    let build_host = build_host(plan).unwrap_or_default();
    row("build directory", format!("{} (host {build_host}, writable)", plan.build_dir));
    let u = &plan.user;
    row("build user", format!("{} (uid {}), group {} (gid {}), home {}", u.name, u.uid, u.group, u.gid, u.home));
    row(
        "builder starts",
        format!(
            "in {} with {} environment variable{}",
            plan.exec.cwd,
            plan.exec.env.len(),
            plural(plan.exec.env.len())
        ),
    );
    let s = &plan.servers;
    row(
        "PID namespace",
        match s.proc {
            Some(Provider::Private) => format!("private (sandbox-proc), first PID {}", s.first_pid),
            Some(p) => format!("none: /servers/proc is the {p}'s"),
            None => "none, and no /servers/proc".to_owned(),
        },
    );
    row("/proc", if s.procfs { "procfs over the environment's proc".to_owned() } else { "none".to_owned() });
    let sockets: Vec<String> = s.sockets.iter().map(|(d, p)| format!("{} ({}): {p}", d.name(), d.family())).collect();
    row("sockets", if sockets.is_empty() { "none".to_owned() } else { sockets.join(", ") });
    row(
        "network",
        match &plan.network {
            NetworkPolicy::Loopback => "loopback only".to_owned(),
            NetworkPolicy::Host if s.sockets.values().any(|p| *p == Provider::Filtered) => {
                "the host's, but for its own addresses and loopback services (sandbox-pfinet)".to_owned()
            }
            NetworkPolicy::Host => "the host's".to_owned(),
            NetworkPolicy::Allow(rules) => {
                let rules: Vec<String> = rules
                    .iter()
                    .map(|r| {
                        if r.ports.is_empty() {
                            format!("{} (all ports)", r.range)
                        } else {
                            let ports: Vec<String> = r.ports.iter().map(|p| p.to_string()).collect();
                            format!("{} ports {}", r.range, ports.join(","))
                        }
                    })
                    .collect();
                format!("loopback and {}", rules.join("; "))
            }
        },
    );
    row("host name", plan.hostname.clone());
    out.push('\n');
    out.push_str(&plan.tree.render());
    out
}

/// Where a helper serves a socket domain: on the port it answers its
/// parent with, or on a node it sets itself on (its argument names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serves {
    Bootstrap,
    Node(&'static str),
}

/// A socket server of the environment's own, as sandbox-root starts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketHelper {
    pub program: &'static str,
    pub args: Vec<&'static str>,
    pub domains: Vec<(SocketDomain, Serves)>,
}

/// The node pfinet is told to serve IPv6 on (`-6 NODE`), in a directory
/// of sandbox-root's given to it as its working directory.
pub const INET6_NODE: &str = "inet6";

/// The socket servers of the environment's own that sandbox-root starts
/// for `plan`, as helpers: a pflocal for private local sockets, and for
/// filtered IPv4 and IPv6, one pfinet with no interface but loopback (a
/// network stack of the build's own, which reaches nothing else), serving
/// IPv6 on a node of ours. Under the loopback policy the build is handed
/// that pfinet; under `allow` and `host`, sandbox-pfinet, which puts
/// binds and loopback there and lets the policy's destinations out
/// through the host's stack.
pub fn socket_helpers(plan: &Plan) -> Vec<SocketHelper> {
    let wants = |domain, provider| plan.servers.sockets.get(&domain) == Some(&provider);
    let mut out = Vec::new();
    if wants(SocketDomain::Local, Provider::Private) {
        out.push(SocketHelper {
            program: "/hurd/pflocal",
            args: Vec::new(),
            domains: vec![(SocketDomain::Local, Serves::Bootstrap)],
        });
    }
    {
        let mut pfinet = SocketHelper { program: "/hurd/pfinet", args: Vec::new(), domains: Vec::new() };
        if wants(SocketDomain::Inet, Provider::Filtered) {
            pfinet.domains.push((SocketDomain::Inet, Serves::Bootstrap));
        }
        if wants(SocketDomain::Inet6, Provider::Filtered) {
            pfinet.args.extend(["-6", INET6_NODE]);
            pfinet.domains.push((SocketDomain::Inet6, Serves::Node(INET6_NODE)));
        }
        if !pfinet.domains.is_empty() {
            out.push(pfinet);
        }
    }
    out
}

/// The outputs of `plan` that `exists` says are already there on the
/// host, each named with its place in the spec: a build starts with none
/// of its outputs (the daemon removes stale ones first), so that nothing
/// a stranger or an earlier build left at an output's path (a link, a
/// translator record) is ever opened for this build.
pub fn existing_outputs(plan: &Plan, exists: impl Fn(&str) -> bool) -> Vec<String> {
    plan.tree
        .entries()
        .into_iter()
        .filter_map(|(_, entry)| match &entry.kind {
            EntryKind::Firmlink { host, access: Access::Output } if exists(host.as_str()) => {
                Some(format!("{}: the output {host} already exists on the host; remove it first", entry.origin))
            }
            _ => None,
        })
        .collect()
}

/// Reads the spec at `path` and validates it into a plan: every problem
/// found, each a line that starts with the spec's name (`name`) and the
/// place in the spec.
pub fn read(path: &Path, name: &str) -> Result<Plan, Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("{name}: {e}")])?;
    sandbox_spec::parse(&text)
        .map_err(|errors| errors.problems().iter().map(|problem| format!("{name}: {problem}")).collect())
}

/// Why sandbox-root refuses to serve `plan` (read from the spec `name`),
/// as it refuses when set on a node: what this version does not serve
/// ([`unserved`]) and outputs already on the host ([`existing_outputs`],
/// `exists` saying what is there). Empty: it serves it.
pub fn refusals(plan: &Plan, name: &str, exists: impl Fn(&str) -> bool) -> Vec<String> {
    unserved(plan).into_iter().chain(existing_outputs(plan, exists)).map(|what| format!("{name}: {what}")).collect()
}

/// The spec at `path` read, validated and checked exactly as serving does
/// ([`read`], then [`refusals`], with [`on_host`]): the plan, or every
/// reason it would be refused.
pub fn load(path: &Path, name: &str) -> Result<Plan, Vec<String>> {
    let plan = read(path, name)?;
    let refused = refusals(&plan, name, on_host);
    if refused.is_empty() { Ok(plan) } else { Err(refused) }
}

/// Whether anything is at the host path `path`: the node itself, never
/// through a link or (on the Hurd) a translator on it.
#[cfg(all(target_os = "hurd", hurd_sys_generated))]
pub fn on_host(path: &str) -> bool {
    hurd::fs::lookup(path.as_ref(), hurd::fs::O_NOTRANS | hurd::fs::O_NOLINK, 0).is_ok()
}

/// Whether anything is at the host path `path`: the node itself, never
/// through a link.
#[cfg(not(all(target_os = "hurd", hurd_sys_generated)))]
pub fn on_host(path: &str) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// The build directory's host path in `plan`.
pub fn build_host(plan: &Plan) -> Option<String> {
    match plan.tree.resolve(plan.build_dir.as_str()) {
        Ok(Resolution::Firmlink { host, .. }) => Some(host.to_string()),
        _ => None,
    }
}

/// What `plan` asks for that this version does not serve yet, each named
/// by its place in the spec and with what to ask for instead. sandbox-root
/// refuses to serve such a spec (rather than answer ENOSYS inside); on
/// `--check` these are warnings.
pub fn unserved(plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    let s = &plan.servers;
    if s.procfs {
        out.push("$.servers.procfs: a /proc of the environment is not served yet; leave it false".to_owned());
    }
    let helpers = socket_helpers(plan);
    for (domain, provider) in &s.sockets {
        if helpers.iter().any(|h| h.domains.iter().any(|(d, _)| d == domain)) {
            continue;
        }
        let what = match provider {
            Provider::Private => "a server of the build's own",
            Provider::Filtered => "a filtering socket server",
            Provider::Host => continue,
        };
        out.push(format!(
            "$.servers.sockets.{}: \"{provider}\" ({what}) is not served yet; ask for \"host\" or \"none\"",
            domain.name()
        ));
    }
    if matches!(plan.tree.resolve("/dev/ptmx"), Ok(Resolution::Device { device: Device::Ptmx, .. })) {
        out.push(
            "$.devices: \"ptmx\" is not served yet (the Hurd's C library opens pseudo-terminals as /dev/ptyXY \
             pairs)"
                .to_owned(),
        );
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(extra: &str) -> Plan {
        sandbox_spec::parse(&format!(
            r#"{{"version": 1, "build": {{"host": "/tmp/b", "path": "/build"}},
                "user": {{"name": "u", "uid": 1000, "group": "g", "gid": 100}}{extra}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn outputs_already_on_the_host_are_named() {
        let p = plan(r#", "outputs": ["/gnu/store/aaa-out", "/gnu/store/bbb-doc"]"#);
        assert!(existing_outputs(&p, |_| false).is_empty());
        let found = existing_outputs(&p, |path| path == "/gnu/store/bbb-doc");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("$.outputs[1]: the output /gnu/store/bbb-doc already exists"), "{}", found[0]);
    }

    #[test]
    fn what_is_not_served_yet_is_named_by_its_place() {
        // The defaults ask for private servers, all served: a PID
        // namespace, a private pflocal, IP on loopback only.
        assert_eq!(unserved(&plan("")), Vec::<String>::new());
        let allow = r#", "servers": {"proc": "host", "sockets": {"inet6": "none"}},
            "network": {"policy": "allow", "allow": [{"range": "192.0.2.0/24"}]}"#;
        // (With the allow policy, filtered IP is sandbox-pfinet's.)
        assert_eq!(unserved(&plan(allow)), Vec::<String>::new());
        let fixed = r#", "network": {"policy": "host"}"#;
        assert_eq!(unserved(&plan(fixed)), Vec::<String>::new());
        let host = r#", "servers": {"proc": "host", "sockets": {"local": "host", "inet": "none", "inet6": "none"}}"#;
        assert_eq!(unserved(&plan(host)), Vec::<String>::new());
        let more = r#", "devices": ["null", "ptmx"],
            "servers": {"proc": "host", "procfs": true, "sockets": {"local": "none", "inet": "none", "inet6": "none"}}"#;
        let places: Vec<String> =
            unserved(&plan(more)).iter().map(|m| m.split(':').next().unwrap().to_owned()).collect();
        assert_eq!(places, ["$.servers.procfs", "$.devices"]);
    }

    #[test]
    fn the_host_network_is_reported_as_served() {
        let line = |extra| {
            report("s.json", &plan(extra)).lines().find(|l| l.starts_with("network")).unwrap_or_default().to_owned()
        };
        assert_eq!(
            line(r#", "network": {"policy": "host"}"#),
            "network          the host's, but for its own addresses and loopback services (sandbox-pfinet)"
        );
        let unfiltered =
            r#", "network": {"policy": "host"}, "servers": {"sockets": {"inet": "host", "inet6": "host"}}"#;
        assert_eq!(line(unfiltered), "network          the host's");
    }

    #[test]
    fn socket_helpers_follow_the_servers_and_the_policy() {
        let helpers = |extra| socket_helpers(&plan(extra));
        let pflocal = SocketHelper {
            program: "/hurd/pflocal",
            args: vec![],
            domains: vec![(SocketDomain::Local, Serves::Bootstrap)],
        };
        assert_eq!(
            helpers(""),
            [
                pflocal.clone(),
                SocketHelper {
                    program: "/hurd/pfinet",
                    args: vec!["-6", "inet6"],
                    domains: vec![
                        (SocketDomain::Inet, Serves::Bootstrap),
                        (SocketDomain::Inet6, Serves::Node("inet6"))
                    ],
                }
            ],
            "the defaults: private local, filtered IP on loopback"
        );
        let v4 = r#", "servers": {"sockets": {"local": "host", "inet6": "none"}}"#;
        assert_eq!(
            helpers(v4),
            [SocketHelper {
                program: "/hurd/pfinet",
                args: vec![],
                domains: vec![(SocketDomain::Inet, Serves::Bootstrap)]
            }]
        );
        let host = r#", "servers": {"sockets": {"local": "host", "inet": "none", "inet6": "none"}}"#;
        assert_eq!(helpers(host), []);
        let allow = r#", "network": {"policy": "allow", "allow": [{"range": "192.0.2.0/24"}]}"#;
        assert_eq!(helpers(allow), helpers(""), "sandbox-pfinet's own stack is the same pfinet");
    }

    #[test]
    fn report_of_a_minimal_spec() {
        let plan = sandbox_spec::parse(
            r#"{"version": 1, "build": {"host": "/tmp/b", "path": "/build"},
                "user": {"name": "u", "uid": 1000, "group": "g", "gid": 100},
                "network": {"policy": "allow", "allow": [{"range": "192.0.2.0/24", "ports": [443, "8000-8080"]}]},
                "exec": {"env": {"A": "1"}}}"#,
        )
        .unwrap();
        let text = report("s.json", &plan);
        let head: Vec<&str> = text.lines().take(10).collect();
        assert_eq!(
            head,
            [
                "spec             s.json: valid (version 1)",
                "build directory  /build (host /tmp/b, writable)",
                "build user       u (uid 1000), group g (gid 100), home /homeless-shelter",
                "builder starts   in /build with 1 environment variable",
                "PID namespace    private (sandbox-proc), first PID 1",
                "/proc            none",
                "sockets          local (1): private, inet (2): filtered, inet6 (26): filtered",
                "network          loopback and 192.0.2.0/24 ports 443,8000-8080",
                "host name        localhost",
                "",
            ]
        );
        assert!(text.contains("\n/ "), "the tree follows");
        assert!(text.contains("── build "));
    }
}
