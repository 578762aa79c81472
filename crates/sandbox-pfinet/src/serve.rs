//! Serving the policy: the environment's IPv4 and IPv6 socket servers,
//! whose sockets judge every address ([`crate::verdict`]) before a stack
//! sees it.
//!
//! Each of the build's sockets starts on the build's own stack (a pfinet
//! with loopback only). The first connection or datagram to a
//! destination the policy lets out moves it, before it has done anything
//! else, to a socket of the same kind on the host's stack, with the open
//! modes and options the build had set. From then on it stays there and
//! reaches only such destinations. Data (`io_read`, `io_write`,
//! `socket_recv`, ...) goes as it came to the socket on its stack
//! ([`crate::pass::forwards`]); no port of a stack's socket is ever handed
//! to the build.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};

use hurd::errno::Errno;
use hurd::port::SendRight;
use hurd_server::Credentials;
use hurd_server::ports::{Forward, Object};
use hurd_server::socket::{Address, SOCKET, SOCKET_SERVER, SendTo, Socket, SocketServer};
use sandbox_spec::NetworkPolicy;

use crate::pass;
use crate::verdict::{Denial, HostAddresses, Operation, Refusal, Route, SocketType, Verdict, creation, verdict};

/// What every socket of an environment judges by.
#[derive(Debug)]
pub struct Policy {
    pub network: NetworkPolicy,
    pub host: HostProbe,
}

/// Tells the host's own addresses by asking the host's stacks: a
/// datagram socket there can be bound to an address exactly when the
/// address is one of the host's (whatever interfaces it has now, IPv4 and
/// IPv6 alike). Answers are kept, up to [`HostProbe::KEPT`] addresses.
#[derive(Debug)]
pub struct HostProbe {
    inet: Option<SendRight>,
    inet6: Option<SendRight>,
    known: Mutex<BTreeMap<IpAddr, bool>>,
}

impl HostProbe {
    const KEPT: usize = 256;

    /// Asks the host's IPv4 and IPv6 servers (either may be missing).
    pub fn new(inet: Option<SendRight>, inet6: Option<SendRight>) -> HostProbe {
        HostProbe { inet, inet6, known: Mutex::new(BTreeMap::new()) }
    }

    fn ask(&self, ip: IpAddr) -> bool {
        let (server, family) = match ip {
            IpAddr::V4(_) => (self.inet.as_ref(), crate::sockaddr::AF_INET),
            IpAddr::V6(_) => (self.inet6.as_ref(), crate::sockaddr::AF_INET6),
        };
        // No stack to ask: nothing of it is the host's to reach either.
        let Some(server) = server else { return true };
        const SOCK_DGRAM: i32 = 2;
        let bound = hurd::socket::create(server, SOCK_DGRAM, 0).and_then(|sock| {
            let here =
                hurd::socket::create_address(&sock, i32::from(family), &crate::sockaddr::encode(&(ip, 0).into()))?;
            hurd::socket::bind(&sock, &here)
        });
        match bound {
            Ok(()) => true,
            Err(Errno::EADDRNOTAVAIL) => false,
            // Not known to be someone else's: kept from the build.
            Err(e) => {
                log::debug!("network: asking the host's stack whether {ip} is its own: {e}");
                true
            }
        }
    }
}

impl HostAddresses for HostProbe {
    fn is_hosts(&self, ip: IpAddr) -> bool {
        if let Some(&known) = self.known.lock().unwrap_or_else(|e| e.into_inner()).get(&ip) {
            return known;
        }
        let answer = self.ask(ip);
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= Self::KEPT {
            known.clear();
        }
        known.insert(ip, answer);
        answer
    }
}

/// One family's two stacks: their server ports (`/servers/socket/N`),
/// each with no identity (the sockets made there have no user's rights).
#[derive(Debug)]
pub struct Stacks {
    /// The build's own pfinet's.
    pub own: SendRight,
    /// The host's.
    pub host: Arc<SendRight>,
}

/// A family's server, as the environment's `/servers/socket/N` gives it.
#[derive(Debug)]
pub struct Family {
    family: i32,
    policy: Arc<Policy>,
    stacks: Stacks,
}

impl Family {
    pub fn new(family: i32, policy: Arc<Policy>, stacks: Stacks) -> Arc<Family> {
        debug_assert_eq!(pass::SEND_TO_PEER, hurd_server::socket::SEND_TO_PEER);
        Arc::new(Family { family, policy, stacks })
    }

    /// Serves the family on a new port, to be handed to the build.
    pub fn serve(self: &Arc<Self>) -> Result<SendRight, hurd_server::ServerError> {
        let server: Arc<dyn SocketServer> = self.clone();
        hurd_server::ports::serve(Object::new(&SOCKET_SERVER, server))
    }
}

