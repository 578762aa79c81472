//! The proc interface (`process.defs`), served for a PID namespace: the
//! class [`PROCESS`], whose objects are `Arc<dyn Process>`, one per
//! process as its own proc port names it. The routines here are the ones
//! whose arguments or answers name processes (PIDs, process ports, task
//! ports); any other routine goes to the object's [`Forward`] port as it
//! came if the object forwards it, and answers EOPNOTSUPP otherwise.

use std::ffi::c_int;
use std::sync::Arc;

use hurd::errno::Errno;
use hurd::port::{RawPort, SendRight};
use hurd_sys::raw;

use crate::ports::{Class, Forward, ServedBy, Slot};
use crate::routine::{on, prototypes_agree, unsupported, with_request_right, write_data, write_port};

/// Process ports: a client's keeps the translator busy.
pub static PROCESS: Class = Class { name: "process", holds_up: true, served_by: ServedBy::Pool, no_senders: None };

/// What `proc_getchildren_rusage` answers: the C library's `struct
/// rusage`.
pub type Rusage = raw::rusage_t;

/// What `proc_wait` answers (the client side's type: one meaning).
pub use hurd::procserver::Waited;

/// The answer of a request given after its routine returned: the
/// client's reply port (a send-once right), answered once. Dropped
/// unanswered, it answers EINTR (the C library asks again); dropped while
/// the routine that held it panics, it answers nothing (the message
/// server answers EIO through the same right).
#[derive(Debug)]
pub struct Later<A: LaterAnswer> {
    port: RawPort,
    answer: std::marker::PhantomData<fn(A)>,
}

mod sealed {
    pub trait Sealed {}
}

/// What a [`Later`] answers, and how it goes to the client (only the
/// answers of this module: sending one takes the reply right it names).
pub trait LaterAnswer: Sized + sealed::Sealed {
    /// Sends `result` to `port`, a reply port's send-once right (moved),
    /// answering whether it went.
    #[doc(hidden)]
    fn send(port: RawPort, result: Result<Self, Errno>) -> bool;
}

/// A `proc_wait` answered later.
pub type WaitReply = Later<Waited>;

/// A `proc_getmsgport` answered later.
pub type MsgportReply = Later<SendRight>;

impl<A: LaterAnswer> Later<A> {
    /// The request's reply port, to be answered later, if it can be: a
    /// send-once right (what the C library's stubs make). A request with
    /// no reply port, or a send right for one (whose queue the client
    /// may keep full), is answered now or not at all.
    fn new(port: RawPort, poly: raw::mach_msg_type_name_t) -> Option<Later<A>> {
        let once = poly == raw::MACH_MSG_TYPE_PORT_SEND_ONCE as raw::mach_msg_type_name_t;
        (port != raw::MACH_PORT_NULL && once).then_some(Later { port, answer: std::marker::PhantomData })
    }

    /// Sends the answer.
    pub fn answer(mut self, result: Result<A, Errno>) {
        let port = std::mem::replace(&mut self.port, raw::MACH_PORT_NULL);
        send_later(port, result);
    }

    /// Gives the right back to the routine's stub, which answers now.
    fn disarm(mut self) {
        self.port = raw::MACH_PORT_NULL;
    }
}

impl<A: LaterAnswer> Drop for Later<A> {
    fn drop(&mut self) {
        if self.port != raw::MACH_PORT_NULL && !std::thread::panicking() {
            send_later::<A>(self.port, Err(Errno::EINTR));
        }
    }
}

/// Sends a later answer; when it could not go (the client's reply port
/// died), the right it named is still ours, a dead name, and is dropped.
fn send_later<A: LaterAnswer>(port: RawPort, result: Result<A, Errno>) {
    if !A::send(port, result) {
        // SAFETY: the reply right the request brought, which the failed
        // send left with us.
        unsafe { raw::mach_port_deallocate(hurd::port::task(), port) };
    }
}

impl sealed::Sealed for Waited {}

