//! The socket interface (`socket.defs`), served for a socket server of
//! our own: three classes.
//!
//! - [`SOCKET_SERVER`]: a protocol family's server port (what
//!   `/servers/socket/N` gives), whose objects are
//!   `Arc<dyn SocketServer>`;
//! - [`SOCKET`]: a socket, whose objects are `Arc<dyn Socket>` (with an
//!   [`crate::Io`] view for the io interface);
//! - [`ADDRESS`]: an address a client made from a `sockaddr`, whose
//!   objects are [`Address`]es: what `socket_whatis_address` tells, and
//!   what `socket_connect`, `socket_bind` and `socket_send` are given.
//!
//! The routines here are the ones that create something or take an
//! address; any other routine goes to the object's [`Forward`] port as it
//! came if the object forwards it, and answers EOPNOTSUPP otherwise.

use std::ffi::c_int;
use std::sync::Arc;

use hurd::errno::Errno;
use hurd::port::{RawPort, SendRight};
use hurd_sys::raw;

use crate::ports::{self, Class, Object, ServedBy, Slot, borrow};
use crate::routine::{bytes, on, prototypes_agree, release_own_right, write_data, write_port};

/// A protocol family's server port: held by every process that made a
/// socket (the C library keeps it), so it does not hold the translator.
pub static SOCKET_SERVER: Class =
    Class { name: "socket server", holds_up: false, served_by: ServedBy::Pool, no_senders: None };

/// A socket: a client's keeps the translator busy.
pub static SOCKET: Class = Class { name: "socket", holds_up: true, served_by: ServedBy::Pool, no_senders: None };

/// An address: a value, which holds nothing.
pub static ADDRESS: Class = Class { name: "address", holds_up: false, served_by: ServedBy::Pool, no_senders: None };

/// The longest `sockaddr` an address is made from (`struct
/// sockaddr_storage`).
pub const SOCKADDR_MAX: usize = 128;

/// What [`crate::ports::Forward::forward_for`] is asked about a
/// `socket_send` with no address and no ancillary data.
pub const SEND_TO_PEER: &str = "socket_send to the peer";

/// An address, as a client gave it: its family and its `sockaddr` bytes
/// (not yet judged: whoever is given it parses it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub family: i32,
    pub sockaddr: Vec<u8>,
}

impl Address {
    /// Serves `self` on a new port of [`ADDRESS`].
    pub fn serve(self) -> Result<SendRight, Errno> {
        if self.sockaddr.len() > SOCKADDR_MAX {
            return Err(Errno::EINVAL);
        }
        ports::serve(Object::new(&ADDRESS, self)).map_err(|e| {
            log::warn!("serving an address: {e}");
            Errno::ENOMEM
        })
    }
}

/// A protocol family's server.
pub trait SocketServer: Send + Sync {
    /// The family it serves (`PF_INET` 2, `PF_INET6` 26).
    fn family(&self) -> i32;

    /// `socket_create`: a new socket of `kind` (`SOCK_STREAM`...) and
    /// `protocol`.
    fn create(&self, kind: i32, protocol: i32) -> Result<SendRight, Errno>;
}

/// A socket.
pub trait Socket: Send + Sync {
    /// The family its addresses are of.
    fn family(&self) -> i32;

    /// `socket_connect` to `addr` (none: a port that is not an address of
    /// ours).
    fn connect(&self, addr: Option<&Address>) -> Result<(), Errno>;

    /// `socket_bind` to `addr`.
    fn bind(&self, addr: Option<&Address>) -> Result<(), Errno>;