fn errno(refusal: Refusal) -> Errno {
    match refusal {
        Refusal::FamilyNotSupported => Errno::EAFNOSUPPORT,
        Refusal::NotPermitted => Errno::EPERM,
        Refusal::Access => Errno::EACCES,
        Refusal::ConnectionRefused => Errno::ECONNREFUSED,
        Refusal::NetworkUnreachable => Errno::ENETUNREACH,
    }
}

/// Logs a refusal where a user reading a failed build's log looks, and
/// gives its answer.
fn refuse(denial: Denial, op: Option<Operation>) -> Errno {
    let what = op.map_or_else(|| "creating a socket".to_owned(), |op| format!("{op:?}").to_lowercase());
    log::info!("network: {what} refused: {denial}");
    errno(denial.refusal(op))
}

impl SocketServer for Family {
    fn family(&self) -> i32 {
        self.family
    }

    fn create(&self, kind: i32, protocol: i32) -> Result<SendRight, Errno> {
        let judged = SocketType::from_raw(kind);
        creation(self.family as u32, judged).map_err(|d| refuse(d, None))?;
        let own = hurd::socket::create(&self.stacks.own, kind, protocol)?;
        let sock = Arc::new(Sock {
            family: self.family,
            kind,
            judged,
            protocol,
            policy: self.policy.clone(),
            host_stack: self.stacks.host.clone(),
            own,
            host: OnceLock::new(),
            state: Mutex::new(State::default()),
        });
        serve_socket(sock, Credentials::default())
    }
}

/// One of the build's sockets.
#[derive(Debug)]
struct Sock {
    family: i32,
    kind: i32,
    judged: SocketType,
    protocol: i32,
    policy: Arc<Policy>,
    host_stack: Arc<SendRight>,
    /// Its socket on the build's own stack.
    own: SendRight,
    /// Its socket on the host's, once it moved there.
    host: OnceLock<SendRight>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// It did something on the build's own stack (bound, connected,
    /// sent): it stays there.
    used_own: bool,
    /// The options it set, to set again if it moves.
    options: Vec<(i32, i32, Vec<u8>)>,
}

impl Sock {
    /// The socket that requests go to now.
    fn current(&self) -> &SendRight {
        self.host.get().unwrap_or(&self.own)
    }

    /// The address the build gave, parsed and judged for `op`: the
    /// address to use and the socket to use it on.
    fn judge(&self, addr: Option<&Address>, op: Operation) -> Result<(SocketAddr, &SendRight), Errno> {
        self.judge_as(addr, op, true)
    }

    /// [`Sock::judge`]; `commits`: an operation on the build's own stack
    /// keeps the socket there (all but a datagram bind to any port).
    fn judge_as(
        &self,
        addr: Option<&Address>,
        op: Operation,
        commits: bool,
    ) -> Result<(SocketAddr, &SendRight), Errno> {
        let addr = addr.ok_or(Errno::EINVAL)?;
        if addr.family != self.family {
            return Err(Errno::EAFNOSUPPORT);
        }
        let parsed = crate::sockaddr::parse(&addr.sockaddr).map_err(|e| {
            log::debug!("network: {op:?}: {e}");
            Errno::EINVAL
        })?;
        let (to, route) =
            match verdict(&self.policy.network, &self.policy.host, self.family as u32, self.judged, op, parsed) {
                Verdict::Allow(route) => (parsed, route),
                Verdict::AllowAs(other, route) => (other, route),
                Verdict::Deny(denial) => return Err(refuse(denial, Some(op))),
            };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let sock = match (route, self.host.get()) {
            (Route::Own, None) => {
                state.used_own |= commits;
                &self.own
            }
            (Route::Host, Some(host)) if op != Operation::Bind => host,
            (Route::Host, None) if !state.used_own && op != Operation::Bind => self.move_to_host(&state)?,
            // A socket on one stack never reaches the other's addresses:
            // the host's loopback is not the build's.
            _ => {
                log::info!("network: {op:?} to {to} refused: the socket already uses the other stack");
                return Err(if op == Operation::Connect { Errno::ECONNREFUSED } else { Errno::ENETUNREACH });
            }
        };
        Ok((to, sock))
    }

    /// Makes the socket's twin on the host's stack, as the build set up
    /// the first one.
    fn move_to_host(&self, state: &State) -> Result<&SendRight, Errno> {
        let host = hurd::socket::create(&self.host_stack, self.kind, self.protocol)?;
        if let Ok(modes) = hurd::socket::openmodes(&self.own) {
            hurd::socket::set_openmodes(&host, modes)?;
        }
        for (level, option, value) in &state.options {
            hurd::socket::setopt(&host, *level, *option, value)?;
        }
        log::debug!("network: a socket moves to the host's stack");
        Ok(self.host.get_or_init(|| host))
    }

