//! Helpers: translators that a translator starts for itself, set on no
//! node of any file system (sandbox-root's private pflocal, say). Each runs
//! in a task of its own that is a child process of ours; we are its parent
//! file system for the startup protocol, and we end it.
//!
//! Ending them when we leave is [`Helper::terminate`]. Ending them when we
//! die (SIGKILL, a crash) is the [`Watcher`]'s: a process forked before
//! anything else runs, told of each helper before it runs, which ends
//! them all when we are gone.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::Mutex;
use std::time::Duration;

use hurd_sys::raw;

use hurd::errno::{Errno, check};
use hurd::port::{Notification, RawPort, ReceiveRight, SendRight, request_notification, task};

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
/// sitting on `underlying`, with `cwd` as its working directory (ours if
/// none), and waits up to `timeout` for its startup. `watcher` learns of it
/// before it runs. On any failure the new task is terminated.
pub fn start(
    argv: &[String],
    underlying: SendRight,
    cwd: Option<&SendRight>,
    watcher: &mut Watcher,
    timeout: Duration,
) -> Result<Helper, HelperError> {
    let program = argv.first().cloned().unwrap_or_default();
    let step = |step: &'static str| {
        let program = program.clone();
        move |code: Errno| HelperError::Step { program, step, code }
    };
    let executable = hurd::fs::lookup(program.as_ref(), raw::O_EXEC as i32, 0).map_err(|e| step("lookup")(e.code()))?;
    let bootstrap = ReceiveRight::allocate().map_err(|_| step("allocating its bootstrap port")(Errno::ENOMEM))?;
    let bootstrap_send = bootstrap.make_send().map_err(|_| step("making its bootstrap port")(Errno::ENOMEM))?;

    let mut new_task: RawPort = 0;
    // SAFETY: creates a task (no memory inherited); its port is ours.
    check(unsafe { raw::task_create(task(), 0, &mut new_task) }).map_err(step("task_create"))?;
    // SAFETY: as above.
    let new_task = unsafe { SendRight::from_raw(new_task) }.ok_or_else(|| step("task_create")(Errno::EIO))?;
    let started = exec_and_wait(
        &program,
        argv,
        &executable,
        &new_task,
        (&bootstrap, bootstrap_send),
        underlying,
        cwd,
        watcher,
        timeout,
    );
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
    (bootstrap, bootstrap_send): (&ReceiveRight, SendRight),
    underlying: SendRight,
    cwd: Option<&SendRight>,
    watcher: &mut Watcher,
    timeout: Duration,
) -> Result<SendRight, HelperError> {
    let step = |step: &'static str| move |code: Errno| HelperError::Step { program: program.to_owned(), step, code };
    log::debug!("{program}: task {new_task:?}, bootstrap {}", bootstrap.as_raw());
    // The new task is our child process, with a proc port of its own.
    let proc = hurd::process::proc_port().map_err(|_| step("getproc")(Errno::EIO))?;
    // SAFETY: both are send rights we hold.
    check(unsafe { raw::proc_child(proc.as_raw(), new_task.as_raw()) }).map_err(step("proc_child"))?;
    let mut child_proc: RawPort = 0;
    // SAFETY: the reply's right is ours.
    check(unsafe { raw::proc_task2proc(proc.as_raw(), new_task.as_raw(), &mut child_proc) })
        .map_err(step("proc_task2proc"))?;
    // SAFETY: as above.
    let child_proc = unsafe { SendRight::from_raw(child_proc) };
    let mut pid: i32 = 0;
    // SAFETY: a plain question about a task we hold.
    check(unsafe { raw::proc_task2pid(proc.as_raw(), new_task.as_raw(), &mut pid) }).map_err(step("proc_task2pid"))?;
    // The watcher knows of it before it runs a single instruction.
    watcher.watch(pid)?;
    log::debug!("{program}: process {pid}, its proc port {child_proc:?}");

    // Its ports: our directories and identity, its proc port, and the
    // bootstrap port it answers fsys_startup on. The descriptors 0 to 2 are
    // ours, so that it can report errors.
    // SAFETY: each call returns a new reference (or null), owned here.
    let own = |port: RawPort| unsafe { SendRight::from_raw(port) };
    // SAFETY: as above.
    let (cwdir, crdir, auth) = unsafe { (own(raw::getcwdir()), own(raw::getcrdir()), own(raw::getauth())) };
    let mut ports = [raw::MACH_PORT_NULL; raw::HURD_SYS_INIT_PORT_MAX as usize];
    let raw_of = |p: &Option<SendRight>| p.as_ref().map_or(raw::MACH_PORT_NULL, SendRight::as_raw);
    ports[raw::HURD_SYS_INIT_PORT_CWDIR as usize] = cwd.map_or_else(|| raw_of(&cwdir), SendRight::as_raw);
    ports[raw::HURD_SYS_INIT_PORT_CRDIR as usize] = raw_of(&crdir);
    ports[raw::HURD_SYS_INIT_PORT_AUTH as usize] = raw_of(&auth);
    ports[raw::HURD_SYS_INIT_PORT_PROC as usize] = raw_of(&child_proc);
    ports[raw::HURD_SYS_INIT_PORT_BOOTSTRAP as usize] = bootstrap_send.as_raw();
    // SAFETY: getdport returns a new reference to a descriptor's port, or
    // null for a closed one; owned here.
    let fds: Vec<Option<SendRight>> = (0..3).map(|fd| unsafe { own(raw::getdport(fd)) }).collect();
    let fd_ports: Vec<RawPort> = fds.iter().map(raw_of).collect();

    let argz = hurd::argz::encode(argv).map_err(|_| step("encoding its arguments")(Errno::EINVAL))?;
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
        crate::message::serve_one(bootstrap, timeout).map_err(|code| match code {
            Errno::MACH_RCV_TIMED_OUT => HelperError::NoStartup { program: program.to_owned(), timeout },
            code => step("waiting for fsys_startup")(code),
        })
    });
    let startup = STARTUPS.lock().unwrap_or_else(|e| e.into_inner()).remove(&bootstrap.as_raw());
    waited?;
    startup.and_then(|s| s.control).ok_or_else(|| step("fsys_startup")(Errno::EIO))
}