impl LaterAnswer for Waited {
    fn send(port: RawPort, result: Result<Waited, Errno>) -> bool {
        let (code, w) = match result {
            Ok(w) => (0, w),
            Err(e) => (e.0, Waited { status: 0, sigcode: 0, rusage: Default::default(), pid: 0 }),
        };
        // SAFETY: moves the send-once right the request brought, which
        // the routine kept; a reply to a send-once right never waits for
        // room.
        let sent = unsafe {
            raw::proc_wait_reply(
                port,
                raw::MACH_MSG_TYPE_MOVE_SEND_ONCE as _,
                code,
                w.status,
                w.sigcode,
                w.rusage,
                w.pid,
            )
        };
        if sent != 0 {
            log::debug!("answering a wait later: {}", Errno(sent));
        }
        sent != raw::MACH_SEND_INVALID_DEST as i32
    }
}

impl sealed::Sealed for SendRight {}

impl LaterAnswer for SendRight {
    fn send(port: RawPort, result: Result<SendRight, Errno>) -> bool {
        let (code, msgport) = match result {
            Ok(right) => (0, right.into_raw()),
            Err(e) => (e.0, raw::MACH_PORT_NULL),
        };
        // SAFETY: as for a wait's answer; the message port's right moves
        // with the message.
        let sent = unsafe {
            raw::proc_getmsgport_reply(
                port,
                raw::MACH_MSG_TYPE_MOVE_SEND_ONCE as _,
                code,
                msgport,
                raw::MACH_MSG_TYPE_MOVE_SEND as _,
            )
        };
        if sent == 0 {
            return true;
        }
        log::debug!("answering proc_getmsgport later: {}", Errno(sent));
        // A message whose destination was dead moved nothing: the message
        // port's right is still ours too.
        let dead = sent == raw::MACH_SEND_INVALID_DEST as i32;
        if dead {
            // SAFETY: the right `into_raw` gave up, still ours.
            drop(unsafe { SendRight::from_raw(msgport) });
        }
        !dead
    }
}

/// A set of processes named by one id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Members {
    /// The process group `pgrp`'s processes.
    Pgrp(i32),
    /// The session `sid`'s processes.
    Session(i32),
    /// The session `sid`'s process groups.
    SessionPgrps(i32),
    /// The login collection `id`'s processes.
    Login(i32),
}

/// Where a process's program keeps what `ps` and the C library ask the
/// proc server for: the argument and environment vectors (addresses in
/// the process), its code and its entry point. 0 until told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Locations {
    pub argv: u64,
    pub envp: u64,
    pub start_code: u64,
    pub end_code: u64,
    pub entry: u64,
}

/// One of [`Locations`], as a process (the C library, the exec server)
/// tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Args { argv: u64, envp: u64 },
    Code { start: u64, end: u64 },
    Entry(u64),
}

/// A process as the requests on its proc port address it. Methods not
/// implemented answer EOPNOTSUPP and log once.
pub trait Process: Forward {
    /// The client asked (`interrupt_operation`, numbered `seqno` on this
    /// port) that its requests received before end: one waiting in
    /// [`Process::wait`] answers EINTR (see
    /// [`crate::message::interrupts`]).
    fn interrupted(&self, seqno: u32) {
        let _ = seqno;
    }

    /// `proc_setsid`: the process leads a new session and process group.
    fn set_sid(&self) -> Result<(), Errno> {
        Err(unsupported("proc_setsid"))
    }

    /// `proc_getsidport`: a port standing for the process's session (a
    /// signal's `refport` for SIGCONT).
    fn sid_port(&self) -> Result<SendRight, Errno> {
        Err(unsupported("proc_getsidport"))
    }

    /// `proc_get_arg_locations`, `proc_get_code`, `proc_get_entry`.
    fn locations(&self) -> Result<Locations, Errno> {
        Err(unsupported("proc_get_arg_locations"))
    }

    /// `proc_set_arg_locations`, `proc_set_code`, `proc_set_entry`.
    fn set_location(&self, location: Location) -> Result<(), Errno> {
        let _ = location;
        Err(unsupported("proc_set_arg_locations"))
    }

    /// `proc_mark_stop` (`stopped`) and `proc_mark_cont`.
    fn mark_stopped(&self, stopped: bool) -> Result<(), Errno> {
        let _ = stopped;
        Err(unsupported("proc_mark_stop"))
    }

