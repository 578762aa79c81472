//! The fs interface (`fs.defs`): files and directories, as protids of a
//! file system. A protid is a node as one client opened it: the class
//! [`PROTID`], whose objects are `Arc<dyn Node>` and whose io view is the
//! same node.

use std::ffi::{c_char, c_int};
use std::sync::{Arc, OnceLock};

use hurd::errno::Errno;
use hurd::port::{RawPort, SendRight};
use hurd_sys::raw;

pub use hurd::fs::{RetryKind, Stat};

use crate::io::Io;
use crate::ports::{self, Class, Object, ServedBy, ServerError, Slot, borrow};
use crate::routine::{
    bytes, on, prototypes_agree, release_own_right, string, unsupported, with_request_right, write_data, write_port,
    write_string,
};

/// Protids: ports to nodes, one per client's open. A client's keeps the
/// translator up; one the translator keeps for itself does not.
pub static PROTID: Class = Class { name: "protid", holds_up: true, served_by: ServedBy::Pool, no_senders: None };

/// `node` as a protid, ready to be served.
pub fn protid(node: Arc<dyn Node>) -> Object {
    Object::new(&PROTID, node.clone()).with_io(node.clone()).with_forward(node)
}

/// Serves `node` on a new port and gives a send right to it (for a
/// translator that needs a port to one of its own nodes, as the parent
/// given to `file_reparent`). While the port has senders, it keeps the
/// translator busy, as a client's port does.
pub fn serve_node(node: Arc<dyn Node>) -> Result<SendRight, ServerError> {
    ports::serve(protid(node))
}

/// As [`serve_node`], for a port the translator keeps for itself: it is
/// not counted among [`crate::open_ports`].
pub fn serve_own_node(node: Arc<dyn Node>) -> Result<SendRight, ServerError> {
    ports::serve(protid(node).own(true))
}

/// As [`serve_node`], for a port the translator keeps and hands out
/// again, one send right each time ([`crate::ports::make_send`]), until it
/// releases it ([`crate::ports::release_kept`]): its name. It holds the
/// translator up while a client holds it.
pub fn serve_kept_node(node: Arc<dyn Node>) -> Result<RawPort, ServerError> {
    let port = hurd::port::ReceiveRight::allocate()?;
    let name = port.as_raw();
    ports::serve_on(port, protid(node).kept())?;
    Ok(name)
}

/// What a lookup answers: go on elsewhere, or a port to a node served here.
/// A magical retry carries no port.
pub enum Reply {
    Retry { kind: RetryKind, name: String, port: Option<SendRight> },
    Open(Arc<dyn Node>),
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Retry { kind, name, port } => {
                write!(f, "Retry({kind:?}, {name:?}, port {:?})", port.as_ref().map(SendRight::as_raw))
            }
            Reply::Open(_) => f.write_str("Open(..)"),
        }
    }
}

/// A node as one client opened it (a protid), as fs requests address it;
/// io requests reach its [`Io`] side. Methods not implemented answer
/// EOPNOTSUPP and log once.
pub trait Node: Io {
    /// `file_set_size` (also how the C library carries out `O_TRUNC`).
    fn set_size(&self, size: i64) -> Result<(), Errno> {
        let _ = size;
        Err(unsupported("file_set_size"))
    }

    /// `dir_readdir`: the records of entries `entry..` (at most
    /// `nentries` when not negative, at most `bufsiz` bytes when not 0)
    /// and how many there are.
    fn readdir(&self, entry: usize, nentries: i32, bufsiz: usize) -> Result<(Vec<u8>, usize), Errno> {
        let _ = (entry, nentries, bufsiz);
        Err(unsupported("dir_readdir"))
    }

    /// The same open, with `..` at the translator's root leading to
    /// `parent`, or staying at the root when there is none
    /// (`file_reparent`: how a chroot's root is made).
    fn reparent(&self, parent: Option<&SendRight>) -> Result<Arc<dyn Node>, Errno> {
        let _ = parent;
        Err(unsupported("file_reparent"))
    }

    /// Whether every request that would change the node or, for a
    /// directory, its entries (`dir_mkdir`, `dir_unlink`, `file_chmod`,
    /// `file_set_translator`, …) is refused with EROFS. Otherwise such
    /// requests answer EOPNOTSUPP: no translator here changes nodes.
    fn read_only(&self) -> bool {
        false
    }

