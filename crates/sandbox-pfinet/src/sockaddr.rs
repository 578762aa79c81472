//! Socket addresses as they travel in the Hurd's socket RPCs
//! (`socket_create_address`, `socket_whatis_address`): the 4.4BSD layout,
//! with a length byte and a one-byte family before the port.
//!
//! IPv4 (`sockaddr_in`, 16 bytes): len, family 2, port (big-endian),
//! address, 8 bytes of zero. IPv6 (`sockaddr_in6`, 28 bytes): len, family
//! 26, port, flow info (4), address (16), scope id (4).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

pub const AF_INET: u8 = 2;
pub const AF_INET6: u8 = 26;
const SOCKADDR_IN_LEN: usize = 16;
const SOCKADDR_IN6_LEN: usize = 28;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SockaddrError {
    #[error("a socket address of {got} bytes is too short for family {family} (needs {need})")]
    TooShort { family: u8, got: usize, need: usize },
    #[error("a socket address with no family byte ({0} bytes)")]
    Empty(usize),
    #[error("address family {0} is not IPv4 or IPv6")]
    Family(u8),
}

/// Reads an IP socket address from its bytes.
pub fn parse(bytes: &[u8]) -> Result<SocketAddr, SockaddrError> {
    let family = *bytes.get(1).ok_or(SockaddrError::Empty(bytes.len()))?;
    let need = match family {
        AF_INET => SOCKADDR_IN_LEN - 8, // the trailing zeros may be left off
        AF_INET6 => 24,                 // the scope id may be left off
        other => return Err(SockaddrError::Family(other)),
    };
    if bytes.len() < need {
        return Err(SockaddrError::TooShort { family, got: bytes.len(), need });
    }
    let port = u16::from_be_bytes([bytes[2], bytes[3]]);
    Ok(match family {
        AF_INET => SocketAddr::new(IpAddr::V4(Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7])), port),
        _ => {
            let flow = u32::from_be_bytes(bytes[4..8].try_into().expect("4 bytes"));
            let addr: [u8; 16] = bytes[8..24].try_into().expect("16 bytes");
            let scope = match bytes.get(24..28) {
                Some(s) => u32::from_ne_bytes(s.try_into().expect("4 bytes")),
                None => 0,
            };
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(addr), port, flow, scope))
        }
    })
}

/// Writes an IP socket address in the Hurd's layout.
pub fn encode(addr: &SocketAddr) -> Vec<u8> {
    match addr {
        SocketAddr::V4(a) => {
            let mut out = vec![0u8; SOCKADDR_IN_LEN];
            out[0] = SOCKADDR_IN_LEN as u8;
            out[1] = AF_INET;
            out[2..4].copy_from_slice(&a.port().to_be_bytes());
            out[4..8].copy_from_slice(&a.ip().octets());
            out
        }
        SocketAddr::V6(a) => {
            let mut out = vec![0u8; SOCKADDR_IN6_LEN];
            out[0] = SOCKADDR_IN6_LEN as u8;
            out[1] = AF_INET6;
            out[2..4].copy_from_slice(&a.port().to_be_bytes());
            out[4..8].copy_from_slice(&a.flowinfo().to_be_bytes());
            out[8..24].copy_from_slice(&a.ip().octets());
            out[24..28].copy_from_slice(&a.scope_id().to_ne_bytes());
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ipv4_layout() {
        let bytes = [16, 2, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&bytes).unwrap(), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(encode(&"127.0.0.1:8080".parse().unwrap()), bytes);
        assert_eq!(parse(&bytes[..8]).unwrap(), "127.0.0.1:8080".parse().unwrap(), "no trailing zeros");
    }

    #[test]
    fn ipv6_layout() {
        let a: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
        let bytes = encode(&a);
        assert_eq!(bytes.len(), 28);
        assert_eq!(&bytes[..4], &[28, 26, 0x01, 0xbb]);
        assert_eq!(&bytes[8..10], &[0x20, 0x01]);
        assert_eq!(parse(&bytes).unwrap(), a);
    }

    #[test]
    fn bad_addresses() {
        assert_eq!(parse(&[]), Err(SockaddrError::Empty(0)));
        assert_eq!(parse(&[16, 1, 0, 0]), Err(SockaddrError::Family(1)));
        assert_eq!(parse(&[16, 2, 0, 80, 127]), Err(SockaddrError::TooShort { family: 2, got: 5, need: 8 }));
        assert_eq!(parse(&[28, 26, 0, 80]), Err(SockaddrError::TooShort { family: 26, got: 4, need: 24 }));
    }

    proptest! {
        #[test]
        fn round_trip(a in any::<SocketAddr>()) {
            let a = match a {
                // The layout has room for these; std's parser keeps them.
                SocketAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(*v6.ip(), v6.port(), v6.flowinfo(), v6.scope_id())),
                v4 => v4,
            };
            prop_assert_eq!(parse(&encode(&a)).unwrap(), a);
        }
    }
}
