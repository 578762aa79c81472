//! This process's identity, as the auth server holds it: the effective and
//! available user and group ids (the Hurd keeps lists of each, where POSIX
//! has one real, one effective and one saved id).

use hurd_sys::raw;

use crate::errno::{Errno, check};
use crate::port::{SendRight, take_array};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("auth_getids: {code}")]
    GetIds { code: Errno },
    #[error("auth_makeauth for uid {uid}, gid {gid}: {code}")]
    MakeAuth { uid: u32, gid: u32, code: Errno },
    #[error("setauth for uid {uid}, gid {gid}: {code}")]
    SetAuth { uid: u32, gid: u32, code: Errno },
}

/// Every id of an identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ids {
    pub euids: Vec<u32>,
    pub auids: Vec<u32>,
    pub egids: Vec<u32>,
    pub agids: Vec<u32>,
}

/// This process's ids.
pub fn ids() -> Result<Ids, AuthError> {
    // SAFETY: getauth gives a reference that `SendRight` releases.
    let auth = unsafe { SendRight::from_raw(raw::getauth()) }.ok_or(AuthError::GetIds { code: Errno::EIO })?;
    receive_ids(|[eu, au, eg, ag], [neu, nau, neg, nag]| {
        // SAFETY: four buffers of the lengths given (receive_ids's).
        unsafe { raw::auth_getids(auth.as_raw(), eu, neu, au, nau, eg, neg, ag, nag) }
    })
    .map_err(|code| AuthError::GetIds { code })
}

/// Calls an RPC that answers with the four id arrays of an identity
/// (effective and available users, then groups): `rpc` gets buffers and
/// their lengths; a longer answer comes out of line and is freed here.
pub fn receive_ids(
    rpc: impl FnOnce(&mut [*mut u32; 4], &mut [raw::mach_msg_type_number_t; 4]) -> raw::kern_return_t,
) -> Result<Ids, Errno> {
    let mut bufs = [[0u32; 64]; 4];
    let mut ptrs: [*mut u32; 4] = [std::ptr::null_mut(); 4];
    let mut lens: [raw::mach_msg_type_number_t; 4] = [0; 4];
    for i in 0..4 {
        ptrs[i] = bufs[i].as_mut_ptr();
        lens[i] = bufs[i].len() as _;
    }
    check(rpc(&mut ptrs, &mut lens))?;
    // SAFETY: after success, lens[i] ids are at ptrs[i], in bufs[i] or out of line.
    let [euids, auids, egids, agids] =
        std::array::from_fn(|i| unsafe { take_array(ptrs[i].cast_const(), lens[i] as usize, bufs[i].as_ptr()) });
    Ok(Ids { euids, auids, egids, agids })
}

/// Makes this process `uid`:`gid` and nothing else: one effective user
/// and group id, real and saved the same, no supplementary groups and no
/// other available ids (the C library's `setuid` leaves any extra ones).
/// Needs the rights to give those ids (root's). Every port the process
/// holds is reauthenticated with the new identity.
pub fn become_only(uid: u32, gid: u32) -> Result<(), AuthError> {
    let ids = Ids { euids: vec![uid], auids: vec![uid, uid], egids: vec![gid], agids: vec![gid, gid] };
    set(&ids).map_err(|(step, code)| step(uid, gid, code))
}

/// Adds `uid` and `gid` to this process's effective and available ids
/// (what a daemon holding more than one identity looks like).
pub fn add(uid: u32, gid: u32) -> Result<(), AuthError> {
    let mut ids = ids()?;
    ids.euids.push(uid);
    ids.auids.push(uid);
    ids.egids.push(gid);
    ids.agids.push(gid);
    set(&ids).map_err(|(step, code)| step(uid, gid, code))
}

type Step = fn(u32, u32, Errno) -> AuthError;

/// Makes `ids` this process's identity, from what its auth handle may give.
fn set(ids: &Ids) -> Result<(), (Step, Errno)> {
    let make: Step = |uid, gid, code| AuthError::MakeAuth { uid, gid, code };
    let install: Step = |uid, gid, code| AuthError::SetAuth { uid, gid, code };
    // SAFETY: getauth gives a reference that `SendRight` releases.
    let auth = unsafe { SendRight::from_raw(raw::getauth()) }.ok_or((make, Errno::EIO))?;
    let mut new: raw::mach_port_t = 0;
    // SAFETY: no other handles are passed; the id arrays are read for
    // their lengths; the reply's right is ours.
    let code = unsafe {
        raw::auth_makeauth(
            auth.as_raw(),
            std::ptr::null_mut(),
            raw::MACH_MSG_TYPE_COPY_SEND as _,
            0,
            ids.euids.as_ptr(),
            ids.euids.len() as _,
            ids.auids.as_ptr(),
            ids.auids.len() as _,
            ids.egids.as_ptr(),
            ids.egids.len() as _,
            ids.agids.as_ptr(),
            ids.agids.len() as _,
            &mut new,
        )
    };
    check(code).map_err(|code| (make, code))?;
    // SAFETY: the reply's right is ours.
    let new = unsafe { SendRight::from_raw(new) }.ok_or((make, Errno::EIO))?;
    // SAFETY: setauth takes its own reference (it copies the right).
    if unsafe { raw::setauth(new.as_raw()) } != 0 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(Errno::EIO.0);
        return Err((install, Errno(errno)));
    }
    Ok(())
}

/// Closes every descriptor from `first` on, so that neither a program
/// this process starts nor anyone who can reach this process gets them.
pub fn close_from(first: i32) {
    // SAFETY: getdtablesize reads the process's descriptor table size.
    let top = unsafe { libc::getdtablesize() };
    for fd in first..top.max(first) {
        // SAFETY: closing a descriptor that is not open answers EBADF and
        // changes nothing; nothing in this process uses these any more.
        unsafe { libc::close(fd) };
    }
}

/// Makes `command` run as `uid`:`gid` and nothing else ([`become_only`],
/// in the child, before the program is loaded): the caller keeps its own
/// identity, so that the program cannot take its ports.
pub fn run_as(command: &mut std::process::Command, uid: u32, gid: u32) {
    use std::os::unix::process::CommandExt;
    let take_ids = move || become_only(uid, gid).map_err(|e| std::io::Error::other(e.to_string()));
    // SAFETY: the closure runs in the forked child, before the program is
    // loaded; it asks the auth server for a new identity and installs it
    // with the C library's setauth, which the child may do (the caller is
    // `sandbox-root exec`, a process of one thread).
    unsafe { command.pre_exec(take_ids) };
}
