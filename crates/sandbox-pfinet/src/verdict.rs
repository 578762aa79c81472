//! The socket verdict: may this socket operation go through, and on which
//! stack?
//!
//! (policy, domain, type, operation, address) → allow on the build's own
//! stack or the host's, allow with a rewritten address, or deny with the
//! reason. Pure; the server applies it to every `socket_create`,
//! `socket_bind`, `socket_connect` and `socket_send` with an address.
//!
//! Two stacks: the build's own (a pfinet with loopback only, where every
//! bind and every loopback address goes: the host's loopback services are
//! never the build's) and the host's (the destinations the policy lets
//! out).

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

/// Which IP stack an allowed operation runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Route {
    /// The build's own pfinet: loopback only.
    Own,
    /// The host's pfinet.
    Host,
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow(Route),
    /// Allowed, with this address in place of the one given (a bind to the
    /// unspecified address becomes a bind to the build's loopback).
    AllowAs(SocketAddr, Route),
    Deny(Denial),
}

/// Why an operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    #[error("address family {0} is not served here")]
    Domain(u32),
    #[error("socket type {0:?} is not allowed")]
    Type(SocketType),
    #[error("an {domain} socket cannot use the address {addr}")]
    WrongFamily { domain: &'static str, addr: IpAddr },
    #[error("binding to {0} would listen outside the build's loopback")]
    BindOutside(IpAddr),
    #[error("{0} is the unspecified address, not a destination")]
    Unspecified(IpAddr),
    #[error("{addr} port {port} is not loopback and no rule allows it")]
    Destination { addr: IpAddr, port: u16 },
    #[error("{0} is one of the host's own addresses")]
    HostAddress(IpAddr),
}

/// How a refusal looks to the build: the way the network itself would
/// have failed the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `EAFNOSUPPORT`: a family or an address of another family.
    FamilyNotSupported,
    /// `EPERM`: what an unprivileged user gets for a raw socket.
    NotPermitted,
    /// `EACCES`: a bind refused.
    Access,
    /// `ECONNREFUSED`: a connection refused.
    ConnectionRefused,
    /// `ENETUNREACH`: a datagram with nowhere to go.
    NetworkUnreachable,
}

impl Denial {
    /// What the build is answered when `op` (none: a socket's creation)
    /// was refused for this reason.
    pub fn refusal(&self, op: Option<Operation>) -> Refusal {
        match (self, op) {
            (Denial::Domain(_) | Denial::WrongFamily { .. }, _) => Refusal::FamilyNotSupported,
            (Denial::Type(_), _) => Refusal::NotPermitted,
            (_, Some(Operation::Bind)) | (Denial::BindOutside(_), _) => Refusal::Access,
            (_, Some(Operation::Send)) => Refusal::NetworkUnreachable,
            (_, Some(Operation::Connect) | None) => Refusal::ConnectionRefused,
        }
    }
}

/// Whether an address is one of the host's own, which the `host` policy
/// keeps from the build (services listening on them are the host's). The
/// server asks the host's stack; the address given is never loopback,
/// unspecified or IPv4-mapped.
pub trait HostAddresses {
    fn is_hosts(&self, ip: IpAddr) -> bool;
}

/// A fixed list of the host's addresses.
impl HostAddresses for Vec<IpAddr> {
    fn is_hosts(&self, ip: IpAddr) -> bool {
        self.iter().any(|&a| unmapped(a) == ip)
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it stands for.
pub fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(IpAddr::V6(a), IpAddr::V4),
        v4 => v4,
    }
}

/// May a socket of this domain and type be created at all? (Only TCP and
/// UDP: a raw socket writes its own headers, to anywhere.)
pub fn creation(family: u32, kind: SocketType) -> Result<(), Denial> {
    match SocketDomain::from_family(family) {
        Some(SocketDomain::Inet | SocketDomain::Inet6) => {}
        _ => return Err(Denial::Domain(family)),
    }
    match kind {
        SocketType::Stream | SocketType::Datagram => Ok(()),
        other => Err(Denial::Type(other)),
    }
}

