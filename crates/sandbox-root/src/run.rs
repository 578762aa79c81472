//! `sandbox-root run [OPTION...] SPEC -- CMD [ARG...]`: a build daemon's
//! whole per-build sequence as one command, and what a person types to
//! enter an environment.
//!
//! In order: the spec is read and checked exactly as serving does (a bad
//! one starts nothing); a fresh node is made (a new empty file in a
//! private temporary directory, or the `--node` given); sandbox-root is
//! set on it (`settrans -a NODE SELF SPEC`); CMD runs inside as
//! `sandbox-root exec NODE -- CMD` runs it, in a child process of ours, so
//! that this one stays free to answer a signal; then, however CMD ended,
//! the environment is ended by a forced goaway (`settrans -fg NODE`),
//! every process of the build user still alive is ended, and what is left
//! is checked: no translator on the node, which is a plain file again, and
//! no process of the build user. Anything left is an error. The node is
//! removed if `run` made it (with its temporary directory; a `--node` that
//! existed stays, the empty file it was), and `run` exits with CMD's
//! status.
//!
//! The sequence ([`sequence`]) asks the system through [`Steps`], so that
//! its order, its exit statuses and its cleanup are tested on Linux with a
//! recording double; the Hurd's side is `System`, built for the Hurd
//! only.

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{SigSet, Signal};
use sandbox_cli::{EXIT_DATA, EXIT_OS, Program, lexopt};
use sandbox_spec::Plan;

use crate::keep::{self, Kind};
use crate::trust::{self, Untrusted};

/// What `run` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunArgs {
    pub spec: PathBuf,
    pub command: Vec<OsString>,
    /// `--node PATH`: the node to set the environment on, instead of a
    /// fresh one.
    pub node: Option<PathBuf>,
    /// `--keep-failed`: when CMD fails, hand the build directory to the
    /// invoking user.
    pub keep_failed: bool,
    /// `--log-level LEVEL`, or `RUST_LOG`: what `run`, the translator and
    /// `exec` log.
    pub log_level: Option<String>,
}

/// What `run`'s arguments ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Run(RunArgs),
    /// `--help`, `--usage`, `--version`: this text on stdout, and success.
    Print(String),
}

/// Parses the arguments after the word `run`: options, SPEC, then CMD
/// after `--` (or from the first word after SPEC on, as `exec` takes it).
pub fn parse_args(program: &Program, parser: &mut lexopt::Parser) -> Result<Parsed, lexopt::Error> {
    use lexopt::prelude::*;
    let mut args =
        RunArgs { spec: PathBuf::new(), command: Vec::new(), node: None, keep_failed: false, log_level: None };
    let mut spec = None;
    loop {
        if let Some(mut raw) = parser.try_raw_args() {
            if raw.peek().is_some_and(|a| a == "--") {
                raw.next();
                args.command = raw.collect();
                break;
            }
        }
        let Some(arg) = parser.next()? else { break };
        if let Some(text) = program.standard(&arg) {
            return Ok(Parsed::Print(text));
        }
        match arg {
            Long("node") => {
                let node = parser.value()?;
                if node.is_empty() {
                    return Err("run: --node: the path is empty".into());
                }
                args.node = Some(node.into());
            }
            Long("keep-failed") => args.keep_failed = true,
            Long("log-level") => args.log_level = Some(log_level(parser.value()?)?),
            Value(v) if spec.is_none() => spec = Some(PathBuf::from(v)),
            Value(v) => {
                args.command.push(v);
                args.command.extend(parser.raw_args()?);
                break;
            }
            _ => return Err(arg.unexpected()),
        }
    }
    args.spec = spec.ok_or("run: missing SPEC: the JSON file describing the environment")?;
    if args.command.is_empty() {
        return Err("run: missing CMD: the command to run inside, after --".into());
    }
    Ok(Parsed::Run(args))
}

/// A `--log-level` value, checked.
pub fn log_level(value: OsString) -> Result<String, lexopt::Error> {
    match value.into_string() {
        Ok(level) if sandbox_cli::is_log_filter(&level) => Ok(level),
        Ok(level) => Err(format!(
            "--log-level: '{level}' is not a level (off, error, warn, info, debug, trace, or RUST_LOG's module=level)"
        )
        .into()),
        Err(_) => Err("--log-level: the level is not text".into()),
    }
}

/// Why `run` stopped, or what it found left: each names the step and
/// carries the path.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The spec's problems, a line each, as serving reports them.
    #[error("{}", .problems.join("\n"))]
    Spec { problems: Vec<String> },
    #[error("the spec {spec}: not usable: {source}")]
    UntrustedSpec { spec: PathBuf, source: Untrusted },
    #[error("finding this program's own file: {what}")]
    OwnPath { what: String },
    #[error("waiting for signals: {what}")]
    Signals { what: String },
    #[error("making a temporary directory in {base}: {source}")]
    TempDir { base: PathBuf, source: nix::Error },
    #[error("making the node {node}: {source}")]
    MakeNode { node: PathBuf, source: std::io::Error },
    #[error("--node {node}: {problem}")]
    Node { node: PathBuf, problem: NodeProblem },
    #[error("setting sandbox-root on {node} (settrans -a): {what}")]
    SetTranslator { node: PathBuf, what: String },
    #[error("running the command inside {node}: {source}")]
    Builder { node: PathBuf, source: std::io::Error },
    #[error("ending the environment on {node} (settrans -fg): {what}")]
    Goaway { node: PathBuf, what: String },
    #[error("{node}: left after the goaway: {what}")]
    TranslatorLeft { node: PathBuf, what: String },
    #[error("{node}: not a plain file again after the goaway: {what}")]
    NotPlain { node: PathBuf, what: String },
    #[error("listing the processes of the build user (uid {uid}): {what}")]
    Processes { uid: u32, what: String },
    #[error("processes of the build user (uid {uid}) left after the goaway: {pids:?}")]
    ProcessesLeft { uid: u32, pids: Vec<i32> },
    #[error("the build directory was not handed over: processes of the build user (uid {uid}) are left")]
    NotKept { uid: u32 },
    #[error("the spec has no build directory on the host")]
    NoBuildDir,
    #[error("keeping the build directory: {0}")]
    Keep(#[from] keep::KeepError),
    #[error("removing {path}: {source}")]
    Remove { path: PathBuf, source: std::io::Error },
    #[error("{node}: not removed: something is still set on it")]
    NodeKept { node: PathBuf },
}

/// Why a `--node` path is not one `run` may use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeProblem {
    #[error("it is a symbolic link; give a path that does not exist yet, or an empty regular file")]
    Symlink,
    #[error("it is a {what}, not an empty regular file; give a path that does not exist yet, or an empty regular file")]
    NotAFile { what: &'static str },
    #[error("it is not empty ({size} bytes); run sets the environment on an empty file")]
    NotEmpty { size: u64 },
    #[error(
        "it has {links} names (hard links), and the environment would be set on each; give a path that does not exist yet, or an empty regular file with one name"
    )]
    HardLinked { links: u64 },
    #[error("{0}")]
    Untrusted(#[from] Untrusted),
}

/// What the file at a `--node` path is (its own facts, not a link's
/// target's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeFacts {
    pub kind: Kind,
    pub size: u64,
    pub nlink: u64,
    pub owner: u32,
    pub mode: u32,
}

