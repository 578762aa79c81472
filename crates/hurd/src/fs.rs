//! Nodes of the file system: looking them up and asking about them.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use hurd_sys::raw;

use crate::errno::{Errno, check};
use crate::port::{SendRight, take_array};

#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("{path}: the name has a NUL byte")]
    Nul { path: PathBuf },
    #[error("looking up {path}: {code}")]
    Lookup { path: PathBuf, code: Errno },
    #[error("file_get_translator: {code}")]
    GetTranslator { code: Errno },
    #[error("file_reparent: {code}")]
    Reparent { code: Errno },
    #[error("io_restrict_auth: {code}")]
    RestrictAuth { code: Errno },
    #[error("io_stat: {code}")]
    Stat { code: Errno },
    #[error("dir_lookup of '{name}': {code}")]
    DirLookup { name: String, code: Errno },
    #[error("dir_lookup of '{name}' answered an unknown retry kind {kind}")]
    RetryKind { name: String, kind: u32 },
    #[error("dir_readdir: {code}")]
    Readdir { code: Errno },
    #[error("{rpc} of '{name}': {code}")]
    Change { rpc: &'static str, name: String, code: Errno },
    #[error("{rpc}: {code}")]
    Control { rpc: &'static str, code: Errno },
    #[error("{rpc}: {code}")]
    Io { rpc: &'static str, code: Errno },
    #[error("the translator's arguments are not text")]
    NotText,
}

/// Open flags, as the Hurd numbers them.
pub const O_READ: i32 = raw::O_RDONLY as i32;
pub const O_EXEC: i32 = raw::O_EXEC as i32;
pub const O_WRITE: i32 = raw::O_WRONLY as i32;
/// Look up the node itself, not what a translator on it serves.
pub const O_NOTRANS: i32 = raw::O_NOTRANS as i32;
/// Create the node if it does not exist.
pub const O_CREAT: i32 = raw::O_CREAT as i32;
/// Open a symbolic link itself rather than what it names.
pub const O_NOLINK: i32 = raw::O_NOLINK as i32;
/// With `O_CREAT`: fail if the node exists.
pub const O_EXCL: i32 = raw::O_EXCL as i32;
/// `file_set_translator` flags: set (or clear) that translator; record a
/// passive one as it is, never as a node type.
pub const FS_TRANS_SET: i32 = raw::FS_TRANS_SET as i32;
pub const FS_TRANS_FORCE: i32 = raw::FS_TRANS_FORCE as i32;
/// With `FS_TRANS_SET`: not if one is there already.
pub const FS_TRANS_EXCL: i32 = raw::FS_TRANS_EXCL as i32;

/// Looks `path` up from this process's root and working directory, with
/// open flags `flags` (the Hurd's `O_*`) and, for a creation, `mode`.
pub fn lookup(path: &Path, flags: i32, mode: u32) -> Result<SendRight, FsError> {
    use std::os::unix::ffi::OsStrExt;
    let name = CString::new(path.as_os_str().as_bytes()).map_err(|_| FsError::Nul { path: path.into() })?;
    // SAFETY: `name` is a NUL-terminated string that outlives the call;
    // on success the returned name is a send right we now own.
    let port = unsafe { raw::file_name_lookup(name.as_ptr(), flags, mode) };
    // SAFETY: a valid name returned by file_name_lookup is ours to release.
    match unsafe { SendRight::from_raw(port) } {
        Some(right) => Ok(right),
        None => Err(FsError::Lookup {
            path: path.into(),
            code: Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)),
        }),
    }
}

/// The passive translator recorded on `node` (program and arguments), or
/// an empty list when there is none (file systems answer EINVAL then).
pub fn translator(node: &SendRight) -> Result<Vec<String>, FsError> {
    let rpc = |data: &mut raw::data_t, len: &mut raw::mach_msg_type_number_t| {
        // SAFETY: `data` points to `len` writable bytes, as the stub wants.
        unsafe { raw::file_get_translator(node.as_raw(), data, len) }
    };
    match receive_argz(rpc) {
        Err(Errno::EINVAL) => Ok(Vec::new()),
        Err(code) => Err(FsError::GetTranslator { code }),
        Ok(None) => Err(FsError::NotText),
        Ok(Some(args)) => Ok(args),
    }
}

