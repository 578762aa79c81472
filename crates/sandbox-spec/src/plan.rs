//! The plan: what a valid spec means, with every default filled in.
//! Translators are built from a plan, never from the raw spec.

use std::collections::BTreeMap;
use std::fmt;

use crate::net::{IpRange, PortRange};
use crate::path::AbsPath;
use crate::tree::Tree;

/// A validated spec: the environment's tree and everything its servers and
/// the builder's `exec` need.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The composed tree: every entry at its inside path.
    pub tree: Tree,
    /// The build directory, inside the environment.
    pub build_dir: AbsPath,
    /// The store on the host: each output is an item directly in it.
    pub store: AbsPath,
    pub user: User,
    pub hostname: String,
    pub servers: Servers,
    pub network: NetworkPolicy,
    pub exec: Exec,
}

/// One thing the environment shows at one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where the spec asked for it (a JSON path such as `$.inputs[2]`), or
    /// `(default)` for what the plan adds by itself.
    pub origin: String,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A host directory or file shown inside, served in-process by a
    /// firmlink: lookups continue on the host, `..` comes back inside.
    Firmlink { host: AbsPath, access: Access },
    /// A device node served by sandbox-root itself.
    Device(Device),
    /// A file whose contents the plan holds.
    File { content: String },
    /// A symbolic link (relative targets resolve inside the environment).
    Symlink { target: String },
    /// A server node under `/servers` (or `/proc`).
    Server(Server),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
    /// What the build makes: writable, and it need not exist; the builder
    /// creates it (a directory or a file) and may remove it, on the host,
    /// as itself.
    Output,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::ReadOnly => "read-only",
            Access::ReadWrite => "writable",
            Access::Output => "an output, made by the build",
        })
    }
}

/// The device nodes an environment can have under `/dev`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Device {
    Null,
    Zero,
    Full,
    Random,
    Urandom,
    Tty,
    Ptmx,
    /// The `fd` directory (each process's own descriptors), with the
    /// `stdin`, `stdout` and `stderr` links beside it.
    Fd,
}

impl Device {
    pub const ALL: [Device; 8] = [
        Device::Null,
        Device::Zero,
        Device::Full,
        Device::Random,
        Device::Urandom,
        Device::Tty,
        Device::Ptmx,
        Device::Fd,
    ];

    /// What an environment gets when the spec names no devices.
    pub const DEFAULT: [Device; 6] =
        [Device::Null, Device::Zero, Device::Full, Device::Random, Device::Urandom, Device::Fd];

    pub fn name(self) -> &'static str {
        match self {
            Device::Null => "null",
            Device::Zero => "zero",
            Device::Full => "full",
            Device::Random => "random",
            Device::Urandom => "urandom",
            Device::Tty => "tty",
            Device::Ptmx => "ptmx",
            Device::Fd => "fd",
        }
    }

    pub fn from_name(name: &str) -> Option<Device> {
        Device::ALL.into_iter().find(|d| d.name() == name)
    }

    /// One line on what the node does, for `--check`.
    pub fn behaviour(self) -> &'static str {
        match self {
            Device::Null => "reads end at once, writes are discarded",
            Device::Zero => "reads give zeros, writes are discarded",
            Device::Full => "reads give zeros, writes fail with ENOSPC",
            Device::Random | Device::Urandom => "reads give random bytes",
            Device::Tty => "the build's controlling terminal",
            Device::Ptmx => "opens a new pseudo-terminal master",
            Device::Fd => "each process's open descriptors",
        }
    }
}

/// A server node and who serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// `/servers/proc`.
    Proc(Provider),
    /// `/proc`, a procfs over the environment's proc server.
    Procfs(Provider),
    /// `/servers/socket/N`.
    Socket { domain: SocketDomain, provider: Provider },
}

/// Who answers on a server node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// A server of the environment's own, started for this build.
    Private,
    /// A server of the environment's own that filters what reaches the
    /// host's (sandbox-pfinet in front of the host's pfinet).
    Filtered,
    /// The host's server, reached through a firmlink.
    Host,
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::Private => "private",
            Provider::Filtered => "filtered",
            Provider::Host => "host",
        })
    }
}

/// The socket domains the spec knows, with their address-family numbers
/// (the `N` of `/servers/socket/N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SocketDomain {
    Local,
    Inet,
    Inet6,
}

impl SocketDomain {
    pub const ALL: [SocketDomain; 3] = [SocketDomain::Local, SocketDomain::Inet, SocketDomain::Inet6];

    pub fn family(self) -> u32 {
        match self {
            SocketDomain::Local => 1,
            SocketDomain::Inet => 2,
            SocketDomain::Inet6 => 26,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SocketDomain::Local => "local",
            SocketDomain::Inet => "inet",
            SocketDomain::Inet6 => "inet6",
        }
    }

    pub fn from_family(family: u32) -> Option<SocketDomain> {
        SocketDomain::ALL.into_iter().find(|d| d.family() == family)
    }
}

/// The build user, as `/etc/passwd` and `/etc/group` show it and as the
/// builder runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub group: String,
    pub gid: u32,
    pub home: AbsPath,
}

/// Which servers the environment gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Servers {
    /// `None`: no `/servers/proc` (the builder keeps the proc port it is
    /// started with).
    pub proc: Option<Provider>,
    /// The PID the builder gets in a private PID namespace.
    pub first_pid: u32,
    pub procfs: bool,
    /// Socket domains served, with their provider; a domain absent here has
    /// no node.
    pub sockets: BTreeMap<SocketDomain, Provider>,
}

impl Servers {
    pub fn pid_namespace(&self) -> bool {
        self.proc == Some(Provider::Private)
    }
}

/// What the build may reach over IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkPolicy {
    /// Loopback addresses only.
    Loopback,
    /// Loopback plus the listed destinations.
    Allow(Vec<AllowRule>),
    /// The host's network, as the host reaches it, but for the host's
    /// own loopback services and addresses (fixed-output builds); with
    /// `servers.sockets.inet` `host`, unfiltered.
    Host,
}

/// A destination the build may connect or send to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowRule {
    pub range: IpRange,
    /// Empty: every port.
    pub ports: Vec<PortRange>,
}

impl AllowRule {
    pub fn matches(&self, addr: std::net::IpAddr, port: u16) -> bool {
        self.range.contains(addr) && (self.ports.is_empty() || self.ports.iter().any(|p| p.contains(port)))
    }
}

/// How the builder is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exec {
    pub uid: u32,
    pub gid: u32,
    pub cwd: AbsPath,
    pub env: BTreeMap<String, String>,
}