impl NodeFacts {
    pub fn of(meta: &std::fs::Metadata) -> NodeFacts {
        NodeFacts {
            kind: Kind::of(meta.mode()),
            size: meta.size(),
            nlink: meta.nlink(),
            owner: meta.uid(),
            mode: meta.mode(),
        }
    }
}

/// Whether a node that exists (`facts`) may carry the environment of uid
/// `caller`: an empty regular file with one name (a translator is set on
/// the file, and so shows under each of its names), which the caller owns
/// and nobody else may write (what `exec` will trust; see
/// [`crate::trust`]).
pub fn node_problem(facts: &NodeFacts, caller: u32) -> Result<(), NodeProblem> {
    let what = match facts.kind {
        Kind::Regular => None,
        Kind::Symlink => return Err(NodeProblem::Symlink),
        Kind::Directory => Some("directory"),
        Kind::Fifo => Some("FIFO"),
        Kind::Socket => Some("socket"),
        Kind::Device => Some("device"),
    };
    if let Some(what) = what {
        return Err(NodeProblem::NotAFile { what });
    }
    if facts.nlink > 1 {
        return Err(NodeProblem::HardLinked { links: facts.nlink });
    }
    if facts.size != 0 {
        return Err(NodeProblem::NotEmpty { size: facts.size });
    }
    Ok(trust::only_theirs(facts.owner, facts.mode, caller)?)
}

/// The node an environment is set on, whether `run` made it, and the
/// temporary directory made for it, if any.
#[derive(Debug)]
pub struct Node {
    pub path: PathBuf,
    /// Made by `run` (a fresh node, or a `--node` path that did not
    /// exist): removed at the end. A `--node` file that existed is the
    /// caller's, and stays.
    made: bool,
    dir: Option<PathBuf>,
}

/// The name of the node in a fresh temporary directory.
const NODE_NAME: &str = "root";

impl Node {
    /// The node `requested` (`--node`: made if absent; else it must be an
    /// empty regular file of the caller's), or a new empty file in a fresh
    /// private directory (mode 0700) in `temp`.
    pub fn make(requested: Option<&Path>, temp: &Path, caller: u32) -> Result<Node, RunError> {
        let Some(requested) = requested else {
            let base = temp.to_path_buf();
            let dir = nix::unistd::mkdtemp(&base.join("sandbox-root-run.XXXXXX"))
                .map_err(|source| RunError::TempDir { base, source })?;
            let path = dir.join(NODE_NAME);
            return match new_file(&path) {
                Ok(()) => Ok(Node { path, made: true, dir: Some(dir) }),
                Err(e) => {
                    let _ = std::fs::remove_dir(&dir);
                    Err(e)
                }
            };
        };
        let path = std::path::absolute(requested)
            .map_err(|source| RunError::MakeNode { node: requested.to_path_buf(), source })?;
        let made = match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                new_file(&path)?;
                true
            }
            Err(source) => return Err(RunError::MakeNode { node: path, source }),
            Ok(meta) => {
                node_problem(&NodeFacts::of(&meta), caller)
                    .map_err(|problem| RunError::Node { node: path.clone(), problem })?;
                false
            }
        };
        Ok(Node { path, made, dir: None })
    }

    /// Whether `run` made the node (and so removes it).
    pub fn made(&self) -> bool {
        self.made
    }

    /// Removes the node if `run` made it, and the directory made for it.
    /// A node given that existed stays: once the goaway took the
    /// environment off it, it is the plain empty file it was.
    pub fn remove(self) -> Vec<RunError> {
        let mut errors = Vec::new();
        if self.made {
            if let Err(source) = std::fs::remove_file(&self.path) {
                errors.push(RunError::Remove { path: self.path.clone(), source });
            }
        }
        if let Some(dir) = &self.dir {
            if let Err(source) = std::fs::remove_dir(dir) {
                errors.push(RunError::Remove { path: dir.clone(), source });
            }
        }
        errors
    }
}

/// A new empty file at `path`, only its owner's (never an existing one,
/// nor through a link there).
fn new_file(path: &Path) -> Result<(), RunError> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|source| RunError::MakeNode { node: path.to_path_buf(), source })
}

/// This program's own file, for the translator settrans starts: `exe`
/// (what the system says, `/proc/self/exe`) when it is an absolute name
/// of a file; else `argv0`, as a name with a slash or looked up in
/// `path_var` (`PATH`).
pub fn own_path(
    exe: Option<PathBuf>,
    argv0: Option<&OsStr>,
    path_var: Option<&OsStr>,
    is_file: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    if let Some(exe) = exe.filter(|e| e.is_absolute() && is_file(e)) {
        return Some(exe);
    }
    let argv0 = Path::new(argv0?);
    if argv0.as_os_str().as_encoded_bytes().contains(&b'/') {
        return std::path::absolute(argv0).ok().filter(|p| is_file(p));
    }
    find_program(argv0.as_os_str(), path_var, is_file)
}

/// `name` looked up in `path_var` (`PATH`): the first absolute directory
/// of it holding a file of that name.
pub fn find_program(name: &OsStr, path_var: Option<&OsStr>, is_file: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    std::env::split_paths(path_var?).filter(|dir| dir.is_absolute()).map(|dir| dir.join(name)).find(|p| is_file(p))
}

/// The signals that end a run: the build is ended as after CMD, and `run`
/// exits with 128 + the signal.
const ENDING: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

fn ending() -> SigSet {
    let mut set = SigSet::empty();
    for signal in ENDING {
        set.add(signal);
    }
    set
}

/// The first of [`ENDING`] `run` was sent. The signals are blocked in
/// every thread of ours (no handler runs) and taken by a thread of their
/// own with `sigwait`; the rest of `run` looks at what came, between
/// steps and while it waits for CMD.
#[derive(Debug, Clone, Default)]
pub struct Signals(Arc<AtomicI32>);

impl Signals {
    /// Blocks [`ENDING`] in this thread, and so in every thread it starts
    /// afterwards (call it before any other), and starts the one that
    /// takes them. Children inherit the mask: `exec` unblocks them again
    /// ([`unblock_signals`]).
    pub fn catch() -> Result<Signals, RunError> {
        let set = ending();
        set.thread_block().map_err(|e| RunError::Signals { what: e.to_string() })?;
        let signals = Signals::default();
        let seen = signals.0.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                while let Ok(signal) = set.wait() {
                    log::info!("{signal}: ending the build");
                    let _ = seen.compare_exchange(0, signal as i32, Ordering::SeqCst, Ordering::SeqCst);
                }
            })
            .map_err(|e| RunError::Signals { what: e.to_string() })?;
        Ok(signals)
    }

    /// The first ending signal that came, if one did.
    pub fn received(&self) -> Option<i32> {
        Some(self.0.load(Ordering::SeqCst)).filter(|&s| s != 0)
    }
}

/// Unblocks [`ENDING`] in this thread: `sandbox-root exec` does it first,
/// so that neither it nor CMD keeps the mask `run` started it with.
pub fn unblock_signals() {
    if let Err(e) = ending().thread_unblock() {
        log::warn!("unblocking signals: {e}");
    }
}

/// How CMD ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// With this status (128 + the signal for a command killed by one).
    Exited(i32),
    /// It was still running when `run` was sent this signal.
    Interrupted(i32),
}