/// Calls an RPC that answers with a `data_t` holding an argz vector, and
/// decodes it (`None`: not text).
fn receive_argz(
    rpc: impl FnOnce(&mut raw::data_t, &mut raw::mach_msg_type_number_t) -> raw::kern_return_t,
) -> Result<Option<Vec<String>>, Errno> {
    let mut buffer = [0u8; 1024];
    let mut data: raw::data_t = buffer.as_mut_ptr().cast();
    let mut len: raw::mach_msg_type_number_t = buffer.len() as _;
    check(rpc(&mut data, &mut len))?;
    // SAFETY: after success, `data` points to `len` bytes of the reply.
    let bytes = unsafe { take_array(data.cast::<u8>(), len as usize, buffer.as_ptr()) };
    Ok(crate::argz::decode(&bytes).ok())
}

/// The control port of the translator sitting on `node` (looked up with
/// `O_NOTRANS`): what reaches a firmlink itself rather than its target.
pub fn translator_control(node: &SendRight) -> Result<SendRight, FsError> {
    let mut control: raw::mach_port_t = 0;
    // SAFETY: the reply's right, if any, is ours.
    let code = unsafe { raw::file_get_translator_cntl(node.as_raw(), &mut control) };
    check(code).map_err(|code| FsError::Control { rpc: "file_get_translator_cntl", code })?;
    // SAFETY: as above.
    unsafe { SendRight::from_raw(control) }
        .ok_or(FsError::Control { rpc: "file_get_translator_cntl", code: Errno::EIO })
}

/// Asks the translator behind `control` to go away (`fsys_goaway` with
/// `flags`): EBUSY when it stays.
pub fn goaway(control: &SendRight, flags: i32) -> Result<(), FsError> {
    // SAFETY: a call on a send right we hold, with no out-parameters.
    let code = unsafe { raw::fsys_goaway(control.as_raw(), flags) };
    check(code).map_err(|code| FsError::Control { rpc: "fsys_goaway", code })
}

/// A translator's options, from its control port (`fsys_get_options`).
pub fn options(control: &SendRight) -> Result<Vec<String>, FsError> {
    let rpc = |data: &mut raw::data_t, len: &mut raw::mach_msg_type_number_t| {
        // SAFETY: `data` points to `len` writable bytes, as the stub wants.
        unsafe { raw::fsys_get_options(control.as_raw(), data, len) }
    };
    match receive_argz(rpc) {
        Err(code) => Err(FsError::Control { rpc: "fsys_get_options", code }),
        Ok(None) => Err(FsError::NotText),
        Ok(Some(args)) => Ok(args),
    }
}

/// Changes a translator's options (`fsys_set_options`).
pub fn set_options(control: &SendRight, args: &[String]) -> Result<(), FsError> {
    let argz =
        crate::argz::encode(args).map_err(|_| FsError::Control { rpc: "fsys_set_options", code: Errno::EINVAL })?;
    // SAFETY: the request copies `argz.len()` bytes from `argz`.
    let code = unsafe { raw::fsys_set_options(control.as_raw(), argz.as_ptr().cast(), argz.len() as _, 0) };
    check(code).map_err(|code| FsError::Control { rpc: "fsys_set_options", code })
}

impl FsError {
    /// The return code behind the error.
    pub fn code(&self) -> Errno {
        match self {
            FsError::Nul { .. } => Errno::EINVAL,
            FsError::NotText | FsError::RetryKind { .. } => Errno::EIO,
            FsError::Lookup { code, .. }
            | FsError::GetTranslator { code }
            | FsError::Reparent { code }
            | FsError::RestrictAuth { code }
            | FsError::Stat { code }
            | FsError::DirLookup { code, .. }
            | FsError::Readdir { code }
            | FsError::Change { code, .. }
            | FsError::Control { code, .. }
            | FsError::Io { code, .. } => *code,
        }
    }
}

