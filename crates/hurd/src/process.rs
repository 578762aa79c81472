//! The proc server, as this process sees it.

use hurd_sys::raw;

use crate::errno::{Errno, check};
use crate::port::{RawPort, SendRight, take_array};

#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("this process has no proc server port")]
    NoProcPort,
    #[error("proc_getpids: {code}")]
    GetPids { code: Errno },
    #[error("proc_getallpids: {code}")]
    AllPids { code: Errno },
    #[error("proc_getprocinfo of process {pid}: {code}")]
    ProcInfo { pid: i32, code: Errno },
    #[error("ending process {pid}: {step}: {code}")]
    Terminate { pid: i32, step: &'static str, code: Errno },
}

/// What the proc server says of a process: its state bits and owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcInfo {
    pub pid: i32,
    /// The owner's uid; `None` for a process without one.
    pub owner: Option<u32>,
    /// Its task is gone (it only waits to be reaped).
    pub zombie: bool,
}

/// `struct procinfo`'s state bits (the Hurd's values) and the index of
/// its owner in the array of ints the proc server answers with.
const PI_NOTOWNED: i32 = 0x40;
const PI_ZOMBIE: i32 = 0x100;
const OWNER_INDEX: usize = 1;

/// Every PID the proc server knows.
pub fn all_pids() -> Result<Vec<i32>, ProcError> {
    let proc = proc_port()?;
    let mut buffer = [0i32; 512];
    let mut pids: *mut i32 = buffer.as_mut_ptr();
    let mut count: raw::mach_msg_type_number_t = buffer.len() as _;
    // SAFETY: `pids` points to `count` writable ints; a longer answer comes
    // out of line, ours to free.
    let code = unsafe { raw::proc_getallpids(proc.as_raw(), &mut pids, &mut count) };
    check(code).map_err(|code| ProcError::AllPids { code })?;
    // SAFETY: after success, `pids` points to `count` ints of the answer.
    Ok(unsafe { take_array(pids, count as usize, buffer.as_ptr()) })
}

/// What the proc server says of process `pid`.
pub fn info(pid: i32) -> Result<ProcInfo, ProcError> {
    let proc = proc_port()?;
    let error = |code| ProcError::ProcInfo { pid, code };
    let mut flags: std::ffi::c_int = 0;
    let mut buffer = [0i32; 256];
    let mut procinfo: *mut i32 = buffer.as_mut_ptr();
    let mut count: raw::mach_msg_type_number_t = buffer.len() as _;
    let mut waits_buffer = [0u8; 256];
    let mut waits: raw::data_t = waits_buffer.as_mut_ptr().cast();
    let mut waits_count: raw::mach_msg_type_number_t = waits_buffer.len() as _;
    // SAFETY: both buffers are writable for the counts given; longer
    // answers come out of line, ours to free.
    let code = unsafe {
        raw::proc_getprocinfo(proc.as_raw(), pid, &mut flags, &mut procinfo, &mut count, &mut waits, &mut waits_count)
    };
    check(code).map_err(error)?;
    // SAFETY: after success, each points to its count of the answer.
    let (ints, _) = unsafe {
        (
            take_array(procinfo, count as usize, buffer.as_ptr()),
            take_array(waits.cast::<u8>(), waits_count as usize, waits_buffer.as_ptr()),
        )
    };
    let (Some(&state), Some(&owner)) = (ints.first(), ints.get(OWNER_INDEX)) else {
        return Err(error(Errno::EIO));
    };
    Ok(ProcInfo { pid, owner: (state & PI_NOTOWNED == 0).then_some(owner as u32), zombie: state & PI_ZOMBIE != 0 })
}

/// Ends process `pid` at once: its task is terminated, whatever it does
/// (it needs no message thread of its own to die).
pub fn terminate(pid: i32) -> Result<(), ProcError> {
    let proc = proc_port()?;
    let error = |step, code| ProcError::Terminate { pid, step, code };
    let mut task_port: raw::mach_port_t = 0;
    // SAFETY: the answer's right is ours.
    check(unsafe { raw::proc_pid2task(proc.as_raw(), pid, &mut task_port) })
        .map_err(|code| error("proc_pid2task", code))?;
    // SAFETY: as above.
    let task_port = unsafe { SendRight::from_raw(task_port) }.ok_or(error("proc_pid2task", Errno::ESRCH))?;
    // SAFETY: a task port we hold.
    check(unsafe { raw::task_terminate(task_port.as_raw()) }).map_err(|code| error("task_terminate", code))
}

