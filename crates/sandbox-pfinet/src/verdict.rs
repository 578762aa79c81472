//! The socket verdict: may this socket operation go through?
//!
//! (domain, type, operation, address, port) → allow, allow with a
//! rewritten address, or deny with the reason. Pure; the server applies it
//! to every `socket_create`, `socket_bind`, `socket_connect` and
//! `socket_send` with an address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use sandbox_spec::{NetworkPolicy, SocketDomain};

/// The socket types a build can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketType {
    Stream,
    Datagram,
    Raw,
    SeqPacket,
    Other(i32),
}

impl SocketType {
    /// From the `SOCK_*` number (the Hurd uses the BSD numbering: stream 1,
    /// datagram 2, raw 3, seqpacket 5).
    pub fn from_raw(n: i32) -> SocketType {
        match n {
            1 => SocketType::Stream,
            2 => SocketType::Datagram,
            3 => SocketType::Raw,
            5 => SocketType::SeqPacket,
            other => SocketType::Other(other),
        }
    }
}

/// What the build asks the socket to do with an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Bind,
    Connect,
    /// `sendto`/`sendmsg` with an explicit destination.
    Send,
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Allowed, with this address in place of the one given (a bind to the
    /// unspecified address becomes a bind to loopback).
    AllowAs(SocketAddr),
    Deny(Denial),
}

/// Why an operation was refused. The server answers `EACCES` for a
/// refused destination and `EAFNOSUPPORT`/`EPROTONOSUPPORT` for refused
/// domains and types, and logs the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    #[error("address family {0} is not served here")]
    Domain(u32),
    #[error("socket type {0:?} is not allowed")]
    Type(SocketType),
    #[error("an {domain} socket cannot use the address {addr}")]
    WrongFamily { domain: &'static str, addr: IpAddr },
    #[error("binding to {0} would listen outside loopback")]
    BindOutside(IpAddr),
    #[error("{0} is the unspecified address, not a destination")]
    Unspecified(IpAddr),
    #[error("{addr} port {port} is not loopback and no rule allows it")]
    Destination { addr: IpAddr, port: u16 },
}

/// May a socket of this domain and type be created at all?
pub fn creation(policy: &NetworkPolicy, family: u32, kind: SocketType) -> Verdict {
    match SocketDomain::from_family(family) {
        Some(SocketDomain::Inet | SocketDomain::Inet6) => {}
        _ => return Verdict::Deny(Denial::Domain(family)),
    }
    match (kind, policy) {
        (SocketType::Stream | SocketType::Datagram, _) => Verdict::Allow,
        // Raw sockets and anything unusual only with the host's network.
        (_, NetworkPolicy::Host) => Verdict::Allow,
        (other, _) => Verdict::Deny(Denial::Type(other)),
    }
}