/// `file` again, with `..` from it leading to `parent` (what keeps a
/// firmlinked tree's `..` where the link sits). Without a parent, `..`
/// at the file stays there (a chroot's root).
pub fn reparent(file: &SendRight, parent: Option<&SendRight>) -> Result<SendRight, FsError> {
    let mut new: raw::mach_port_t = 0;
    let parent = parent.map_or(raw::MACH_PORT_NULL, SendRight::as_raw);
    // SAFETY: both ports are send rights we hold, or the parent is null
    // (the parent's is copied into the request); the reply's right is ours.
    let code = unsafe { raw::file_reparent(file.as_raw(), parent, &mut new) };
    check(code).map_err(|code| FsError::Reparent { code })?;
    // SAFETY: a valid name from the reply is ours to release.
    unsafe { SendRight::from_raw(new) }.ok_or(FsError::Reparent { code: Errno::EIO })
}

/// `io` again, with no more than the given user and group ids; with none,
/// a port its holder must reauthenticate before it can do anything.
pub fn restrict_auth(io: &SendRight, uids: &[u32], gids: &[u32]) -> Result<SendRight, FsError> {
    let mut new: raw::mach_port_t = 0;
    // SAFETY: the id arrays are read for their lengths only; the reply's
    // right is ours.
    let code = unsafe {
        raw::io_restrict_auth(io.as_raw(), &mut new, uids.as_ptr(), uids.len() as _, gids.as_ptr(), gids.len() as _)
    };
    check(code).map_err(|code| FsError::RestrictAuth { code })?;
    // SAFETY: as in reparent.
    unsafe { SendRight::from_raw(new) }.ok_or(FsError::RestrictAuth { code: Errno::EIO })
}

/// What `io_stat` says of a node (the fields the suite uses).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stat {
    /// Type and permission bits (`S_IFLNK | 0o777`, …).
    pub mode: u32,
    pub size: i64,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub ino: u64,
}

/// Asks the server of `node` for its status.
pub fn stat(node: &SendRight) -> Result<Stat, FsError> {
    let mut st = raw::io_statbuf_t::default();
    // SAFETY: `st` is a valid stat buffer for the reply.
    let code = unsafe { raw::io_stat(node.as_raw(), &mut st) };
    check(code).map_err(|code| FsError::Stat { code })?;
    // nlink_t is 32 bits on i686, 64 on x86_64.
    #[allow(clippy::unnecessary_cast)]
    let nlink = st.st_nlink as u64;
    Ok(Stat { mode: st.st_mode, size: st.st_size, nlink, uid: st.st_uid, gid: st.st_gid, ino: st.st_ino })
}

pub use crate::retry::RetryKind;

impl RetryKind {
    pub fn raw(self) -> raw::retry_type {
        self as raw::retry_type
    }
}

/// What a server answered to `dir_lookup`: how to go on, the name left to
/// look up, and where (no port for a magical retry).
#[derive(Debug)]
pub struct Lookup {
    pub kind: RetryKind,
    pub name: String,
    pub port: Option<SendRight>,
}

/// One `dir_lookup` of `name` on `dir`, with open flags `flags`: the
/// server's answer, not followed any further.
pub fn dir_lookup(dir: &SendRight, name: &str, flags: i32, mode: u32) -> Result<Lookup, FsError> {
    let c_name = CString::new(name).map_err(|_| FsError::DirLookup { name: name.to_owned(), code: Errno::EINVAL })?;
    receive_lookup(name, |kind, retry_name, port| {
        // SAFETY: `c_name` is NUL-terminated and outlives the call; the
        // stub writes at most a string_t into `retry_name` and one right
        // into `port`.
        unsafe { raw::dir_lookup(dir.as_raw(), c_name.as_ptr(), flags, mode, kind, retry_name, port) }
    })
}

