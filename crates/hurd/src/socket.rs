//! Asking a socket server (pfinet's `/servers/socket/N` port, or one of
//! its sockets): the socket interface's client side, and the io calls a
//! socket's open modes take.

use hurd_sys::raw;

use crate::errno::{Errno, check};
use crate::port::{SendRight, take_array};

/// `socket_create` on `server`: a new socket of `kind` and `protocol`.
pub fn create(server: &SendRight, kind: i32, protocol: i32) -> Result<SendRight, Errno> {
    let mut sock: raw::mach_port_t = 0;
    // SAFETY: the reply's right, if any, is ours.
    check(unsafe { raw::socket_create(server.as_raw(), kind, protocol, &mut sock) })?;
    // SAFETY: as above.
    unsafe { SendRight::from_raw(sock) }.ok_or(Errno::EIO)
}

/// `socket_create_address` on `server` (a family's server or a socket):
/// an address port for `sockaddr` of `family`.
pub fn create_address(server: &SendRight, family: i32, sockaddr: &[u8]) -> Result<SendRight, Errno> {
    let mut addr: raw::mach_port_t = 0;
    // SAFETY: the stub reads `sockaddr.len()` bytes; the reply's right is
    // ours.
    check(unsafe {
        raw::socket_create_address(
            server.as_raw(),
            family,
            sockaddr.as_ptr() as raw::const_data_t,
            sockaddr.len() as _,
            &mut addr,
        )
    })?;
    // SAFETY: as above.
    unsafe { SendRight::from_raw(addr) }.ok_or(Errno::EIO)
}

/// `socket_connect` of `sock` to `addr`.
pub fn connect(sock: &SendRight, addr: &SendRight) -> Result<(), Errno> {
    // SAFETY: a call on rights we hold (the address is copied).
    check(unsafe { raw::socket_connect(sock.as_raw(), addr.as_raw()) })
}

/// `socket_bind` of `sock` to `addr`.
pub fn bind(sock: &SendRight, addr: &SendRight) -> Result<(), Errno> {
    // SAFETY: as for connect.
    check(unsafe { raw::socket_bind(sock.as_raw(), addr.as_raw()) })
}

/// `socket_send` of `data` and `control` on `sock`, to `addr` (none: the
/// peer); answers how much went.
pub fn send(
    sock: &SendRight,
    addr: Option<&SendRight>,
    flags: i32,
    data: &[u8],
    control: &[u8],
) -> Result<usize, Errno> {
    let mut amount: raw::vm_size_t = 0;
    // SAFETY: the stub reads the given lengths of `data` and `control`,
    // and no ports.
    check(unsafe {
        raw::socket_send(
            sock.as_raw(),
            addr.map_or(raw::MACH_PORT_NULL, SendRight::as_raw),
            flags,
            data.as_ptr() as raw::const_data_t,
            data.len() as _,
            std::ptr::null_mut(),
            raw::MACH_MSG_TYPE_COPY_SEND as _,
            0,
            control.as_ptr() as raw::const_data_t,
            control.len() as _,
            &mut amount,
        )
    })?;
    Ok(amount as usize)
}

/// `socket_setopt` on `sock`.
pub fn setopt(sock: &SendRight, level: i32, option: i32, value: &[u8]) -> Result<(), Errno> {
    // SAFETY: the stub reads `value.len()` bytes.
    check(unsafe {
        raw::socket_setopt(sock.as_raw(), level, option, value.as_ptr() as raw::const_data_t, value.len() as _)
    })
}

/// `socket_whatis_address`: the family and `sockaddr` bytes of `addr`.
pub fn whatis_address(addr: &SendRight) -> Result<(i32, Vec<u8>), Errno> {
    let mut family = 0;
    let mut buffer = [0u8; 128];
    let mut data: raw::data_t = buffer.as_mut_ptr().cast();
    let mut len: raw::mach_msg_type_number_t = buffer.len() as _;
    // SAFETY: `data` points to `len` writable bytes, as the stub wants.
    check(unsafe { raw::socket_whatis_address(addr.as_raw(), &mut family, &mut data, &mut len) })?;
    // SAFETY: after success, `data` points to `len` bytes of the reply.
    let bytes = unsafe { take_array(data.cast::<u8>(), len as usize, buffer.as_ptr()) };
    Ok((family, bytes))
}

/// `io_get_openmodes`: the `O_*` modes of `io` (`O_NONBLOCK`...).
pub fn openmodes(io: &SendRight) -> Result<i32, Errno> {
    let mut bits = 0;
    // SAFETY: a call with one int out-parameter.
    check(unsafe { raw::io_get_openmodes(io.as_raw(), &mut bits) })?;
    Ok(bits)
}

/// `io_set_all_openmodes`.
pub fn set_openmodes(io: &SendRight, bits: i32) -> Result<(), Errno> {
    // SAFETY: a call with no out-parameters.
    check(unsafe { raw::io_set_all_openmodes(io.as_raw(), bits) })
}