/// What the proc server says of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pids {
    pub pid: i32,
    pub ppid: i32,
    /// Whether the process's group is orphaned.
    pub orphaned: bool,
}

/// A send right to this process's proc server.
pub fn proc_port() -> Result<SendRight, ProcError> {
    // SAFETY: getproc returns a new reference to the proc port, which the
    // caller owns.
    unsafe { SendRight::from_raw(raw::getproc()) }.ok_or(ProcError::NoProcPort)
}

/// Asks the proc server for this process's PIDs.
pub fn pids() -> Result<Pids, ProcError> {
    let proc = proc_port()?;
    let (mut pid, mut ppid, mut orphaned) = (0, 0, 0);
    // SAFETY: the three out-parameters are valid places for the reply.
    let code = unsafe { raw::proc_getpids(proc.as_raw(), &mut pid, &mut ppid, &mut orphaned) };
    check(code).map_err(|code| ProcError::GetPids { code })?;
    Ok(Pids { pid, ppid, orphaned: orphaned != 0 })
}

/// Stops every thread of `task` but `except` (`proc_dostop`: a process
/// about to dump core or die of a signal keeps only the thread doing it).
pub fn stop_threads_but(task: &SendRight, except: &SendRight) -> Result<(), Errno> {
    // SAFETY: a task port we hold.
    check(unsafe { raw::task_suspend(task.as_raw()) })?;
    let listed = threads_of(task);
    for thread in listed.iter().flatten().filter(|t| t.as_raw() != except.as_raw()) {
        // SAFETY: a thread port we hold.
        let _ = unsafe { raw::thread_suspend(thread.as_raw()) };
    }
    // SAFETY: as above; the task runs again, its other threads stopped.
    let resumed = check(unsafe { raw::task_resume(task.as_raw()) });
    listed.and(resumed)
}

/// What a task has used so far, as the kernel counts it: user and system
/// CPU time in microseconds, its ended threads' and its live ones'. A
/// question the kernel does not answer (the task is gone) counts as
/// nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskUsage {
    pub user_us: u64,
    pub system_us: u64,
}

/// [`TaskUsage`] of `task`.
pub fn task_usage(task: &SendRight) -> TaskUsage {
    use std::mem::size_of;
    fn ask<T: Default>(task: &SendRight, flavor: u32) -> T {
        let mut info = T::default();
        let mut count = (size_of::<T>() / size_of::<raw::integer_t>()) as raw::mach_msg_type_number_t;
        // SAFETY: the kernel writes at most `count` ints into `info`, which
        // holds that many.
        let code = unsafe { raw::task_info(task.as_raw(), flavor as _, (&mut info as *mut T).cast(), &mut count) };
        if code != 0 { T::default() } else { info }
    }
    let micros = |t: raw::time_value| {
        (t.seconds.max(0) as u64).saturating_mul(1_000_000).saturating_add(t.microseconds.max(0) as u64)
    };
    let ended: raw::task_basic_info = ask(task, raw::TASK_BASIC_INFO);
    let live: raw::task_thread_times_info = ask(task, raw::TASK_THREAD_TIMES_INFO);
    TaskUsage {
        user_us: micros(ended.user_time).saturating_add(micros(live.user_time)),
        system_us: micros(ended.system_time).saturating_add(micros(live.system_time)),
    }
}

/// The threads of `task`, each an owned right.
fn threads_of(task: &SendRight) -> Result<Vec<SendRight>, Errno> {
    let mut threads: *mut raw::thread_t = std::ptr::null_mut();
    let mut count: raw::mach_msg_type_number_t = 0;
    // SAFETY: the kernel gives us `count` thread rights, out of line.
    check(unsafe { raw::task_threads(task.as_raw(), &mut threads, &mut count) })?;
    // SAFETY: the reply's array, released by take_array.
    let names = unsafe { take_array(threads, count as usize, std::ptr::null()) };
    // SAFETY: each name is a thread right the kernel just gave us.
    Ok(names.into_iter().filter_map(|name| unsafe { SendRight::from_raw(name) }).collect())
}

/// Asks the kernel for `task`'s information of `flavor` into `out`: whether
/// it answered.
///
/// # Safety
/// `out` is a writable `T`, the struct the kernel answers `flavor` with.
unsafe fn task_info_into<T>(task: &SendRight, flavor: u32, out: *mut T) -> bool {
    let mut count = (std::mem::size_of::<T>() / std::mem::size_of::<raw::integer_t>()) as raw::mach_msg_type_number_t;
    // SAFETY: the kernel writes at most `count` ints, which `out` holds.
    unsafe { raw::task_info(task.as_raw(), flavor as _, out.cast(), &mut count) == 0 }
}

