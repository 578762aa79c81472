//! Raw spec → plan: every value checked, every default filled in, every
//! problem collected with the JSON path it was found at.

use std::collections::BTreeMap;

use crate::error::{Problem, ProblemKind, SpecErrors};
use crate::net::{IpRange, PortRange};
use crate::path::AbsPath;
use crate::plan::{
    Access, AllowRule, Device, Entry, EntryKind, Exec, NetworkPolicy, Plan, Provider, Server, Servers, SocketDomain,
    User,
};
use crate::raw;
use crate::tree::{Resolution, Tree};
use crate::{DEFAULT_ORIGIN, MAX_PID};

/// The home directory a build user gets when the spec names none: a path
/// that exists nowhere, so that nothing depends on a home.
pub const DEFAULT_HOME: &str = "/homeless-shelter";

/// The store outputs are made in when the spec names none.
pub const DEFAULT_STORE: &str = "/gnu/store";

/// Host directories that are doors rather than files: what a build reaches
/// through them is a server of the host's, answering as it would answer
/// the host, past the environment's own servers. No host path given to the
/// build may be one, lie inside one, or hold one. (`/hurd` holds the
/// translators' programs, which are fine to read; what they serve is
/// reached through the nodes they sit on, which these are.)
const HOST_DOORS: [(&str, &str); 5] = [
    ("/servers", "the nodes the host's servers answer on (sockets, exec, password, crash and more)"),
    ("/dev", "device nodes, each a server of the host's (the environment's own are listed in \"devices\")"),
    ("/proc", "the host's procfs, which shows every host process"),
    ("/var/guix/daemon-socket", "guix-daemon's socket, through which a client builds and adds to the store"),
    ("/nix/var/nix/daemon-socket", "nix-daemon's socket, through which a client builds and adds to the store"),
];

/// A host path given to the build, kept for the checks across host paths.
struct HostPath {
    /// Where the spec gives it (`$.paths[2].host`).
    at: String,
    path: AbsPath,
    access: Access,
}

struct Validator {
    problems: Vec<Problem>,
    tree: Tree,
    /// The store outputs are made in; `None` when the spec's is refused.
    store: Option<AbsPath>,
    /// The host paths that passed their own checks, in the order given.
    hosts: Vec<HostPath>,
}

impl Validator {
    fn problem(&mut self, at: impl Into<String>, kind: impl Into<ProblemKind>) {
        self.problems.push(Problem { at: at.into(), kind: kind.into() });
    }

    fn path(&mut self, at: &str, text: &str) -> Option<AbsPath> {
        match AbsPath::parse(text) {
            Ok(p) => Some(p),
            Err(e) => {
                self.problem(at, e);
                None
            }
        }
    }

    /// Places an entry; `at` is both where a conflict is reported and the
    /// origin the entry remembers. False when it could not be placed.
    fn insert(&mut self, at: &str, path: &AbsPath, kind: EntryKind) -> bool {
        match self.tree.insert(path, Entry { origin: at.to_owned(), kind }) {
            Ok(_) => true,
            Err(e) => {
                self.problem(at, e);
                false
            }
        }
    }

    /// Shows the host path `host` (given at `host_at`) at `inside` (given
    /// at `at`). A host path refused here, or whose entry conflicts, is
    /// left out of the checks across host paths: one problem a value.
    fn firmlink(&mut self, host_at: &str, host: &AbsPath, at: &str, inside: &AbsPath, access: Access) {
        let problem = host_problem(host).or_else(|| match (access, &self.store) {
            (Access::Output, Some(store)) => output_problem(host, store),
            _ => None,
        });
        let checked = problem.is_none();
        if let Some(kind) = problem {
            self.problem(host_at, kind);
        }
        let placed = self.insert(at, inside, EntryKind::Firmlink { host: host.clone(), access });
        if checked && placed {
            self.hosts.push(HostPath { at: host_at.to_owned(), path: host.clone(), access });
        }
    }