/// A process's exit status as a shell gives it: its code, or 128 + the
/// signal that killed it.
pub fn status_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// What the sequence asks of the system.
pub trait Steps {
    /// `settrans -a NODE SELF SPEC`: sandbox-root set on `node`.
    fn set_translator(&mut self, node: &Path, spec: &Path) -> Result<(), RunError>;
    /// `command` run inside the environment on `node`, as `sandbox-root
    /// exec` runs it, until it ends or `run` is sent an ending signal.
    fn run_builder(&mut self, node: &Path, command: &[OsString]) -> Result<Ended, RunError>;
    /// `settrans -fg NODE`.
    fn goaway(&mut self, node: &Path) -> Result<(), RunError>;
    /// What is still set on `node` itself (a translator), if anything.
    fn translator_on(&mut self, node: &Path) -> Result<Option<String>, RunError>;
    /// The live processes of `uid`, but ours.
    fn build_processes(&mut self, uid: u32) -> Result<Vec<i32>, RunError>;
    /// Ends process `pid` at once, if it still is a live process of
    /// `uid` (its PID may be another's by now: the listing is a moment
    /// old).
    fn end_process(&mut self, pid: i32, uid: u32) -> Ending;
    /// Waits a little before looking again.
    fn pause(&mut self);
    /// The first ending signal `run` was sent, if any.
    fn signal(&self) -> Option<i32>;
}

/// What [`Steps::end_process`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Its task is terminated.
    Ended,
    /// Left alone: the PID no longer names a live process of the build
    /// user (it ended since it was listed; the PID may be another's now).
    NotTheirs,
    /// Ending it failed.
    Failed,
}

/// What the sequence needs to know of its caller.
#[derive(Debug, Clone)]
pub struct Context {
    /// The caller's effective uid: the node's owner, whom `exec` trusts.
    pub caller: u32,
    /// Where a fresh node's directory is made (`$TMPDIR`, else `/tmp`).
    pub temp: PathBuf,
    /// Who gets a kept build directory ([`keep::recipient`]).
    pub recipient: (u32, u32),
}

/// How a run ended: the status to exit with, the errors to report and
/// what else to say.
#[derive(Debug)]
pub struct Outcome {
    pub status: i32,
    pub errors: Vec<RunError>,
    pub notes: Vec<String>,
}

impl Outcome {
    fn failed(status: i32, error: RunError) -> Outcome {
        Outcome { status, errors: vec![error], notes: Vec::new() }
    }
}

/// How many times what is left is looked for after the goaway, with a
/// [`Steps::pause`] between two (the proc server and the node's file
/// system learn of the ended tasks a moment later).
const ROUNDS: usize = 50;

/// Runs `args.command` in a fresh environment of `plan` (read from the
/// file `spec`), then ends the environment and checks that nothing of it
/// is left (see the module's text).
pub fn sequence(plan: &Plan, spec: &Path, args: &RunArgs, cx: &Context, steps: &mut impl Steps) -> Outcome {
    let node = match Node::make(args.node.as_deref(), &cx.temp, cx.caller) {
        Ok(node) => node,
        Err(e) => return Outcome::failed(EXIT_OS, e),
    };
    let mut out = Outcome { status: EXIT_OS, errors: Vec::new(), notes: Vec::new() };
    if let Err(e) = steps.set_translator(&node.path, spec) {
        out.errors.push(e);
        // (settrans sets nothing when it fails; if it did, it stays, named.)
        match steps.translator_on(&node.path) {
            Ok(None) => out.errors.extend(node.remove()),
            Ok(Some(what)) => out.errors.push(RunError::TranslatorLeft { node: node.path.clone(), what }),
            Err(e) => out.errors.push(e),
        }
        return out;
    }
    let mut broken = false;
    let ended = match steps.signal() {
        Some(_) => None,
        None => match steps.run_builder(&node.path, &args.command) {
            Ok(ended) => Some(ended),
            Err(e) => {
                out.errors.push(e);
                broken = true;
                None
            }
        },
    };
    let uid = plan.exec.uid;
    let left = teardown(&node.path, uid, steps, &mut out);
    broken |= !left.is_clean();
    out.status = if broken {
        EXIT_OS
    } else if let Some(signal) = steps.signal() {
        128 + signal
    } else {
        match ended {
            Some(Ended::Exited(status)) => status,
            Some(Ended::Interrupted(signal)) => 128 + signal,
            None => EXIT_OS,
        }
    };
    let failed = steps.signal().is_some() || ended != Some(Ended::Exited(0));
    if args.keep_failed && failed {
        if left.processes {
            out.errors.push(RunError::NotKept { uid });
        } else {
            keep_build_dir(plan, cx.recipient, &mut out);
        }
    }
    if left.node {
        // (One given that existed is not removed anyway.)
        if node.made() {
            out.errors.push(RunError::NodeKept { node: node.path.clone() });
        }
    } else {
        let removed = node.remove();
        broken |= !removed.is_empty();
        out.errors.extend(removed);
    }
    if broken {
        out.status = EXIT_OS;
        if let Some(Ended::Exited(status)) = ended {
            out.notes.push(format!("the command exited with {status}"));
        }
    }
    out
}

/// What [`teardown`] found left.
#[derive(Debug, Clone, Copy)]
struct Left {
    /// Processes of the build user.
    processes: bool,
    /// Something on the node (it is not removed then).
    node: bool,
}

impl Left {
    fn is_clean(&self) -> bool {
        !self.processes && !self.node
    }
}

/// Ends the environment on `node` and every process of `uid` still
/// alive, and says what is left.
fn teardown(node: &Path, uid: u32, steps: &mut impl Steps, out: &mut Outcome) -> Left {
    let goaway = steps.goaway(node).err();
    let mut ended = 0;
    let mut processes = Vec::new();
    let mut listed = true;
    for round in 0..=ROUNDS {
        let found = match steps.build_processes(uid) {
            Ok(found) => found,
            Err(e) => {
                out.errors.push(e);
                listed = false;
                break;
            }
        };
        if found.is_empty() || round == ROUNDS {
            processes = found;
            break;
        }
        for pid in found {
            match steps.end_process(pid, uid) {
                Ending::Ended => ended += 1,
                Ending::NotTheirs => log::info!("process {pid}: no longer the build user's (uid {uid}): left alone"),
                Ending::Failed => {}
            }
        }
        steps.pause();
    }
    if ended > 0 {
        log::warn!("ended {ended} process(es) of the build user (uid {uid}) that outlived the goaway");
    }
    let mut left = Left { processes: !listed || !processes.is_empty(), node: false };
    if !processes.is_empty() {
        out.errors.push(RunError::ProcessesLeft { uid, pids: processes });
    }
    let mut on_node = None;
    for round in 0..=ROUNDS {
        match steps.translator_on(node) {
            Ok(None) => {
                on_node = None;
                break;
            }
            Ok(Some(what)) => on_node = Some(what),
            Err(e) => {
                on_node = Some(e.to_string());
                break;
            }
        }
        if round < ROUNDS {
            steps.pause();
        }
    }
    if let Some(what) = on_node {
        out.errors.extend(goaway);
        out.errors.push(RunError::TranslatorLeft { node: node.into(), what });
        left.node = true;
    } else if let Some(e) = goaway {
        // (The translator was gone already: CMD's end took it along.)
        log::info!("{e}");
    }
    match std::fs::symlink_metadata(node) {
        Ok(meta) if meta.file_type().is_file() => {}
        Ok(meta) => {
            let what = format!("it is a {:?}", Kind::of(meta.mode())).to_lowercase();
            out.errors.push(RunError::NotPlain { node: node.into(), what });
            left.node = true;
        }
        Err(e) => {
            out.errors.push(RunError::NotPlain { node: node.into(), what: e.to_string() });
            left.node = true;
        }
    }
    left
}

