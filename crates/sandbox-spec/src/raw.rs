//! The spec as JSON has it. Only serde's shape checks happen here; what
//! the values mean is checked in `validate`.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Spec {
    #[allow(dead_code)] // checked before deserialising, kept for deny_unknown_fields
    pub version: u64,
    pub build: Build,
    #[serde(default)]
    pub inputs: Vec<String>,
    #[serde(default)]
    pub outputs: Vec<String>,
    pub store: Option<String>,
    #[serde(default)]
    pub paths: Vec<ExtraPath>,
    pub devices: Option<Vec<String>>,
    #[serde(default)]
    pub files: Vec<File>,
    pub user: User,
    pub hostname: Option<String>,
    #[serde(default)]
    pub servers: Servers,
    #[serde(default)]
    pub network: Network,
    #[serde(default)]
    pub exec: Exec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Build {
    pub host: String,
    pub path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExtraPath {
    pub host: String,
    pub path: Option<String>,
    #[serde(default)]
    pub writable: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    pub path: String,
    pub content: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct User {
    pub name: String,
    pub uid: u32,
    pub group: String,
    pub gid: u32,
    pub home: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Servers {
    pub proc: Option<ProcMode>,
    pub first_pid: Option<u32>,
    pub procfs: Option<bool>,
    #[serde(default)]
    pub sockets: Sockets,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ProcMode {
    Private,
    Host,
    None,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sockets {
    pub local: Option<SocketMode>,
    pub inet: Option<SocketMode>,
    pub inet6: Option<SocketMode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SocketMode {
    Private,
    Filtered,
    Host,
    None,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Network {
    pub policy: Option<Policy>,
    pub allow: Option<Vec<AllowRule>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Policy {
    Loopback,
    Allow,
    Host,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AllowRule {
    pub range: String,
    #[serde(default)]
    pub ports: Vec<Port>,
}

/// `80` or `"8000-8080"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Port {
    Number(u64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Exec {
    pub cwd: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}
