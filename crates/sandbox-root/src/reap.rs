//! Which processes are the build's, for a goaway: until the PID namespace
//! exists, the build's processes are told apart by their owner, the build
//! user (as guix-daemon tells them apart too, and why it gives each build
//! a user of its own). Pure: the proc server's answers come in as data.

/// What the proc server says of one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Process {
    pub pid: i32,
    /// The owner's uid; `None` for a process without one.
    pub owner: Option<u32>,
    /// Its task is gone (it only waits to be reaped).
    pub zombie: bool,
}

/// The live processes of `all` owned by `build_uid`, but never `own` (this
/// process) and none at all when the build user is root: root's processes
/// are the system's.
pub fn build_processes(all: &[Process], build_uid: u32, own: i32) -> Vec<i32> {
    if build_uid == 0 {
        return Vec::new();
    }
    all.iter().filter(|p| p.owner == Some(build_uid) && !p.zombie && p.pid != own).map(|p| p.pid).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: i32, owner: Option<u32>, zombie: bool) -> Process {
        Process { pid, owner, zombie }
    }

    #[test]
    fn the_build_users_live_processes() {
        let all = [
            p(1, Some(0), false),
            p(40, Some(30001), false),
            p(41, Some(30001), true),
            p(42, Some(30002), false),
            p(43, None, false),
            p(44, Some(30001), false),
        ];
        assert_eq!(build_processes(&all, 30001, 7), [40, 44]);
        assert_eq!(build_processes(&all, 30002, 7), [42]);
        assert_eq!(build_processes(&all, 30001, 44), [40], "never this process");
    }

    #[test]
    fn never_roots_processes() {
        let all = [p(1, Some(0), false), p(2, Some(0), false)];
        assert_eq!(build_processes(&all, 0, 7), Vec::<i32>::new());
    }
}