/// `dir_mkdir`: makes the directory `name` in `dir`, with mode `mode`.
pub fn mkdir(dir: &SendRight, name: &str, mode: u32) -> Result<(), FsError> {
    let error = |code| FsError::Change { rpc: "dir_mkdir", name: name.to_owned(), code };
    let c_name = CString::new(name).map_err(|_| error(Errno::EINVAL))?;
    // SAFETY: `c_name` is NUL-terminated and outlives the call.
    check(unsafe { raw::dir_mkdir(dir.as_raw(), c_name.as_ptr(), mode) }).map_err(error)
}

/// `dir_rmdir` (`directory`) or `dir_unlink`: removes `name` from `dir`.
pub fn remove(dir: &SendRight, name: &str, directory: bool) -> Result<(), FsError> {
    let rpc = if directory { "dir_rmdir" } else { "dir_unlink" };
    let error = |code| FsError::Change { rpc, name: name.to_owned(), code };
    let c_name = CString::new(name).map_err(|_| error(Errno::EINVAL))?;
    // SAFETY: `c_name` is NUL-terminated and outlives the call.
    let code = unsafe {
        if directory {
            raw::dir_rmdir(dir.as_raw(), c_name.as_ptr())
        } else {
            raw::dir_unlink(dir.as_raw(), c_name.as_ptr())
        }
    };
    check(code).map_err(error)
}

/// `dir_mkfile`: a new file in `dir`'s file system that no directory
/// names yet, opened with `flags`, with mode `mode`.
pub fn mkfile(dir: &SendRight, flags: i32, mode: u32) -> Result<SendRight, FsError> {
    let error = |code| FsError::Change { rpc: "dir_mkfile", name: String::new(), code };
    let mut new: raw::mach_port_t = 0;
    // SAFETY: the reply's right, if any, is ours.
    check(unsafe { raw::dir_mkfile(dir.as_raw(), flags, mode, &mut new) }).map_err(error)?;
    // SAFETY: as above.
    unsafe { SendRight::from_raw(new) }.ok_or(error(Errno::EIO))
}

/// `dir_link`: `file` gets the name `name` in `dir` (`excl`: fail if the
/// name is taken).
pub fn link(dir: &SendRight, file: &SendRight, name: &str, excl: bool) -> Result<(), FsError> {
    let error = |code| FsError::Change { rpc: "dir_link", name: name.to_owned(), code };
    let c_name = CString::new(name).map_err(|_| error(Errno::EINVAL))?;
    // SAFETY: both rights are ours (copied into the request); `c_name` is
    // NUL-terminated and outlives the call.
    check(unsafe { raw::dir_link(dir.as_raw(), file.as_raw(), c_name.as_ptr(), excl.into()) }).map_err(error)
}

/// `dir_rename`: `name` in `dir` becomes `to_name` in `to_dir`.
pub fn rename(dir: &SendRight, name: &str, to_dir: &SendRight, to_name: &str, excl: bool) -> Result<(), FsError> {
    let error = |code| FsError::Change { rpc: "dir_rename", name: name.to_owned(), code };
    let from = CString::new(name).map_err(|_| error(Errno::EINVAL))?;
    let to = CString::new(to_name).map_err(|_| error(Errno::EINVAL))?;
    // SAFETY: both rights are ours (copied into the request); the names
    // are NUL-terminated and outlive the call.
    let code = unsafe { raw::dir_rename(dir.as_raw(), from.as_ptr(), to_dir.as_raw(), to.as_ptr(), excl.into()) };
    check(code).map_err(error)
}

/// `file_set_translator` with an active translator only (its control
/// port, or none to clear it) and no passive record: `active_flags` are
/// the `FS_TRANS_*` flags for the active one, `oldtrans_flags` for one
/// already there.
pub fn set_active_translator(
    node: &SendRight,
    active_flags: i32,
    oldtrans_flags: i32,
    control: Option<&SendRight>,
) -> Result<(), FsError> {
    let control = control.map_or(raw::MACH_PORT_NULL, SendRight::as_raw);
    // SAFETY: no passive record is sent (an empty one, not read); the
    // control right, if any, is copied into the request.
    let code = unsafe {
        raw::file_set_translator(
            node.as_raw(),
            0,
            active_flags,
            oldtrans_flags,
            std::ptr::null(),
            0,
            control,
            raw::MACH_MSG_TYPE_COPY_SEND as _,
        )
    };
    check(code).map_err(|code| FsError::Change { rpc: "file_set_translator", name: String::new(), code })
}

