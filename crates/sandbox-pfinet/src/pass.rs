//! What passes to a socket's stack as it came, and what is looked at
//! first. Pure: the server asks these for every request.

/// A `socket_send` with no address and no ancillary data, as
/// [`forwards`] is asked about it: the connected peer's data.
pub const SEND_TO_PEER: &str = "socket_send to the peer";

/// Whether a request for `routine` (MIG's name) on one of the build's
/// sockets goes as it came to the socket on its stack, `on_host` when that
/// is the host's.
///
/// What never goes: anything with an address (judged here), anything
/// that makes a port of the socket (a port of the host's socket would let
/// the build past the judging), and, on the host's stack, listening and
/// accepting (a socket there that never connected would otherwise listen
/// on the host's addresses).
pub fn forwards(routine: &str, on_host: bool) -> bool {
    match routine {
        "io_read"
        | "io_write"
        | "io_readable"
        | "io_select"
        | "io_select_timeout"
        | "io_stat"
        | "io_get_openmodes"
        | "io_set_all_openmodes"
        | "io_set_some_openmodes"
        | "io_clear_some_openmodes"
        | "io_server_version" => true,
        "socket_name" | "socket_peername" | "socket_shutdown" | "socket_getopt" | "socket_recv" | SEND_TO_PEER => true,
        "socket_listen" | "socket_accept" => !on_host,
        _ => false,
    }
}

/// `SOL_SOCKET` in the Hurd's (BSD) numbering.
pub const SOL_SOCKET: i32 = 0xffff;
const IPPROTO_TCP: i32 = 6;
const IPPROTO_IPV6: i32 = 41;
const IPV6_V6ONLY: i32 = 26;

/// The largest option value kept.
pub const OPTION_MAX: usize = 256;

/// Whether the build may set `option` at `level` (`socket_setopt`): the
/// socket options that shape its own traffic. Those that could reach past
/// it are refused (`ENOPROTOOPT`): debugging, routing by hand (every IP
/// level option: source routes, `IP_OPTIONS`; IPv6 routing headers),
/// binding to a device, joining multicast groups on the host's
/// interfaces.
pub fn option_allowed(level: i32, option: i32) -> bool {
    match level {
        SOL_SOCKET => matches!(
            option,
            0x0004 // SO_REUSEADDR
                | 0x0008 // SO_KEEPALIVE
                | 0x0020 // SO_BROADCAST
                | 0x0080 // SO_LINGER
                | 0x0100 // SO_OOBINLINE
                | 0x0200 // SO_REUSEPORT
                | 0x1001 // SO_SNDBUF
                | 0x1002 // SO_RCVBUF
                | 0x1003 // SO_SNDLOWAT
                | 0x1004 // SO_RCVLOWAT
                | 0x1005 // SO_SNDTIMEO
                | 0x1006 // SO_RCVTIMEO
        ),
        IPPROTO_TCP => true,
        IPPROTO_IPV6 => option == IPV6_V6ONLY,
        _ => false,
    }
}

/// The most options a socket keeps to set again on the host's stack.
pub const OPTIONS_KEPT: usize = 32;

/// Records `(level, option, value)` among `kept`, replacing an earlier
/// value of the same option: what a socket set before it moved to the
/// host's stack is set there too. Past [`OPTIONS_KEPT`] distinct options,
/// answers false (the caller refuses the option).
pub fn keep_option(kept: &mut Vec<(i32, i32, Vec<u8>)>, level: i32, option: i32, value: &[u8]) -> bool {
    if value.len() > OPTION_MAX {
        return false;
    }
    if let Some(entry) = kept.iter_mut().find(|(l, o, _)| (*l, *o) == (level, option)) {
        entry.2 = value.to_vec();
        return true;
    }
    if kept.len() >= OPTIONS_KEPT {
        return false;
    }
    kept.push((level, option, value.to_vec()));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_goes_through_addresses_do_not() {
        for on_host in [false, true] {
            assert!(forwards("io_read", on_host));
            assert!(forwards("io_write", on_host));
            assert!(forwards("io_select", on_host));
            assert!(forwards("socket_recv", on_host));
            for judged in ["socket_connect", "socket_bind", "socket_send", "socket_setopt", "socket_create_address"] {
                assert!(!forwards(judged, on_host), "{judged}");
            }
            // A new port of the stack's socket would be the build's own.
            for port_maker in ["io_duplicate", "io_restrict_auth", "io_reauthenticate", "socket_connect2"] {
                assert!(!forwards(port_maker, on_host), "{port_maker}");
            }
            assert!(!forwards("iioctl_siocsifaddr", on_host));
            // (An owner for signals would be a PID of the host's to pfinet.)
            assert!(!forwards("io_mod_owner", on_host));
        }
        assert!(forwards(SEND_TO_PEER, true) && forwards(SEND_TO_PEER, false));
        assert!(forwards("socket_listen", false) && forwards("socket_accept", false));
        assert!(!forwards("socket_listen", true) && !forwards("socket_accept", true), "no listening on the host");
    }

    #[test]
    fn options_that_reach_past_the_socket_are_refused() {
        assert!(option_allowed(SOL_SOCKET, 0x0004));
        assert!(option_allowed(SOL_SOCKET, 0x1002));
        assert!(!option_allowed(SOL_SOCKET, 0x0001), "SO_DEBUG");
        assert!(!option_allowed(SOL_SOCKET, 0x0010), "SO_DONTROUTE");
        assert!(!option_allowed(SOL_SOCKET, 25), "a device binding");
        assert!(option_allowed(IPPROTO_TCP, 1), "TCP_NODELAY");
        assert!(option_allowed(IPPROTO_IPV6, 26));
        assert!(!option_allowed(IPPROTO_IPV6, 25), "IPv6 routing and packet options");
        assert!(!option_allowed(0, 1) && !option_allowed(0, 4), "source routes (IP_OPTIONS, at IPPROTO_IP)");
        assert!(!option_allowed(255, 1), "raw IP");
    }

    #[test]
    fn kept_options_are_bounded_and_replaced() {
        let mut kept = Vec::new();
        assert!(keep_option(&mut kept, SOL_SOCKET, 4, &[1, 0, 0, 0]));
        assert!(keep_option(&mut kept, SOL_SOCKET, 4, &[0, 0, 0, 0]));
        assert_eq!(kept, [(SOL_SOCKET, 4, vec![0, 0, 0, 0])]);
        for o in 0..(OPTIONS_KEPT as i32 - 1) {
            assert!(keep_option(&mut kept, IPPROTO_TCP, o, &[]));
        }
        assert_eq!(kept.len(), OPTIONS_KEPT);
        assert!(!keep_option(&mut kept, 0, 1, &[]), "one more is refused");
        assert!(keep_option(&mut kept, IPPROTO_TCP, 3, &[9]), "a kept one may change");
        assert!(!keep_option(&mut kept, IPPROTO_TCP, 3, &[0; OPTION_MAX + 1]), "nor grow past the bound");
    }
}
