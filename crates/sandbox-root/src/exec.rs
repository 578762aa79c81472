//! `sandbox-root exec NODE -- CMD ARGS`: runs CMD inside the environment
//! served on NODE, as the daemon runs a builder: NODE as its root
//! directory, the spec's working directory, user, group and environment,
//! standard input and output passed through; answers CMD's exit status.

use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a command could not be run inside.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("{node}: no sandbox-root serves it ({source})")]
    NotAnEnvironment { node: PathBuf, source: hurd::fs::FsError },
    #[error("{node}: its translator's options name no spec: {options:?}")]
    NoSpec { node: PathBuf, options: Vec<String> },
    #[error("{spec}: {message}")]
    Spec { spec: String, message: String },
    #[error("chroot to {node}: {source}")]
    Chroot { node: PathBuf, source: std::io::Error },
    #[error("changing to the working directory {cwd} inside: {source}")]
    Chdir { cwd: String, source: std::io::Error },
    #[error("starting {command}: {source}")]
    Spawn { command: String, source: std::io::Error },
}

/// The spec sandbox-root serves on `node`: the last of its options, as
/// `fsys_get_options` gives them.
fn spec_of(node: &Path) -> Result<String, ExecError> {
    let not_env = |source| ExecError::NotAnEnvironment { node: node.into(), source };
    let port = hurd::fs::lookup(node, hurd::fs::O_NOTRANS, 0).map_err(not_env)?;
    let control = hurd::fs::translator_control(&port).map_err(not_env)?;
    let options = hurd::fs::options(&control).map_err(not_env)?;
    match options.as_slice() {
        [program, .., spec] if program.ends_with("sandbox-root") => Ok(spec.clone()),
        _ => Err(ExecError::NoSpec { node: node.into(), options }),
    }
}

/// Runs `command` inside the environment on `node` and answers its exit
/// status (128 + the signal for a command killed by one).
pub fn exec(node: &Path, command: &[OsString]) -> Result<i32, ExecError> {
    let spec = spec_of(node)?;
    let text =
        std::fs::read_to_string(&spec).map_err(|e| ExecError::Spec { spec: spec.clone(), message: e.to_string() })?;
    let plan =
        sandbox_spec::parse(&text).map_err(|e| ExecError::Spec { spec: spec.clone(), message: e.to_string() })?;
    let (program, args) = command.split_first().expect("the caller checks there is a command");
    log::debug!("exec {program:?} in {} as {}:{}", plan.exec.cwd, plan.exec.uid, plan.exec.gid);
    // The environment becomes this process's root (the C library
    // reparents it to no parent, so `..` at the root stays there), then
    // the command starts in the working directory, as the build user.
    std::os::unix::fs::chroot(node).map_err(|source| ExecError::Chroot { node: node.into(), source })?;
    std::env::set_current_dir(plan.exec.cwd.as_str())
        .map_err(|source| ExecError::Chdir { cwd: plan.exec.cwd.to_string(), source })?;
    let status = Command::new(program)
        .args(args)
        .env_clear()
        .envs(&plan.exec.env)
        .gid(plan.exec.gid)
        .uid(plan.exec.uid)
        .status()
        .map_err(|source| ExecError::Spawn { command: program.to_string_lossy().into_owned(), source })?;
    Ok(status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}
