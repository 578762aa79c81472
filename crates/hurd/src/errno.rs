//! Return codes: the kernel's (`KERN_*`, `MACH_*`), MIG's and the Hurd's
//! error numbers share one 32-bit space, and every RPC returns one of
//! them. This is the one place where they become a typed value.
//!
//! The Hurd numbers errors like BSD, in the subsystem `0x10` of Mach's
//! error space: each value is `0x4000_0000 | n`. They are written here so
//! that the translators' pure code (and its tests on Linux) answers with
//! the Hurd's values; on the Hurd, a test checks them against the C
//! library's.

use std::fmt;

/// A return code that is not success: what an RPC or a kernel call
/// answered, or what a translator answers.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

/// Success, or the code as an error.
pub fn check(code: i32) -> Result<(), Errno> {
    if code == 0 { Ok(()) } else { Err(Errno(code)) }
}

const fn hurd(n: i32) -> Errno {
    Errno(0x4000_0000 | n)
}

impl Errno {
    pub const EPERM: Errno = hurd(1);
    pub const ENOENT: Errno = hurd(2);
    pub const ESRCH: Errno = hurd(3);
    pub const EINTR: Errno = hurd(4);
    pub const EIO: Errno = hurd(5);
    pub const ENXIO: Errno = hurd(6);
    pub const EBADF: Errno = hurd(9);
    pub const ECHILD: Errno = hurd(10);
    pub const ENOMEM: Errno = hurd(12);
    pub const EACCES: Errno = hurd(13);
    pub const EBUSY: Errno = hurd(16);
    pub const EEXIST: Errno = hurd(17);
    pub const EXDEV: Errno = hurd(18);
    pub const ENOTDIR: Errno = hurd(20);
    pub const EISDIR: Errno = hurd(21);
    pub const EINVAL: Errno = hurd(22);
    pub const ENOSPC: Errno = hurd(28);
    pub const ESPIPE: Errno = hurd(29);
    pub const EROFS: Errno = hurd(30);
    pub const EAGAIN: Errno = hurd(35);
    pub const EDESTADDRREQ: Errno = hurd(39);
    pub const ENOPROTOOPT: Errno = hurd(42);
    pub const EPROTONOSUPPORT: Errno = hurd(43);
    pub const EOPNOTSUPP: Errno = hurd(45);
    pub const EAFNOSUPPORT: Errno = hurd(47);
    pub const EADDRNOTAVAIL: Errno = hurd(49);
    pub const ENETUNREACH: Errno = hurd(51);
    pub const EISCONN: Errno = hurd(56);
    pub const ENOTCONN: Errno = hurd(57);
    pub const ECONNREFUSED: Errno = hurd(61);
    pub const ELOOP: Errno = hurd(62);
    pub const ENAMETOOLONG: Errno = hurd(63);
    pub const ENOTEMPTY: Errno = hurd(66);
    pub const ENOSYS: Errno = hurd(78);

    /// MIG's answer to a message ID no demuxer knows.
    pub const MIG_BAD_ID: Errno = Errno(-303);
    /// MIG: the reply does not match the request.
    pub const MIG_REPLY_MISMATCH: Errno = Errno(-309);
    /// MIG: the server died before answering.
    pub const MIG_SERVER_DIED: Errno = Errno(-308);

