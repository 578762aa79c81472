//! `sandbox-root exec NODE -- CMD ARGS`: runs CMD inside the environment
//! served on NODE, as the daemon runs a builder: NODE as its root
//! directory, the spec's working directory, user, group and environment,
//! standard input and output passed through; answers CMD's exit status.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a command could not be run inside.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("{node}: no sandbox-root serves it ({source})")]
    NotAnEnvironment { node: PathBuf, source: hurd::fs::FsError },
    #[error("{node}: not trusted as an environment of the caller's: {source}")]
    Untrusted { node: PathBuf, source: crate::trust::Untrusted },
    #[error("the spec {spec}: not trusted: {source}")]
    UntrustedSpec { spec: String, source: crate::trust::Untrusted },
    #[error("reading the caller's identity: {0}")]
    Ids(#[from] hurd::auth::AuthError),

    #[error("{spec}: {message}")]
    Spec { spec: String, message: String },
    #[error("chroot to {node}: {source}")]
    Chroot { node: PathBuf, source: std::io::Error },
    #[error("changing to the working directory {cwd} inside: {source}")]
    Chdir { cwd: String, source: std::io::Error },
    #[error("starting {command}: {source}")]
    Spawn { command: String, source: std::io::Error },
    #[error("the environment's PID namespace: {0}")]
    Namespace(String),
    #[error("{command}: not found in the PATH inside")]
    NotFound { command: String },
}

/// The environment on `node`, once [`crate::trust`] says the node and its
/// spec are the caller's (uid `caller`): the spec's text, read from the
/// file that was checked, and the translator's control port.
fn environment(node: &Path, caller: u32) -> Result<(String, String, hurd::port::SendRight), ExecError> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let not_env = |source| ExecError::NotAnEnvironment { node: node.into(), source };
    let port = hurd::fs::lookup(node, hurd::fs::O_NOTRANS | hurd::fs::O_NOLINK, 0).map_err(not_env)?;
    let stat = hurd::fs::stat(&port).map_err(not_env)?;
    let control = hurd::fs::translator_control(&port).map_err(not_env)?;
    let options = hurd::fs::options(&control).map_err(not_env)?;
    let facts = crate::trust::NodeFacts { owner: stat.uid, mode: stat.mode, options };
    let spec = crate::trust::spec_of(&facts, caller)
        .map_err(|source| ExecError::Untrusted { node: node.into(), source })?
        .to_owned();
    let failed = |e: std::io::Error| ExecError::Spec { spec: spec.clone(), message: e.to_string() };
    let mut file = std::fs::File::open(&spec).map_err(failed)?;
    let meta = file.metadata().map_err(failed)?;
    crate::trust::only_theirs(meta.uid(), meta.mode(), caller)
        .map_err(|source| ExecError::UntrustedSpec { spec: spec.clone(), source })?;
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(failed)?;
    Ok((spec, text, control))
}