    /// `proc_dostop`: every thread of the process but `thread` stops.
    fn stop_others(&self, thread: &SendRight) -> Result<(), Errno> {
        let _ = thread;
        Err(unsupported("proc_dostop"))
    }

    /// `proc_mark_exec`: the process runs a new program.
    fn mark_exec(&self) -> Result<(), Errno> {
        Err(unsupported("proc_mark_exec"))
    }

    /// `proc_set_exe`: the file the process runs (kept for nobody: the
    /// answer is success or not).
    fn set_exe(&self, path: &str) -> Result<(), Errno> {
        let _ = path;
        Err(unsupported("proc_set_exe"))
    }

    /// `proc_getchildren_rusage`: what the process's waited-for children
    /// used.
    fn children_rusage(&self) -> Result<Rusage, Errno> {
        Err(unsupported("proc_getchildren_rusage"))
    }

    /// `proc_getpids`: this process's PID, its parent's, and whether its
    /// process group is orphaned.
    fn pids(&self) -> Result<(i32, i32, bool), Errno> {
        Err(unsupported("proc_getpids"))
    }

    /// `proc_task2pid`: the PID of the process of `task`.
    fn task_pid(&self, task: &SendRight) -> Result<i32, Errno> {
        let _ = task;
        Err(unsupported("proc_task2pid"))
    }

    /// `proc_task2proc`: a proc port for the process of `task`.
    fn task_proc(&self, task: &SendRight) -> Result<SendRight, Errno> {
        let _ = task;
        Err(unsupported("proc_task2proc"))
    }

    /// `proc_child`: `task`'s process becomes this one's child.
    fn child(&self, task: &SendRight) -> Result<(), Errno> {
        let _ = task;
        Err(unsupported("proc_child"))
    }

    /// `proc_pid2task`.
    fn pid_task(&self, pid: i32) -> Result<SendRight, Errno> {
        let _ = pid;
        Err(unsupported("proc_pid2task"))
    }

    /// `proc_pid2proc`.
    fn pid_proc(&self, pid: i32) -> Result<SendRight, Errno> {
        let _ = pid;
        Err(unsupported("proc_pid2proc"))
    }

    /// `proc_getallpids`.
    fn all_pids(&self) -> Result<Vec<i32>, Errno> {
        Err(unsupported("proc_getallpids"))
    }

    /// `proc_getprocinfo` of `pid`: the flags answered, the procinfo
    /// words, the thread waits.
    fn info(&self, pid: i32, flags: i32) -> Result<(i32, Vec<i32>, Vec<u8>), Errno> {
        let _ = (pid, flags);
        Err(unsupported("proc_getprocinfo"))
    }

    /// `proc_getprocargs` (`env`: `proc_getprocenv`) of `pid`.
    fn args(&self, pid: i32, env: bool) -> Result<Vec<u8>, Errno> {
        let _ = (pid, env);
        Err(unsupported(if env { "proc_getprocenv" } else { "proc_getprocargs" }))
    }

    /// `proc_getmsgport` of `pid`.
    fn msgport(&self, pid: i32) -> Result<SendRight, Errno> {
        let _ = pid;
        Err(unsupported("proc_getmsgport"))
    }

    /// `proc_getmsgport`, answered now (`Some`) or later: a question for
    /// a process that has no message port yet (just forked, or execing)
    /// takes `later` and answers through it once the port is there,
    /// holding no thread meanwhile (`None`). `later` is none for a request
    /// that cannot be answered later (see [`Later`]). By default,
    /// [`Process::msgport`].
    fn msgport_later(&self, pid: i32, later: &mut Option<MsgportReply>) -> Result<Option<SendRight>, Errno> {
        let _ = later;
        self.msgport(pid).map(Some)
    }

    /// `proc_wait` (`waitid`: `proc_waitid`) for `pid` (a PID, -1, 0 or
    /// minus a process group).
    fn wait(&self, pid: i32, options: i32, waitid: bool) -> Result<Waited, Errno> {
        let _ = (pid, options);
        Err(unsupported(if waitid { "proc_waitid" } else { "proc_wait" }))
    }