    /// `file_check_access`: which of O_READ, O_WRITE and O_EXEC the
    /// client may have, from the node's status and the client's ids
    /// ([`crate::access::allowed`]).
    fn check_access(&self) -> Result<i32, Errno> {
        let stat = self.stat()?;
        let creds = self.credentials();
        Ok(crate::access::allowed(stat.mode, stat.uid, stat.gid, &creds.uids, &creds.gids))
    }

    /// `dir_mkdir` of `name` with mode `mode` in this directory.
    fn mkdir(&self, name: &str, mode: u32) -> Result<(), Errno> {
        let _ = (name, mode);
        Err(self.refusal("dir_mkdir"))
    }

    /// `dir_rmdir` (`directory`) or `dir_unlink` of `name` in this
    /// directory.
    fn remove(&self, name: &str, directory: bool) -> Result<(), Errno> {
        let _ = name;
        Err(self.refusal(if directory { "dir_rmdir" } else { "dir_unlink" }))
    }

    /// `file_set_translator` with an active translator (its control port):
    /// the translator sets itself on this node. A node that takes it keeps
    /// a reference of its own.
    fn set_active_translator(&self, control: &SendRight) -> Result<(), Errno> {
        let _ = control;
        Err(self.refusal("file_set_translator"))
    }

    /// `file_set_translator` as a whole. By default an active translator
    /// alone goes to [`Node::set_active_translator`]; a passive record is
    /// never kept.
    fn set_translator(&self, request: &TranslatorRequest<'_>) -> Result<(), Errno> {
        match request.active {
            Some(control) if request.passive.is_empty() => self.set_active_translator(control),
            _ => Err(self.refusal("file_set_translator")),
        }
    }

    /// `dir_mkfile`: a new file no directory names yet.
    fn mkfile(&self, flags: i32, mode: u32) -> Result<Arc<dyn Node>, Errno> {
        let _ = (flags, mode);
        Err(self.refusal("dir_mkfile"))
    }

    /// `dir_link`: `file` (a node served here, or none: a port of another
    /// server) gets the name `name` in this directory.
    fn link(&self, file: Option<&Arc<dyn Node>>, name: &str, excl: bool) -> Result<(), Errno> {
        let _ = (file, name, excl);
        Err(self.refusal("dir_link"))
    }

    /// `dir_rename`: `name` here becomes `to_name` in `to_dir` (a node
    /// served here, or none).
    fn rename(&self, name: &str, to_dir: Option<&Arc<dyn Node>>, to_name: &str, excl: bool) -> Result<(), Errno> {
        let _ = (name, to_dir, to_name, excl);
        Err(self.refusal("dir_rename"))
    }

    /// The node to hand the exec server for `file_exec_paths` on this one
    /// (a new open of it for reading, in the client's name).
    fn exec_file(&self) -> Result<Arc<dyn Node>, Errno> {
        Err(unsupported("file_exec_paths"))
    }

    /// `file_get_translator_cntl`: the control port of the active
    /// translator on this node.
    fn translator_control(&self) -> Result<SendRight, Errno> {
        Err(unsupported("file_get_translator_cntl"))
    }

    /// `file_getlinknode`: the node `dir_link` is to take for this one.
    fn link_node(&self) -> Result<Arc<dyn Node>, Errno> {
        Err(unsupported("file_getlinknode"))
    }

    /// The other server's port this node stands for, if it stands for one
    /// in the group `group` (the tree a link or a rename may stay within).
    fn host_in(&self, group: &str) -> Option<&SendRight> {
        let _ = group;
        None
    }

    /// The answer to a change this node does not make: EROFS from a
    /// read-only node, else EOPNOTSUPP (logged once).
    fn refusal(&self, rpc: &str) -> Errno {
        refusal(self.read_only(), rpc)
    }

    /// `dir_lookup` of `name` from this node. The C library looks up the
    /// empty name on a node to open it again (readlink does, to read a
    /// link's contents).
    fn lookup(&self, name: &str, flags: i32, mode: u32) -> Result<Reply, Errno> {
        let _ = (name, flags, mode);
        Err(unsupported("dir_lookup"))
    }
}