/// `file_set_translator` with a passive record only (`passive`, an argz
/// vector; empty to clear it), with `passive_flags`.
pub fn set_passive_translator(node: &SendRight, passive_flags: i32, passive: &[u8]) -> Result<(), FsError> {
    // SAFETY: the request copies `passive.len()` bytes from `passive`; no
    // active translator is sent.
    let code = unsafe {
        raw::file_set_translator(
            node.as_raw(),
            passive_flags,
            0,
            0,
            passive.as_ptr().cast(),
            passive.len() as _,
            raw::MACH_PORT_NULL,
            raw::MACH_MSG_TYPE_COPY_SEND as _,
        )
    };
    check(code).map_err(|code| FsError::Change { rpc: "file_set_translator", name: String::new(), code })
}

/// `fsys_getroot` on a translator's control port, as its parent file
/// system asks it: its root for a client with `uids` and `gids`, `..` from
/// it leading to `dotdot` (none: a root without a parent).
pub fn getroot(
    control: &SendRight,
    dotdot: Option<&SendRight>,
    uids: &[u32],
    gids: &[u32],
    flags: i32,
) -> Result<Lookup, FsError> {
    let dotdot = dotdot.map_or(raw::MACH_PORT_NULL, SendRight::as_raw);
    receive_lookup("", |kind, retry_name, port| {
        // SAFETY: the id arrays are read for their lengths; `dotdot` is
        // copied into the request; the stub writes at most a string_t into
        // `retry_name` and one right into `port`.
        unsafe {
            raw::fsys_getroot(
                control.as_raw(),
                dotdot,
                raw::MACH_MSG_TYPE_COPY_SEND as _,
                uids.as_ptr(),
                uids.len() as _,
                gids.as_ptr(),
                gids.len() as _,
                flags,
                kind,
                retry_name,
                port,
            )
        }
    })
    .map_err(|e| FsError::Control { rpc: "fsys_getroot", code: e.code() })
}

/// Calls an RPC that answers as `dir_lookup` does (a retry kind, a name
/// left, a port) and takes the answer in.
fn receive_lookup(
    name: &str,
    rpc: impl FnOnce(&mut raw::retry_type, *mut std::ffi::c_char, &mut raw::mach_port_t) -> raw::kern_return_t,
) -> Result<Lookup, FsError> {
    let error = |code| FsError::DirLookup { name: name.to_owned(), code };
    let mut kind: raw::retry_type = 0;
    // string_t: 1024 bytes, the NUL included.
    let mut retry_name = [0 as std::ffi::c_char; 1024];
    let mut port: raw::mach_port_t = 0;
    check(rpc(&mut kind, retry_name.as_mut_ptr(), &mut port)).map_err(error)?;
    // SAFETY: a name the reply gave is ours to release.
    let port = unsafe { SendRight::from_raw(port) };
    // SAFETY: the server's string_t is NUL-terminated within the buffer
    // (MIG terminates it).
    let rest = unsafe { std::ffi::CStr::from_ptr(retry_name.as_ptr()) };
    let rest = rest.to_str().map_err(|_| error(Errno::EINVAL))?.to_owned();
    let kind = RetryKind::from_code(kind).ok_or(FsError::RetryKind { name: name.to_owned(), kind })?;
    Ok(Lookup { kind, name: rest, port })
}

