//! Address ranges and port ranges as the network policy names them.

use std::fmt;
use std::net::IpAddr;

/// Why an address range or a port range did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("{0:?} is not an IPv4 or IPv6 address")]
    BadAddress(String),
    #[error("{text:?}: prefix length {len:?} is not a number from 0 to {max}")]
    BadPrefix { text: String, len: String, max: u8 },
    #[error("{text:?} has bits set past its /{len} prefix (did you mean {suggestion}?)")]
    HostBits { text: String, len: u8, suggestion: String },
    #[error("{0:?} is not a port (1-65535) or a range of ports such as \"8000-8080\"")]
    BadPort(String),
    #[error("{0:?}: the first port of a range is above the last")]
    BackwardsPorts(String),
}

/// A CIDR range: an address and a prefix length. A bare address is a
/// range of one (`/32` or `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpRange {
    addr: IpAddr,
    len: u8,
}

impl IpRange {
    pub fn parse(text: &str) -> Result<Self, NetError> {
        let (addr_text, len_text) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text.parse().map_err(|_| NetError::BadAddress(text.to_owned()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len_text {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= max && !l.starts_with('+') => n,
                _ => return Err(NetError::BadPrefix { text: text.to_owned(), len: l.to_owned(), max }),
            },
        };
        let range = IpRange { addr, len };
        let network = range.network();
        if network != addr {
            return Err(NetError::HostBits { text: text.to_owned(), len, suggestion: format!("{network}/{len}") });
        }
        Ok(range)
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => {
                let mask = mask32(self.len);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = mask128(self.len);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }

    /// Whether `ip` lies in the range. An IPv4 range never contains an
    /// IPv6 address and the other way round; callers that accept
    /// IPv4-mapped IPv6 addresses unmap them first.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = mask32(self.len);
                u32::from(ip) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = mask128(self.len);
                u128::from(ip) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

fn mask32(len: u8) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) }
}

fn mask128(len: u8) -> u128 {
    if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// An inclusive range of ports, `first..=last`, never containing port 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    /// `"80"` or `"8000-8080"`.
    pub fn parse(text: &str) -> Result<Self, NetError> {
        let port = |t: &str| -> Result<u16, NetError> {
            match t.trim().parse::<u16>() {
                Ok(p) if p != 0 && !t.trim().starts_with('+') => Ok(p),
                _ => Err(NetError::BadPort(text.to_owned())),
            }
        };
        let (first, last) = match text.split_once('-') {
            Some((a, b)) => (port(a)?, port(b)?),
            None => {
                let p = port(text)?;
                (p, p)
            }
        };
        if first > last {
            return Err(NetError::BackwardsPorts(text.to_owned()));
        }
        Ok(PortRange { first, last })
    }

    pub fn single(port: u16) -> Result<Self, NetError> {
        if port == 0 {
            return Err(NetError::BadPort("0".to_owned()));
        }
        Ok(PortRange { first: port, last: port })
    }

    pub fn contains(&self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last { write!(f, "{}", self.first) } else { write!(f, "{}-{}", self.first, self.last) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_contain() {
        let r = IpRange::parse("10.0.0.0/8").unwrap();
        assert!(r.contains(ip("10.255.1.2")));
        assert!(!r.contains(ip("11.0.0.0")));
        assert!(!r.contains(ip("::ffff:10.0.0.1")));
        let one = IpRange::parse("192.0.2.7").unwrap();
        assert_eq!(one.prefix_len(), 32);
        assert!(one.contains(ip("192.0.2.7")));
        assert!(!one.contains(ip("192.0.2.8")));
        let v6 = IpRange::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        let all = IpRange::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        assert!(!all.contains(ip("::1")));
    }

    #[test]
    fn bad_ranges_say_why() {
        assert_eq!(IpRange::parse("10.0.0/8"), Err(NetError::BadAddress("10.0.0/8".into())));
        assert_eq!(
            IpRange::parse("10.0.0.0/33"),
            Err(NetError::BadPrefix { text: "10.0.0.0/33".into(), len: "33".into(), max: 32 })
        );
        assert_eq!(
            IpRange::parse("10.0.0.1/8"),
            Err(NetError::HostBits { text: "10.0.0.1/8".into(), len: 8, suggestion: "10.0.0.0/8".into() })
        );
        assert!(matches!(IpRange::parse("::1/129"), Err(NetError::BadPrefix { max: 128, .. })));
        assert!(matches!(IpRange::parse("10.0.0.0/+8"), Err(NetError::BadPrefix { .. })));
    }

    #[test]
    fn ports() {
        assert_eq!(PortRange::parse("80").unwrap(), PortRange { first: 80, last: 80 });
        let r = PortRange::parse("8000-8080").unwrap();
        assert!(r.contains(8000) && r.contains(8080) && !r.contains(8081));
        assert_eq!(PortRange::parse("0"), Err(NetError::BadPort("0".into())));
        assert_eq!(PortRange::parse("70000"), Err(NetError::BadPort("70000".into())));
        assert_eq!(PortRange::parse("90-80"), Err(NetError::BackwardsPorts("90-80".into())));
        assert_eq!(PortRange::parse("http"), Err(NetError::BadPort("http".into())));
        assert_eq!(r.to_string(), "8000-8080");
    }
}