/// May a socket of `family` and `kind` do `op` with `addr`, and where?
pub fn verdict(
    policy: &NetworkPolicy,
    host: &dyn HostAddresses,
    family: u32,
    kind: SocketType,
    op: Operation,
    addr: SocketAddr,
) -> Verdict {
    if let Err(d) = creation(family, kind) {
        return Verdict::Deny(d);
    }
    let domain = if family == SocketDomain::Inet.family() { SocketDomain::Inet } else { SocketDomain::Inet6 };
    // An IPv6 socket reaches IPv4 through mapped addresses: judge those as
    // the IPv4 address they stand for.
    let ip = match (domain, addr.ip()) {
        (SocketDomain::Inet, IpAddr::V4(a)) => IpAddr::V4(a),
        (SocketDomain::Inet6, a @ IpAddr::V6(_)) => unmapped(a),
        (d, a) => return Verdict::Deny(Verdict::wrong_family(d, a)),
    };
    match op {
        Operation::Bind if ip.is_loopback() => Verdict::Allow(Route::Own),
        Operation::Bind if ip.is_unspecified() => {
            let lo = match addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            };
            Verdict::AllowAs(SocketAddr::new(lo, addr.port()), Route::Own)
        }
        Operation::Bind => Verdict::Deny(Denial::BindOutside(ip)),
        Operation::Connect | Operation::Send => {
            if ip.is_loopback() {
                return Verdict::Allow(Route::Own);
            }
            if ip.is_unspecified() {
                return Verdict::Deny(Denial::Unspecified(ip));
            }
            match policy {
                NetworkPolicy::Allow(rules) if rules.iter().any(|r| r.matches(ip, addr.port())) => {
                    Verdict::Allow(Route::Host)
                }
                NetworkPolicy::Host if host.is_hosts(ip) => Verdict::Deny(Denial::HostAddress(ip)),
                NetworkPolicy::Host => Verdict::Allow(Route::Host),
                NetworkPolicy::Allow(_) | NetworkPolicy::Loopback => {
                    Verdict::Deny(Denial::Destination { addr: ip, port: addr.port() })
                }
            }
        }
    }
}