/// `dir_readdir` on `dir`: the records of entries `entry..` (at most
/// `nentries` when not negative, at most `bufsiz` bytes when not 0) in the
/// server's own encoding, and how many there are.
pub fn readdir(dir: &SendRight, entry: i32, nentries: i32, bufsiz: usize) -> Result<(Vec<u8>, usize), FsError> {
    let mut buffer = [0u8; 2048];
    let mut data: raw::data_t = buffer.as_mut_ptr().cast();
    let mut len: raw::mach_msg_type_number_t = buffer.len() as _;
    let mut amount: std::ffi::c_int = 0;
    // SAFETY: `data` points to `len` writable bytes, as the stub wants; a
    // larger reply comes out of line and is ours to free.
    let code = unsafe { raw::dir_readdir(dir.as_raw(), &mut data, &mut len, entry, nentries, bufsiz, &mut amount) };
    check(code).map_err(|code| FsError::Readdir { code })?;
    // SAFETY: after success, `data` points to `len` bytes of the reply.
    let bytes = unsafe { take_array(data.cast::<u8>(), len as usize, buffer.as_ptr()) };
    Ok((bytes, usize::try_from(amount).unwrap_or(0)))
}

/// This process's root directory.
pub fn root() -> Result<SendRight, FsError> {
    // SAFETY: getcrdir gives a reference that `SendRight` releases.
    unsafe { SendRight::from_raw(raw::getcrdir()) }.ok_or(FsError::Lookup { path: "/".into(), code: Errno::EIO })
}

/// Makes `root` this process's root directory (as `chroot` does with a
/// name; `root` is already what the process is to see).
pub fn set_root(root: &SendRight) -> Result<(), FsError> {
    // SAFETY: setcrdir adds a reference of its own to the right.
    if unsafe { raw::setcrdir(root.as_raw()) } != 0 {
        let code = Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(Errno::EIO.0));
        return Err(FsError::Io { rpc: "setcrdir", code });
    }
    Ok(())
}

/// `file_getlinknode`: the port `dir_link` takes to give `file` another
/// name.
pub fn getlinknode(file: &SendRight) -> Result<SendRight, FsError> {
    let mut node: raw::mach_port_t = 0;
    // SAFETY: the reply's right, if any, is ours.
    let code = unsafe { raw::file_getlinknode(file.as_raw(), &mut node) };
    check(code).map_err(|code| FsError::Io { rpc: "file_getlinknode", code })?;
    // SAFETY: as above.
    unsafe { SendRight::from_raw(node) }.ok_or(FsError::Io { rpc: "file_getlinknode", code: Errno::EIO })
}

/// `file_getcontrol`: the control port of the file system serving `node`
/// (its owner's, root's, only).
pub fn getcontrol(node: &SendRight) -> Result<SendRight, FsError> {
    let mut control: raw::mach_port_t = 0;
    // SAFETY: the reply's right, if any, is ours.
    let code = unsafe { raw::file_getcontrol(node.as_raw(), &mut control) };
    check(code).map_err(|code| FsError::Control { rpc: "file_getcontrol", code })?;
    // SAFETY: as above.
    unsafe { SendRight::from_raw(control) }.ok_or(FsError::Control { rpc: "file_getcontrol", code: Errno::EIO })
}

/// `io_read` of up to `amount` bytes at `offset` (-1: the open's offset).
pub fn read(io: &SendRight, offset: i64, amount: usize) -> Result<Vec<u8>, FsError> {
    let mut buffer = [0u8; 2048];
    let mut data: raw::data_t = buffer.as_mut_ptr().cast();
    let mut len: raw::mach_msg_type_number_t = buffer.len() as _;
    // SAFETY: `data` points to `len` writable bytes; a larger answer comes
    // out of line, ours to free.
    let code = unsafe { raw::io_read(io.as_raw(), &mut data, &mut len, offset, amount as _) };
    check(code).map_err(|code| FsError::Io { rpc: "io_read", code })?;
    // SAFETY: after success, `data` points to `len` bytes of the reply.
    Ok(unsafe { take_array(data.cast::<u8>(), len as usize, buffer.as_ptr()) })
}