/// `--keep-failed`: hands the build directory of `plan` to `recipient`.
fn keep_build_dir(plan: &Plan, recipient: (u32, u32), out: &mut Outcome) {
    let Some(host) = crate::check::build_host(plan) else {
        out.errors.push(RunError::NoBuildDir);
        return;
    };
    match keep::hand_over(Path::new(&host), recipient) {
        Ok(handed) => {
            out.notes.push(format!(
                "the build failed; its build directory is kept: {host} (now uid {}, gid {})",
                recipient.0, recipient.1
            ));
            for (path, why) in handed.left {
                out.notes.push(format!("{}: left as it is: {why}", path.display()));
            }
            out.errors.extend(handed.errors.into_iter().map(RunError::Keep));
        }
        Err(e) => out.errors.push(RunError::Keep(e)),
    }
}

/// Reads and checks the spec for `run`, exactly as serving does
/// ([`crate::check::load`]): the plan and the spec's absolute name, which
/// settrans hands to the translator. A spec that `exec` would not trust
/// (not the caller's, or others may write it) is refused here too.
pub fn load(spec: &Path, caller: u32) -> Result<(Plan, PathBuf), Outcome> {
    let name = spec.display().to_string();
    let refused = |problems| Outcome::failed(EXIT_DATA, RunError::Spec { problems });
    let absolute = std::fs::canonicalize(spec).map_err(|e| refused(vec![format!("{name}: {e}")]))?;
    let plan = crate::check::load(&absolute, &name).map_err(refused)?;
    let meta = std::fs::metadata(&absolute).map_err(|e| refused(vec![format!("{name}: {e}")]))?;
    trust::only_theirs(meta.uid(), meta.mode(), caller)
        .map_err(|source| Outcome::failed(EXIT_DATA, RunError::UntrustedSpec { spec: absolute.clone(), source }))?;
    Ok((plan, absolute))
}

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
pub use hurd_system::{System, main};

/// `sandbox-root run` off the Hurd: the spec is checked as on the Hurd,
/// and then nothing runs.
#[cfg(not(all(target_os = "hurd", hurd_sys_generated)))]
pub fn main(args: &RunArgs) -> Outcome {
    if let Err(outcome) = load(&args.spec, nix::unistd::geteuid().as_raw()) {
        return outcome;
    }
    let what = format!(
        "this needs GNU/Hurd (this is {}, or hurd-sys was built without a sysroot); --check works anywhere",
        std::env::consts::OS
    );
    Outcome { status: EXIT_OS, errors: Vec::new(), notes: vec![what] }
}

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
mod hurd_system {
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use super::{Context, Ended, Ending, Outcome, RunArgs, RunError, Signals, Steps};

    /// How often a running CMD is looked at, for an ending signal.
    const POLL: Duration = Duration::from_millis(100);
    /// The pause between two looks at what is left.
    const PAUSE: Duration = Duration::from_millis(100);

    /// The Hurd's side of [`Steps`]: settrans, `sandbox-root exec` in a
    /// child process, the proc server, the node's translator.
    #[derive(Debug)]
    pub struct System {
        /// This program's file: the translator, and `exec`.
        pub own: PathBuf,
        /// `env`, to start the translator with `RUST_LOG` (settrans starts
        /// a translator with an empty environment).
        pub env: Option<PathBuf>,
        pub log_level: Option<String>,
        pub signals: Signals,
    }

    fn described(status: std::io::Result<std::process::ExitStatus>) -> Result<(), String> {
        match status {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(format!("settrans exited with {}", super::status_of(s))),
            Err(e) => Err(format!("starting settrans: {e}")),
        }
    }

    impl Steps for System {
        fn set_translator(&mut self, node: &Path, spec: &Path) -> Result<(), RunError> {
            let mut settrans = Command::new("settrans");
            settrans.arg("-a").arg(node);
            match (&self.log_level, &self.env) {
                (Some(level), Some(env)) => {
                    settrans.arg(env).arg(format!("RUST_LOG={level}"));
                }
                (Some(_), None) => log::warn!("no env program on PATH: the translator logs at its default level"),
                (None, _) => {}
            }
            settrans.arg(&self.own).arg(spec).stdin(Stdio::null());
            log::debug!("{settrans:?}");
            described(settrans.status()).map_err(|what| RunError::SetTranslator { node: node.into(), what })
        }

        fn run_builder(&mut self, node: &Path, command: &[OsString]) -> Result<Ended, RunError> {
            let error = |source| RunError::Builder { node: node.into(), source };
            let mut exec = Command::new(&self.own);
            exec.arg("exec").arg(node).arg("--").args(command);
            if let Some(level) = &self.log_level {
                exec.env("RUST_LOG", level);
            }
            let mut child = exec.spawn().map_err(error)?;
            loop {
                if let Some(status) = child.try_wait().map_err(error)? {
                    return Ok(Ended::Exited(super::status_of(status)));
                }
                if let Some(signal) = self.signals.received() {
                    // (Not reaped yet, so the PID is still this child's.)
                    let _ = child.kill();
                    let _ = child.wait();
                    return Ok(Ended::Interrupted(signal));
                }
                std::thread::sleep(POLL);
            }
        }

        fn goaway(&mut self, node: &Path) -> Result<(), RunError> {
            let status = Command::new("settrans").arg("-fg").arg(node).stdin(Stdio::null()).status();
            described(status).map_err(|what| RunError::Goaway { node: node.into(), what })
        }

        fn translator_on(&mut self, node: &Path) -> Result<Option<String>, RunError> {
            let error = |e: hurd::fs::FsError| RunError::TranslatorLeft { node: node.into(), what: e.to_string() };
            let port = hurd::fs::lookup(node, hurd::fs::O_NOTRANS | hurd::fs::O_NOLINK, 0).map_err(error)?;
            if let Ok(control) = hurd::fs::translator_control(&port) {
                let options = hurd::fs::options(&control).map(|o| o.join(" ")).unwrap_or_else(|e| format!("({e})"));
                return Ok(Some(format!("an active translator: {options}")));
            }
            match hurd::fs::translator(&port).map_err(error)? {
                passive if passive.is_empty() => Ok(None),
                passive => Ok(Some(format!("a passive translator: {}", passive.join(" ")))),
            }
        }

        fn build_processes(&mut self, uid: u32) -> Result<Vec<i32>, RunError> {
            let pids = hurd::process::all_pids().map_err(|e| RunError::Processes { uid, what: e.to_string() })?;
            let all: Vec<crate::reap::Process> = pids
                .into_iter()
                .filter_map(|pid| hurd::process::info(pid).ok())
                .map(|p| crate::reap::Process { pid: p.pid, owner: p.owner, zombie: p.zombie })
                .collect();
            let own = i32::try_from(std::process::id()).unwrap_or(0);
            Ok(crate::reap::build_processes(&all, uid, own))
        }