/// A `file_set_translator` request.
#[derive(Debug)]
pub struct TranslatorRequest<'a> {
    /// The passive record (an argz vector), empty when none came.
    pub passive: &'a [u8],
    pub passive_flags: i32,
    pub active_flags: i32,
    pub oldtrans_flags: i32,
    /// The active translator's control port, if any.
    pub active: Option<&'a SendRight>,
}

/// The answer to a change a node does not make: EROFS when it is
/// read-only, else EOPNOTSUPP (logged once per routine).
pub fn refusal(read_only: bool, rpc: &str) -> Errno {
    if read_only { Errno::EROFS } else { unsupported(rpc) }
}

/// Runs an fs routine on the node behind `object`.
///
/// # Safety
/// `object` is null or the object the stub holds for this call.
unsafe fn on_node(
    object: raw::hurd_sys_object_t,
    routine: &str,
    body: impl FnOnce(&Arc<dyn Node>, &Slot) -> Result<(), Errno>,
) -> raw::kern_return_t {
    // SAFETY: as the caller's.
    unsafe { on::<Arc<dyn Node>>(object, routine, body) }
}

/// The node behind an object argument (not the request port), if it is a
/// protid served here.
///
/// # Safety
/// As [`borrow`].
unsafe fn node_arg<'a>(object: raw::hurd_sys_object_t) -> (Option<&'a Slot>, Option<&'a Arc<dyn Node>>) {
    // SAFETY: as the caller's.
    let slot = unsafe { borrow(object) };
    (slot, slot.and_then(|s| s.get::<Arc<dyn Node>>()))
}

/// A node a routine made, served on a new port for the client.
fn served(node: Arc<dyn Node>) -> Result<SendRight, Errno> {
    serve_node(node).map_err(|_| Errno::ENOMEM)
}