/// Runs `command` inside the environment on `node` and answers its exit
/// status (128 + the signal for a command killed by one).
pub fn exec(node: &Path, command: &[OsString]) -> Result<i32, ExecError> {
    let ids = hurd::auth::ids()?;
    let caller = ids.euids.first().copied().unwrap_or(u32::MAX);
    let (spec, text, control) = environment(node, caller)?;
    let plan =
        sandbox_spec::parse(&text).map_err(|e| ExecError::Spec { spec: spec.clone(), message: e.to_string() })?;
    let (program, args) = command.split_first().expect("the caller checks there is a command");
    log::debug!("exec {program:?} in {} as {}:{}", plan.exec.cwd, plan.exec.uid, plan.exec.gid);
    // The root of the translator that was checked (not the node's name
    // again), with no parent, so that `..` at the root stays there, as
    // chroot makes it: with the caller's ids for what only the caller
    // may ask (the proc admission), and with the build user's alone as
    // this process's root, and so its working directory. The builder
    // inherits those: the C library's setauth keeps a port whose
    // reauthentication fails (a server out of ports), which must then
    // carry no more than the build user's ids.
    let getroot = |uid: &[u32], gid: &[u32]| {
        hurd::fs::getroot(&control, None, uid, gid, 0)
            .ok()
            .and_then(|answer| answer.port)
            .ok_or_else(|| ExecError::Chroot { node: node.into(), source: std::io::Error::other("fsys_getroot") })
    };
    let root = getroot(&ids.euids, &ids.egids)?;
    let builders_root = getroot(&[plan.exec.uid], &[plan.exec.gid])?;
    hurd::fs::set_root(&builders_root)
        .map_err(|e| ExecError::Chroot { node: node.into(), source: std::io::Error::other(e.to_string()) })?;
    drop(builders_root);
    std::env::set_current_dir(plan.exec.cwd.as_str())
        .map_err(|source| ExecError::Chdir { cwd: plan.exec.cwd.to_string(), source })?;
    // The builder gets exactly the spec's identity and descriptors 0 to 2;
    // this process keeps none of its caller's other descriptors either.
    hurd::auth::close_from(3);
    if plan.servers.proc == Some(sandbox_spec::Provider::Private) {
        return in_namespace(root, control, &plan, program, args);
    }
    let mut builder = Command::new(program);
    builder.args(args).env_clear().envs(&plan.exec.env);
    hurd::auth::run_as(&mut builder, plan.exec.uid, plan.exec.gid);
    let status = builder
        .status()
        .map_err(|source| ExecError::Spawn { command: program.to_string_lossy().into_owned(), source })?;
    Ok(status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

/// Runs the builder in the environment's PID namespace: a child of ours,
/// as the spec's user, becomes the namespace's root and starts the
/// builder in it (`hurd::spawn`); when that child ends, the host's proc
/// server ends everything left inside.
fn in_namespace(
    root: hurd::port::SendRight,
    control: hurd::port::SendRight,
    plan: &sandbox_spec::Plan,
    program: &std::ffi::OsStr,
    args: &[OsString],
) -> Result<i32, ExecError> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ns = |e: String| ExecError::Namespace(e);
    // The admission is served to root only.
    let admission = hurd::fs::dir_lookup(&root, "servers/proc", 0, 0)
        .map_err(|e| ns(format!("/servers/proc inside: {e}")))?
        .port
        .ok_or_else(|| ns("/servers/proc inside answered no port".into()))?;
    // Neither root's port to the environment nor its control port goes
    // on into the child that becomes the build user.
    drop((root, control));
    let path = find_program(program, plan)?;
    let cstr = |b: &[u8]| CString::new(b).map_err(|_| ExecError::Namespace("a NUL byte in the command".into()));
    let mut argv = vec![cstr(program.as_bytes())?];
    for a in args {
        argv.push(cstr(a.as_bytes())?);
    }
    let env: Vec<CString> =
        plan.exec.env.iter().map(|(k, v)| cstr(format!("{k}={v}").as_bytes())).collect::<Result<_, _>>()?;
    let (uid, gid) = (plan.exec.uid, plan.exec.gid);
    let status = hurd::spawn::in_child(|| {
        if let Err(e) = hurd::auth::become_only(uid, gid) {
            eprintln!("sandbox-root exec: {e}");
            return 126;
        }
        match hurd::spawn::in_namespace(&admission, &path, &argv, &env) {
            Ok(status) => {
                if libc_exited(status) {
                    exit_code(status)
                } else {
                    128 + term_signal(status)
                }
            }
            Err(e) => {
                eprintln!("sandbox-root exec: {e}");
                127
            }
        }
    })
    .map_err(|e| ns(format!("fork: {e}")))?;
    // (The child answered the builder's status as an exit code.)
    Ok(status)
}

// The wait status as POSIX lays it out (the Hurd's C library does too).
fn libc_exited(status: i32) -> bool {
    status & 0x7f == 0
}
fn exit_code(status: i32) -> i32 {
    (status >> 8) & 0xff
}
fn term_signal(status: i32) -> i32 {
    status & 0x7f
}

/// `program` as the builder's exec finds it: a name with a slash as it
/// is, else the first match in the spec's PATH inside.
fn find_program(program: &std::ffi::OsStr, plan: &sandbox_spec::Plan) -> Result<PathBuf, ExecError> {
    let name = Path::new(program);
    if program.as_encoded_bytes().contains(&b'/') {
        return Ok(name.to_path_buf());
    }
    let path = plan.exec.env.iter().find(|(k, _)| k.as_str() == "PATH").map_or("/bin:/usr/bin", |(_, v)| v.as_str());
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(name);
        if hurd::fs::lookup(&candidate, hurd::fs::O_EXEC, 0).is_ok() {
            return Ok(candidate);
        }
    }
    Err(ExecError::NotFound { command: program.to_string_lossy().into_owned() })
}