/// May a socket of `family` and `kind` do `op` with `addr`?
pub fn verdict(policy: &NetworkPolicy, family: u32, kind: SocketType, op: Operation, addr: SocketAddr) -> Verdict {
    let domain = match SocketDomain::from_family(family) {
        Some(d @ (SocketDomain::Inet | SocketDomain::Inet6)) => d,
        _ => return Verdict::Deny(Denial::Domain(family)),
    };
    if let Verdict::Deny(d) = creation(policy, family, kind) {
        return Verdict::Deny(d);
    }
    // An IPv6 socket reaches IPv4 through mapped addresses: judge those as
    // the IPv4 address they stand for.
    let ip = match (domain, addr.ip()) {
        (SocketDomain::Inet, IpAddr::V4(a)) => IpAddr::V4(a),
        (SocketDomain::Inet6, IpAddr::V6(a)) => a.to_ipv4_mapped().map_or(IpAddr::V6(a), IpAddr::V4),
        (d, a) => return Verdict::Deny(Denial::WrongFamily { domain: d.name(), addr: a }),
    };
    if *policy == NetworkPolicy::Host {
        return Verdict::Allow;
    }
    match op {
        Operation::Bind if ip.is_loopback() => Verdict::Allow,
        Operation::Bind if ip.is_unspecified() => {
            let lo = match addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            };
            Verdict::AllowAs(SocketAddr::new(lo, addr.port()))
        }
        Operation::Bind => Verdict::Deny(Denial::BindOutside(ip)),
        Operation::Connect | Operation::Send => {
            if ip.is_loopback() {
                Verdict::Allow
            } else if ip.is_unspecified() {
                Verdict::Deny(Denial::Unspecified(ip))
            } else {
                let allowed = match policy {
                    NetworkPolicy::Allow(rules) => rules.iter().any(|r| r.matches(ip, addr.port())),
                    NetworkPolicy::Loopback | NetworkPolicy::Host => false,
                };
                if allowed {
                    Verdict::Allow
                } else {
                    Verdict::Deny(Denial::Destination { addr: ip, port: addr.port() })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sandbox_spec::{AllowRule, IpRange, PortRange};

    const INET: u32 = 2;
    const INET6: u32 = 26;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn allow_list() -> NetworkPolicy {
        NetworkPolicy::Allow(vec![
            AllowRule {
                range: IpRange::parse("192.0.2.0/24").unwrap(),
                ports: vec![PortRange::single(443).unwrap(), PortRange::parse("8000-8080").unwrap()],
            },
            AllowRule { range: IpRange::parse("2001:db8::/32").unwrap(), ports: vec![] },
        ])
    }

    fn stream(policy: &NetworkPolicy, family: u32, op: Operation, addr: &str) -> Verdict {
        verdict(policy, family, SocketType::Stream, op, sa(addr))
    }

    #[test]
    fn loopback_policy() {
        let lo = NetworkPolicy::Loopback;
        assert_eq!(stream(&lo, INET, Operation::Connect, "127.0.0.1:80"), Verdict::Allow);
        assert_eq!(stream(&lo, INET, Operation::Connect, "127.8.9.10:80"), Verdict::Allow, "all of 127/8");
        assert_eq!(stream(&lo, INET6, Operation::Connect, "[::1]:80"), Verdict::Allow);
        assert_eq!(stream(&lo, INET6, Operation::Send, "[::ffff:127.0.0.1]:53"), Verdict::Allow, "mapped loopback");
        assert_eq!(
            stream(&lo, INET, Operation::Connect, "192.0.2.1:443"),
            Verdict::Deny(Denial::Destination { addr: "192.0.2.1".parse().unwrap(), port: 443 })
        );
        assert_eq!(
            stream(&lo, INET6, Operation::Connect, "[::ffff:192.0.2.1]:443"),
            Verdict::Deny(Denial::Destination { addr: "192.0.2.1".parse().unwrap(), port: 443 }),
            "a mapped address is judged as the IPv4 one"
        );
        assert_eq!(
            stream(&lo, INET, Operation::Connect, "0.0.0.0:80"),
            Verdict::Deny(Denial::Unspecified("0.0.0.0".parse().unwrap()))
        );
    }

    #[test]
    fn binds_stay_on_loopback() {
        for policy in [NetworkPolicy::Loopback, allow_list()] {
            assert_eq!(stream(&policy, INET, Operation::Bind, "127.0.0.1:8080"), Verdict::Allow);
            assert_eq!(stream(&policy, INET, Operation::Bind, "0.0.0.0:8080"), Verdict::AllowAs(sa("127.0.0.1:8080")));
            assert_eq!(stream(&policy, INET6, Operation::Bind, "[::]:0"), Verdict::AllowAs(sa("[::1]:0")));
            assert_eq!(
                stream(&policy, INET, Operation::Bind, "192.0.2.5:80"),
                Verdict::Deny(Denial::BindOutside("192.0.2.5".parse().unwrap())),
                "allow rules are destinations, not local addresses"
            );
        }
        assert_eq!(stream(&NetworkPolicy::Host, INET, Operation::Bind, "0.0.0.0:80"), Verdict::Allow);
    }

    #[test]
    fn allow_rules_match_range_and_port() {
        let p = allow_list();
        assert_eq!(stream(&p, INET, Operation::Connect, "192.0.2.200:443"), Verdict::Allow);
        assert_eq!(stream(&p, INET, Operation::Connect, "192.0.2.200:8080"), Verdict::Allow);
        assert!(matches!(
            stream(&p, INET, Operation::Connect, "192.0.2.200:80"),
            Verdict::Deny(Denial::Destination { .. })
        ));
        assert!(matches!(stream(&p, INET, Operation::Connect, "192.0.3.1:443"), Verdict::Deny(_)));
        assert_eq!(stream(&p, INET6, Operation::Send, "[2001:db8:1::9]:22"), Verdict::Allow, "no ports: all");
        assert!(matches!(stream(&p, INET6, Operation::Send, "[2001:db9::9]:22"), Verdict::Deny(_)));
        assert_eq!(verdict(&p, INET, SocketType::Datagram, Operation::Send, sa("192.0.2.1:443")), Verdict::Allow);
        assert_eq!(stream(&p, INET, Operation::Connect, "127.0.0.1:1"), Verdict::Allow, "loopback is always in");
    }

    #[test]
    fn host_policy_allows_everything_ip() {
        let h = NetworkPolicy::Host;
        assert_eq!(stream(&h, INET, Operation::Connect, "203.0.113.1:25"), Verdict::Allow);
        assert_eq!(verdict(&h, INET, SocketType::Raw, Operation::Send, sa("203.0.113.1:0")), Verdict::Allow);
        assert_eq!(creation(&h, INET6, SocketType::Raw), Verdict::Allow);
        // Still only IP families.
        assert_eq!(creation(&h, 16, SocketType::Datagram), Verdict::Deny(Denial::Domain(16)));
    }

    #[test]
    fn families_and_types() {
        let lo = NetworkPolicy::Loopback;
        assert_eq!(creation(&lo, INET, SocketType::Stream), Verdict::Allow);
        assert_eq!(creation(&lo, INET6, SocketType::Datagram), Verdict::Allow);
        assert_eq!(creation(&lo, INET, SocketType::Raw), Verdict::Deny(Denial::Type(SocketType::Raw)));
        assert_eq!(creation(&lo, INET, SocketType::from_raw(5)), Verdict::Deny(Denial::Type(SocketType::SeqPacket)));
        assert_eq!(
            creation(&lo, 1, SocketType::Stream),
            Verdict::Deny(Denial::Domain(1)),
            "local sockets are pflocal's"
        );
        assert_eq!(
            stream(&lo, INET, Operation::Connect, "[::1]:80"),
            Verdict::Deny(Denial::WrongFamily { domain: "inet", addr: "::1".parse().unwrap() })
        );
        assert_eq!(
            stream(&lo, INET6, Operation::Connect, "127.0.0.1:80"),
            Verdict::Deny(Denial::WrongFamily { domain: "inet6", addr: "127.0.0.1".parse().unwrap() })
        );
        assert_eq!(
            verdict(&lo, INET, SocketType::Raw, Operation::Connect, sa("127.0.0.1:0")),
            Verdict::Deny(Denial::Type(SocketType::Raw))
        );
    }

    proptest! {
        /// Under the loopback policy nothing reaches an address outside
        /// loopback, whatever the family, type or operation.
        #[test]
        fn loopback_never_leaks(a in any::<u32>(), b in any::<u128>(), port in any::<u16>(), v6 in any::<bool>(), op in 0..3u8, t in 1..4i32) {
            let op = [Operation::Bind, Operation::Connect, Operation::Send][op as usize];
            let (family, addr) = if v6 {
                (INET6, SocketAddr::new(IpAddr::V6(b.into()), port))
            } else {
                (INET, SocketAddr::new(IpAddr::V4(a.into()), port))
            };
            let v = verdict(&NetworkPolicy::Loopback, family, SocketType::from_raw(t), op, addr);
            let reached = match v {
                Verdict::Allow => Some(addr.ip()),
                Verdict::AllowAs(x) => Some(x.ip()),
                Verdict::Deny(_) => None,
            };
            if let Some(ip) = reached {
                let ip = match ip { IpAddr::V6(x) => x.to_ipv4_mapped().map_or(IpAddr::V6(x), IpAddr::V4), x => x };
                prop_assert!(ip.is_loopback(), "{:?} {} reached {}", op, addr, ip);
            }
        }

        /// Under an allow list, a destination outside loopback is allowed
        /// exactly when some rule matches it.
        #[test]
        fn allow_list_is_exact(a in any::<u32>(), port in 1..u16::MAX) {
            let ip = IpAddr::V4(a.into());
            prop_assume!(!ip.is_loopback() && !ip.is_unspecified());
            let policy = allow_list();
            let NetworkPolicy::Allow(rules) = &policy else { unreachable!() };
            let expected = rules.iter().any(|r| r.matches(ip, port));
            let got = stream(&policy, INET, Operation::Connect, &SocketAddr::new(ip, port).to_string());
            prop_assert_eq!(got == Verdict::Allow, expected);
        }
    }
}