/// `io_write` of `data` at `offset` (-1: the open's offset): how much was
/// written.
pub fn write(io: &SendRight, offset: i64, data: &[u8]) -> Result<usize, FsError> {
    let mut amount: raw::vm_size_t = 0;
    // SAFETY: the request copies `data.len()` bytes from `data`.
    let code = unsafe { raw::io_write(io.as_raw(), data.as_ptr().cast(), data.len() as _, offset, &mut amount) };
    check(code).map_err(|code| FsError::Io { rpc: "io_write", code })?;
    Ok(amount as usize)
}

/// `file_chmod`.
pub fn chmod(file: &SendRight, mode: u32) -> Result<(), FsError> {
    // SAFETY: a plain request on a right we hold.
    check(unsafe { raw::file_chmod(file.as_raw(), mode) }).map_err(|code| FsError::Io { rpc: "file_chmod", code })
}

/// Starts `io_reauthenticate` on `io` and never finishes it: the server
/// waits for the auth server, which waits for us. The returned right is
/// the rendezvous; the server waits as long as it lives. (For probing what
/// a client can make a server do.)
pub fn start_reauthentication(io: &SendRight) -> Result<crate::port::ReceiveRight, FsError> {
    let error = |code| FsError::Io { rpc: "io_reauthenticate", code };
    let rendezvous = crate::port::ReceiveRight::allocate().map_err(|_| error(Errno::ENOMEM))?;
    // SAFETY: a simple routine; the rendezvous's send right is made for
    // the request from the receive right we hold.
    let code = unsafe { raw::io_reauthenticate(io.as_raw(), rendezvous.as_raw(), raw::MACH_MSG_TYPE_MAKE_SEND as _) };
    check(code).map_err(error)?;
    Ok(rendezvous)
}

/// Reauthenticates `io` as a client's C library does: `io_reauthenticate`
/// with a rendezvous, then the auth server's `auth_user_authenticate`
/// with this process's auth handle. Answers the new port the server made.
pub fn reauthenticate(io: &SendRight) -> Result<SendRight, FsError> {
    let rendezvous = start_reauthentication(io)?;
    let error = |code| FsError::Io { rpc: "auth_user_authenticate", code };
    // SAFETY: getauth gives a reference that `SendRight` releases.
    let auth = unsafe { SendRight::from_raw(raw::getauth()) }.ok_or(error(Errno::EIO))?;
    let mut new: raw::mach_port_t = 0;
    // SAFETY: the rendezvous's send right is made for the request from the
    // receive right we hold; the reply's right is ours.
    let code = unsafe {
        raw::auth_user_authenticate(auth.as_raw(), rendezvous.as_raw(), raw::MACH_MSG_TYPE_MAKE_SEND as _, &mut new)
    };
    check(code).map_err(error)?;
    // SAFETY: as above.
    unsafe { SendRight::from_raw(new) }.ok_or(error(Errno::EIO))
}

/// `file_check_access`: which of O_READ, O_WRITE and O_EXEC the port's
/// identity may do with its node.
pub fn check_access(file: &SendRight) -> Result<i32, FsError> {
    let mut allowed: std::ffi::c_int = 0;
    // SAFETY: a plain request on a right we hold.
    check(unsafe { raw::file_check_access(file.as_raw(), &mut allowed) })
        .map_err(|code| FsError::Io { rpc: "file_check_access", code })?;
    Ok(allowed)
}

/// `io_identity`: a port that names the node (the same port for every
/// open of it, so the same name in this task), and its file number.
pub fn identity(io: &SendRight) -> Result<(SendRight, u64), FsError> {
    let error = |code| FsError::Io { rpc: "io_identity", code };
    let (mut id, mut fsid, mut fileno): (raw::mach_port_t, raw::mach_port_t, raw::ino64_t) = (0, 0, 0);
    // SAFETY: the reply's rights, if any, are ours.
    let code = unsafe { raw::io_identity(io.as_raw(), &mut id, &mut fsid, &mut fileno) };
    check(code).map_err(error)?;
    // SAFETY: as above; the file system's id is not needed.
    drop(unsafe { SendRight::from_raw(fsid) });
    // SAFETY: as above.
    let id = unsafe { SendRight::from_raw(id) }.ok_or(error(Errno::EIO))?;
    Ok((id, fileno))
}