/// Writes a lookup's answer: a retry's, or a new port for a node served
/// here (the translator's own if `own`), whose send right the answer
/// makes ([`ports::serve_made`]).
///
/// # Safety
/// The four pointers are the routine's out-parameters.
pub(crate) unsafe fn write_reply(
    reply: Reply,
    own: bool,
    do_retry: *mut raw::retry_type,
    retry_name: *mut c_char,
    result: *mut RawPort,
    result_poly: *mut raw::mach_msg_type_name_t,
) -> Result<(), Errno> {
    match reply {
        // SAFETY: the stub gives room for a string_t, a retry kind and a
        // port.
        Reply::Retry { kind, name, port } => unsafe {
            write_string(&name, retry_name)?;
            *do_retry = kind.raw();
            *result = port.map_or(raw::MACH_PORT_NULL, SendRight::into_raw);
            *result_poly = raw::MACH_MSG_TYPE_MOVE_SEND as _;
        },
        Reply::Open(node) => {
            // SAFETY: as above. (Written before the port is made: nothing
            // fails once it is.)
            unsafe {
                write_string("", retry_name)?;
                *do_retry = RetryKind::Normal.raw();
            }
            let name = ports::serve_made(protid(node).own(own)).map_err(|e| {
                log::error!("{e}");
                Errno::ENOMEM
            })?;
            // SAFETY: as above.
            unsafe {
                *result = name;
                *result_poly = raw::MACH_MSG_TYPE_MAKE_SEND as _;
            }
        }
    }
    Ok(())
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_dir_lookup(
    dir: raw::hurd_sys_object_t,
    name: raw::const_string_t,
    flags: c_int,
    mode: raw::mode_t,
    do_retry: *mut raw::retry_type,
    retry_name: *mut c_char,
    result: *mut RawPort,
    result_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, slot: &Slot| {
        // SAFETY: MIG passes a NUL-terminated string_t.
        let reply = node.lookup(unsafe { string(name) }?, flags, mode)?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_reply(reply, slot.is_own(), do_retry, retry_name, result, result_poly) }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_node(dir, "dir_lookup", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_set_size(file: raw::hurd_sys_object_t, size: raw::loff_t) -> raw::kern_return_t {
    // SAFETY: the stub holds the object for this call.
    unsafe { on_node(file, "file_set_size", |node, _| node.set_size(size)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_dir_readdir(
    dir: raw::hurd_sys_object_t,
    data: *mut raw::data_t,
    len: *mut raw::mach_msg_type_number_t,
    dealloc: *mut raw::boolean_t,
    entry: c_int,
    nentries: c_int,
    bufsiz: raw::vm_size_t,
    amount: *mut c_int,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _: &Slot| {
        let entry = usize::try_from(entry).map_err(|_| Errno::EINVAL)?;
        let (bytes, count) = node.readdir(entry, nentries, bufsiz)?;
        // SAFETY: the out-parameters are the stub's; memory allocated for
        // an out-of-line reply is the reply's to free.
        unsafe {
            *dealloc = 1;
            *amount = count as c_int;
            write_data(&bytes, data, len)
        }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_node(dir, "dir_readdir", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_reparent(
    file: raw::hurd_sys_object_t,
    parent: RawPort,
    new_file: *mut RawPort,
    new_file_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _: &Slot| {
        // SAFETY: the request brought a send right for `parent` (or null).
        unsafe {
            with_request_right(parent, |parent| {
                let port = served(node.reparent(parent)?)?;
                write_port(port, new_file, new_file_poly);
                Ok(())
            })
        }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_node(file, "file_reparent", body) }
}

/// `file_getcontrol`: the translator's control port, for root only (it
/// can make the translator go away). fsysopts asks for it.
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_getcontrol(
    file: raw::hurd_sys_object_t,
    control: *mut RawPort,
    control_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _: &Slot| {
        if !node.credentials().uids.contains(&0) {
            return Err(Errno::EPERM);
        }
        let port = crate::fsys::control_port().ok_or(Errno::EOPNOTSUPP)?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_port(port, control, control_poly) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_node(file, "file_getcontrol", body) }
}

/// `file_get_fs_options`: the options of the translator serving the node
/// (what fsysopts prints when only asked to show them).
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_get_fs_options(
    file: raw::hurd_sys_object_t,
    options: *mut raw::data_t,
    len: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    let body = |_: &Arc<dyn Node>, _: &Slot| {
        let argz = crate::fsys::options_argz().ok_or(Errno::EOPNOTSUPP)??;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_data(&argz, options, len) }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_node(file, "file_get_fs_options", body) }
}

/// A directory change by name, carried out by the node.
///
/// # Safety
/// `object` is the object the stub holds for this call; `name` is MIG's
/// NUL-terminated string.
unsafe fn change_entry(
    object: raw::hurd_sys_object_t,
    rpc: &str,
    name: raw::const_string_t,
    change: impl FnOnce(&Arc<dyn Node>, &str) -> Result<(), Errno>,
) -> raw::kern_return_t {
    // SAFETY: see above.
    unsafe { on_node(object, rpc, |node, _| change(node, string(name)?)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_mkdir(
    dir: raw::hurd_sys_object_t,
    name: raw::const_string_t,
    mode: raw::mode_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { change_entry(dir, "dir_mkdir", name, |node, name| node.mkdir(name, mode)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_rmdir(dir: raw::hurd_sys_object_t, name: raw::const_string_t) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { change_entry(dir, "dir_rmdir", name, |node, name| node.remove(name, true)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_unlink(dir: raw::hurd_sys_object_t, name: raw::const_string_t) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { change_entry(dir, "dir_unlink", name, |node, name| node.remove(name, false)) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_link(
    dir: raw::hurd_sys_object_t,
    file: raw::hurd_sys_object_t,
    name: raw::const_string_t,
    excl: c_int,
) -> raw::kern_return_t {
    // SAFETY: the stub holds `file`'s object (or null: not ours) for this call.
    let (file_slot, file) = unsafe { node_arg(file) };
    // SAFETY: as the routine's own.
    let code = unsafe { change_entry(dir, "dir_link", name, |node, name| node.link(file, name, excl != 0)) };
    if code == 0 {
        release_own_right(file_slot);
    }
    code
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_rename(
    dir: raw::hurd_sys_object_t,
    name: raw::const_string_t,
    to_dir: raw::hurd_sys_object_t,
    to_name: raw::const_string_t,
    excl: c_int,
) -> raw::kern_return_t {
    // SAFETY: the stub holds `to_dir`'s object (or null: not ours) for this call.
    let (to_slot, to_dir) = unsafe { node_arg(to_dir) };
    // SAFETY: MIG passes a NUL-terminated string_t.
    let to_name = match unsafe { string(to_name) } {
        Ok(n) => n,
        Err(e) => return e.0,
    };
    let rename = |node: &Arc<dyn Node>, name: &str| node.rename(name, to_dir, to_name, excl != 0);
    // SAFETY: as the routine's own.
    let code = unsafe { change_entry(dir, "dir_rename", name, rename) };
    if code == 0 {
        release_own_right(to_slot);
    }
    code
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_dir_mkfile(
    dir: raw::hurd_sys_object_t,
    flags: c_int,
    mode: raw::mode_t,
    new: *mut RawPort,
    new_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _: &Slot| {
        let port = served(node.mkfile(flags, mode)?)?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_port(port, new, new_poly) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_node(dir, "dir_mkfile", body) }
}

/// The answer to a request that would change the node behind `object`
/// and that no node here carries out: EROFS from a read-only node, else
/// EOPNOTSUPP.
///
/// # Safety
/// `object` is the object the stub holds for this call.
unsafe fn refuse_change(object: raw::hurd_sys_object_t, rpc: &str) -> raw::kern_return_t {
    // SAFETY: see above.
    unsafe { on_node(object, rpc, |node, _| Err(node.refusal(rpc))) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_chmod(file: raw::hurd_sys_object_t, _: raw::mode_t) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(file, "file_chmod") }
}

// The pure answer's flags are the headers' values.
const _: () = assert!(
    crate::access::O_READ == hurd::fs::O_READ
        && crate::access::O_WRITE == hurd::fs::O_WRITE
        && crate::access::O_EXEC == hurd::fs::O_EXEC
);

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_check_access(file: raw::hurd_sys_object_t, allowed: *mut c_int) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _: &Slot| {
        let flags = node.check_access()?;
        // SAFETY: the stub's out-parameter.
        unsafe { *allowed = flags };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_node(file, "file_check_access", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_chown(
    file: raw::hurd_sys_object_t,
    _: raw::uid_t,
    _: raw::gid_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(file, "file_chown") }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_chauthor(file: raw::hurd_sys_object_t, _: raw::uid_t) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(file, "file_chauthor") }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_chflags(file: raw::hurd_sys_object_t, _: c_int) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(file, "file_chflags") }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_utimes(
    file: raw::hurd_sys_object_t,
    _: raw::time_value_t,
    _: raw::time_value_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(file, "file_utimes") }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_utimens(
    file: raw::hurd_sys_object_t,
    _: raw::timespec_t,
    _: raw::timespec_t,
) -> raw::kern_return_t {
    // SAFETY: as the routine's own.
    unsafe { refuse_change(file, "file_utimens") }
}

/// `file_set_translator`: what the node does with it is its own
/// ([`Node::set_translator`]).
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_file_set_translator(
    file: raw::hurd_sys_object_t,
    passive_flags: c_int,
    active_flags: c_int,
    oldtrans_flags: c_int,
    passive: raw::const_data_t,
    passive_len: raw::mach_msg_type_number_t,
    active: RawPort,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _: &Slot| {
        // SAFETY: the request moved a send right for `active` to us, if
        // any; MIG passes `passive_len` bytes at `passive`.
        unsafe {
            with_request_right(active, |active| {
                let passive = bytes(passive, passive_len);
                node.set_translator(&TranslatorRequest { passive, passive_flags, active_flags, oldtrans_flags, active })
            })
        }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_node(file, "file_set_translator", body) }
}

/// `file_get_translator_cntl`: what the node says.
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_get_translator_cntl(
    file: raw::hurd_sys_object_t,
    control: *mut RawPort,
    control_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _: &Slot| {
        let port = node.translator_control()?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_port(port, control, control_poly) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_node(file, "file_get_translator_cntl", body) }
}

/// `file_getlinknode`: what the node says `dir_link` should take.
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_file_getlinknode(
    file: raw::hurd_sys_object_t,
    linknode: *mut RawPort,
    linknode_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _: &Slot| {
        let port = served(node.link_node()?)?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_port(port, linknode, linknode_poly) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_node(file, "file_getlinknode", body) }
}

/// The one exec flag a client may pass on (`<hurd/hurd_types.h>`'s
/// EXEC_SIGTRAP: the program starts stopped, for a debugger).
const EXEC_SIGTRAP: c_int = 0x8;

/// The exec server, as this translator reaches it.
fn exec_server() -> Result<&'static SendRight, Errno> {
    static EXEC: OnceLock<SendRight> = OnceLock::new();
    if let Some(exec) = EXEC.get() {
        return Ok(exec);
    }
    let exec = hurd::fs::lookup("/servers/exec".as_ref(), 0, 0).map_err(|e| e.code())?;
    Ok(EXEC.get_or_init(|| exec))
}

/// `file_exec_paths`: the node names the file to run ([`Node::exec_file`]),
/// and the exec server is asked to load it into the client's task with a
/// port of ours for it, so that no port of another server's reaches the
/// program (an interpreter gets a script as `/dev/fd/N`).
///
/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_file_exec_paths(
    file: raw::hurd_sys_object_t,
    task: RawPort,
    flags: c_int,
    path: raw::const_string_t,
    abspath: raw::const_string_t,
    argv: raw::const_data_t,
    argv_len: raw::mach_msg_type_number_t,
    envp: raw::const_data_t,
    envp_len: raw::mach_msg_type_number_t,
    fds: raw::const_portarray_t,
    fds_len: raw::mach_msg_type_number_t,
    ports: raw::const_portarray_t,
    ports_len: raw::mach_msg_type_number_t,
    ints: raw::const_intarray_t,
    ints_len: raw::mach_msg_type_number_t,
    dealloc: raw::const_mach_port_name_array_t,
    dealloc_len: raw::mach_msg_type_number_t,
    destroy: raw::const_mach_port_name_array_t,
    destroy_len: raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    let body = |node: &Arc<dyn Node>, _: &Slot| {
        // Only into a task the client made and holds, and with no flag
        // but tracing: with none, or EXEC_NEWTASK, the exec server makes
        // the task itself, as a child of its own (outside any namespace
        // of the client's); EXEC_SECURE and EXEC_DEFAULTS fill in what
        // the client left out with the host's own root, directories and
        // proc port.
        if task == raw::MACH_PORT_NULL {
            return Err(Errno::EINVAL);
        }
        let flags = flags & EXEC_SIGTRAP;
        let exec = exec_server()?;
        let right = served(node.exec_file()?)?;
        // SAFETY: every pointer and length is the request's, handed on as
        // it came; the rights are copied into the exec server's request.
        let code = unsafe {
            raw::exec_exec_paths(
                exec.as_raw(),
                right.as_raw(),
                raw::MACH_MSG_TYPE_COPY_SEND as _,
                task,
                flags,
                path,
                abspath,
                argv,
                argv_len,
                envp,
                envp_len,
                fds,
                raw::MACH_MSG_TYPE_COPY_SEND as _,
                fds_len,
                ports,
                raw::MACH_MSG_TYPE_COPY_SEND as _,
                ports_len,
                ints,
                ints_len,
                dealloc,
                dealloc_len,
                destroy,
                destroy_len,
            )
        };
        hurd::errno::check(code)?;
        // The request's rights are ours on success: the exec server has
        // its copies.
        let release = |name: RawPort| {
            // SAFETY: a right the request brought, released once.
            drop(unsafe { SendRight::from_raw(name) })
        };
        release(task);
        for array in [(fds, fds_len), (ports, ports_len)] {
            if !array.0.is_null() {
                // SAFETY: MIG passes `len` names at the pointer.
                unsafe { std::slice::from_raw_parts(array.0, array.1 as usize) }.iter().copied().for_each(release);
            }
        }
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on_node(file, "file_exec_paths", body) }
}

prototypes_agree!(
    S_dir_lookup,
    S_dir_readdir,
    S_dir_mkdir,
    S_dir_rmdir,
    S_dir_unlink,
    S_dir_link,
    S_dir_rename,
    S_dir_mkfile,
    S_file_set_size,
    S_file_reparent,
    S_file_getcontrol,
    S_file_get_fs_options,
    S_file_chmod,
    S_file_chown,
    S_file_check_access,
    S_file_chauthor,
    S_file_chflags,
    S_file_utimes,
    S_file_utimens,
    S_file_set_translator,
    S_file_exec_paths,
    S_file_getlinknode,
    S_file_get_translator_cntl,
);
