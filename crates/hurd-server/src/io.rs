//! The io interface (`io.defs`): what every object a client reads,
//! writes or reauthenticates answers, whatever its class (a protid of a
//! file system, a socket). An object answers io requests through the view
//! it was served with ([`crate::ports::Object::with_io`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use hurd::errno::Errno;
use hurd::port::{PortError, RawPort, ReceiveRight, SendRight, task};
use hurd_sys::raw;

use crate::Credentials;
use crate::fs::Stat;
use crate::ports::{self, Forward, Object, Slot};
use crate::routine::{ids, on_slot, prototypes_agree, unsupported, write_data, write_port};

/// An object as io requests address it. Methods not implemented answer
/// EOPNOTSUPP and log once.
pub trait Io: Forward {
    fn stat(&self) -> Result<Stat, Errno> {
        Err(unsupported("io_stat"))
    }

    fn read(&self, offset: i64, amount: usize) -> Result<Vec<u8>, Errno> {
        let _ = (offset, amount);
        Err(unsupported("io_read"))
    }

    /// `io_write` of `data` at `offset` (-1: at the open's offset);
    /// answers how much was written.
    fn write(&self, offset: i64, data: &[u8]) -> Result<usize, Errno> {
        let _ = (offset, data);
        Err(unsupported("io_write"))
    }

    /// `io_seek`: the new offset.
    fn seek(&self, offset: i64, whence: i32) -> Result<i64, Errno> {
        let _ = (offset, whence);
        Err(unsupported("io_seek"))
    }

    /// `io_readable`: how many bytes a read at this open's offset could
    /// give now (the C library asks it after reading a small file whole,
    /// as gethostname and uname do with /etc/hostname).
    fn readable(&self) -> Result<i64, Errno> {
        const SEEK_CUR: i32 = 1;
        let at = self.seek(0, SEEK_CUR)?;
        Ok(self.stat()?.size.saturating_sub(at).max(0))
    }

    /// The credentials this object carries.
    fn credentials(&self) -> Credentials {
        Credentials::default()
    }

    /// The same object as a client with `creds` sees it, ready to be
    /// served (`io_reauthenticate`, `io_restrict_auth`, `io_duplicate`).
    fn with_credentials(&self, creds: Credentials) -> Result<Object, Errno> {
        let _ = creds;
        Err(unsupported("io_reauthenticate"))
    }
}

