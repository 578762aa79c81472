//! Starting a program in a PID namespace of a private proc server, as
//! `sandbox-root exec` does: this process becomes the namespace's root
//! (the host's proc server ends every task inside when it dies), makes
//! the builder's task itself (no `fork`: a child made by `fork` would be
//! claimed twice on the host, which the host's proc server does not
//! survive), has the exec server load the program into it with the
//! private proc port, and waits for it.

use std::ffi::{CString, c_int};
use std::path::Path;
use std::time::Duration;

use hurd_sys::raw;

use crate::errno::{Errno, check};
use crate::port::{RawPort, SendRight, task};

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("{step}: {code}")]
    Step { step: &'static str, code: Errno },
    #[error("{program}: {step}: {code}")]
    Program { program: String, step: &'static str, code: Errno },
    #[error("an argument or the environment holds a NUL byte")]
    Nul,
}

fn step(step: &'static str) -> impl Fn(Errno) -> SpawnError {
    move |code| SpawnError::Step { step, code }
}

/// A right one of the C library's calls gave us.
///
/// # Safety
/// `name` is null or a reference the caller owns.
unsafe fn owned(name: RawPort) -> Option<SendRight> {
    // SAFETY: see above.
    unsafe { SendRight::from_raw(name) }
}

/// The strings as one NUL-separated block (an argz vector).
fn argz(items: &[CString]) -> Vec<u8> {
    items.iter().flat_map(|s| s.as_bytes_with_nul().iter().copied()).collect()
}

/// Runs `program` (a file name, looked up from this process's root and
/// working directory) with `argv` and `env` in the namespace that
/// `admission` admits to, with this process's identity, root, working directory and descriptors 0 to 2;
/// answers its wait status (as `waitpid` gives it). This process must not have made the namespace
/// yet, and must not be needed afterwards: when it ends, so does
/// everything inside.
pub fn in_namespace(
    admission: &SendRight,
    program: &Path,
    argv: &[CString],
    env: &[CString],
) -> Result<c_int, SpawnError> {
    let file = crate::fs::lookup(program, raw::O_EXEC as i32, 0).map_err(|e| SpawnError::Program {
        program: program.display().to_string(),
        step: "lookup",
        code: e.code(),
    })?;

    // A session of its own (the caller's, a daemon's, is none of the
    // build's: its session port is a right to continue its processes),
    // then the namespace's root.
    // SAFETY: no arguments; fails only for a group leader, which a
    // forked child is not.
    if unsafe { libc::setsid() } < 0 {
        return Err(step("setsid")(Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))));
    }
    // SAFETY: our own task port is copied into the request.
    check(unsafe { raw::proc_child(admission.as_raw(), task()) }).map_err(step("making the namespace"))?;
    let mut child: RawPort = 0;
    // SAFETY: the new task's right is ours.
    check(unsafe { raw::task_create(task(), 0, &mut child) }).map_err(step("task_create"))?;
    // SAFETY: as above.
    let child = unsafe { owned(child) }.ok_or(step("task_create")(Errno::EIO))?;
    // Anything that fails from here leaves the new task dead.
    let kill = |e: SpawnError| {
        let _ = crate::process::terminate_task(&child);
        e
    };
    let mut proc_port: RawPort = 0;
    // SAFETY: the task right is copied; the answer's right is ours.
    check(unsafe { raw::proc_task2proc(admission.as_raw(), child.as_raw(), &mut proc_port) })
        .map_err(|c| kill(step("the builder's proc port")(c)))?;
    // SAFETY: as above.
    let proc_port = unsafe { owned(proc_port) }.ok_or_else(|| kill(step("the builder's proc port")(Errno::EIO)))?;
    // Its PID in the namespace: what is waited for.
    let (builder, _, _) = crate::procserver::getpids(&proc_port).map_err(|c| kill(step("the builder's PID")(c)))?;

    // SAFETY: each call gives a new reference, released when dropped.
    let (cwd, root, auth) = unsafe { (owned(raw::getcwdir()), owned(raw::getcrdir()), owned(raw::getauth())) };
    let name = |p: &Option<SendRight>| p.as_ref().map_or(raw::MACH_PORT_NULL, SendRight::as_raw);
    let mut ports = [raw::MACH_PORT_NULL; raw::HURD_SYS_INIT_PORT_MAX as usize];
    ports[raw::HURD_SYS_INIT_PORT_CWDIR as usize] = name(&cwd);
    ports[raw::HURD_SYS_INIT_PORT_CRDIR as usize] = name(&root);
    ports[raw::HURD_SYS_INIT_PORT_AUTH as usize] = name(&auth);
    ports[raw::HURD_SYS_INIT_PORT_PROC as usize] = proc_port.as_raw();
    // SAFETY: getdport gives a new reference to each descriptor's port.
    let fds: Vec<Option<SendRight>> = (0..3).map(|fd| unsafe { owned(raw::getdport(fd)) }).collect();
    let fd_names: Vec<RawPort> = fds.iter().map(name).collect();
    let mut ints = [0 as c_int; raw::HURD_SYS_INIT_INT_MAX as usize];
    ints[raw::HURD_SYS_INIT_UMASK as usize] = 0o022;
    let (argv_block, env_block) = (argz(argv), argz(env));
    let path = CString::new(program.as_os_str().as_encoded_bytes()).map_err(|_| SpawnError::Nul)?;
    // The file's server has the exec server load it (as the C library's
    // exec does): its checks apply.
    let image = Image { path: &path, argv: &argv_block, env: &env_block, fds: &fd_names, ports: &ports, ints: &ints };
    file_exec(&file, child.as_raw(), 0, &image).map_err(|c| {
        kill(SpawnError::Program { program: program.display().to_string(), step: "file_exec_paths", code: c })
    })?;
    drop((cwd, root, auth, fds, proc_port, file));

    // The builder is our child on the host; should the private proc
    // server die (sandbox-root ended, even by SIGKILL), this process
    // ends, and with it everything inside.
    let watched = admission.try_clone().map_err(|_| step("watching the proc server")(Errno::EIO))?;
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(200));
            if watched.is_dead() {
                log::warn!("the environment's proc server is gone: ending the build");
                std::process::exit(128 + 9);
            }
        }
    });
    // The host reaps a namespace's processes itself: the builder's end is
    // asked of the private proc server, which waits for its first
    // process on our behalf.
    drop(child);
    loop {
        match crate::procserver::wait(admission, builder, 0, false) {
            Ok(waited) => return Ok(waited.status),
            Err(Errno::EINTR) => continue,
            Err(code) => return Err(step("waiting for the builder")(code)),
        }
    }
}