impl Verdict {
    fn wrong_family(domain: SocketDomain, addr: IpAddr) -> Denial {
        Denial::WrongFamily { domain: domain.name(), addr }
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

    fn ip(s: &str) -> IpAddr {
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

    fn host_addresses() -> Vec<IpAddr> {
        vec![ip("10.0.2.15"), ip("fec0::5054:ff:fe12:3456")]
    }

    fn stream(policy: &NetworkPolicy, family: u32, op: Operation, addr: &str) -> Verdict {
        verdict(policy, &host_addresses(), family, SocketType::Stream, op, sa(addr))
    }

    #[test]
    fn loopback_policy() {
        let lo = NetworkPolicy::Loopback;
        assert_eq!(stream(&lo, INET, Operation::Connect, "127.0.0.1:80"), Verdict::Allow(Route::Own));
        assert_eq!(stream(&lo, INET, Operation::Connect, "127.8.9.10:80"), Verdict::Allow(Route::Own), "all of 127/8");
        assert_eq!(stream(&lo, INET6, Operation::Connect, "[::1]:80"), Verdict::Allow(Route::Own));
        assert_eq!(
            stream(&lo, INET6, Operation::Send, "[::ffff:127.0.0.1]:53"),
            Verdict::Allow(Route::Own),
            "mapped loopback"
        );
        assert_eq!(
            stream(&lo, INET, Operation::Connect, "192.0.2.1:443"),
            Verdict::Deny(Denial::Destination { addr: ip("192.0.2.1"), port: 443 })
        );
        assert_eq!(
            stream(&lo, INET6, Operation::Connect, "[::ffff:192.0.2.1]:443"),
            Verdict::Deny(Denial::Destination { addr: ip("192.0.2.1"), port: 443 }),
            "a mapped address is judged as the IPv4 one"
        );
        assert_eq!(
            stream(&lo, INET, Operation::Connect, "0.0.0.0:80"),
            Verdict::Deny(Denial::Unspecified(ip("0.0.0.0")))
        );
    }

    #[test]
    fn binds_stay_on_the_builds_loopback() {
        for policy in [NetworkPolicy::Loopback, allow_list(), NetworkPolicy::Host] {
            assert_eq!(stream(&policy, INET, Operation::Bind, "127.0.0.1:8080"), Verdict::Allow(Route::Own));
            assert_eq!(
                stream(&policy, INET, Operation::Bind, "0.0.0.0:8080"),
                Verdict::AllowAs(sa("127.0.0.1:8080"), Route::Own)
            );
            assert_eq!(stream(&policy, INET6, Operation::Bind, "[::]:0"), Verdict::AllowAs(sa("[::1]:0"), Route::Own));
            assert_eq!(
                stream(&policy, INET, Operation::Bind, "192.0.2.5:80"),
                Verdict::Deny(Denial::BindOutside(ip("192.0.2.5"))),
                "allow rules are destinations, not local addresses"
            );
        }
    }

    #[test]
    fn allow_rules_match_range_and_port() {
        let p = allow_list();
        let host = Verdict::Allow(Route::Host);
        assert_eq!(stream(&p, INET, Operation::Connect, "192.0.2.200:443"), host);
        assert_eq!(stream(&p, INET, Operation::Connect, "192.0.2.200:8080"), host);
        assert!(matches!(
            stream(&p, INET, Operation::Connect, "192.0.2.200:80"),
            Verdict::Deny(Denial::Destination { .. })
        ));
        assert!(matches!(stream(&p, INET, Operation::Connect, "192.0.3.1:443"), Verdict::Deny(_)));
        assert_eq!(stream(&p, INET6, Operation::Send, "[2001:db8:1::9]:22"), host, "no ports: all");
        assert!(matches!(stream(&p, INET6, Operation::Send, "[2001:db9::9]:22"), Verdict::Deny(_)));
        let udp = verdict(&p, &host_addresses(), INET, SocketType::Datagram, Operation::Send, sa("192.0.2.1:443"));
        assert_eq!(udp, host);
        assert_eq!(
            stream(&p, INET, Operation::Connect, "127.0.0.1:1"),
            Verdict::Allow(Route::Own),
            "loopback is always in, and the build's own"
        );
    }

    #[test]
    fn host_policy_keeps_the_hosts_own_services_out() {
        let h = NetworkPolicy::Host;
        assert_eq!(stream(&h, INET, Operation::Connect, "203.0.113.1:25"), Verdict::Allow(Route::Host));
        assert_eq!(stream(&h, INET6, Operation::Connect, "[2001:db8::1]:80"), Verdict::Allow(Route::Host));
        // Loopback is the build's own stack, never the host's.
        assert_eq!(stream(&h, INET, Operation::Connect, "127.0.0.1:5432"), Verdict::Allow(Route::Own));
        assert_eq!(stream(&h, INET6, Operation::Connect, "[::1]:5432"), Verdict::Allow(Route::Own));
        assert_eq!(
            stream(&h, INET, Operation::Connect, "10.0.2.15:22"),
            Verdict::Deny(Denial::HostAddress(ip("10.0.2.15")))
        );
        assert_eq!(
            stream(&h, INET6, Operation::Send, "[::ffff:10.0.2.15]:53"),
            Verdict::Deny(Denial::HostAddress(ip("10.0.2.15"))),
            "nor through a mapped address"
        );
        assert_eq!(
            stream(&h, INET6, Operation::Connect, "[fec0::5054:ff:fe12:3456]:22"),
            Verdict::Deny(Denial::HostAddress(ip("fec0::5054:ff:fe12:3456")))
        );
    }

    #[test]
    fn families_and_types() {
        let lo = NetworkPolicy::Loopback;
        assert_eq!(creation(INET, SocketType::Stream), Ok(()));
        assert_eq!(creation(INET6, SocketType::Datagram), Ok(()));
        assert_eq!(creation(INET, SocketType::Raw), Err(Denial::Type(SocketType::Raw)));
        assert_eq!(creation(INET, SocketType::from_raw(5)), Err(Denial::Type(SocketType::SeqPacket)));
        assert_eq!(creation(1, SocketType::Stream), Err(Denial::Domain(1)), "local sockets are pflocal's");
        assert_eq!(
            stream(&lo, INET, Operation::Connect, "[::1]:80"),
            Verdict::Deny(Denial::WrongFamily { domain: "inet", addr: ip("::1") })
        );
        assert_eq!(
            stream(&lo, INET6, Operation::Connect, "127.0.0.1:80"),
            Verdict::Deny(Denial::WrongFamily { domain: "inet6", addr: ip("127.0.0.1") })
        );
        for policy in [lo, NetworkPolicy::Host] {
            assert_eq!(
                verdict(&policy, &host_addresses(), INET, SocketType::Raw, Operation::Send, sa("203.0.113.1:0")),
                Verdict::Deny(Denial::Type(SocketType::Raw)),
                "no raw socket under any policy"
            );
        }
    }

    #[test]
    fn refusals_look_like_the_networks_own() {
        let dest = Denial::Destination { addr: ip("192.0.2.1"), port: 80 };
        assert_eq!(dest.refusal(Some(Operation::Connect)), Refusal::ConnectionRefused);
        assert_eq!(dest.refusal(Some(Operation::Send)), Refusal::NetworkUnreachable);
        assert_eq!(Denial::BindOutside(ip("192.0.2.1")).refusal(Some(Operation::Bind)), Refusal::Access);
        assert_eq!(Denial::Type(SocketType::Raw).refusal(None), Refusal::NotPermitted);
        assert_eq!(Denial::Domain(1).refusal(None), Refusal::FamilyNotSupported);
        assert_eq!(Denial::HostAddress(ip("10.0.2.15")).refusal(Some(Operation::Connect)), Refusal::ConnectionRefused);
    }

    fn any_addr(a: u32, b: u128, port: u16, v6: bool) -> (u32, SocketAddr) {
        if v6 {
            (INET6, SocketAddr::new(IpAddr::V6(b.into()), port))
        } else {
            (INET, SocketAddr::new(IpAddr::V4(a.into()), port))
        }
    }

    fn reached(v: Verdict, addr: SocketAddr) -> Option<(IpAddr, Route)> {
        match v {
            Verdict::Allow(r) => Some((unmapped(addr.ip()), r)),
            Verdict::AllowAs(x, r) => Some((unmapped(x.ip()), r)),
            Verdict::Deny(_) => None,
        }
    }

    proptest! {
        /// Under the loopback policy nothing reaches the host's stack, and
        /// the build's own stack only at loopback addresses.
        #[test]
        fn loopback_never_leaks(a in any::<u32>(), b in any::<u128>(), port in any::<u16>(), v6 in any::<bool>(), op in 0..3u8, t in 1..6i32) {
            let op = [Operation::Bind, Operation::Connect, Operation::Send][op as usize];
            let (family, addr) = any_addr(a, b, port, v6);
            let v = verdict(&NetworkPolicy::Loopback, &host_addresses(), family, SocketType::from_raw(t), op, addr);
            if let Some((ip, route)) = reached(v, addr) {
                prop_assert_eq!(route, Route::Own);
                prop_assert!(ip.is_loopback(), "{:?} {} reached {}", op, addr, ip);
            }
        }

        /// Under any policy, the host's stack never gets a loopback
        /// address, one of the host's own, or a bind.
        #[test]
        fn the_hosts_stack_gets_only_destinations_outside(a in any::<u32>(), b in any::<u128>(), port in any::<u16>(), v6 in any::<bool>(), op in 0..3u8, which in 0..3u8, own in any::<bool>()) {
            let op = [Operation::Bind, Operation::Connect, Operation::Send][op as usize];
            let policy = [NetworkPolicy::Loopback, allow_list(), NetworkPolicy::Host][which as usize].clone();
            let (family, addr) = any_addr(a, b, port, v6);
            let host = if own { vec![unmapped(addr.ip())] } else { host_addresses() };
            let v = verdict(&policy, &host, family, SocketType::Stream, op, addr);
            if let Some((ip, Route::Host)) = reached(v, addr) {
                prop_assert!(op != Operation::Bind);
                prop_assert!(!ip.is_loopback() && !ip.is_unspecified());
                prop_assert!(!host.is_hosts(ip), "{} is the host's", ip);
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
            prop_assert_eq!(got == Verdict::Allow(Route::Host), expected);
        }
    }
}
