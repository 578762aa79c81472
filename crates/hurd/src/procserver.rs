//! Asking a proc server about any process, through a proc port given
//! (the host's, as a private proc server relays to it). Each call is one
//! RPC of `process.defs`; errors are the server's.

use hurd_sys::raw;

use crate::errno::{Errno, check};
use crate::port::{RawPort, SendRight, take_array};

/// What `proc_wait` answers.
#[derive(Clone, Copy)]
pub struct Waited {
    pub status: i32,
    pub sigcode: i32,
    pub rusage: raw::rusage_t,
    pub pid: i32,
}

impl std::fmt::Debug for Waited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Waited(pid {}, status {:#x})", self.pid, self.status)
    }
}

/// A right an RPC answered with, owned.
///
/// # Safety
/// `name` is null or a right the answer gave us.
unsafe fn owned(name: RawPort) -> Result<SendRight, Errno> {
    // SAFETY: see above.
    unsafe { SendRight::from_raw(name) }.ok_or(Errno::ESRCH)
}

pub fn task2pid(proc: &SendRight, task: &SendRight) -> Result<i32, Errno> {
    let mut pid = 0;
    // SAFETY: the task right is copied into the request; `pid` is ours.
    check(unsafe { raw::proc_task2pid(proc.as_raw(), task.as_raw(), &mut pid) })?;
    Ok(pid)
}

pub fn task2proc(proc: &SendRight, task: &SendRight) -> Result<SendRight, Errno> {
    let mut port = 0;
    // SAFETY: as above; the answer's right is ours.
    check(unsafe { raw::proc_task2proc(proc.as_raw(), task.as_raw(), &mut port) })?;
    // SAFETY: the answer gave it.
    unsafe { owned(port) }
}

pub fn pid2task(proc: &SendRight, pid: i32) -> Result<SendRight, Errno> {
    let mut task = 0;
    // SAFETY: the answer's right is ours.
    check(unsafe { raw::proc_pid2task(proc.as_raw(), pid, &mut task) })?;
    // SAFETY: the answer gave it.
    unsafe { owned(task) }
}

/// `proc_getpids` on `proc`: the PID, the parent's, orphaned.
pub fn getpids(proc: &SendRight) -> Result<(i32, i32, bool), Errno> {
    let (mut pid, mut ppid, mut orphaned) = (0, 0, 0);
    // SAFETY: three places for the answer.
    check(unsafe { raw::proc_getpids(proc.as_raw(), &mut pid, &mut ppid, &mut orphaned) })?;
    Ok((pid, ppid, orphaned != 0))
}

/// An RPC answering a pid array: `rpc` gets the buffer and its count.
fn pid_array(
    rpc: impl FnOnce(&mut *mut i32, &mut raw::mach_msg_type_number_t) -> raw::kern_return_t,
) -> Result<Vec<i32>, Errno> {
    let mut buffer = [0i32; 512];
    let mut pids: *mut i32 = buffer.as_mut_ptr();
    let mut count: raw::mach_msg_type_number_t = buffer.len() as _;
    check(rpc(&mut pids, &mut count))?;
    // SAFETY: after success, `pids` points to `count` ints of the answer.
    Ok(unsafe { take_array(pids, count as usize, buffer.as_ptr()) })
}

/// An RPC answering bytes: `rpc` gets the buffer and its count.
fn byte_array(
    rpc: impl FnOnce(&mut raw::data_t, &mut raw::mach_msg_type_number_t) -> raw::kern_return_t,
) -> Result<Vec<u8>, Errno> {
    let mut buffer = [0u8; 4096];
    let mut data: raw::data_t = buffer.as_mut_ptr().cast();
    let mut count: raw::mach_msg_type_number_t = buffer.len() as _;
    check(rpc(&mut data, &mut count))?;
    // SAFETY: after success, `data` points to `count` bytes of the answer.
    Ok(unsafe { take_array(data.cast::<u8>(), count as usize, buffer.as_ptr()) })
}

pub fn getallpids(proc: &SendRight) -> Result<Vec<i32>, Errno> {
    // SAFETY: pid_array's buffer and count.
    pid_array(|p, n| unsafe { raw::proc_getallpids(proc.as_raw(), p, n) })
}

/// `proc_getprocinfo`: the flags answered, the procinfo words, the
/// thread waits.
pub fn procinfo(proc: &SendRight, pid: i32, flags: i32) -> Result<(i32, Vec<i32>, Vec<u8>), Errno> {
    let mut flags: std::ffi::c_int = flags;
    let mut waits = Vec::new();
    let words = pid_array(|p, n| {
        let mut w_buf = [0u8; 256];
        let mut w: raw::data_t = w_buf.as_mut_ptr().cast();
        let mut wn: raw::mach_msg_type_number_t = w_buf.len() as _;
        // SAFETY: both buffers and counts are ours; longer answers come
        // out of line, freed by take_array.
        let code = unsafe { raw::proc_getprocinfo(proc.as_raw(), pid, &mut flags, p, n, &mut w, &mut wn) };
        if code == 0 {
            // SAFETY: after success, `w` points to `wn` bytes.
            waits = unsafe { take_array(w.cast::<u8>(), wn as usize, w_buf.as_ptr()) };
        }
        code
    })?;
    Ok((flags, words, waits))
}