    /// `proc_wait`, answered now (`Some`) or later: a wait that would
    /// block takes `later` and answers through it when a child fits,
    /// holding no thread meanwhile (`None`); `later` is none for a request
    /// that cannot be answered later (see [`Later`]). By default,
    /// [`Process::wait`].
    fn wait_later(&self, pid: i32, options: i32, later: &mut Option<WaitReply>) -> Result<Option<Waited>, Errno> {
        let _ = later;
        self.wait(pid, options, false).map(Some)
    }

    /// `proc_getpgrp` of `pid`.
    fn pgrp(&self, pid: i32) -> Result<i32, Errno> {
        let _ = pid;
        Err(unsupported("proc_getpgrp"))
    }

    /// `proc_setpgrp`: `pid` (0: this one) joins `pgrp` (0: its own).
    fn set_pgrp(&self, pid: i32, pgrp: i32) -> Result<(), Errno> {
        let _ = (pid, pgrp);
        Err(unsupported("proc_setpgrp"))
    }

    /// `proc_getsid` of `pid`.
    fn sid(&self, pid: i32) -> Result<i32, Errno> {
        let _ = pid;
        Err(unsupported("proc_getsid"))
    }

    /// `proc_getpgrppids`, `proc_getsessionpids`, `proc_getsessionpgids`,
    /// `proc_getloginpids`.
    fn members(&self, of: Members) -> Result<Vec<i32>, Errno> {
        let _ = of;
        Err(unsupported("proc_getpgrppids"))
    }

    /// `proc_getloginid` of `pid`.
    fn login_id(&self, pid: i32) -> Result<i32, Errno> {
        let _ = pid;
        Err(unsupported("proc_getloginid"))
    }

    /// `proc_setmsgport`: `msgport` is the process's message port now;
    /// answers the one it had.
    fn set_msgport(&self, msgport: SendRight) -> Result<Option<SendRight>, Errno> {
        let _ = msgport;
        Err(unsupported("proc_setmsgport"))
    }

    /// `proc_mark_exit`: the process is about to end with the wait
    /// status `status`.
    fn mark_exit(&self, status: i32, sigcode: i32) -> Result<(), Errno> {
        let _ = (status, sigcode);
        Err(unsupported("proc_mark_exit"))
    }

    /// A routine that names a process the way the others do but that this
    /// server never answers with a process of its namespace (`proc_get_exe`,
    /// `proc_get_tty`, `proc_getnports` for `pid`): whether `pid` is one
    /// of the namespace's, so that the answer for others is ESRCH.
    fn knows(&self, pid: i32) -> bool {
        let _ = pid;
        false
    }
}

/// Runs a proc routine on the process behind `object`.
///
/// # Safety
/// `object` is null or the object the stub holds for this call.
unsafe fn on_process(
    object: raw::hurd_sys_object_t,
    routine: &str,
    body: impl FnOnce(&Arc<dyn Process>, &Slot) -> Result<(), Errno>,
) -> raw::kern_return_t {
    // SAFETY: as the caller's.
    unsafe { on::<Arc<dyn Process>>(object, routine, body) }
}