/// Runs an io routine on the io view of the object behind `object`.
///
/// # Safety
/// `object` is null or the object the stub holds for this call.
unsafe fn on_io(
    object: raw::hurd_sys_object_t,
    routine: &str,
    body: impl FnOnce(&Arc<dyn Io>, &Slot) -> Result<(), Errno>,
) -> raw::kern_return_t {
    // SAFETY: as the caller's.
    unsafe {
        on_slot(object, routine, |slot| match slot.io() {
            Some(io) => body(io, slot),
            None => Err(Errno::EOPNOTSUPP),
        })
    }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_stat(io: raw::hurd_sys_object_t, out: *mut raw::io_statbuf_t) -> raw::kern_return_t {
    let body = |object: &Arc<dyn Io>, _: &Slot| {
        let s = object.stat()?;
        // nlink_t is 32 bits on i686, 64 on x86_64 (a count of links
        // served here never nears 2^32).
        #[allow(clippy::unnecessary_cast)]
        let nlink = s.nlink as _;
        let st = raw::io_statbuf_t {
            st_mode: s.mode,
            st_size: s.size,
            st_nlink: nlink,
            st_uid: s.uid,
            st_gid: s.gid,
            st_ino: s.ino,
            st_blksize: 4096,
            st_fsid: std::process::id() as _,
            ..Default::default()
        };
        // SAFETY: the stub gives room for one stat buffer.
        unsafe { *out = st };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_io(io, "io_stat", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_read(
    io: raw::hurd_sys_object_t,
    data: *mut raw::data_t,
    len: *mut raw::mach_msg_type_number_t,
    offset: raw::loff_t,
    amount: raw::vm_size_t,
) -> raw::kern_return_t {
    let body = |object: &Arc<dyn Io>, _: &Slot| {
        let bytes = object.read(offset, amount)?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_data(&bytes[..bytes.len().min(amount)], data, len) }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_io(io, "io_read", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_write(
    io: raw::hurd_sys_object_t,
    data: raw::const_data_t,
    len: raw::mach_msg_type_number_t,
    offset: raw::loff_t,
    amount: *mut raw::vm_size_t,
) -> raw::kern_return_t {
    let body = |object: &Arc<dyn Io>, _: &Slot| {
        // SAFETY: MIG passes `len` bytes at `data`.
        let n = object.write(offset, unsafe { crate::routine::bytes(data, len) })?;
        // SAFETY: the stub gives room for the amount.
        unsafe { *amount = n as raw::vm_size_t };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_io(io, "io_write", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_seek(
    io: raw::hurd_sys_object_t,
    offset: raw::loff_t,
    whence: std::ffi::c_int,
    newp: *mut raw::loff_t,
) -> raw::kern_return_t {
    let body = |object: &Arc<dyn Io>, _: &Slot| {
        let n = object.seek(offset, whence)?;
        // SAFETY: the stub gives room for the new offset.
        unsafe { *newp = n };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_io(io, "io_seek", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_readable(io: raw::hurd_sys_object_t, amount: *mut raw::vm_size_t) -> raw::kern_return_t {
    let body = |object: &Arc<dyn Io>, _: &Slot| {
        let n = object.readable()?;
        // SAFETY: the stub gives room for the amount.
        unsafe { *amount = raw::vm_size_t::try_from(n).unwrap_or(raw::vm_size_t::MAX) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_io(io, "io_readable", body) }
}

/// Asks the auth server who is behind `rendezvous`, handing it `port` for
/// the client: the client's effective user and group ids.
fn authenticate(rendezvous: RawPort, port: RawPort) -> Result<Credentials, Errno> {
    let ids = hurd::auth::receive_ids(|[eu, au, eg, ag], [neu, nau, neg, nag]| {
        // SAFETY: getauth gives a reference we release below; the
        // rendezvous right is moved to the auth server; the four arrays are
        // receive_ids's buffers of the lengths given.
        unsafe {
            let auth = raw::getauth();
            let code = raw::auth_server_authenticate(
                auth,
                rendezvous,
                raw::MACH_MSG_TYPE_MOVE_SEND as _,
                port,
                raw::MACH_MSG_TYPE_MAKE_SEND as _,
                eu,
                neu,
                au,
                nau,
                eg,
                neg,
                ag,
                nag,
            );
            raw::mach_port_deallocate(task(), auth);
            code
        }
    })?;
    Ok(Credentials { uids: ids.euids, gids: ids.egids })
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_reauthenticate(io: raw::hurd_sys_object_t, rendezvous: RawPort) -> raw::kern_return_t {
    let body = |object: &Arc<dyn Io>, _: &Slot| {
        // The new port is served only once the auth server has said who
        // the client is, and with that identity: a request the client
        // sends on it meanwhile waits in its queue, so none is ever
        // answered with other ids. (Served first with none and given the
        // identity after, a request that came in between was answered
        // with no ids, and one still running when the identity came kept
        // the port on the empty object for good: a build user's `>` on a
        // file of its own failed with EACCES.) When the identity or the
        // object cannot be had, the port is destroyed: the client holds a
        // dead name, never a port with more than its ids.
        let port = ReceiveRight::allocate().map_err(|e| {
            log::error!("io_reauthenticate: {e}");
            Errno::ENOMEM
        })?;
        let name = port.as_raw();
        // The rendezvous right is moved to the auth server whatever happens:
        // answer success so that the request is not destroyed again.
        match authenticate(rendezvous, name).and_then(|creds| object.with_credentials(creds)) {
            Ok(authed) => {
                if let Err(e) = ports::serve_on(port, authed) {
                    log::error!("io_reauthenticate: {e}");
                }
            }
            Err(e) => log::warn!("io_reauthenticate: {e}"),
        }
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_io(io, "io_reauthenticate", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_restrict_auth(
    io: raw::hurd_sys_object_t,
    new: *mut RawPort,
    new_poly: *mut raw::mach_msg_type_name_t,
    uids: raw::const_idarray_t,
    nuids: raw::mach_msg_type_number_t,
    gids: raw::const_idarray_t,
    ngids: raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    let body = |object: &Arc<dyn Io>, slot: &Slot| {
        let port = restricted(object, slot, &ids(uids, nuids), &ids(gids, ngids))?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_port(port, new, new_poly) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_io(io, "io_restrict_auth", body) }
}

/// `io_duplicate`: the same open with the same identity, on a new port.
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_duplicate(
    io: raw::hurd_sys_object_t,
    new: *mut RawPort,
    new_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |object: &Arc<dyn Io>, slot: &Slot| {
        let have = object.credentials();
        let port = restricted(object, slot, &have.uids, &have.gids)?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_port(port, new, new_poly) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_io(io, "io_duplicate", body) }
}

/// A new port on `object` with no more identity than both the object and
/// `want_u`/`want_g` allow; the translator's own if `slot` is.
fn restricted(object: &Arc<dyn Io>, slot: &Slot, want_u: &[u32], want_g: &[u32]) -> Result<SendRight, Errno> {
    let have = object.credentials();
    let creds = Credentials {
        uids: have.uids.iter().copied().filter(|u| want_u.contains(u)).collect(),
        gids: have.gids.iter().copied().filter(|g| want_g.contains(g)).collect(),
    };
    let new = object.with_credentials(creds)?.own(slot.is_own());
    ports::serve(new).map_err(|_| Errno::ENOMEM)
}

/// The identity ports of the objects served here (one per inode number,
/// kept for the life of the translator) and of the translator itself.
fn identity(ino: u64) -> Result<(SendRight, SendRight), PortError> {
    static IDS: Mutex<BTreeMap<u64, ReceiveRight>> = Mutex::new(BTreeMap::new());
    static FSID: OnceLock<ReceiveRight> = OnceLock::new();
    let fsid = match FSID.get() {
        Some(p) => p,
        None => {
            let port = ReceiveRight::allocate()?;
            FSID.get_or_init(|| port)
        }
    };
    let mut ids = IDS.lock().unwrap_or_else(|e| e.into_inner());
    let id = match ids.entry(ino) {
        std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::btree_map::Entry::Vacant(e) => e.insert(ReceiveRight::allocate()?),
    };
    Ok((id.make_send()?, fsid.make_send()?))
}

/// `io_identity`: which node this is (the C library's `getcwd` compares
/// them while it climbs through `..`).
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_io_identity(
    io: raw::hurd_sys_object_t,
    idport: *mut RawPort,
    idport_poly: *mut raw::mach_msg_type_name_t,
    fsidport: *mut RawPort,
    fsidport_poly: *mut raw::mach_msg_type_name_t,
    fileno: *mut raw::ino64_t,
) -> raw::kern_return_t {
    let body = |object: &Arc<dyn Io>, _: &Slot| {
        let ino = object.stat()?.ino;
        let (id, fsid) = identity(ino).map_err(|e| {
            log::error!("io_identity: {e}");
            Errno::ENOMEM
        })?;
        // SAFETY: the out-parameters are the stub's.
        unsafe {
            write_port(id, idport, idport_poly);
            write_port(fsid, fsidport, fsidport_poly);
            *fileno = ino;
        }
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_io(io, "io_identity", body) }
}

prototypes_agree!(
    S_io_stat,
    S_io_read,
    S_io_write,
    S_io_seek,
    S_io_readable,
    S_io_reauthenticate,
    S_io_duplicate,
    S_io_restrict_auth,
    S_io_identity,
);