    /// The checks across host paths. What the build may write (its build
    /// directory, writable paths, outputs) must not be or lie inside what
    /// it is given read-only (it would change it), nor hold it (it could
    /// rename or replace it), nor overlap another writable path, nor, but
    /// for outputs, reach into the store or hold it.
    fn host_overlaps(&mut self) {
        let hosts = std::mem::take(&mut self.hosts);
        for (i, h) in hosts.iter().enumerate() {
            if h.access == Access::ReadOnly {
                continue;
            }
            let p = &h.path;
            let mut problem =
                hosts.iter().enumerate().filter(|&(j, _)| j != i).find_map(|(j, other)| overlap(h, other, j < i));
            if let (None, Some(store), false) = (&problem, &self.store, h.access == Access::Output) {
                if store.starts_with(p) {
                    problem = Some(ProblemKind::WritableHoldsStore { path: p.clone(), store: store.clone() });
                } else if p.starts_with(store) {
                    problem = Some(ProblemKind::WritableInStore { path: p.clone(), store: store.clone() });
                }
            }
            if let Some(kind) = problem {
                self.problem(&h.at, kind);
            }
        }
    }

    /// Places an entry the plan adds by itself, unless the spec already
    /// gave something at or above that path.
    fn insert_default(&mut self, path: &str, kind: EntryKind) {
        if matches!(self.tree.resolve(path), Err(crate::LookupError::NotFound(_))) {
            let path = AbsPath::parse(path).expect("default paths are valid");
            self.insert(DEFAULT_ORIGIN, &path, kind);
        }
    }

    /// A user or group name for a generated file, which has the accounts
    /// `taken` already (`why_taken` says so).
    fn name(&mut self, at: &str, what: &'static str, name: &str, taken: [&str; 2], why_taken: &'static str) {
        let reason = bad_account_name(name).or_else(|| taken.contains(&name).then_some(why_taken));
        if let Some(reason) = reason {
            self.problem(at, ProblemKind::BadName { what, name: name.to_owned(), reason });
        }
    }

    fn id(&mut self, at: &str, what: &'static str, id: u32) {
        if let Some(why) = reserved_id(what, id) {
            self.problem(at, ProblemKind::ReservedId { what, id, why });
        }
    }
}

/// The problem of the writable host path `w` against another host path,
/// `other`, given before it or after it (`other_first`), if they have one.
fn overlap(w: &HostPath, other: &HostPath, other_first: bool) -> Option<ProblemKind> {
    let (path, other_at) = (w.path.clone(), other.at.clone());
    let inside = w.path.starts_with(&other.path);
    let holds = other.path.starts_with(&w.path);
    let other_path = other.path.clone();
    match other.access {
        Access::ReadOnly if inside && holds => Some(ProblemKind::WritableIsReadOnly { path, other_at }),
        Access::ReadOnly if inside => Some(ProblemKind::WritableInsideReadOnly { path, other: other_path, other_at }),
        Access::ReadOnly if holds => Some(ProblemKind::WritableHoldsReadOnly { path, other: other_path, other_at }),
        // Two writable paths: the later one is refused, once.
        Access::ReadWrite | Access::Output if other_first && (inside || holds) => {
            Some(ProblemKind::WritableOverlap { path, other: other_path, other_at })
        }
        _ => None,
    }
}

/// Why `path` must not be given to the build at all, if it must not: it is
/// the host's root, or a door (see [`HOST_DOORS`]), inside one or above one.
fn host_problem(path: &AbsPath) -> Option<ProblemKind> {
    if path.is_root() {
        return Some(ProblemKind::HostRoot);
    }
    HOST_DOORS.iter().find_map(|&(door, what)| {
        let door_path = AbsPath::parse(door).expect("doors are valid paths");
        if path.starts_with(&door_path) {
            Some(ProblemKind::HostDoor { path: path.clone(), door, what })
        } else if door_path.starts_with(path) {
            Some(ProblemKind::HoldsHostDoor { path: path.clone(), door, what })
        } else {
            None
        }
    })
}