/// What `file_exec_paths` loads: the program's name, its arguments and
/// environment (argz blocks), descriptors, initial ports and ints.
#[derive(Debug)]
pub struct Image<'a> {
    pub path: &'a CString,
    pub argv: &'a [u8],
    pub env: &'a [u8],
    pub fds: &'a [RawPort],
    pub ports: &'a [RawPort],
    pub ints: &'a [c_int],
}

/// `file_exec_paths` on `file`: its server has the exec server load
/// `image` into `task` (a task we hold, or null) with `flags`.
pub fn file_exec(file: &SendRight, task: RawPort, flags: c_int, image: &Image<'_>) -> Result<(), Errno> {
    // SAFETY: every array is the image's, with its length, for the call;
    // the rights are copied into the request.
    check(unsafe {
        raw::file_exec_paths(
            file.as_raw(),
            task,
            flags,
            image.path.as_ptr(),
            image.path.as_ptr(),
            image.argv.as_ptr().cast(),
            image.argv.len() as _,
            image.env.as_ptr().cast(),
            image.env.len() as _,
            image.fds.as_ptr(),
            raw::MACH_MSG_TYPE_COPY_SEND as _,
            image.fds.len() as _,
            image.ports.as_ptr(),
            raw::MACH_MSG_TYPE_COPY_SEND as _,
            image.ports.len() as _,
            image.ints.as_ptr(),
            image.ints.len() as _,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
        )
    })
}

/// Asks `file`'s server to start the program in a task the exec server
/// makes itself (no task, `EXEC_NEWTASK | EXEC_SECURE | EXEC_DEFAULTS`):
/// a program started so would be the exec server's child, outside any
/// namespace, with the host's default ports. A probe of what a server
/// lets through; answers what it said.
pub fn exec_outside(file: &SendRight, path: &Path) -> Result<(), Errno> {
    let path = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| Errno::EINVAL)?;
    let argv = argz(std::slice::from_ref(&path));
    let image = Image { path: &path, argv: &argv, env: &[], fds: &[], ports: &[], ints: &[] };
    file_exec(file, raw::MACH_PORT_NULL, 0x1 | 0x2 | 0x4, &image)
}

/// Runs `body` in a child process (forked) and answers what it answered:
/// for what must not change this process (its identity, its namespace).
/// The answer comes back through a pipe, not as the child's exit status:
/// a child that makes a task namespace is reaped by the proc server as
/// soon as it ends, and is never there to wait for. A child that ends
/// without answering (killed) answers `128 + 9`.
pub fn in_child(body: impl FnOnce() -> c_int) -> Result<c_int, Errno> {
    let last = || Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    let mut pipe = [0 as c_int; 2];
    // SAFETY: two places for the descriptors.
    if unsafe { libc::pipe(pipe.as_mut_ptr()) } != 0 {
        return Err(last());
    }
    // SAFETY: fork; the child runs `body`, writes its answer and exits,
    // never returning here.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(last());
    }
    if pid == 0 {
        // SAFETY: our copy of the read end.
        unsafe { libc::close(pipe[0]) };
        // (A panic must not unwind into the parent's code, in the child.)
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(127).to_ne_bytes();
        // SAFETY: writes four bytes we own, then ends the child at once.
        unsafe {
            libc::write(pipe[1], answer.as_ptr().cast(), answer.len());
            libc::_exit(0)
        }
    }
    // SAFETY: our copy of the write end.
    unsafe { libc::close(pipe[1]) };
    let mut answer = [0u8; 4];
    let mut got = 0;
    while got < answer.len() {
        // SAFETY: reads into the rest of `answer`.
        let n = unsafe { libc::read(pipe[0], answer[got..].as_mut_ptr().cast(), answer.len() - got) };
        if n > 0 {
            got += n as usize;
        } else if n == 0 || last() != Errno::EINTR {
            break;
        }
    }
    // SAFETY: ours; and the child, if it is still there to reap.
    unsafe {
        libc::close(pipe[0]);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
    Ok(if got == answer.len() { c_int::from_ne_bytes(answer) } else { 128 + 9 })
}