    pub const KERN_INVALID_ADDRESS: Errno = Errno(1);
    pub const KERN_INVALID_ARGUMENT: Errno = Errno(4);
    pub const KERN_FAILURE: Errno = Errno(5);
    pub const KERN_RESOURCE_SHORTAGE: Errno = Errno(6);
    pub const KERN_INVALID_NAME: Errno = Errno(15);
    pub const KERN_INVALID_RIGHT: Errno = Errno(17);
    pub const MACH_SEND_INVALID_DEST: Errno = Errno(0x1000_0003);
    pub const MACH_RCV_TIMED_OUT: Errno = Errno(0x1000_4003);

    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Errno::EPERM => "EPERM",
            Errno::ENOENT => "ENOENT",
            Errno::ESRCH => "ESRCH",
            Errno::EIO => "EIO",
            Errno::ENXIO => "ENXIO",
            Errno::EINTR => "EINTR",
            Errno::EBADF => "EBADF",
            Errno::ECHILD => "ECHILD",
            Errno::EAGAIN => "EAGAIN",
            Errno::ENOMEM => "ENOMEM",
            Errno::EACCES => "EACCES",
            Errno::EBUSY => "EBUSY",
            Errno::EEXIST => "EEXIST",
            Errno::EXDEV => "EXDEV",
            Errno::ENOTDIR => "ENOTDIR",
            Errno::EISDIR => "EISDIR",
            Errno::EINVAL => "EINVAL",
            Errno::ENOSPC => "ENOSPC",
            Errno::ESPIPE => "ESPIPE",
            Errno::EROFS => "EROFS",
            Errno::EDESTADDRREQ => "EDESTADDRREQ",
            Errno::ENOPROTOOPT => "ENOPROTOOPT",
            Errno::EPROTONOSUPPORT => "EPROTONOSUPPORT",
            Errno::EOPNOTSUPP => "EOPNOTSUPP",
            Errno::EAFNOSUPPORT => "EAFNOSUPPORT",
            Errno::EADDRNOTAVAIL => "EADDRNOTAVAIL",
            Errno::ENETUNREACH => "ENETUNREACH",
            Errno::EISCONN => "EISCONN",
            Errno::ENOTCONN => "ENOTCONN",
            Errno::ECONNREFUSED => "ECONNREFUSED",
            Errno::ELOOP => "ELOOP",
            Errno::ENAMETOOLONG => "ENAMETOOLONG",
            Errno::ENOTEMPTY => "ENOTEMPTY",
            Errno::ENOSYS => "ENOSYS",
            Errno::MIG_BAD_ID => "MIG_BAD_ID",
            Errno::MIG_REPLY_MISMATCH => "MIG_REPLY_MISMATCH",
            Errno::MIG_SERVER_DIED => "MIG_SERVER_DIED",
            Errno::KERN_INVALID_ADDRESS => "KERN_INVALID_ADDRESS",
            Errno::KERN_INVALID_ARGUMENT => "KERN_INVALID_ARGUMENT",
            Errno::KERN_FAILURE => "KERN_FAILURE",
            Errno::KERN_RESOURCE_SHORTAGE => "KERN_RESOURCE_SHORTAGE",
            Errno::KERN_INVALID_NAME => "KERN_INVALID_NAME",
            Errno::KERN_INVALID_RIGHT => "KERN_INVALID_RIGHT",
            Errno::MACH_SEND_INVALID_DEST => "MACH_SEND_INVALID_DEST",
            Errno::MACH_RCV_TIMED_OUT => "MACH_RCV_TIMED_OUT",
            _ => return None,
        })
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Errno({:#x})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for Errno {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_the_hurds() {
        assert_eq!(Errno::ENOENT.0, 0x4000_0002);
        assert_eq!(Errno::EROFS.0, 1_073_741_854);
        assert_eq!(Errno::EOPNOTSUPP.0, 1_073_741_869);
        // The BSD numbers of the network's errors.
        assert_eq!(Errno::ECONNREFUSED.0, 0x4000_0000 | 61);
        assert_eq!(Errno::ENETUNREACH.0, 0x4000_0000 | 51);
        assert_eq!(format!("{:?}", Errno::EBUSY), "EBUSY");
        assert_eq!(format!("{:?}", Errno(0x7777)), "Errno(0x7777)");
        assert_eq!(format!("{}", Errno::KERN_INVALID_NAME), "KERN_INVALID_NAME");
        assert_eq!(check(0), Ok(()));
        assert_eq!(check(0x4000_0010), Err(Errno::EBUSY));
    }
}
