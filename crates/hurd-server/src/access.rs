//! What a node allows a client, as `file_check_access` answers it (pure:
//! the same everywhere).

/// The Hurd's open flags for reading, writing and executing.
pub const O_READ: i32 = 0x1;
pub const O_WRITE: i32 = 0x2;
pub const O_EXEC: i32 = 0x4;

/// What `file_check_access` answers for a node of `mode`, owned by `uid`
/// and `gid`, to a client with `uids` and `gids` (`access(2)` and `test
/// -r/-w/-x` ask it): the permission bits of the class the client falls
/// in, owner before group before others; root may read and write
/// anything, and execute anything with an execute bit or a directory. (As
/// the Hurd's own file systems answer it, a read-only one included: the
/// write itself is what fails, with EROFS.)
pub fn allowed(mode: u32, uid: u32, gid: u32, uids: &[u32], gids: &[u32]) -> i32 {
    const S_IFMT: u32 = 0o170_000;
    const S_IFDIR: u32 = 0o040_000;
    let bits = if uids.contains(&0) {
        let exec = mode & 0o111 != 0 || mode & S_IFMT == S_IFDIR;
        0o6 | if exec { 0o1 } else { 0 }
    } else if uids.contains(&uid) {
        (mode >> 6) & 0o7
    } else if gids.contains(&gid) {
        (mode >> 3) & 0o7
    } else {
        mode & 0o7
    };
    let mut flags = 0;
    if bits & 0o4 != 0 {
        flags |= O_READ;
    }
    if bits & 0o2 != 0 {
        flags |= O_WRITE;
    }
    if bits & 0o1 != 0 {
        flags |= O_EXEC;
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: u32 = 0o040_000;
    const FILE: u32 = 0o100_000;
    const CHR: u32 = 0o020_000;

    #[test]
    fn the_build_user_sees_the_others_bits_of_what_root_owns() {
        // The environment's root: `test -x /`, which configure asks.
        assert_eq!(allowed(DIR | 0o755, 0, 0, &[30001], &[30000]), O_READ | O_EXEC);
        // /dev/null: anyone reads and writes it.
        assert_eq!(allowed(CHR | 0o666, 0, 0, &[30001], &[30000]), O_READ | O_WRITE);
        assert_eq!(allowed(FILE | 0o600, 0, 0, &[30001], &[30000]), 0);
    }

    #[test]
    fn the_owners_bits_win_over_the_groups_and_the_others() {
        assert_eq!(allowed(FILE | 0o077, 30001, 30000, &[30001], &[30000]), 0);
        assert_eq!(allowed(FILE | 0o640, 1, 30000, &[30001], &[30000]), O_READ);
        assert_eq!(allowed(FILE | 0o604, 1, 2, &[30001], &[30000]), O_READ);
        assert_eq!(allowed(FILE | 0o644, 0, 0, &[], &[]), O_READ, "no ids: the others' bits");
    }

    #[test]
    fn root_may_do_all_but_execute_what_nobody_may() {
        assert_eq!(allowed(FILE, 5, 5, &[0], &[0]), O_READ | O_WRITE);
        assert_eq!(allowed(FILE | 0o100, 5, 5, &[0], &[0]), O_READ | O_WRITE | O_EXEC);
        assert_eq!(allowed(DIR, 5, 5, &[0], &[0]), O_READ | O_WRITE | O_EXEC);
    }
}
