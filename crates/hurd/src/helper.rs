//! Helpers: translators that a translator starts for itself, set on no
//! node of any file system (sandbox-root's private pflocal, say). Each runs
//! in a task of its own that is a child process of ours; we are its parent
//! file system for the startup protocol, and we end it.
//!
//! Ending them when we leave is [`Helper::terminate`]. Ending them when we
//! die (SIGKILL, a crash) is [`watch`]'s: a watcher process, forked before
//! anything else runs, waits for our task to die and then terminates every
//! helper's task.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::Mutex;
use std::time::Duration;

use hurd_sys::raw;

use crate::errno::{Errno, check};
use crate::port::{Notification, RawPort, ReceiveRight, SendRight, request_notification, task};

#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    #[error("{program}: {step}: {code}")]
    Step { program: String, step: &'static str, code: Errno },
    #[error("{program}: no fsys_startup from it within {} s", .timeout.as_secs())]
    NoStartup { program: String, timeout: Duration },
    #[error("starting the watcher of the helpers: {0}")]
    Watcher(std::io::Error),
}

/// A running helper: its task, and the control port it gave at startup.
#[derive(Debug)]
pub struct Helper {
    program: String,
    task: SendRight,
    control: SendRight,
}

impl Helper {
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The helper's control port (`fsys_getroot`, `fsys_goaway`).
    pub fn control(&self) -> &SendRight {
        &self.control
    }

    /// Ends the helper's task at once.
    pub fn terminate(&self) -> Result<(), Errno> {
        // SAFETY: `task` is a send right to the helper's task port we hold.
        check(unsafe { raw::task_terminate(self.task.as_raw()) })
    }
}

/// Startups under way: a helper's bootstrap port, the node it is handed as
/// the one it sits on, and the control port it answers with.
struct Startup {
    underlying: Option<SendRight>,
    control: Option<SendRight>,
}

static STARTUPS: Mutex<BTreeMap<RawPort, Startup>> = Mutex::new(BTreeMap::new());

/// `fsys_startup` from a helper on `bootstrap`: records its `control` port
/// (now ours) and gives the node it sits on; `None` when no helper is being
/// started on that port (the caller answers an error, and the request's
/// rights are destroyed with it).
pub(crate) fn startup_request(bootstrap: RawPort, control: RawPort) -> Option<SendRight> {
    let mut startups = STARTUPS.lock().unwrap_or_else(|e| e.into_inner());
    let startup = startups.get_mut(&bootstrap)?;
    let underlying = startup.underlying.take()?;
    // SAFETY: the request moved a send right for `control` to us, and
    // this answer is a success (the stub keeps the rights).
    startup.control = unsafe { SendRight::from_raw(control) };
    Some(underlying)
}