/// `struct procinfo` as a proc server answers it, as ints: `fixed` is its
/// fixed part as the server keeps it (state, owner, parent, process group,
/// session, login collection, exit status, signal code, and a thread count
/// set here), and `task` (none for a zombie) is asked what `asked`
/// (`PI_FETCH_*` bits) wants of the kernel: the task's basic and event
/// information, its threads, each one's basic and scheduling information.
/// The flags answered say what is there. Thread waits are never fetched:
/// they would be asked of the process itself, which need not answer.
pub fn procinfo(fixed: [i32; 9], task: Option<&SendRight>, asked: i32) -> (i32, Vec<i32>) {
    use std::mem::{offset_of, size_of};
    type Thread = raw::procinfo__bindgen_ty_1;
    let wants = |bit: u32| asked & bit as i32 != 0;
    let details = wants(raw::PI_FETCH_THREAD_BASIC) || wants(raw::PI_FETCH_THREAD_SCHED);
    let threads = match task {
        Some(task) if details || wants(raw::PI_FETCH_THREADS) => threads_of(task).ok(),
        _ => None,
    };
    let head = offset_of!(raw::procinfo, threadinfos);
    let shown = if details { threads.as_ref().map_or(0, Vec::len) } else { 0 };
    let bytes = (head + shown * size_of::<Thread>()).max(size_of::<raw::procinfo>());
    // Zeroed room aligned for the struct; every byte read back below is
    // either a zero or written by the kernel.
    let mut room = vec![0u64; bytes.div_ceil(8)];
    let base = room.as_mut_ptr().cast::<u8>();
    let mut flags = 0;
    debug_assert_eq!(offset_of!(raw::procinfo, nthreads), size_of::<[i32; 8]>());
    let mut fixed = fixed;
    fixed[8] = threads.as_ref().map_or(0, |t| t.len() as i32);
    // SAFETY: `room` holds at least `size_of::<procinfo>()` bytes, aligned
    // to 8; the fixed part is nine ints at its start (asserted above).
    unsafe { std::ptr::copy_nonoverlapping(fixed.as_ptr(), base.cast::<i32>(), fixed.len()) };
    let info = base.cast::<raw::procinfo>();
    if let Some(task) = task {
        // SAFETY: `taskinfo` and `taskevents` are fields of the struct at
        // the start of `room`.
        let (taskinfo, taskevents) =
            unsafe { (std::ptr::addr_of_mut!((*info).taskinfo), std::ptr::addr_of_mut!((*info).taskevents)) };
        // SAFETY: each is a writable field of its flavour's type.
        if wants(raw::PI_FETCH_TASKINFO) && unsafe { task_info_into(task, raw::TASK_BASIC_INFO, taskinfo) } {
            flags |= raw::PI_FETCH_TASKINFO as i32;
        }
        // SAFETY: as above.
        if wants(raw::PI_FETCH_TASKEVENTS) && unsafe { task_info_into(task, raw::TASK_EVENTS_INFO, taskevents) } {
            flags |= raw::PI_FETCH_TASKEVENTS as i32;
        }
    }
    if let Some(threads) = &threads {
        flags |= raw::PI_FETCH_THREADS as i32;
        if details {
            flags |= asked & (raw::PI_FETCH_THREAD_BASIC | raw::PI_FETCH_THREAD_SCHED) as i32;
        }
        for (i, thread) in threads.iter().enumerate().take(shown) {
            // SAFETY: `room` holds `shown` thread entries after the head.
            let entry = unsafe { base.add(head + i * size_of::<Thread>()).cast::<Thread>() };
            // A thread that ended meanwhile is said to have died, as a proc
            // server does; any other error leaves that flavour out of the
            // whole answer (its flag cleared), not a zero taken for data.
            let ask = |entry: *mut Thread, flavor: u32, out: *mut raw::integer_t, size: usize| -> bool {
                let mut count = (size / size_of::<raw::integer_t>()) as raw::mach_msg_type_number_t;
                // SAFETY: `out` is a field of `entry` of `size` bytes.
                let code = unsafe { raw::thread_info(thread.as_raw(), flavor as _, out, &mut count) };
                if code == raw::MACH_SEND_INVALID_DEST as i32 {
                    // SAFETY: `died` is an int of `entry`.
                    unsafe { std::ptr::addr_of_mut!((*entry).died).write(1) };
                }
                code == 0 || code == raw::MACH_SEND_INVALID_DEST as i32
            };
            if wants(raw::PI_FETCH_THREAD_BASIC) {
                // SAFETY: a field of `entry`, in `room`.
                let out = unsafe { std::ptr::addr_of_mut!((*entry).pis_bi) };
                if !ask(entry, raw::THREAD_BASIC_INFO, out.cast(), size_of::<raw::thread_basic_info>()) {
                    flags &= !(raw::PI_FETCH_THREAD_BASIC as i32);
                }
            }
            if wants(raw::PI_FETCH_THREAD_SCHED) {
                // SAFETY: as above.
                let out = unsafe { std::ptr::addr_of_mut!((*entry).pis_si) };
                if !ask(entry, raw::THREAD_SCHED_INFO, out.cast(), size_of::<raw::thread_sched_info>()) {
                    flags &= !(raw::PI_FETCH_THREAD_SCHED as i32);
                }
            }
        }
    }
    // SAFETY: `room` is `bytes` or more initialised bytes, aligned for ints.
    let words = unsafe { std::slice::from_raw_parts(room.as_ptr().cast::<i32>(), bytes.div_ceil(4)) }.to_vec();
    (flags, words)
}