/// Why `output` is not an item the build may make in `store`, if it is
/// not: an output is `store/NAME`, with a name as the daemon gives a store
/// item (letters, digits and `+-._?=`, not starting with `.`), so that no
/// output is a path of the host's that the store does not hold, and no
/// name holds a newline or other byte that a tool reading the store takes
/// for something else.
fn output_problem(output: &AbsPath, store: &AbsPath) -> Option<ProblemKind> {
    if output == store {
        return Some(ProblemKind::OutputIsStore { output: output.clone() });
    }
    let name = output.file_name().unwrap_or_default();
    if name.is_empty() || store.join(name) != *output {
        return Some(ProblemKind::OutputOutsideStore { output: output.clone(), store: store.clone() });
    }
    let fine = !name.starts_with('.') && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-._?=".contains(&b));
    (!fine).then(|| ProblemKind::BadName {
        what: "output name",
        name: name.to_owned(),
        reason: "may hold only letters, digits and `+-._?=`, and not start with `.` (as a store item's name)",
    })
}

/// Why the build must not run with `id` (a `uid` or a `gid`), if it must
/// not. A build runs with ids that nothing else on the host has: on the
/// Hurd, the proc server hands the task port of any process to a caller
/// with that process's uid (`proc_pid2task`), and the host's files of an id
/// are open to whatever runs with it. The validator cannot know the ids of
/// the daemon that wrote the spec (guix-daemon runs as root, refused here);
/// these it knows are never a build's own:
fn reserved_id(what: &str, id: u32) -> Option<&'static str> {
    match (what, id) {
        ("uid", 0) => Some("root's, which may do anything on the host"),
        ("gid", 0) => Some("the root group's, which owns the host's system files"),
        (_, 65534) => Some("nobody's, which anything else running as nobody has too"),
        // `(uid_t) -1` and `(gid_t) -1`.
        (_, u32::MAX) => Some("-1, which chown and the set*id calls read as \"leave it unchanged\""),
        _ => None,
    }
}

fn bad_account_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("is empty");
    }
    if name.len() > 32 {
        return Some("is longer than 32 bytes");
    }
    if name.starts_with('-') {
        return Some("starts with `-`");
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) {
        return Some("may hold only letters, digits, `_`, `.` and `-`");
    }
    None
}

fn bad_hostname(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 253 {
        return Some("must be 1 to 253 bytes long");
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Some("has an empty label or one longer than 63 bytes");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("has a label that starts or ends with `-`");
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Some("may hold only letters, digits, `-` and dots");
        }
    }
    None
}