/// Starts `argv[0]` (a file name) with arguments `argv[1..]` as a helper
/// sitting on `underlying`, and waits up to `timeout` for its startup. On
/// any failure the new task is terminated.
pub fn start(argv: &[String], underlying: SendRight, timeout: Duration) -> Result<Helper, HelperError> {
    let program = argv.first().cloned().unwrap_or_default();
    let step = |step: &'static str| {
        let program = program.clone();
        move |code: Errno| HelperError::Step { program, step, code }
    };
    let executable =
        crate::fs::lookup(program.as_ref(), raw::O_EXEC as i32, 0).map_err(|e| step("lookup")(e.code()))?;
    let bootstrap = ReceiveRight::allocate().map_err(|_| step("allocating its bootstrap port")(Errno::ENOMEM))?;
    let bootstrap_send = bootstrap.make_send().map_err(|_| step("making its bootstrap port")(Errno::ENOMEM))?;

    let mut new_task: RawPort = 0;
    // SAFETY: creates a task (no memory inherited); its port is ours.
    check(unsafe { raw::task_create(task(), 0, &mut new_task) }).map_err(step("task_create"))?;
    // SAFETY: as above.
    let new_task = unsafe { SendRight::from_raw(new_task) }.ok_or_else(|| step("task_create")(Errno::EIO))?;
    let started =
        exec_and_wait(&program, argv, &executable, &new_task, &bootstrap, bootstrap_send, underlying, timeout);
    match started {
        Ok(control) => Ok(Helper { program, task: new_task, control }),
        Err(e) => {
            // SAFETY: the task is ours to end; it never became a helper.
            unsafe { raw::task_terminate(new_task.as_raw()) };
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn exec_and_wait(
    program: &str,
    argv: &[String],
    executable: &SendRight,
    new_task: &SendRight,
    bootstrap: &ReceiveRight,
    bootstrap_send: SendRight,
    underlying: SendRight,
    timeout: Duration,
) -> Result<SendRight, HelperError> {
    let step = |step: &'static str| move |code: Errno| HelperError::Step { program: program.to_owned(), step, code };
    log::debug!("{program}: task {new_task:?}, bootstrap {}", bootstrap.as_raw());
    // The new task is our child process, with a proc port of its own.
    let proc = crate::process::proc_port().map_err(|_| step("getproc")(Errno::EIO))?;
    // SAFETY: both are send rights we hold.
    check(unsafe { raw::proc_child(proc.as_raw(), new_task.as_raw()) }).map_err(step("proc_child"))?;
    let mut child_proc: RawPort = 0;
    // SAFETY: the reply's right is ours.
    check(unsafe { raw::proc_task2proc(proc.as_raw(), new_task.as_raw(), &mut child_proc) })
        .map_err(step("proc_task2proc"))?;
    // SAFETY: as above.
    let child_proc = unsafe { SendRight::from_raw(child_proc) };
    log::debug!("{program}: its proc port {child_proc:?}");

    // Its ports: our directories and identity, its proc port, and the
    // bootstrap port it answers fsys_startup on. The descriptors 0 to 2 are
    // ours, so that it can report errors.
    // SAFETY: each call returns a new reference (or null), owned here.
    let own = |port: RawPort| unsafe { SendRight::from_raw(port) };
    // SAFETY: as above.
    let (cwdir, crdir, auth) = unsafe { (own(raw::getcwdir()), own(raw::getcrdir()), own(raw::getauth())) };
    let mut ports = [raw::MACH_PORT_NULL; raw::HURD_SYS_INIT_PORT_MAX as usize];
    let raw_of = |p: &Option<SendRight>| p.as_ref().map_or(raw::MACH_PORT_NULL, SendRight::as_raw);
    ports[raw::HURD_SYS_INIT_PORT_CWDIR as usize] = raw_of(&cwdir);
    ports[raw::HURD_SYS_INIT_PORT_CRDIR as usize] = raw_of(&crdir);
    ports[raw::HURD_SYS_INIT_PORT_AUTH as usize] = raw_of(&auth);
    ports[raw::HURD_SYS_INIT_PORT_PROC as usize] = raw_of(&child_proc);
    ports[raw::HURD_SYS_INIT_PORT_BOOTSTRAP as usize] = bootstrap_send.as_raw();
    // SAFETY: getdport returns a new reference to a descriptor's port, or
    // null for a closed one; owned here.
    let fds: Vec<Option<SendRight>> = (0..3).map(|fd| unsafe { own(raw::getdport(fd)) }).collect();
    let fd_ports: Vec<RawPort> = fds.iter().map(raw_of).collect();

    let argz = crate::argz::encode(argv).map_err(|_| step("encoding its arguments")(Errno::EINVAL))?;
    let path = CString::new(program).map_err(|_| step("its file name")(Errno::EINVAL))?;
    STARTUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(bootstrap.as_raw(), Startup { underlying: Some(underlying), control: None });
    // SAFETY: every array outlives the call and is passed with its length;
    // the ports in them are copied (COPY_SEND), so they stay ours.
    let code = unsafe {
        raw::file_exec_paths(
            executable.as_raw(),
            new_task.as_raw(),
            raw::HURD_SYS_EXEC_DEFAULTS,
            path.as_ptr(),
            path.as_ptr(),
            argz.as_ptr().cast(),
            argz.len() as _,
            std::ptr::null(),
            0,
            fd_ports.as_ptr(),
            raw::MACH_MSG_TYPE_COPY_SEND as _,
            fd_ports.len() as _,
            ports.as_ptr(),
            raw::MACH_MSG_TYPE_COPY_SEND as _,
            ports.len() as _,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
        )
    };
    log::debug!("{program}: file_exec_paths: {}", Errno(code));
    let waited = check(code).map_err(step("file_exec_paths")).and_then(|()| {
        crate::server::serve_one(bootstrap, timeout).map_err(|code| match code {
            Errno::MACH_RCV_TIMED_OUT => HelperError::NoStartup { program: program.to_owned(), timeout },
            code => step("waiting for fsys_startup")(code),
        })
    });
    let startup = STARTUPS.lock().unwrap_or_else(|e| e.into_inner()).remove(&bootstrap.as_raw());
    waited?;
    startup.and_then(|s| s.control).ok_or_else(|| step("fsys_startup")(Errno::EIO))
}

/// Forks a watcher that terminates every helper in `helpers` when this
/// process dies, however it dies, and then exits; it also exits when this
/// process leaves normally. Call it while the process has one thread.
/// Answers the watcher's PID.
pub fn watch<'a>(helpers: impl IntoIterator<Item = &'a Helper>) -> Result<i32, HelperError> {
    let tasks: Vec<RawPort> = helpers.into_iter().map(|h| h.task.as_raw()).collect();
    // SAFETY: the caller runs this with a single thread; the child only
    // makes Mach and proc calls and leaves with _exit.
    match unsafe { libc::fork() } {
        -1 => Err(HelperError::Watcher(std::io::Error::last_os_error())),
        0 => watcher(&tasks),
        pid => Ok(pid),
    }
}

/// The watcher's life: wait for the parent's task to die, end the helpers.
fn watcher(tasks: &[RawPort]) -> ! {
    // SAFETY: plain calls; the parent's task port is a send right for us.
    let parent = unsafe {
        let proc = raw::getproc();
        let mut parent: RawPort = 0;
        let code = raw::proc_pid2task(proc, libc::getppid(), &mut parent);
        raw::mach_port_deallocate(task(), proc);
        if code == 0 { parent } else { raw::MACH_PORT_NULL }
    };
    if parent != raw::MACH_PORT_NULL {
        if let Ok(notify) = ReceiveRight::allocate() {
            if request_notification(parent, Notification::DeadName, notify.as_raw()).is_ok() {
                // Any message on `notify` is the parent's death.
                let mut buffer = [0u64; 64];
                // SAFETY: receives into a buffer of the size given.
                unsafe {
                    raw::mach_msg(
                        buffer.as_mut_ptr().cast(),
                        raw::MACH_RCV_MSG as _,
                        0,
                        std::mem::size_of_val(&buffer) as _,
                        notify.as_raw(),
                        0,
                        raw::MACH_PORT_NULL,
                    )
                };
            }
            // A failed request means the parent is already gone.
        }
    }
    for &helper in tasks {
        // SAFETY: the fork gave us the parent's send rights, names and all.
        unsafe { raw::task_terminate(helper) };
    }
    // SAFETY: leaves without running the parent's exit handlers.
    unsafe { libc::_exit(0) }
}
