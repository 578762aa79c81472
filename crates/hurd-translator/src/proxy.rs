//! Host nodes served by proxy: the decisions of a translator that hands
//! out the host's nodes only behind ports of its own.
//!
//! A client holding the host's own port to a node can ask the host for
//! anything its identity allows there: set a passive translator (which
//! the host then starts as the node's owner with the host's root), change
//! a file below an entry meant read-only, or look names up on the host
//! where the environment no longer guards them. So every host node a
//! translator of the suite hands out is a proxy of its own: lookups below
//! it come back to the translator ([`next`]), which keeps every node it
//! meets behind a proxy, and each request is either forwarded to the host
//! as it came (the host answers the client directly: reads, writes, maps,
//! stats, listings) or answered here ([`forwards`]).

use crate::retry::RetryKind;

/// What a proxied node may be changed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Every change is EROFS, whatever the host's permissions.
    ReadOnly,
    /// Changes go to the host, which decides them with the client's
    /// identity; only translators and ways out are answered here.
    Writable,
}

/// Routines a proxy always answers itself: each either hands out a port
/// (which must be a proxy of ours too), sets a translator, or reaches the
/// host server's control side.
pub const ANSWERED_HERE: &[&str] = &[
    "dir_lookup",
    "dir_mkfile",
    "dir_link",
    "dir_rename",
    "io_reauthenticate",
    "io_restrict_auth",
    "io_duplicate",
    "file_reparent",
    "file_set_translator",
    "file_get_translator_cntl",
    "file_getcontrol",
    "file_getlinknode",
    "file_get_storage_info",
    "file_getfh",
    // The host would hand the exec server its own port to the file, which
    // reaches an interpreter as /dev/fd/N.
    "file_exec_paths",
    "file_exec",
    // Would cut sandbox-root's own ports to the node.
    "io_revoke",
];

/// What a read-only node forwards: requests that read the node, its
/// directory or its status, or only change this open's own state. Any
/// other (writes, size and time changes, the shared I/O page, pre- and
/// post-notifications that grow a file, locks that would hold up the
/// host's users) is answered here: EROFS where it changes the node.
pub const READS: &[&str] = &[
    "io_read",
    "io_readable",
    "io_seek",
    "io_stat",
    "io_map",
    "io_select",
    "io_select_timeout",
    "io_identity",
    "io_server_version",
    "io_pathconf",
    "io_get_openmodes",
    "io_set_all_openmodes",
    "io_set_some_openmodes",
    "io_clear_some_openmodes",
    "io_get_owner",
    "io_mod_owner",
    "io_get_icky_async_id",
    "io_async",
    "dir_readdir",
    "file_check_access",
    "file_statfs",
    "file_get_translator",
    "file_get_fs_options",
    "file_get_children",
    "file_get_source",
    // A client's signal: the host, which is working on what it forwarded,
    // ends it (a read of a FIFO answers EINTR, not EIEIO a minute later).
    "interrupt_operation",
];

/// Whether a request for `routine` (MIG's name) to a proxied node with
/// `access` goes on to the host as it came: for a writable node, every
/// request of the file, directory and I/O interfaces but those answered
/// here; for a read-only one, only [`READS`]. Requests of other
/// interfaces addressed to the proxy's port (notifications, control
/// requests) are ours, but a client's `interrupt_operation`, which is
/// for the server working on its forwarded request.
pub fn forwards(routine: &str, access: Access) -> bool {
    match access {
        Access::ReadOnly => READS.contains(&routine),
        Access::Writable => {
            routine == "interrupt_operation"
                || ["io_", "file_", "dir_"].iter().any(|p| routine.starts_with(p)) && !ANSWERED_HERE.contains(&routine)
        }
    }
}

/// What to do with one answer of the host's `dir_lookup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Hand the answer to the client as it is: a magical retry (an
    /// absolute symlink, started again at the client's root), a retry
    /// that leads back to this translator (`..` above the read-only tree),
    /// or the root of another translator below, which guards itself.
    Client,
    /// The lookup is done at the returned port: serve it read-only if it
    /// is a directory, else hand it over (it was opened read-only).
    Done,
    /// Look the name left up at the returned port, as the same user (the
    /// host's lookup stopped at a boundary it does not cross itself).
    Continue,
}

/// Decides what to do with the host's answer `kind`/`rest`; `leads_here`
/// says whether its port is one this translator serves.
pub fn next(kind: RetryKind, rest: &str, leads_here: bool) -> Next {
    match kind {
        RetryKind::Magical => Next::Client,
        _ if leads_here => Next::Client,
        RetryKind::Reauth => Next::Client,
        RetryKind::Normal if rest.is_empty() => Next::Done,
        RetryKind::Normal => Next::Continue,
    }
}

/// How many host answers one lookup follows before it answers ELOOP.
pub const HOPS_MAX: usize = 32;

/// `FS_TRANS_FORCE` (the Hurd's value): record the passive translator
/// as it is, even one the file system would keep as a node type.
pub const FS_TRANS_FORCE: i32 = 0x1;