/// Writes a `pidarray_t` out-parameter.
///
/// # Safety
/// `data` and `len` are the stub's out-parameters for one pid array.
unsafe fn write_pids(
    pids: &[i32],
    data: *mut raw::pidarray_t,
    len: *mut raw::mach_msg_type_number_t,
) -> Result<(), Errno> {
    let bytes: Vec<u8> = pids.iter().flat_map(|p| p.to_ne_bytes()).collect();
    // The stub's room is counted in pids; data_t's writer counts bytes.
    // SAFETY: see above; the count is converted back to pids after.
    unsafe {
        let mut n = *len * 4;
        write_data(&bytes, data.cast(), &mut n)?;
        *len = n / 4;
    }
    Ok(())
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getpids(
    process: raw::hurd_sys_object_t,
    pid: *mut raw::pid_t,
    ppid: *mut raw::pid_t,
    orphaned: *mut c_int,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        let (me, parent, orphan) = p.pids()?;
        // SAFETY: the out-parameters are the stub's.
        unsafe {
            *pid = me;
            *ppid = parent;
            *orphaned = c_int::from(orphan);
        }
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_getpids", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_task2pid(
    process: raw::hurd_sys_object_t,
    task: RawPort,
    pid: *mut raw::pid_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        // SAFETY: the request brought a send right for `task`.
        unsafe {
            with_request_right(task, |task| {
                *pid = p.task_pid(task.ok_or(Errno::ESRCH)?)?;
                Ok(())
            })
        }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_task2pid", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_task2proc(
    process: raw::hurd_sys_object_t,
    task: RawPort,
    proc_: *mut RawPort,
    proc_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        // SAFETY: the request brought a send right for `task`; the
        // out-parameters are the stub's.
        unsafe {
            with_request_right(task, |task| {
                write_port(p.task_proc(task.ok_or(Errno::ESRCH)?)?, proc_, proc_poly);
                Ok(())
            })
        }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_task2proc", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_child(process: raw::hurd_sys_object_t, child: RawPort) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        // SAFETY: the request brought a send right for `child`.
        unsafe { with_request_right(child, |child| p.child(child.ok_or(Errno::ESRCH)?)) }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_child", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_pid2task(
    process: raw::hurd_sys_object_t,
    pid: raw::pid_t,
    task: *mut RawPort,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        let right = p.pid_task(pid)?;
        // A task_t answer is copied into the reply: ours is kept until
        // the reply has gone.
        // SAFETY: the out-parameter is the stub's.
        unsafe { *task = right.as_raw() };
        crate::message::hold_until_answered(right);
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_pid2task", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_pid2proc(
    process: raw::hurd_sys_object_t,
    pid: raw::pid_t,
    proc_: *mut RawPort,
    proc_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_port(p.pid_proc(pid)?, proc_, proc_poly) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_pid2proc", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getallpids(
    process: raw::hurd_sys_object_t,
    pids: *mut raw::pidarray_t,
    count: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    // SAFETY: the out-parameters are the stub's.
    let body = |p: &Arc<dyn Process>, _: &Slot| unsafe { write_pids(&p.all_pids()?, pids, count) };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_getallpids", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getprocinfo(
    process: raw::hurd_sys_object_t,
    which: raw::pid_t,
    flags: *mut c_int,
    procinfo: *mut raw::procinfo_t,
    procinfo_count: *mut raw::mach_msg_type_number_t,
    waits: *mut raw::data_t,
    waits_count: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        // SAFETY: the out-parameters are the stub's.
        unsafe {
            let (answered, words, thread_waits) = p.info(which, *flags)?;
            *flags = answered;
            write_pids(&words, procinfo.cast(), procinfo_count)?;
            write_data(&thread_waits, waits, waits_count)
        }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_getprocinfo", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getprocargs(
    process: raw::hurd_sys_object_t,
    which: raw::pid_t,
    data: *mut raw::data_t,
    len: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    // SAFETY: the out-parameters are the stub's.
    let body = |p: &Arc<dyn Process>, _: &Slot| unsafe { write_data(&p.args(which, false)?, data, len) };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_getprocargs", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getprocenv(
    process: raw::hurd_sys_object_t,
    which: raw::pid_t,
    data: *mut raw::data_t,
    len: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    // SAFETY: the out-parameters are the stub's.
    let body = |p: &Arc<dyn Process>, _: &Slot| unsafe { write_data(&p.args(which, true)?, data, len) };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_getprocenv", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getmsgport(
    process: raw::hurd_sys_object_t,
    reply: RawPort,
    reply_poly: raw::mach_msg_type_name_t,
    pid: raw::pid_t,
    msgport: *mut RawPort,
    msgport_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        let mut later = MsgportReply::new(reply, reply_poly);
        let offered = later.is_some();
        let result = p.msgport_later(pid, &mut later);
        match later {
            // Taken: it answers; the message server sends nothing now.
            None if offered => return Err(Errno(raw::MIG_NO_REPLY)),
            // The stub answers through the same right.
            Some(unused) => unused.disarm(),
            None => {}
        }
        let Some(port) = result? else { return Err(Errno::EIO) };
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_port(port, msgport, msgport_poly) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_getmsgport", body) }
}

/// Writes what a wait answers into the stub's out-parameters.
///
/// # Safety
/// The pointers are a wait routine's out-parameters.
unsafe fn write_waited(
    waited: Waited,
    status: *mut c_int,
    sigcode: *mut c_int,
    rusage: *mut raw::rusage_t,
    pid_status: *mut raw::pid_t,
) {
    // SAFETY: see above.
    unsafe {
        *status = waited.status;
        *sigcode = waited.sigcode;
        *rusage = waited.rusage;
        *pid_status = waited.pid;
    }
}

/// `proc_waitid`: answered when the process waited for is, on a thread
/// of the pool that waits meanwhile (the reply interface has no answer
/// for it to send later).
///
/// # Safety
/// The out-parameters are the stub's.
unsafe fn waitid_routine(
    process: raw::hurd_sys_object_t,
    pid: raw::pid_t,
    options: c_int,
    status: *mut c_int,
    sigcode: *mut c_int,
    rusage: *mut raw::rusage_t,
    pid_status: *mut raw::pid_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        let waited = p.wait(pid, options, true)?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_waited(waited, status, sigcode, rusage, pid_status) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_waitid", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_proc_wait(
    process: raw::hurd_sys_object_t,
    reply: RawPort,
    reply_poly: raw::mach_msg_type_name_t,
    pid: raw::pid_t,
    options: c_int,
    status: *mut c_int,
    sigcode: *mut c_int,
    rusage: *mut raw::rusage_t,
    pid_status: *mut raw::pid_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        let mut later = WaitReply::new(reply, reply_poly);
        let offered = later.is_some();
        let result = p.wait_later(pid, options, &mut later);
        match later {
            // Taken: it answers; the message server sends nothing now.
            None if offered => return Err(Errno(raw::MIG_NO_REPLY)),
            // The stub answers through the same right.
            Some(unused) => unused.disarm(),
            None => {}
        }
        let Some(waited) = result? else { return Err(Errno::EIO) };
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_waited(waited, status, sigcode, rusage, pid_status) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_wait", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_proc_waitid(
    process: raw::hurd_sys_object_t,
    _reply: RawPort,
    _reply_poly: raw::mach_msg_type_name_t,
    pid: raw::pid_t,
    options: c_int,
    status: *mut c_int,
    sigcode: *mut c_int,
    rusage: *mut raw::rusage_t,
    pid_status: *mut raw::pid_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { waitid_routine(process, pid, options, status, sigcode, rusage, pid_status) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getpgrp(
    process: raw::hurd_sys_object_t,
    pid: raw::pid_t,
    pgrp: *mut raw::pid_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        let answer = p.pgrp(pid)?;
        // SAFETY: the out-parameter is the stub's.
        unsafe { *pgrp = answer };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_getpgrp", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_setpgrp(
    process: raw::hurd_sys_object_t,
    pid: raw::pid_t,
    pgrp: raw::pid_t,
) -> raw::kern_return_t {
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_setpgrp", |p, _| p.set_pgrp(pid, pgrp)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getsid(
    process: raw::hurd_sys_object_t,
    pid: raw::pid_t,
    sid: *mut raw::pid_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        let answer = p.sid(pid)?;
        // SAFETY: the out-parameter is the stub's.
        unsafe { *sid = answer };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_getsid", body) }
}

/// The routines answering the members of one set.
///
/// # Safety
/// The out-parameters are the stub's.
unsafe fn members_routine(
    process: raw::hurd_sys_object_t,
    routine: &str,
    of: Members,
    pids: *mut raw::pidarray_t,
    count: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    // SAFETY: the out-parameters are the stub's.
    let body = |p: &Arc<dyn Process>, _: &Slot| unsafe { write_pids(&p.members(of)?, pids, count) };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, routine, body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getpgrppids(
    process: raw::hurd_sys_object_t,
    pgrp: raw::pid_t,
    pids: *mut raw::pidarray_t,
    count: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { members_routine(process, "proc_getpgrppids", Members::Pgrp(pgrp), pids, count) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getsessionpids(
    process: raw::hurd_sys_object_t,
    sid: raw::pid_t,
    pids: *mut raw::pidarray_t,
    count: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { members_routine(process, "proc_getsessionpids", Members::Session(sid), pids, count) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getsessionpgids(
    process: raw::hurd_sys_object_t,
    sid: raw::pid_t,
    pids: *mut raw::pidarray_t,
    count: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { members_routine(process, "proc_getsessionpgids", Members::SessionPgrps(sid), pids, count) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getloginpids(
    process: raw::hurd_sys_object_t,
    id: raw::pid_t,
    pids: *mut raw::pidarray_t,
    count: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { members_routine(process, "proc_getloginpids", Members::Login(id), pids, count) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getloginid(
    process: raw::hurd_sys_object_t,
    pid: raw::pid_t,
    login_id: *mut raw::pid_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        let answer = p.login_id(pid)?;
        // SAFETY: the out-parameter is the stub's.
        unsafe { *login_id = answer };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_getloginid", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_mark_exit(
    process: raw::hurd_sys_object_t,
    status: c_int,
    sigcode: c_int,
) -> raw::kern_return_t {
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_mark_exit", |p, _| p.mark_exit(status, sigcode)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_setmsgport(
    process: raw::hurd_sys_object_t,
    _reply: RawPort,
    _reply_poly: raw::mach_msg_type_name_t,
    newmsgport: RawPort,
    oldmsgport: *mut RawPort,
    oldmsgport_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        // SAFETY: the request brought a send right for `newmsgport`; the
        // out-parameters are the stub's.
        unsafe {
            with_request_right(newmsgport, |new| {
                let new = new.ok_or(Errno::EINVAL)?.try_clone().map_err(|_| Errno::EIO)?;
                match p.set_msgport(new)? {
                    Some(old) => write_port(old, oldmsgport, oldmsgport_poly),
                    None => {
                        *oldmsgport = raw::MACH_PORT_NULL;
                        *oldmsgport_poly = raw::MACH_MSG_TYPE_MOVE_SEND as _;
                    }
                }
                Ok(())
            })
        }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_setmsgport", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_setsid(process: raw::hurd_sys_object_t) -> raw::kern_return_t {
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_setsid", |p, _| p.set_sid()) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getsidport(
    process: raw::hurd_sys_object_t,
    sessport: *mut RawPort,
    sessport_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        let port = p.sid_port()?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_port(port, sessport, sessport_poly) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_getsidport", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_set_arg_locations(
    process: raw::hurd_sys_object_t,
    argv: raw::vm_address_t,
    envp: raw::vm_address_t,
) -> raw::kern_return_t {
    let location = Location::Args { argv: argv as u64, envp: envp as u64 };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_set_arg_locations", |p, _| p.set_location(location)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_get_arg_locations(
    process: raw::hurd_sys_object_t,
    argv: *mut raw::vm_address_t,
    envp: *mut raw::vm_address_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        let l = p.locations()?;
        // SAFETY: the out-parameters are the stub's; addresses of the
        // process's own word size, as it told them.
        unsafe { (*argv, *envp) = (l.argv as _, l.envp as _) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_get_arg_locations", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_set_code(
    process: raw::hurd_sys_object_t,
    start_code: raw::vm_address_t,
    end_code: raw::vm_address_t,
) -> raw::kern_return_t {
    let location = Location::Code { start: start_code as u64, end: end_code as u64 };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_set_code", |p, _| p.set_location(location)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_get_code(
    process: raw::hurd_sys_object_t,
    start_code: *mut raw::vm_address_t,
    end_code: *mut raw::vm_address_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        let l = p.locations()?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { (*start_code, *end_code) = (l.start_code as _, l.end_code as _) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_get_code", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_set_entry(
    process: raw::hurd_sys_object_t,
    entry: raw::vm_address_t,
) -> raw::kern_return_t {
    let location = Location::Entry(entry as u64);
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_set_entry", |p, _| p.set_location(location)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_get_entry(
    process: raw::hurd_sys_object_t,
    entry: *mut raw::vm_address_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        let l = p.locations()?;
        // SAFETY: the out-parameter is the stub's.
        unsafe { *entry = l.entry as _ };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_get_entry", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_set_exe(
    process: raw::hurd_sys_object_t,
    path: raw::const_string_t,
) -> raw::kern_return_t {
    // SAFETY: the stub holds the object for this call; `path` is MIG's
    // string.
    unsafe { on_process(process, "proc_set_exe", |p, _| p.set_exe(crate::routine::string(path)?)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_mark_stop(
    process: raw::hurd_sys_object_t,
    _signo: c_int,
    _sigcode: c_int,
) -> raw::kern_return_t {
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_mark_stop", |p, _| p.mark_stopped(true)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_mark_cont(process: raw::hurd_sys_object_t) -> raw::kern_return_t {
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_mark_cont", |p, _| p.mark_stopped(false)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_dostop(process: raw::hurd_sys_object_t, contthread: RawPort) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        // SAFETY: the request moved a send right for `contthread` to us.
        unsafe { with_request_right(contthread, |thread| p.stop_others(thread.ok_or(Errno::EINVAL)?)) }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_dostop", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_mark_exec(process: raw::hurd_sys_object_t) -> raw::kern_return_t {
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_mark_exec", |p, _| p.mark_exec()) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getchildren_rusage(
    process: raw::hurd_sys_object_t,
    usage: *mut raw::rusage_t,
) -> raw::kern_return_t {
    let body = |p: &Arc<dyn Process>, _: &Slot| {
        let answer = p.children_rusage()?;
        // SAFETY: the out-parameter is the stub's.
        unsafe { *usage = answer };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_process(process, "proc_getchildren_rusage", body) }
}

/// A routine about another process that this server does not answer
/// itself: ESRCH for a process outside the namespace, else EOPNOTSUPP.
///
/// # Safety
/// `process` is the object the stub holds for this call.
unsafe fn about_pid(process: raw::hurd_sys_object_t, routine: &str, pid: raw::pid_t) -> raw::kern_return_t {
    // SAFETY: see above.
    unsafe { on_process(process, routine, |p, _| Err(if p.knows(pid) { unsupported(routine) } else { Errno::ESRCH })) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_get_exe(
    process: raw::hurd_sys_object_t,
    which: raw::pid_t,
    _path: *mut std::ffi::c_char,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { about_pid(process, "proc_get_exe", which) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_get_tty(
    process: raw::hurd_sys_object_t,
    target: raw::pid_t,
    _tty: *mut RawPort,
    _tty_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { about_pid(process, "proc_get_tty", target) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_proc_getnports(
    process: raw::hurd_sys_object_t,
    which: raw::pid_t,
    _nports: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { about_pid(process, "proc_getnports", which) }
}

prototypes_agree!(
    S_proc_setsid,
    S_proc_getsidport,
    S_proc_set_arg_locations,
    S_proc_get_arg_locations,
    S_proc_set_code,
    S_proc_get_code,
    S_proc_set_entry,
    S_proc_get_entry,
    S_proc_set_exe,
    S_proc_mark_stop,
    S_proc_mark_cont,
    S_proc_mark_exec,
    S_proc_dostop,
    S_proc_getchildren_rusage,
    S_proc_getpids,
    S_proc_task2pid,
    S_proc_task2proc,
    S_proc_child,
    S_proc_pid2task,
    S_proc_pid2proc,
    S_proc_getallpids,
    S_proc_getprocinfo,
    S_proc_getprocargs,
    S_proc_getprocenv,
    S_proc_getmsgport,
    S_proc_wait,
    S_proc_waitid,
    S_proc_getpgrp,
    S_proc_setpgrp,
    S_proc_getsid,
    S_proc_getpgrppids,
    S_proc_getsessionpids,
    S_proc_getsessionpgids,
    S_proc_getloginpids,
    S_proc_getloginid,
    S_proc_get_exe,
    S_proc_get_tty,
    S_proc_getnports,
    S_proc_mark_exit,
    S_proc_setmsgport,
);