/// A new empty task, a child of this one (no threads, no memory).
pub fn create_task() -> Result<SendRight, Errno> {
    let mut child: RawPort = 0;
    // SAFETY: the kernel gives us a send right to the new task.
    check(unsafe { raw::task_create(crate::port::task(), 0, &mut child) })?;
    // SAFETY: the right is ours.
    unsafe { SendRight::from_raw(child) }.ok_or(Errno::EIO)
}

/// Ends the task `task` at once.
pub fn terminate_task(task: &SendRight) -> Result<(), Errno> {
    // SAFETY: a task port we hold.
    check(unsafe { raw::task_terminate(task.as_raw()) })
}

/// This process's ids as its C library knows them now (what `getpid`,
/// `getppid`, `getpgrp` and `getsid` answer; the C library keeps the
/// proc server's last word on them): pid, ppid, pgrp, sid.
pub fn known_ids() -> (i32, i32, i32, i32) {
    // SAFETY: four calls that read the C library's state.
    unsafe { (libc::getpid(), libc::getppid(), libc::getpgrp(), libc::getsid(0)) }
}

/// Waits for a child as `waitpid(pid, &status, 0)` reads `pid` (a PID;
/// -1: any child; 0: any in this process's group; below -1: any in group
/// `-pid`): the child's PID and its wait status.
pub fn wait_for(pid: i32) -> Result<(i32, i32), Errno> {
    let mut status = 0;
    // SAFETY: `status` is a live i32 the call writes once.
    let child = unsafe { libc::waitpid(pid, &mut status, 0) };
    if child < 0 {
        Err(Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)))
    } else {
        Ok((child, status))
    }
}

/// [`wait_for`], with the CPU time (user and system, microseconds) the
/// child used, as the wait tells it (`wait4`).
pub fn wait_for_used(pid: i32) -> Result<(i32, i32, u64), Errno> {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `status` and `usage` are live places the call writes once.
    let child = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if child < 0 {
        return Err(Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)));
    }
    Ok((child, status, micros(usage.ru_utime) + micros(usage.ru_stime)))
}

/// The CPU time (user and system, microseconds) this process's children
/// that ended used, as its proc server tells it
/// (`proc_getchildren_rusage`, which the C library's
/// `getrusage(RUSAGE_CHILDREN)` asks when it was built to).
pub fn children_used() -> Result<u64, Errno> {
    let proc = proc_port().map_err(|_| Errno::EIO)?;
    let mut usage = raw::rusage_t::default();
    // SAFETY: `usage` is a live place the reply is written to.
    check(unsafe { raw::proc_getchildren_rusage(proc.as_raw(), &mut usage) })?;
    let micros =
        |t: raw::timeval| (t.tv_sec.max(0) as u64).saturating_mul(1_000_000).saturating_add(t.tv_usec.max(0) as u64);
    Ok(micros(usage.ru_utime) + micros(usage.ru_stime))
}

fn micros(t: libc::timeval) -> u64 {
    (t.tv_sec.max(0) as u64).saturating_mul(1_000_000).saturating_add(t.tv_usec.max(0) as u64)
}

/// Makes this process the leader of a process group of its own
/// (`setpgid(0, 0)`).
pub fn lead_own_group() -> Result<(), Errno> {
    // SAFETY: no pointers; the C library asks the proc server.
    if unsafe { libc::setpgid(0, 0) } == 0 {
        Ok(())
    } else {
        Err(Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)))
    }
}