/// The watcher: a process forked before anything else runs, which ends
/// every helper it was told of when this process dies, however it dies
/// (SIGKILL, a crash), and then exits; it also exits when this process
/// leaves normally. It learns each helper's PID through a pipe, and holds
/// its task before the helper runs.
#[derive(Debug)]
pub struct Watcher {
    pid: i32,
    feed: std::fs::File,
    acks: std::fs::File,
}

impl Watcher {
    /// Forks the watcher. Call it while the process has one thread.
    pub fn fork() -> Result<Watcher, HelperError> {
        let (to_watcher, from_watcher) = (pipe()?, pipe()?);
        // SAFETY: the caller runs this with a single thread; the child only
        // uses the pipes, makes proc and Mach calls, and leaves with _exit.
        match unsafe { libc::fork() } {
            -1 => Err(HelperError::Watcher(std::io::Error::last_os_error())),
            0 => {
                // SAFETY: the ends the parent uses are not the child's.
                unsafe {
                    libc::close(to_watcher[1]);
                    libc::close(from_watcher[0]);
                }
                watcher(to_watcher[0], from_watcher[1])
            }
            pid => {
                // SAFETY: the ends the watcher uses are not ours; ours are
                // kept from the programs we start.
                unsafe {
                    libc::close(to_watcher[0]);
                    libc::close(from_watcher[1]);
                    libc::fcntl(to_watcher[1], libc::F_SETFD, libc::FD_CLOEXEC);
                    libc::fcntl(from_watcher[0], libc::F_SETFD, libc::FD_CLOEXEC);
                }
                use std::os::fd::FromRawFd;
                // SAFETY: both descriptors are ours alone from here on.
                let (feed, acks) =
                    unsafe { (std::fs::File::from_raw_fd(to_watcher[1]), std::fs::File::from_raw_fd(from_watcher[0])) };
                Ok(Watcher { pid, feed, acks })
            }
        }
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Tells the watcher of the process `pid`, which it ends with us, and
    /// waits until it holds the process's task.
    fn watch(&mut self, pid: i32) -> Result<(), HelperError> {
        use std::io::{Read, Write};
        self.feed.write_all(&pid.to_ne_bytes()).map_err(HelperError::Watcher)?;
        let mut ack = [0u8; 1];
        self.acks.read_exact(&mut ack).map_err(HelperError::Watcher)?;
        match ack {
            [1] => Ok(()),
            _ => Err(HelperError::Watcher(std::io::Error::other(format!("it cannot hold process {pid}")))),
        }
    }
}

/// A pipe: its read end, then its write end.
fn pipe() -> Result<[i32; 2], HelperError> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(HelperError::Watcher(std::io::Error::last_os_error()));
    }
    Ok(fds)
}

/// The watcher's life: take each helper's task as its PID comes, and say
/// so (a thread does it), wait for the parent's task to die (a dead-name
/// notification: a pipe's end is no sign of it on the Hurd, where the fork
/// left us rights to it), and end them all.
fn watcher(feed: i32, acks: i32) -> ! {
    let tasks: std::sync::Arc<Mutex<Vec<RawPort>>> = Default::default();
    let reader = {
        let tasks = tasks.clone();
        move || loop {
            let mut pid = [0u8; 4];
            // SAFETY: reads into a buffer of the size given.
            let n = unsafe { libc::read(feed, pid.as_mut_ptr().cast(), pid.len()) };
            if n != pid.len() as isize {
                return;
            }
            // SAFETY: plain calls; a task port the answer gives is ours.
            let held = unsafe {
                let proc = raw::getproc();
                let mut helper: RawPort = 0;
                let code = raw::proc_pid2task(proc, i32::from_ne_bytes(pid), &mut helper);
                raw::mach_port_deallocate(task(), proc);
                if code == 0 {
                    tasks.lock().unwrap_or_else(|e| e.into_inner()).push(helper);
                }
                code == 0
            };
            let ack = [u8::from(held)];
            // SAFETY: writes the one byte given.
            unsafe { libc::write(acks, ack.as_ptr().cast(), 1) };
        }
    };
    // The fork left one thread here: this is a whole process now.
    let _ = std::thread::Builder::new().name("helper-pids".into()).spawn(reader);
    wait_for_parent_death();
    // Every helper was held before it ran (the parent waits for the ack).
    for &helper in tasks.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        // SAFETY: task ports we hold.
        unsafe { raw::task_terminate(helper) };
    }
    // SAFETY: leaves without running the parent's exit handlers.
    unsafe { libc::_exit(0) }
}

/// Returns when the parent's task has died (at once if it is gone).
fn wait_for_parent_death() {
    // SAFETY: plain calls; the parent's task port is a send right for us.
    let parent = unsafe {
        let proc = raw::getproc();
        let mut parent: RawPort = 0;
        let code = raw::proc_pid2task(proc, libc::getppid(), &mut parent);
        raw::mach_port_deallocate(task(), proc);
        if code == 0 { parent } else { raw::MACH_PORT_NULL }
    };
    if parent == raw::MACH_PORT_NULL {
        return;
    }
    let Ok(notify) = ReceiveRight::allocate() else { return };
    // A failed request means the parent is already gone.
    if request_notification(parent, Notification::DeadName, notify.as_raw()).is_err() {
        return;
    }
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