        /// The PID may have been reused since it was listed (the process
        /// ended, another took its number). So the task is taken first
        /// (`proc_pid2task`), its owner read after (`proc_getprocinfo`),
        /// and the task held then checked to still have that PID
        /// (`proc_task2pid`): a live process keeps its PID, and a PID
        /// names one live process at a time, so the process whose owner
        /// was read is the held task's; and the task held, not the PID
        /// again, is terminated. A PID reused before the task was taken
        /// names another user's process, whose owner is not the build
        /// user: left alone. (An exec that gave the process a new task
        /// meanwhile fails the check too; the next listing finds it.)
        ///
        /// What remains: between the owner's read and `task_terminate`,
        /// that same process could take another owner (an exec of a
        /// set-user-ID program in the same task, or ids handed to it by
        /// someone holding them); it is then ended all the same, a
        /// process of the build a moment before. The owner is what the
        /// proc server was told with the process's own ids
        /// (`proc_setowner`), so no process claims the build user without
        /// having that uid.
        fn end_process(&mut self, pid: i32, uid: u32) -> Ending {
            let proc = match hurd::process::proc_port() {
                Ok(proc) => proc,
                Err(e) => {
                    log::warn!("ending process {pid}: {e}");
                    return Ending::Failed;
                }
            };
            let task = match hurd::procserver::pid2task(&proc, pid) {
                Ok(task) => task,
                Err(hurd::errno::Errno::ESRCH) => return Ending::NotTheirs,
                Err(e) => {
                    log::warn!("ending process {pid}: proc_pid2task: {e}");
                    return Ending::Failed;
                }
            };
            match hurd::process::info(pid) {
                Ok(info) if info.owner == Some(uid) && !info.zombie => {}
                _ => return Ending::NotTheirs,
            }
            if hurd::procserver::task2pid(&proc, &task).ok() != Some(pid) {
                return Ending::NotTheirs;
            }
            match hurd::process::terminate_task(&task) {
                Ok(()) => Ending::Ended,
                Err(e) => {
                    log::warn!("ending process {pid}: task_terminate: {e}");
                    Ending::Failed
                }
            }
        }

        fn pause(&mut self) {
            std::thread::sleep(PAUSE);
        }

        fn signal(&self) -> Option<i32> {
            self.signals.received()
        }
    }