/// `proc_getprocargs` (`env`: `proc_getprocenv`).
pub fn args(proc: &SendRight, pid: i32, env: bool) -> Result<Vec<u8>, Errno> {
    // SAFETY: byte_array's buffer and count.
    byte_array(|d, n| unsafe {
        if env {
            raw::proc_getprocenv(proc.as_raw(), pid, d, n)
        } else {
            raw::proc_getprocargs(proc.as_raw(), pid, d, n)
        }
    })
}

pub fn getmsgport(proc: &SendRight, pid: i32) -> Result<SendRight, Errno> {
    let mut port = 0;
    // SAFETY: the answer's right is ours.
    check(unsafe { raw::proc_getmsgport(proc.as_raw(), pid, &mut port) })?;
    // SAFETY: the answer gave it.
    unsafe { owned(port) }
}

/// `proc_wait` (`waitid`: `proc_waitid`), on `proc` (the waiting
/// process's port).
pub fn wait(proc: &SendRight, pid: i32, options: i32, waitid: bool) -> Result<Waited, Errno> {
    let (mut status, mut sigcode, mut got) = (0, 0, 0);
    let mut rusage = raw::rusage_t::default();
    // SAFETY: places for the answer.
    check(unsafe {
        if waitid {
            raw::proc_waitid(proc.as_raw(), pid, options, &mut status, &mut sigcode, &mut rusage, &mut got)
        } else {
            raw::proc_wait(proc.as_raw(), pid, options, &mut status, &mut sigcode, &mut rusage, &mut got)
        }
    })?;
    Ok(Waited { status, sigcode, rusage, pid: got })
}

pub fn getpgrp(proc: &SendRight, pid: i32) -> Result<i32, Errno> {
    let mut pgrp = 0;
    // SAFETY: a place for the answer.
    check(unsafe { raw::proc_getpgrp(proc.as_raw(), pid, &mut pgrp) })?;
    Ok(pgrp)
}

pub fn getsid(proc: &SendRight, pid: i32) -> Result<i32, Errno> {
    let mut sid = 0;
    // SAFETY: a place for the answer.
    check(unsafe { raw::proc_getsid(proc.as_raw(), pid, &mut sid) })?;
    Ok(sid)
}

/// `proc_make_task_namespace`: every task created from now on by the
/// process of `proc` or its descendants becomes a child of it, `notify`
/// hears of each, and when the process dies the proc server ends them.
pub fn make_task_namespace(proc: &SendRight, notify: &SendRight) -> Result<(), Errno> {
    // SAFETY: the notify right is copied into the request.
    check(unsafe { raw::proc_make_task_namespace(proc.as_raw(), notify.as_raw(), raw::MACH_MSG_TYPE_COPY_SEND as _) })
}

/// `proc_setmsgport`: `msgport` (copied) becomes the process's message
/// port; answers the one it had.
pub fn setmsgport(proc: &SendRight, msgport: &SendRight) -> Result<Option<SendRight>, Errno> {
    let mut old = 0;
    // SAFETY: the new right is copied into the request; the old one
    // answered is ours.
    check(unsafe { raw::proc_setmsgport(proc.as_raw(), msgport.as_raw(), &mut old) })?;
    // SAFETY: the answer gave it (or null).
    Ok(unsafe { SendRight::from_raw(old) })
}

/// `msg_proc_newids` to the message port `msgport` (its process's
/// parent, process group and whether that is orphaned, as it is to see
/// them), without waiting: the request is queued on `msgport` or, when
/// its queue is full or it is dead, dropped at once (a proc server's
/// notices must not wait on the process they are about).
pub fn proc_newids_nowait(
    msgport: &SendRight,
    task: &SendRight,
    ppid: i32,
    pgrp: i32,
    orphaned: bool,
) -> Result<(), Errno> {
    // SAFETY: the rights are copied into the request; no answer comes.
    let code = unsafe {
        raw::hurd_sys_nowait_msg_proc_newids(msgport.as_raw(), task.as_raw(), ppid, pgrp, c_int_from(orphaned))
    };
    nowait_sent(code, &[msgport, task])
}

/// The result of a send with no waiting that carried copies of `rights`
/// (the destination first). When the receiver's queue was full the
/// kernel gives the message back, and with it a reference to each right
/// it carried (MIG's stub drops the message, not the rights): released
/// here, or every full queue would pin one more reference.
fn nowait_sent(code: raw::kern_return_t, rights: &[&SendRight]) -> Result<(), Errno> {
    if code == raw::MACH_SEND_TIMED_OUT as raw::kern_return_t {
        for right in rights {
            // SAFETY: one reference the failed send gave back to us.
            unsafe { raw::mach_port_deallocate(crate::port::task(), right.as_raw()) };
        }
    }
    check(code)
}

/// `msg_sig_post` of `signal` (with `sigcode`) to the message port
/// `msgport`, `refport` vouching for it (the process's task port: any
/// signal), without waiting, as [`proc_newids_nowait`].
pub fn post_signal_nowait(msgport: &SendRight, signal: i32, sigcode: u32, refport: &SendRight) -> Result<(), Errno> {
    // SAFETY: the rights are copied into the request; no answer comes.
    let code = unsafe { raw::hurd_sys_nowait_msg_sig_post(msgport.as_raw(), signal, sigcode as _, refport.as_raw()) };
    nowait_sent(code, &[msgport, refport])
}

fn c_int_from(b: bool) -> std::ffi::c_int {
    std::ffi::c_int::from(b)
}