    /// `socket_send`: `data` (and ancillary `control`) where `to` says;
    /// answers how much went.
    fn send(&self, to: SendTo<'_>, flags: i32, data: &[u8], control: &[u8]) -> Result<usize, Errno>;

    /// `socket_setopt`.
    fn setopt(&self, level: i32, option: i32, value: &[u8]) -> Result<(), Errno>;
}

/// Where a `socket_send` goes (a port that is not an address of ours
/// answers EINVAL before the socket is asked).
#[derive(Debug, Clone, Copy)]
pub enum SendTo<'a> {
    /// No address: the connected peer.
    Peer,
    /// An address of ours.
    Address(&'a Address),
}

/// The address behind `object`, if it is one of ours.
///
/// # Safety
/// `object` is null or an object the stub holds for this call.
unsafe fn address<'a>(object: raw::hurd_sys_object_t) -> (Option<&'a Slot>, Option<&'a Address>) {
    // SAFETY: as the caller's.
    let slot = unsafe { borrow(object) };
    (slot, slot.and_then(|s| s.get::<Address>()))
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_socket_create(
    server: raw::hurd_sys_object_t,
    kind: c_int,
    protocol: c_int,
    sock: *mut RawPort,
    sock_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let body = |server: &Arc<dyn SocketServer>, _: &Slot| {
        let port = server.create(kind, protocol)?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_port(port, sock, sock_poly) };
        Ok(())
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on(server, "socket_create", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_socket_connect(
    sock: raw::hurd_sys_object_t,
    addr: raw::hurd_sys_object_t,
) -> raw::kern_return_t {
    // SAFETY: the stub holds both objects for this call.
    unsafe { on_address(sock, addr, "socket_connect", |socket, addr| socket.connect(addr)) }
}

/// Runs `routine` (`call`) on the socket behind `sock` with the address
/// behind `addr`; on success the right the request brought to the
/// address port is released.
///
/// # Safety
/// `sock` and `addr` are null or objects the stub holds for this call.
unsafe fn on_address(
    sock: raw::hurd_sys_object_t,
    addr: raw::hurd_sys_object_t,
    routine: &str,
    call: impl FnOnce(&Arc<dyn Socket>, Option<&Address>) -> Result<(), Errno>,
) -> raw::kern_return_t {
    // SAFETY: as the caller's.
    let (addr_slot, addr) = unsafe { address(addr) };
    let body = |socket: &Arc<dyn Socket>, _: &Slot| {
        call(socket, addr)?;
        release_own_right(addr_slot);
        Ok(())
    };
    // SAFETY: as the caller's.
    unsafe { on(sock, routine, body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_socket_bind(
    sock: raw::hurd_sys_object_t,
    addr: raw::hurd_sys_object_t,
) -> raw::kern_return_t {
    // SAFETY: the stub holds both objects for this call.
    unsafe { on_address(sock, addr, "socket_bind", |socket, addr| socket.bind(addr)) }
}

/// An address made on `server`'s port, whether it is a family's server
/// or a socket: of that family only.
fn family_of(server: RawPort) -> Result<i32, Errno> {
    let slot = ports::lookup(server).ok_or(Errno::EOPNOTSUPP)?;
    if let Some(server) = slot.get::<Arc<dyn SocketServer>>() {
        return Ok(server.family());
    }
    slot.get::<Arc<dyn Socket>>().map(|s| s.family()).ok_or(Errno::EOPNOTSUPP)
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_socket_create_address(
    server: RawPort,
    family: c_int,
    sockaddr: raw::const_data_t,
    sockaddr_len: raw::mach_msg_type_number_t,
    addr: *mut RawPort,
    addr_poly: *mut raw::mach_msg_type_name_t,
) -> raw::kern_return_t {
    let made = || {
        if family_of(server)? != family {
            return Err(Errno::EAFNOSUPPORT);
        }
        if sockaddr_len as usize > SOCKADDR_MAX {
            return Err(Errno::EINVAL);
        }
        // SAFETY: MIG's pointer to `sockaddr_len` bytes.
        let sockaddr = unsafe { bytes(sockaddr, sockaddr_len) }.to_vec();
        let port = Address { family, sockaddr }.serve()?;
        // SAFETY: the out-parameters are the stub's.
        unsafe { write_port(port, addr, addr_poly) };
        Ok(())
    };
    match made() {
        Ok(()) => 0,
        Err(e) => e.0,
    }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_socket_whatis_address(
    addr: raw::hurd_sys_object_t,
    family: *mut c_int,
    sockaddr: *mut raw::data_t,
    sockaddr_len: *mut raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    let body = |address: &Address, _: &Slot| {
        // SAFETY: the out-parameters are the stub's.
        unsafe {
            *family = address.family;
            write_data(&address.sockaddr, sockaddr, sockaddr_len)
        }
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on(addr, "socket_whatis_address", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn S_socket_setopt(
    sock: raw::hurd_sys_object_t,
    level: c_int,
    option: c_int,
    value: raw::const_data_t,
    value_len: raw::mach_msg_type_number_t,
) -> raw::kern_return_t {
    let body = |socket: &Arc<dyn Socket>, _: &Slot| {
        // SAFETY: MIG's pointer to `value_len` bytes.
        socket.setopt(level, option, unsafe { bytes(value, value_len) })
    };
    // SAFETY: the stub holds the object for this call.
    unsafe { on(sock, "socket_setopt", body) }
}

/// # Safety
/// Called by MIG's stub only, with the arguments of the routine's prototype.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn S_socket_send(
    sock: raw::hurd_sys_object_t,
    addr: raw::hurd_sys_object_t,
    flags: c_int,
    data: raw::const_data_t,
    data_len: raw::mach_msg_type_number_t,
    _ports: raw::const_portarray_t,
    ports_len: raw::mach_msg_type_number_t,
    control: raw::const_data_t,
    control_len: raw::mach_msg_type_number_t,
    amount: *mut raw::vm_size_t,
) -> raw::kern_return_t {
    // SAFETY: the stub holds both objects for this call.
    let (addr_slot, address) = unsafe { address(addr) };
    let body = |socket: &Arc<dyn Socket>, slot: &Slot| {
        // Rights in a message are local sockets' business: on error the
        // request, with them, is destroyed.
        if ports_len != 0 {
            return Err(Errno::EINVAL);
        }
        let to = match address {
            Some(a) => SendTo::Address(a),
            // (An error destroys the request, and the right it brought.)
            None if ports::foreign_argument() => return Err(Errno::EINVAL),
            None => SendTo::Peer,
        };
        // The peer's data goes where the socket's other data goes, as it
        // came, if the socket says so.
        if matches!(to, SendTo::Peer) && control_len == 0 {
            if let Some(port) = slot.forward_to(SEND_TO_PEER) {
                crate::message::forward_this_request(port);
                return Err(Errno::EOPNOTSUPP);
            }
        }
        // SAFETY: MIG's pointers to that many bytes each.
        let (data, control) = unsafe { (bytes(data, data_len), bytes(control, control_len)) };
        let sent = socket.send(to, flags, data, control)?;
        release_own_right(addr_slot);
        // SAFETY: the stub's out-parameter.
        unsafe { *amount = sent as raw::vm_size_t };
        Ok(())
    };
    // SAFETY: as above.
    unsafe { on(sock, "socket_send", body) }
}

prototypes_agree!(
    S_socket_create,
    S_socket_connect,
    S_socket_bind,
    S_socket_create_address,
    S_socket_whatis_address,
    S_socket_setopt,
    S_socket_send,
);