    /// An address port for `to` on `sock`'s stack.
    fn address_on(&self, sock: &SendRight, to: &SocketAddr) -> Result<SendRight, Errno> {
        hurd::socket::create_address(sock, self.family, &crate::sockaddr::encode(to))
    }
}

/// A port of one of the build's sockets, with the identity it was made
/// for.
#[derive(Debug)]
struct SockPort {
    sock: Arc<Sock>,
    creds: Credentials,
}

fn serve_socket(sock: Arc<Sock>, creds: Credentials) -> Result<SendRight, Errno> {
    hurd_server::ports::serve(socket_object(sock, creds)).map_err(|e| {
        log::warn!("serving a socket: {e}");
        Errno::ENOMEM
    })
}

fn socket_object(sock: Arc<Sock>, creds: Credentials) -> Object {
    let port = Arc::new(SockPort { sock, creds });
    let socket: Arc<dyn Socket> = port.clone();
    Object::new(&SOCKET, socket).with_io(port.clone()).with_forward(port)
}

impl Forward for SockPort {
    fn forward_port(&self) -> Option<&SendRight> {
        Some(self.sock.current())
    }

    fn forwards(&self, routine: &str) -> bool {
        self.forward_for(routine).is_some()
    }

    /// One look at where the socket is: a request decided for the build's
    /// own stack goes there even if the socket moves meanwhile (a listen
    /// must never reach the host's).
    fn forward_for(&self, routine: &str) -> Option<&SendRight> {
        let host = self.sock.host.get();
        pass::forwards(routine, host.is_some()).then(|| host.unwrap_or(&self.sock.own))
    }
}

impl hurd_server::Io for SockPort {
    fn credentials(&self) -> Credentials {
        self.creds.clone()
    }

    fn with_credentials(&self, creds: Credentials) -> Result<Object, Errno> {
        Ok(socket_object(self.sock.clone(), creds))
    }
}

impl Socket for SockPort {
    fn family(&self) -> i32 {
        self.sock.family
    }

    fn connect(&self, addr: Option<&Address>) -> Result<(), Errno> {
        let (to, sock) = self.sock.judge(addr, Operation::Connect)?;
        let there = self.sock.address_on(sock, &to)?;
        hurd::socket::connect(sock, &there)
    }

    fn bind(&self, addr: Option<&Address>) -> Result<(), Errno> {
        // A datagram client asking for any port on any address (every one
        // of Rust's standard library does) is bound on the build's
        // loopback, and may still move to the host's stack with its first
        // destination there (where the socket is bound anew).
        let any = addr
            .filter(|a| a.family == self.sock.family)
            .and_then(|a| crate::sockaddr::parse(&a.sockaddr).ok())
            .is_some_and(|sa| sa.ip().is_unspecified() && sa.port() == 0);
        let any_datagram = any && self.sock.judged == SocketType::Datagram;
        if any_datagram && self.sock.host.get().is_some() {
            return Err(Errno::EINVAL);
        }
        let (to, sock) = self.sock.judge_as(addr, Operation::Bind, !any_datagram)?;
        let there = self.sock.address_on(sock, &to)?;
        hurd::socket::bind(sock, &there)
    }

    fn send(&self, to: SendTo<'_>, flags: i32, data: &[u8], control: &[u8]) -> Result<usize, Errno> {
        // (Routing by hand, and ancillary data, which could carry it.)
        const MSG_DONTROUTE: i32 = 4;
        if flags & MSG_DONTROUTE != 0 || !control.is_empty() {
            log::info!("network: a send with flags {flags:#x} and {} bytes of control refused", control.len());
            return Err(Errno::EOPNOTSUPP);
        }
        match to {
            SendTo::Peer => hurd::socket::send(self.sock.current(), None, flags, data, control),
            SendTo::Address(addr) => {
                let (to, sock) = self.sock.judge(Some(addr), Operation::Send)?;
                let there = self.sock.address_on(sock, &to)?;
                hurd::socket::send(sock, Some(&there), flags, data, control)
            }
        }
    }

    fn setopt(&self, level: i32, option: i32, value: &[u8]) -> Result<(), Errno> {
        if !pass::option_allowed(level, option) {
            log::info!("network: socket option {option:#x} at level {level} refused");
            return Err(Errno::ENOPROTOOPT);
        }
        let mut state = self.sock.state.lock().unwrap_or_else(|e| e.into_inner());
        hurd::socket::setopt(self.sock.current(), level, option, value)?;
        // Kept (once the stack took it) to be set again if it moves.
        if self.sock.host.get().is_none() && !pass::keep_option(&mut state.options, level, option, value) {
            return Err(Errno::ENOPROTOOPT);
        }
        Ok(())
    }
}
