//! Open flags as the Hurd numbers them, and what a read-only node allows.

use crate::errno::Errno;

/// The open flags a translator sees in `dir_lookup` (the Hurd's values).
pub mod flags {
    pub const O_READ: i32 = 0x1;
    pub const O_WRITE: i32 = 0x2;
    pub const O_EXEC: i32 = 0x4;
    pub const O_NONBLOCK: i32 = 0x8;
    pub const O_CREAT: i32 = 0x10;
    pub const O_EXCL: i32 = 0x20;
    pub const O_NOLINK: i32 = 0x40;
    pub const O_NOTRANS: i32 = 0x80;
    pub const O_APPEND: i32 = 0x100;
    pub const O_TRUNC: i32 = 0x10000;
    pub const O_NOFOLLOW: i32 = 0x10_0000;
    pub const O_DIRECTORY: i32 = 0x20_0000;
}

use flags::*;

/// Whether an open with `flags` may go through a read-only entry: anything
/// that could change the file (write, truncate, create) is EROFS, as on a
/// read-only file system, whatever the host's permissions say.
pub fn check_readonly(open_flags: i32) -> Result<(), Errno> {
    if open_flags & (O_WRITE | O_TRUNC | O_CREAT) != 0 { Err(Errno::EROFS) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_entries() {
        assert_eq!(check_readonly(O_READ), Ok(()));
        assert_eq!(check_readonly(O_READ | O_EXEC | O_NOFOLLOW | O_DIRECTORY), Ok(()));
        assert_eq!(check_readonly(0), Ok(()), "a lookup without opening");
        assert_eq!(check_readonly(O_WRITE), Err(Errno::EROFS));
        assert_eq!(check_readonly(O_READ | O_WRITE), Err(Errno::EROFS));
        assert_eq!(check_readonly(O_READ | O_TRUNC), Err(Errno::EROFS));
        assert_eq!(check_readonly(O_CREAT | O_EXCL), Err(Errno::EROFS));
    }
}