pub(crate) fn validate(spec: raw::Spec) -> Result<Plan, SpecErrors> {
    let mut v = Validator { problems: Vec::new(), tree: Tree::new(), store: None, hosts: Vec::new() };

    // The build user.
    let taken = "is an account the generated /etc/passwd has already, with another id";
    v.name("$.user.name", "user name", &spec.user.name, ["root", "nobody"], taken);
    v.id("$.user.uid", "uid", spec.user.uid);
    let taken = "is a group the generated /etc/group has already, with another id";
    v.name("$.user.group", "group name", &spec.user.group, ["root", "nogroup"], taken);
    v.id("$.user.gid", "gid", spec.user.gid);
    let home = match &spec.user.home {
        Some(h) => v.path("$.user.home", h),
        None => Some(AbsPath::parse(DEFAULT_HOME).expect("valid")),
    };
    // The home is a field of a line of /etc/passwd: `:` ends it, a
    // newline (or another control byte) starts a line of the spec's own.
    if let Some(h) = &home {
        if h.as_str().bytes().any(|b| b == b':' || b.is_ascii_control()) {
            v.problem(
                "$.user.home",
                ProblemKind::BadName {
                    what: "home directory",
                    name: h.to_string(),
                    reason: "holds `:` or a control character such as a newline, which would break /etc/passwd",
                },
            );
        }
    }

    // The store the outputs are made in: a host directory, whose items
    // are not the build's but for its outputs.
    let store = match &spec.store {
        Some(s) => v.path("$.store", s),
        None => Some(AbsPath::parse(DEFAULT_STORE).expect("valid")),
    };
    v.store = match store {
        Some(s) => match host_problem(&s) {
            Some(kind) => {
                v.problem("$.store", kind);
                None
            }
            None => Some(s),
        },
        None => None,
    };

    // The build directory: writable, at its inside path.
    let build_host = v.path("$.build.host", &spec.build.host);
    let build_dir = match &spec.build.path {
        Some(p) => v.path("$.build.path", p),
        None => build_host.clone(),
    };
    if let (Some(host), Some(inside)) = (&build_host, &build_dir) {
        let at = if spec.build.path.is_some() { "$.build.path" } else { "$.build.host" };
        v.firmlink("$.build.host", host, at, inside, Access::ReadWrite);
    }

    // Store inputs: read-only, at the same path inside.
    for (i, input) in spec.inputs.iter().enumerate() {
        let at = format!("$.inputs[{i}]");
        if let Some(p) = v.path(&at, input) {
            v.firmlink(&at, &p, &at, &p, Access::ReadOnly);
        }
    }

    // Outputs: made by the build, at the same path inside and on the host.
    for (i, output) in spec.outputs.iter().enumerate() {
        let at = format!("$.outputs[{i}]");
        if let Some(p) = v.path(&at, output) {
            v.firmlink(&at, &p, &at, &p, Access::Output);
        }
    }

    // Extra paths: host → inside, read-only unless marked writable.
    for (i, extra) in spec.paths.iter().enumerate() {
        let host_at = format!("$.paths[{i}].host");
        let host = v.path(&host_at, &extra.host);
        let (at, inside) = match &extra.path {
            Some(p) => {
                let at = format!("$.paths[{i}].path");
                let inside = v.path(&at, p);
                (at, inside)
            }
            None => (host_at.clone(), host.clone()),
        };
        if let (Some(host), Some(inside)) = (host, inside) {
            let access = if extra.writable { Access::ReadWrite } else { Access::ReadOnly };
            v.firmlink(&host_at, &host, &at, &inside, access);
        }
    }
    v.host_overlaps();

    // Given files.
    for (i, file) in spec.files.iter().enumerate() {
        let at = format!("$.files[{i}].path");
        if let Some(p) = v.path(&at, &file.path) {
            v.insert(&at, &p, EntryKind::File { content: file.content.clone() });
        }
    }

    // Devices.
    let devices: Vec<(String, Device)> = match &spec.devices {
        None => Device::DEFAULT.iter().map(|d| (DEFAULT_ORIGIN.to_owned(), *d)).collect(),
        Some(names) => {
            let mut seen = Vec::new();
            for (i, name) in names.iter().enumerate() {
                let at = format!("$.devices[{i}]");
                match Device::from_name(name) {
                    None => {
                        let known = Device::ALL.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ");
                        v.problem(&at, ProblemKind::UnknownDevice { name: name.clone(), known });
                    }
                    Some(d) if seen.iter().any(|(_, s)| *s == d) => {
                        v.problem(&at, ProblemKind::DeviceTwice(name.clone()));
                    }
                    Some(d) => seen.push((at, d)),
                }
            }
            seen
        }
    };
    // Listed devices conflict with what the spec put at /dev; the default
    // ones give way to it, as generated files do.
    let dev = AbsPath::parse("/dev").expect("valid");
    for (at, device) in &devices {
        let mut nodes = vec![(dev.join(device.name()), EntryKind::Device(*device))];
        if *device == Device::Fd {
            for (n, name) in ["stdin", "stdout", "stderr"].into_iter().enumerate() {
                nodes.push((dev.join(name), EntryKind::Symlink { target: format!("fd/{n}") }));
            }
        }
        for (path, kind) in nodes {
            if at == DEFAULT_ORIGIN {
                v.insert_default(path.as_str(), kind);
            } else {
                v.insert(at, &path, kind);
            }
        }
    }

    // Servers.
    let proc = match spec.servers.proc.unwrap_or(raw::ProcMode::Private) {
        raw::ProcMode::Private => Some(Provider::Private),
        raw::ProcMode::Host => Some(Provider::Host),
        raw::ProcMode::None => None,
    };
    let first_pid = match spec.servers.first_pid {
        None => 1,
        Some(pid) => {
            if proc != Some(Provider::Private) {
                v.problem(
                    "$.servers.first_pid",
                    ProblemKind::Inconsistent(
                        "a first PID needs a PID namespace: set \"servers.proc\" to \"private\"".into(),
                    ),
                );
            }
            if pid == 0 || pid >= MAX_PID {
                v.problem(
                    "$.servers.first_pid",
                    ProblemKind::Inconsistent(format!("PID {pid} is outside 1..{MAX_PID}")),
                );
            }
            pid
        }
    };
    if let Some(p) = proc {
        v.insert(
            "$.servers.proc",
            &AbsPath::parse("/servers/proc").expect("valid"),
            EntryKind::Server(Server::Proc(p)),
        );
    }
    let procfs = spec.servers.procfs.unwrap_or(false);
    if procfs {
        match proc {
            Some(_) => {
                v.insert(
                    "$.servers.procfs",
                    &AbsPath::parse("/proc").expect("valid"),
                    EntryKind::Server(Server::Procfs(Provider::Private)),
                );
            }
            None => v.problem(
                "$.servers.procfs",
                ProblemKind::Inconsistent("/proc needs a proc server: \"servers.proc\" is \"none\"".into()),
            ),
        }
    }

    // The network policy comes before the socket servers that enforce it.
    let policy = spec.network.policy.unwrap_or(raw::Policy::Loopback);
    let network = match (policy, spec.network.allow.as_deref()) {
        (raw::Policy::Allow, Some(rules)) if !rules.is_empty() => NetworkPolicy::Allow(allow_rules(&mut v, rules)),
        (raw::Policy::Allow, _) => {
            v.problem("$.network.allow", ProblemKind::Inconsistent("policy \"allow\" needs at least one rule".into()));
            NetworkPolicy::Loopback
        }
        (_, Some(_)) => {
            v.problem(
                "$.network.allow",
                ProblemKind::Inconsistent("rules are read only with \"policy\": \"allow\"".into()),
            );
            NetworkPolicy::Loopback
        }
        (raw::Policy::Loopback, None) => NetworkPolicy::Loopback,
        (raw::Policy::Host, None) => NetworkPolicy::Host,
    };

    let mut sockets = BTreeMap::new();
    let modes = [
        (SocketDomain::Local, spec.servers.sockets.local, raw::SocketMode::Private),
        (SocketDomain::Inet, spec.servers.sockets.inet, raw::SocketMode::Filtered),
        (SocketDomain::Inet6, spec.servers.sockets.inet6, raw::SocketMode::Filtered),
    ];
    for (domain, given, default) in modes {
        let at = format!("$.servers.sockets.{}", domain.name());
        let provider = match (domain, given.unwrap_or(default)) {
            (_, raw::SocketMode::None) => continue,
            (SocketDomain::Local, raw::SocketMode::Private) => Provider::Private,
            (SocketDomain::Local, raw::SocketMode::Filtered) => {
                v.problem(&at, ProblemKind::Inconsistent("local sockets are \"private\", \"host\" or \"none\"".into()));
                continue;
            }
            (_, raw::SocketMode::Private) => {
                v.problem(
                    &at,
                    ProblemKind::Inconsistent(
                        "there is no private IP stack: IP sockets are \"filtered\", \"host\" or \"none\"".into(),
                    ),
                );
                continue;
            }
            (_, raw::SocketMode::Filtered) => Provider::Filtered,
            // Local sockets reach nothing outside the machine: the host's
            // pflocal does not bypass the network policy.
            (SocketDomain::Local, raw::SocketMode::Host) => Provider::Host,
            (_, raw::SocketMode::Host) if network != NetworkPolicy::Host => {
                v.problem(
                    &at,
                    ProblemKind::Inconsistent(
                        "the host's socket server would bypass the network policy: use \"filtered\", or set \"network.policy\" to \"host\"".into(),
                    ),
                );
                continue;
            }
            (_, raw::SocketMode::Host) => Provider::Host,
        };
        sockets.insert(domain, provider);
        let path = AbsPath::parse(&format!("/servers/socket/{}", domain.family())).expect("valid");
        v.insert(&at, &path, EntryKind::Server(Server::Socket { domain, provider }));
    }

    // Synthesised files, unless the spec gave its own.
    let hostname = spec.hostname.clone().unwrap_or_else(|| "localhost".to_owned());
    if let Some(reason) = bad_hostname(&hostname) {
        v.problem("$.hostname", ProblemKind::BadName { what: "host name", name: hostname.clone(), reason });
    }
    let home_text = home.as_ref().map_or(DEFAULT_HOME, |h| h.as_str()).to_owned();
    let u = &spec.user;
    let passwd = format!(
        "root:x:0:0:root:/:/bin/sh\n{}:x:{}:{}:build user:{home_text}:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
        u.name, u.uid, u.gid
    );
    let group = format!("root:x:0:\n{}:x:{}:\nnogroup:x:65534:\n", u.group, u.gid);
    let hosts = format!("127.0.0.1 localhost {hostname}\n::1 localhost {hostname}\n");
    v.insert_default("/etc/passwd", EntryKind::File { content: passwd });
    v.insert_default("/etc/group", EntryKind::File { content: group });
    v.insert_default("/etc/hosts", EntryKind::File { content: hosts });
    v.insert_default("/etc/hostname", EntryKind::File { content: format!("{hostname}\n") });

    // How the builder is started.
    let cwd = match &spec.exec.cwd {
        Some(c) => v.path("$.exec.cwd", c),
        None => build_dir.clone(),
    };
    if let Some(cwd) = &cwd {
        let what = match v.tree.resolve(cwd.as_str()) {
            Ok(Resolution::Directory { .. } | Resolution::Firmlink { .. }) => None,
            Ok(Resolution::Device { .. }) => Some("a device".to_owned()),
            Ok(Resolution::File { .. }) => Some("a file".to_owned()),
            Ok(Resolution::Symlink { .. }) => Some("a symbolic link".to_owned()),
            Ok(Resolution::Server { .. }) => Some("a server node".to_owned()),
            Ok(Resolution::Magic { .. }) => Some("a descriptor".to_owned()),
            Ok(Resolution::Parent { .. }) => unreachable!("resolve() stays at the root"),
            Err(_) => Some("not in the environment".to_owned()),
        };
        // A missing build directory already has its own problem.
        if let (Some(what), true) = (what, build_dir.is_some()) {
            let at = if spec.exec.cwd.is_some() { "$.exec.cwd" } else { "$.build" };
            v.problem(at, ProblemKind::CwdNotDirectory { cwd: cwd.to_string(), what });
        }
    }
    for (name, value) in &spec.exec.env {
        let at = format!("$.exec.env.{name}");
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            v.problem(
                &at,
                ProblemKind::BadName {
                    what: "variable name",
                    name: name.clone(),
                    reason: "must be non-empty, without `=` or NUL",
                },
            );
        }
        if value.contains('\0') {
            v.problem(&at, ProblemKind::BadName { what: "value", name: value.clone(), reason: "has a NUL byte" });
        }
    }

    if !v.problems.is_empty() {
        return Err(SpecErrors(v.problems));
    }
    let (Some(home), Some(build_dir), Some(cwd), Some(store)) = (home, build_dir, cwd, v.store) else {
        unreachable!("a missing path always leaves a problem");
    };
    Ok(Plan {
        tree: v.tree,
        build_dir,
        store,
        user: User { name: u.name.clone(), uid: u.uid, group: u.group.clone(), gid: u.gid, home },
        hostname,
        servers: Servers { proc, first_pid, procfs, sockets },
        network,
        exec: Exec { uid: u.uid, gid: u.gid, cwd, env: spec.exec.env.clone() },
    })
}

fn allow_rules(v: &mut Validator, rules: &[raw::AllowRule]) -> Vec<AllowRule> {
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let range = match IpRange::parse(&rule.range) {
            Ok(r) => Some(r),
            Err(e) => {
                v.problem(format!("$.network.allow[{i}].range"), e);
                None
            }
        };
        let mut ports = Vec::new();
        for (j, port) in rule.ports.iter().enumerate() {
            let parsed = match port {
                raw::Port::Number(n) => {
                    u16::try_from(*n).map_err(|_| crate::NetError::BadPort(n.to_string())).and_then(PortRange::single)
                }
                raw::Port::Text(t) => PortRange::parse(t),
            };
            match parsed {
                Ok(p) => ports.push(p),
                Err(e) => v.problem(format!("$.network.allow[{i}].ports[{j}]"), e),
            }
        }
        if let Some(range) = range {
            out.push(AllowRule { range, ports });
        }
    }
    out
}