/// The passive records a build may set through a proxy: those with which
/// the C library makes a symbolic link or a socket node, and which a disk
/// file system keeps as that node type rather than as a record
/// (`symlink`, `bind`). An empty record clears one. Any
/// other program would be started by the host as the node's owner with
/// the host's root, and the record would outlive the build.
pub fn passive_allowed(argz: &[u8], passive_flags: i32) -> bool {
    if passive_flags & FS_TRANS_FORCE != 0 {
        return false;
    }
    let fields: Vec<&[u8]> = argz.strip_suffix(b"\0").unwrap_or(argz).split(|&b| b == 0).collect();
    match fields.as_slice() {
        [] | [b""] => true,
        [b"/hurd/symlink", target] => !target.is_empty(),
        // Not /hurd/fifo: the host starts it for each FIFO, as the build
        // user, with the host's root, and the build can take its task.
        [b"/hurd/ifsock"] => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_fifos_and_sockets_are_node_types() {
        assert!(passive_allowed(b"/hurd/symlink\0../lib/libc.so\0", 0x4 | 0x2));
        assert!(passive_allowed(b"/hurd/ifsock\0", 0x4));
        assert!(passive_allowed(b"", 0x4), "clearing a record");
    }

    proptest::proptest! {
        /// Whatever record a client sends: an answer, never a panic, and
        /// only the C library's two programs (or nothing) let through.
        #[test]
        fn any_record_is_judged(argz in proptest::collection::vec(proptest::num::u8::ANY, 0..64), flags in proptest::num::i32::ANY) {
            if passive_allowed(&argz, flags) {
                proptest::prop_assert!(flags & FS_TRANS_FORCE == 0);
                let program = argz.split(|&b| b == 0).next().unwrap_or_default();
                proptest::prop_assert!(program.is_empty() || program == b"/hurd/symlink" || program == b"/hurd/ifsock");
            }
        }

        /// No routine name makes a read-only node forward a change.
        #[test]
        fn read_only_forwards_only_reads(name in "[a-z_]{0,24}") {
            if forwards(&name, Access::ReadOnly) {
                proptest::prop_assert!(READS.contains(&name.as_str()));
            }
        }
    }

    #[test]
    fn other_passive_translators_never() {
        for argz in [
            &b"/hurd/firmlink\0/\0"[..],
            b"/hurd/symlink\0",
            b"/hurd/fifo\0",
            b"/hurd/fifo\0x\0",
            b"/hurd/chrdev\0\x31\0\x33\0",
            b"/tmp/guix-build/evil\0",
            b"hurd/symlink\0x\0",
        ] {
            assert!(!passive_allowed(argz, 0x4), "{:?}", String::from_utf8_lossy(argz));
        }
        assert!(!passive_allowed(b"/hurd/symlink\0x\0", 0x4 | FS_TRANS_FORCE), "a forced record stays a record");
    }

    #[test]
    fn data_goes_to_the_host() {
        for access in [Access::ReadOnly, Access::Writable] {
            for routine in ["io_read", "io_map", "io_stat", "io_seek", "dir_readdir", "io_identity"] {
                assert!(forwards(routine, access), "{routine} {access:?}");
            }
        }
        assert!(forwards("io_write", Access::Writable));
        assert!(forwards("file_chmod", Access::Writable));
        assert!(forwards("dir_unlink", Access::Writable));
    }

    #[test]
    fn changes_below_a_read_only_entry_stay_here() {
        for routine in [
            "io_write",
            "file_set_size",
            "file_chmod",
            "file_chown",
            "file_utimes",
            "file_utimens",
            "dir_mkdir",
            "dir_unlink",
            "io_map_cntl",
            "io_get_conch",
            "io_release_conch",
            "io_prenotify",
            "io_postnotify",
            "io_eofnotify",
            "file_lock",
            "file_record_lock",
            "file_some_new_routine",
        ] {
            assert!(!forwards(routine, Access::ReadOnly), "{routine}");
        }
        for routine in READS {
            assert!(!ANSWERED_HERE.contains(routine), "{routine} is both read and answered here");
        }
    }

    #[test]
    fn ports_translators_and_control_never_reach_the_host_unwrapped() {
        for access in [Access::ReadOnly, Access::Writable] {
            for routine in ANSWERED_HERE {
                assert!(!forwards(routine, access), "{routine} {access:?}");
            }
            // Other interfaces addressed to the proxy's port are ours.
            for routine in ["mach_notify_no_senders", "fsys_getroot", "", "term_getctty"] {
                assert!(!forwards(routine, access), "{routine} {access:?}");
            }
        }
    }

    #[test]
    fn a_clients_interrupt_goes_where_its_request_went() {
        assert!(forwards("interrupt_operation", Access::ReadOnly));
        assert!(forwards("interrupt_operation", Access::Writable));
    }

    #[test]
    fn absolute_links_and_ways_back_go_to_the_client() {
        assert_eq!(next(RetryKind::Magical, "/gnu/store/x/bin/sh", false), Next::Client);
        assert_eq!(next(RetryKind::Magical, "tty", false), Next::Client);
        // `..` above the entry: the host answers with the parent we gave
        // it, one of our own ports.
        assert_eq!(next(RetryKind::Reauth, "etc/passwd", true), Next::Client);
        assert_eq!(next(RetryKind::Normal, "", true), Next::Client);
    }

    #[test]
    fn the_hosts_own_nodes_stay_with_us() {
        assert_eq!(next(RetryKind::Normal, "", false), Next::Done);
        assert_eq!(next(RetryKind::Normal, "lib/libc.so", false), Next::Continue);
    }

    #[test]
    fn other_translators_below_guard_themselves() {
        assert_eq!(next(RetryKind::Reauth, "", false), Next::Client);
        assert_eq!(next(RetryKind::Reauth, "sub", false), Next::Client);
    }
}