    /// `sandbox-root run`: the spec checked, then [`super::sequence`] on
    /// the Hurd.
    pub fn main(args: &RunArgs) -> Outcome {
        let caller = nix::unistd::geteuid().as_raw();
        let (plan, spec) = match super::load(&args.spec, caller) {
            Ok(loaded) => loaded,
            Err(outcome) => return outcome,
        };
        let path_var = std::env::var_os("PATH");
        let is_file = |p: &Path| p.is_file();
        let argv0 = std::env::args_os().next();
        let own = super::own_path(std::env::current_exe().ok(), argv0.as_deref(), path_var.as_deref(), is_file)
            .and_then(|p| std::fs::canonicalize(p).ok());
        let Some(own) = own else {
            let what = "neither /proc/self/exe nor the name it was started by names it".to_owned();
            return Outcome::failed(sandbox_cli::EXIT_OS, RunError::OwnPath { what });
        };
        let signals = match Signals::catch() {
            Ok(signals) => signals,
            Err(e) => return Outcome::failed(sandbox_cli::EXIT_OS, e),
        };
        let real = (nix::unistd::getuid().as_raw(), nix::unistd::getgid().as_raw());
        let primary =
            |uid| nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)).ok().flatten().map(|u| u.gid.as_raw());
        let recipient = crate::keep::recipient(
            real,
            std::env::var_os("SUDO_UID").as_deref(),
            std::env::var_os("SUDO_GID").as_deref(),
            primary,
        );
        let cx = Context { caller, temp: std::env::temp_dir(), recipient };
        let log_level = args.log_level.clone().or_else(|| std::env::var("RUST_LOG").ok());
        let env = super::find_program("env".as_ref(), path_var.as_deref(), is_file);
        let mut system = System { own, env, log_level, signals };
        super::sequence(&plan, &spec, args, &cx, &mut system)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandbox_cli::Opt;

    const P: Program = Program {
        name: "sandbox-root",
        version: "0",
        usage: &["run [OPTION...] SPEC -- CMD [ARG...]"],
        doc: "",
        options: &[Opt { short: None, long: "node", arg: Some("PATH"), doc: "" }],
        footer: "",
    };

    fn parse(args: &[&str]) -> Result<Parsed, String> {
        let mut parser = lexopt::Parser::from_args(args.iter().map(OsString::from));
        parse_args(&P, &mut parser).map_err(|e| e.to_string())
    }

    fn run_args(spec: &str, command: &[&str]) -> RunArgs {
        RunArgs {
            spec: spec.into(),
            command: command.iter().map(OsString::from).collect(),
            node: None,
            keep_failed: false,
            log_level: None,
        }
    }

    #[test]
    fn spec_then_command_after_the_dashes() {
        assert_eq!(parse(&["s.json", "--", "/bin/sh"]), Ok(Parsed::Run(run_args("s.json", &["/bin/sh"]))));
        // CMD's own options and dashes are CMD's.
        assert_eq!(
            parse(&["s.json", "--", "/bin/sh", "-c", "exit 3", "--", "--node"]),
            Ok(Parsed::Run(run_args("s.json", &["/bin/sh", "-c", "exit 3", "--", "--node"])))
        );
        // As exec takes it: the first word after SPEC starts CMD.
        assert_eq!(
            parse(&["s.json", "/bin/sh", "-c", "x"]),
            Ok(Parsed::Run(run_args("s.json", &["/bin/sh", "-c", "x"])))
        );
    }

    #[test]
    fn options_before_the_dashes() {
        let mut want = run_args("s.json", &["true"]);
        want.node = Some("/tmp/n".into());
        want.keep_failed = true;
        want.log_level = Some("debug".into());
        for args in [
            &["--node", "/tmp/n", "--keep-failed", "--log-level", "debug", "s.json", "--", "true"][..],
            &["--node=/tmp/n", "s.json", "--keep-failed", "--log-level=debug", "--", "true"],
        ] {
            assert_eq!(parse(args), Ok(Parsed::Run(want.clone())), "{args:?}");
        }
    }

    #[test]
    fn missing_spec_or_command() {
        assert_eq!(parse(&[]), Err("run: missing SPEC: the JSON file describing the environment".into()));
        assert_eq!(
            parse(&["--", "/bin/sh"]),
            Err("run: missing SPEC: the JSON file describing the environment".into())
        );
        let no_command = Err("run: missing CMD: the command to run inside, after --".into());
        assert_eq!(parse(&["s.json"]), no_command);
        assert_eq!(parse(&["s.json", "--"]), no_command);
        assert_eq!(parse(&["--keep-failed", "s.json", "--"]), no_command);
    }

    #[test]
    fn bad_options() {
        assert!(parse(&["--node"]).unwrap_err().contains("--node"), "--node needs its PATH");
        assert_eq!(parse(&["--node=", "s.json", "--", "x"]), Err("run: --node: the path is empty".into()));
        assert!(parse(&["--log-level", "loud", "s.json", "--", "x"]).unwrap_err().contains("'loud' is not a level"));
        assert!(parse(&["--frob", "s.json", "--", "x"]).unwrap_err().contains("--frob"));
        assert!(matches!(parse(&["--help"]), Ok(Parsed::Print(text)) if text.starts_with("Usage: sandbox-root run")));
        assert!(matches!(parse(&["s.json", "--version"]), Ok(Parsed::Print(_))));
    }

    fn node_facts(kind: Kind, size: u64, owner: u32, mode: u32) -> NodeFacts {
        NodeFacts { kind, size, nlink: 1, owner, mode }
    }

    #[test]
    fn a_given_node_must_be_an_empty_file_of_the_callers() {
        assert_eq!(node_problem(&node_facts(Kind::Regular, 0, 0, 0o100_644), 0), Ok(()));
        assert_eq!(node_problem(&node_facts(Kind::Regular, 0, 1000, 0o100_600), 1000), Ok(()));
        assert_eq!(node_problem(&node_facts(Kind::Symlink, 0, 0, 0o120_777), 0), Err(NodeProblem::Symlink));
        assert_eq!(
            node_problem(&node_facts(Kind::Directory, 0, 0, 0o040_755), 0),
            Err(NodeProblem::NotAFile { what: "directory" })
        );
        assert_eq!(
            node_problem(&node_facts(Kind::Regular, 12, 0, 0o100_644), 0),
            Err(NodeProblem::NotEmpty { size: 12 })
        );
        // A file with another name: the environment would show there too.
        assert_eq!(
            node_problem(&NodeFacts { nlink: 2, ..node_facts(Kind::Regular, 0, 0, 0o100_600) }, 0),
            Err(NodeProblem::HardLinked { links: 2 })
        );
        assert_eq!(
            node_problem(&node_facts(Kind::Regular, 0, 1000, 0o100_644), 0),
            Err(NodeProblem::Untrusted(Untrusted::NotOwned { owner: 1000, caller: 0 }))
        );
        assert_eq!(
            node_problem(&node_facts(Kind::Regular, 0, 0, 0o100_666), 0),
            Err(NodeProblem::Untrusted(Untrusted::Writable { mode: 0o666 }))
        );
    }

    /// A directory of its own under the system's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sandbox-root-run-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn me() -> u32 {
        nix::unistd::geteuid().as_raw()
    }

    #[test]
    fn given_nodes_are_checked_and_made() {
        let dir = scratch("nodes");
        // Absent: made, empty, only ours.
        let node = Node::make(Some(&dir.join("new")), &dir, me()).unwrap();
        let meta = std::fs::symlink_metadata(&node.path).unwrap();
        assert!(meta.is_file() && meta.len() == 0 && meta.mode() & 0o777 == 0o600);
        // An empty file of ours: taken as it is.
        let again = Node::make(Some(&dir.join("new")), &dir, me()).unwrap();
        assert_eq!(again.path, node.path);
        assert!(node.made() && !again.made(), "only the first made it");
        assert!(again.remove().is_empty());
        assert!(node.path.exists(), "one that existed stays");
        std::fs::write(dir.join("full"), "data").unwrap();
        std::os::unix::fs::symlink(dir.join("new"), dir.join("link")).unwrap();
        std::fs::write(dir.join("twice"), "").unwrap();
        std::fs::hard_link(dir.join("twice"), dir.join("twice2")).unwrap();
        for (name, problem) in [
            ("full", NodeProblem::NotEmpty { size: 4 }),
            ("link", NodeProblem::Symlink),
            ("", NodeProblem::NotAFile { what: "directory" }),
            ("twice", NodeProblem::HardLinked { links: 2 }),
        ] {
            match Node::make(Some(&dir.join(name)), &dir, me()) {
                Err(RunError::Node { problem: p, node }) => {
                    assert_eq!(p, problem, "{name}");
                    assert_eq!(node, dir.join(name), "the error names the path");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        let text = Node::make(Some(&dir.join("twice")), &dir, me()).unwrap_err().to_string();
        assert!(
            text.starts_with(&format!("--node {}: it has 2 names (hard links)", dir.join("twice").display())),
            "{text}"
        );
        assert!(matches!(Node::make(Some(&dir.join("none/node")), &dir, me()), Err(RunError::MakeNode { .. })));
        assert!(node.remove().is_empty());
        assert!(!dir.join("new").exists(), "one run made is removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fresh_node_is_alone_in_a_private_directory() {
        let dir = scratch("fresh");
        let node = Node::make(None, &dir, me()).unwrap();
        let parent = node.path.parent().unwrap().to_path_buf();
        assert!(parent.starts_with(&dir) && parent != dir);
        assert_eq!(std::fs::metadata(&parent).unwrap().mode() & 0o777, 0o700);
        assert_eq!(std::fs::read_dir(&parent).unwrap().count(), 1);
        assert!(node.remove().is_empty());
        assert!(!parent.exists(), "the directory goes with the node");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn own_path_from_the_system_or_the_name() {
        let files = ["/test/bin/sandbox-root", "/usr/bin/env"];
        let is_file = |p: &Path| files.iter().any(|f| Path::new(f) == p);
        let path = Some(OsStr::new("/nowhere:relative:/test/bin"));
        let exe = Some(PathBuf::from("/test/bin/sandbox-root"));
        assert_eq!(own_path(exe.clone(), None, None, is_file), exe);
        // The Hurd's procfs answers "-" when it does not know.
        assert_eq!(own_path(Some("-".into()), Some(OsStr::new("sandbox-root")), path, is_file), exe);
        assert_eq!(own_path(None, Some(OsStr::new("/test/bin/sandbox-root")), None, is_file), exe);
        assert_eq!(own_path(None, Some(OsStr::new("sandbox-root")), None, is_file), None);
        assert_eq!(own_path(None, None, path, is_file), None);
        let path = Some(OsStr::new("/bin:/usr/bin"));
        assert_eq!(find_program(OsStr::new("env"), path, is_file), Some("/usr/bin/env".into()));
    }

    /// What the sequence asked, in order.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Call {
        SetTranslator(PathBuf),
        RunBuilder(Vec<OsString>),
        Goaway,
        TranslatorOn,
        BuildProcesses(u32),
        /// A process to end, if it still is this uid's.
        End(i32, u32),
        Pause,
    }

    /// A recording double: answers from a script.
    #[derive(Debug, Default)]
    struct Double {
        calls: Vec<Call>,
        settrans_fails: bool,
        ended: Option<Ended>,
        signal: Option<i32>,
        /// What each listing of processes finds, in turn (then nothing).
        processes: Vec<Vec<i32>>,
        /// A process that never ends.
        immortal: Option<i32>,
        /// PIDs that are another's by the time they are to be ended.
        reused: Vec<i32>,
        /// How many looks find the translator still there.
        translator_stays: usize,
        node: PathBuf,
    }

    impl Steps for Double {
        fn set_translator(&mut self, node: &Path, spec: &Path) -> Result<(), RunError> {
            self.calls.push(Call::SetTranslator(spec.into()));
            self.node = node.into();
            if self.settrans_fails {
                return Err(RunError::SetTranslator { node: node.into(), what: "settrans exited with 4".into() });
            }
            Ok(())
        }
        fn run_builder(&mut self, _: &Path, command: &[OsString]) -> Result<Ended, RunError> {
            self.calls.push(Call::RunBuilder(command.to_vec()));
            assert!(self.node.is_file(), "the node exists while the builder runs");
            Ok(self.ended.unwrap_or(Ended::Exited(0)))
        }
        fn goaway(&mut self, _: &Path) -> Result<(), RunError> {
            self.calls.push(Call::Goaway);
            Ok(())
        }
        fn translator_on(&mut self, _: &Path) -> Result<Option<String>, RunError> {
            self.calls.push(Call::TranslatorOn);
            if self.translator_stays > 0 {
                self.translator_stays -= 1;
                return Ok(Some("an active translator: sandbox-root".into()));
            }
            Ok(None)
        }
        fn build_processes(&mut self, uid: u32) -> Result<Vec<i32>, RunError> {
            self.calls.push(Call::BuildProcesses(uid));
            if let Some(pid) = self.immortal {
                return Ok(vec![pid]);
            }
            Ok(if self.processes.is_empty() { Vec::new() } else { self.processes.remove(0) })
        }
        fn end_process(&mut self, pid: i32, uid: u32) -> Ending {
            self.calls.push(Call::End(pid, uid));
            if self.reused.contains(&pid) { Ending::NotTheirs } else { Ending::Ended }
        }
        fn pause(&mut self) {
            self.calls.push(Call::Pause);
        }
        fn signal(&self) -> Option<i32> {
            self.signal
        }
    }

    struct Fixture {
        dir: PathBuf,
        plan: Plan,
        cx: Context,
    }

    fn fixture(name: &str) -> Fixture {
        let dir = scratch(name);
        std::fs::create_dir(dir.join("build")).unwrap();
        let plan = sandbox_spec::parse(&format!(
            r#"{{"version": 1, "build": {{"host": "{}/build", "path": "/build"}},
                "user": {{"name": "b", "uid": 30001, "group": "g", "gid": 30000}}}}"#,
            dir.display()
        ))
        .unwrap();
        let cx = Context { caller: me(), temp: dir.clone(), recipient: (me(), nix::unistd::getegid().as_raw()) };
        Fixture { dir, plan, cx }
    }

    impl Fixture {
        fn run(&self, args: &RunArgs, double: &mut Double) -> Outcome {
            sequence(&self.plan, Path::new("/s.json"), args, &self.cx, double)
        }

        /// What is left in the temporary directory besides the build
        /// directory.
        fn leftovers(&self) -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(&self.dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != "build")
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    #[test]
    fn the_whole_sequence_in_order_and_nothing_left() {
        let f = fixture("order");
        let mut double = Double { ended: Some(Ended::Exited(3)), ..Double::default() };
        let out = f.run(&run_args("s.json", &["/bin/sh", "-c", "exit 3"]), &mut double);
        assert_eq!(out.status, 3, "CMD's status: {out:?}");
        assert!(out.errors.is_empty() && out.notes.is_empty(), "{out:?}");
        assert_eq!(
            double.calls,
            [
                Call::SetTranslator("/s.json".into()),
                Call::RunBuilder(vec!["/bin/sh".into(), "-c".into(), "exit 3".into()]),
                Call::Goaway,
                Call::BuildProcesses(30001),
                Call::TranslatorOn,
            ]
        );
        assert!(double.node.starts_with(&f.dir));
        assert_eq!(f.leftovers(), Vec::<String>::new(), "the node and its directory are removed");
    }

    #[test]
    fn a_failed_settrans_removes_the_node_and_runs_nothing() {
        let f = fixture("settrans");
        let mut double = Double { settrans_fails: true, ..Double::default() };
        let out = f.run(&run_args("s.json", &["true"]), &mut double);
        assert_eq!(out.status, EXIT_OS);
        assert!(matches!(out.errors.as_slice(), [RunError::SetTranslator { .. }]), "{out:?}");
        assert_eq!(double.calls, [Call::SetTranslator("/s.json".into()), Call::TranslatorOn]);
        assert_eq!(f.leftovers(), Vec::<String>::new());
    }

    #[test]
    fn a_signal_ends_the_build_the_same_way() {
        let f = fixture("signal");
        let mut double = Double { ended: Some(Ended::Interrupted(15)), signal: Some(15), ..Double::default() };
        let out = f.run(&run_args("s.json", &["sleep", "600"]), &mut double);
        assert_eq!(out.status, 143);
        assert!(double.calls.contains(&Call::Goaway));
        assert_eq!(f.leftovers(), Vec::<String>::new());
        // With --keep-failed, an interrupted build is a failed one.
        std::fs::write(f.dir.join("build/log"), "interrupted").unwrap();
        let mut keep = run_args("s.json", &["sleep", "600"]);
        keep.keep_failed = true;
        let mut double = Double { ended: Some(Ended::Interrupted(2)), signal: Some(2), ..Double::default() };
        let out = f.run(&keep, &mut double);
        assert_eq!(out.status, 130);
        assert!(out.notes.iter().any(|n| n.contains("build directory is kept")), "{out:?}");
        // Sent before CMD started: CMD never starts.
        let mut double = Double { signal: Some(1), ..Double::default() };
        let out = f.run(&run_args("s.json", &["sleep", "600"]), &mut double);
        assert_eq!(out.status, 129);
        assert!(!double.calls.iter().any(|c| matches!(c, Call::RunBuilder(_))));
        assert!(double.calls.contains(&Call::Goaway));
        assert_eq!(f.leftovers(), Vec::<String>::new());
    }

    #[test]
    fn processes_that_outlive_the_goaway_are_ended() {
        let f = fixture("stragglers");
        let mut double = Double { processes: vec![vec![41, 42], vec![43]], ..Double::default() };
        let out = f.run(&run_args("s.json", &["true"]), &mut double);
        assert_eq!(out.status, 0, "{out:?}");
        let ends: Vec<&Call> = double.calls.iter().filter(|c| matches!(c, Call::End(..))).collect();
        assert_eq!(ends, [&Call::End(41, 30001), &Call::End(42, 30001), &Call::End(43, 30001)]);
    }

    #[test]
    fn a_pid_no_longer_the_build_users_is_left_alone() {
        // 42 ended between the listing and its end, and another's process
        // took the number: left alone, and listed no more as the build
        // user's.
        let f = fixture("reused");
        let mut double = Double { processes: vec![vec![41, 42]], reused: vec![42], ..Double::default() };
        let out = f.run(&run_args("s.json", &["true"]), &mut double);
        assert_eq!(out.status, 0, "{out:?}");
        assert!(out.errors.is_empty(), "{out:?}");
        let ends: Vec<&Call> = double.calls.iter().filter(|c| matches!(c, Call::End(..))).collect();
        assert_eq!(ends, [&Call::End(41, 30001), &Call::End(42, 30001)], "each asked once, with the build user");
    }

    #[test]
    fn a_process_left_is_an_error_and_keeps_the_build_directory_from_being_handed_over() {
        let f = fixture("immortal");
        let mut double = Double { immortal: Some(77), ended: Some(Ended::Exited(1)), ..Double::default() };
        let mut args = run_args("s.json", &["false"]);
        args.keep_failed = true;
        let out = f.run(&args, &mut double);
        assert_eq!(out.status, EXIT_OS);
        assert!(
            matches!(out.errors.as_slice(), [RunError::ProcessesLeft { uid: 30001, pids }, RunError::NotKept { .. }] if pids == &[77]),
            "{out:?}"
        );
        assert_eq!(out.notes, ["the command exited with 1"]);
        assert_eq!(double.calls.iter().filter(|c| **c == Call::BuildProcesses(30001)).count(), ROUNDS + 1);
    }

    #[test]
    fn a_translator_left_is_an_error_and_the_node_stays() {
        let f = fixture("translator");
        let mut double = Double { translator_stays: usize::MAX, ..Double::default() };
        let out = f.run(&run_args("s.json", &["true"]), &mut double);
        assert_eq!(out.status, EXIT_OS);
        assert!(
            matches!(out.errors.as_slice(), [RunError::TranslatorLeft { .. }, RunError::NodeKept { .. }]),
            "{out:?}"
        );
        assert!(double.node.exists(), "a node something is set on is not removed");
        // CMD succeeded: nothing to keep, whatever is left.
        let mut keep = run_args("s.json", &["true"]);
        keep.keep_failed = true;
        let out = f.run(&keep, &mut Double { translator_stays: usize::MAX, ..Double::default() });
        assert_eq!(out.status, EXIT_OS);
        assert!(!out.notes.iter().any(|n| n.contains("kept")), "{out:?}");
        // Gone after a while: fine.
        let mut double = Double { translator_stays: 3, ..Double::default() };
        let out = f.run(&run_args("s.json", &["true"]), &mut double);
        assert_eq!(out.status, 0, "{out:?}");
    }

    #[test]
    fn keep_failed_hands_the_build_directory_over_only_when_cmd_fails() {
        let f = fixture("keep");
        std::fs::write(f.dir.join("build/log"), "failed").unwrap();
        let mut args = run_args("s.json", &["false"]);
        args.keep_failed = true;
        let out = f.run(&args, &mut Double { ended: Some(Ended::Exited(0)), ..Double::default() });
        assert_eq!((out.status, out.notes.len()), (0, 0), "{out:?}");
        let out = f.run(&args, &mut Double { ended: Some(Ended::Exited(2)), ..Double::default() });
        assert_eq!(out.status, 2, "{out:?}");
        assert!(out.errors.is_empty(), "{out:?}");
        let (uid, gid) = f.cx.recipient;
        assert_eq!(
            out.notes,
            [format!(
                "the build failed; its build directory is kept: {}/build (now uid {uid}, gid {gid})",
                f.dir.display()
            )]
        );
        assert!(f.dir.join("build/log").exists(), "the build directory stays");
    }

    #[test]
    fn a_given_node_is_used_and_removed_only_if_run_made_it() {
        let f = fixture("given");
        let mut args = run_args("s.json", &["true"]);
        args.node = Some(f.dir.join("node"));
        let mut double = Double::default();
        let out = f.run(&args, &mut double);
        assert_eq!(out.status, 0, "{out:?}");
        assert_eq!(double.node, f.dir.join("node"));
        assert_eq!(f.leftovers(), Vec::<String>::new(), "made by run: removed");
        // An empty file of the caller's: used, and left, empty.
        std::fs::write(f.dir.join("node"), "").unwrap();
        std::fs::set_permissions(f.dir.join("node"), std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let mut double = Double::default();
        let out = f.run(&args, &mut double);
        assert_eq!(out.status, 0, "{out:?}");
        assert!(out.errors.is_empty(), "{out:?}");
        assert_eq!(double.node, f.dir.join("node"));
        assert_eq!(f.leftovers(), ["node"], "the caller's: it stays");
        assert_eq!(std::fs::read(f.dir.join("node")).unwrap(), b"");
        // Also when something is left on it: named, not removed either way.
        let out = f.run(&args, &mut Double { translator_stays: usize::MAX, ..Double::default() });
        assert!(matches!(out.errors.as_slice(), [RunError::TranslatorLeft { .. }]), "{out:?}");
        // A file with another name is refused, by its path.
        std::fs::hard_link(f.dir.join("node"), f.dir.join("other-name")).unwrap();
        let mut double = Double::default();
        let out = f.run(&args, &mut double);
        assert_eq!(out.status, EXIT_OS);
        assert!(
            matches!(out.errors.as_slice(), [RunError::Node { node, problem: NodeProblem::HardLinked { links: 2 } }] if *node == f.dir.join("node")),
            "{out:?}"
        );
        assert!(double.calls.is_empty());
        std::fs::remove_file(f.dir.join("other-name")).unwrap();
        // One that is not an empty file is refused before anything starts.
        std::fs::write(f.dir.join("node"), "x").unwrap();
        let mut double = Double::default();
        let out = f.run(&args, &mut double);
        assert_eq!(out.status, EXIT_OS);
        assert!(matches!(out.errors.as_slice(), [RunError::Node { .. }]), "{out:?}");
        assert!(double.calls.is_empty());
        assert_eq!(std::fs::read(f.dir.join("node")).unwrap(), b"x", "left as it was");
    }

    #[test]
    fn a_bad_spec_is_refused_as_serving_refuses_it() {
        let f = fixture("spec");
        let spec = f.dir.join("spec.json");
        std::fs::write(
            &spec,
            r#"{"version": 1, "build": {"host": "/tmp/b"}, "inputs": ["rel", "/gnu/store/a"],
            "user": {"name": "b", "uid": 0, "group": "g", "gid": 30000}}"#,
        )
        .unwrap();
        let Err(out) = load(&spec, me()) else { panic!("a bad spec was taken") };
        assert_eq!(out.status, EXIT_DATA);
        let text = out.errors[0].to_string();
        assert!(text.lines().all(|l| l.starts_with(&format!("{}: $", spec.display()))), "{text}");
        assert!(text.contains("$.inputs[0]") && text.contains("$.user.uid"), "{text}");
        // What serving refuses on the host is refused too, by its place:
        // an output there already.
        std::fs::create_dir(f.dir.join("abc-out")).unwrap();
        let existing = format!(
            r#"{{"version": 1, "build": {{"host": "/tmp/b"}}, "store": "{0}", "outputs": ["{0}/abc-out"],
                "servers": {{"proc": "host"}},
                "user": {{"name": "b", "uid": 30001, "group": "g", "gid": 30000}}}}"#,
            f.dir.display()
        );
        std::fs::write(&spec, existing).unwrap();
        let Err(out) = load(&spec, me()) else { panic!("a spec with an existing output was taken") };
        assert!(out.errors[0].to_string().contains("$.outputs[0]: the output"), "{:?}", out.errors);
        std::fs::remove_dir(f.dir.join("abc-out")).unwrap();
        let Err(out) = load(&f.dir.join("absent.json"), me()) else { panic!() };
        assert_eq!(out.status, EXIT_DATA);
        // A spec exec would not trust: others may write it.
        let good = r#"{"version": 1, "build": {"host": "/tmp/b"}, "servers": {"proc": "host"},
            "user": {"name": "b", "uid": 30001, "group": "g", "gid": 30000}}"#;
        std::fs::write(&spec, good).unwrap();
        assert!(load(&spec, me()).is_ok());
        std::fs::set_permissions(&spec, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
        let Err(out) = load(&spec, me()) else { panic!("a spec anyone may write was taken") };
        assert_eq!(out.status, EXIT_DATA);
        assert!(matches!(out.errors.as_slice(), [RunError::UntrustedSpec { .. }]), "{:?}", out.errors);
        assert_eq!(f.leftovers(), ["spec.json"], "nothing made");
    }
}
