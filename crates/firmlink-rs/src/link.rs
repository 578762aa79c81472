//! The firmlink on the Hurd: a translator whose root is its target,
//! handed out through a retry.

use std::sync::{Arc, Mutex};

use hurd::errno::Errno;
use hurd::fs::{self, O_CREAT};
use hurd::port::SendRight;
use hurd_server::{Control, Credentials, Forward, Io, Node, Reply, RetryKind, Stat};

use crate::options::Options;
use crate::readonly::open_readonly;

/// `S_IFLNK`, the Hurd's (and everyone's) type bits of a symbolic link.
const S_IFLNK: u32 = 0o120_000;

/// One firmlink: its options, changeable with `fsys_set_options`.
#[derive(Debug)]
pub struct Firmlink {
    program: String,
    options: Mutex<Options>,
}

impl Firmlink {
    pub fn new(program: String, options: Options) -> Arc<Firmlink> {
        Arc::new(Firmlink { program, options: Mutex::new(options) })
    }

    fn options_now(&self) -> Options {
        self.options.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Looks the target up with the translator's own credentials, reparents
/// it to `dotdot` and strips its credentials, so that the client
/// reauthenticates it as itself: what a client gets from a writable
/// firmlink (a read-only one is [`open_readonly`]'s).
pub fn firmlink_port(target: &str, dotdot: Option<&SendRight>, flags: i32) -> Result<SendRight, Errno> {
    reparented(target, flags & !O_CREAT, dotdot, &Credentials::default())
}

/// The target as a client with `creds` uses it when the translator looks
/// names up below it on the client's behalf: looked up with the
/// translator's own credentials, reparented to `dotdot`, and given the
/// client's identity (which the translator, as root, may give). A
/// translator may keep it for further lookups by the same client.
pub fn target_for_client(target: &str, dotdot: Option<&SendRight>, creds: &Credentials) -> Result<SendRight, Errno> {
    reparented(target, 0, dotdot, creds)
}

/// As [`target_for_client`], for a target the client may change (a build
/// directory): the node itself, never a translator the client set on it,
/// which would answer our lookup as root.
pub fn own_target_for_client(
    target: &str,
    dotdot: Option<&SendRight>,
    creds: &Credentials,
) -> Result<SendRight, Errno> {
    reparented(target, fs::O_NOTRANS, dotdot, creds)
}

/// `target` opened with `flags` as the translator itself, reparented to
/// `dotdot`, with no more identity than `creds` (none: the holder must
/// reauthenticate it).
fn reparented(target: &str, flags: i32, dotdot: Option<&SendRight>, creds: &Credentials) -> Result<SendRight, Errno> {
    let target = fs::lookup(target.as_ref(), flags, 0).map_err(|e| e.code())?;
    log::debug!("target {target:?}, dotdot {dotdot:?}");
    let reparented = fs::reparent(&target, dotdot).map_err(|e| e.code())?;
    fs::restrict_auth(&reparented, &creds.uids, &creds.gids).map_err(|e| e.code())
}

impl Control for Firmlink {
    fn getroot(&self, dotdot: Option<&SendRight>, creds: &Credentials, flags: i32) -> Result<Reply, Errno> {
        let options = self.options_now();
        let reply = if options.readonly {
            open_readonly(&options.target, dotdot, creds, "", flags)
        } else {
            firmlink_port(&options.target, dotdot, flags).map(|port| Reply::Retry {
                kind: RetryKind::Reauth,
                name: String::new(),
                port: Some(port),
            })
        };
        match reply {
            Ok(reply) => Ok(reply),
            // No target: the link reads as a symbolic link to it.
            Err(Errno::ENOENT) => Ok(Reply::Open(Arc::new(Dangling { target: options.target.into() }))),
            Err(e) => Err(e),
        }
    }

    fn goaway(&self, flags: i32) -> Result<(), Errno> {
        // A writable link's clients hold the target's ports, not ours (a
        // client reading the dangling link holds one, and that keeps
        // nothing). A read-only link serves the directories its clients
        // hold, which keep it unless forced.
        hurd_translator::leave::goaway(flags, 0, self.options_now().readonly)
    }

    fn options(&self) -> Vec<String> {
        let mut args = vec![self.program.clone()];
        args.extend(self.options_now().to_args());
        args
    }

    fn set_options(&self, args: &[String]) -> Result<(), Errno> {
        let mut current = self.options.lock().unwrap_or_else(|e| e.into_inner());
        // fsysopts passes the options without the program name.
        let new = Options::parse(args, Some(&current)).map_err(|e| {
            log::warn!("fsys_set_options: {e}");
            Errno::EINVAL
        })?;
        *current = new;
        Ok(())
    }
}

/// The link itself, when its target does not exist: a symbolic link whose
/// contents are the target's name.
#[derive(Debug, Clone)]
struct Dangling {
    target: Arc<str>,
}

impl Forward for Dangling {}

impl Io for Dangling {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { mode: S_IFLNK | 0o777, size: self.target.len() as i64, nlink: 1, ..Stat::default() })
    }

    fn read(&self, offset: i64, amount: usize) -> Result<Vec<u8>, Errno> {
        hurd_translator::peropen::window(self.target.as_bytes(), offset, amount).map(<[u8]>::to_vec)
    }
}

impl Node for Dangling {
    fn lookup(&self, name: &str, _flags: i32, _mode: u32) -> Result<Reply, Errno> {
        // Only the link itself can be opened again; it has nothing below.
        if name.is_empty() { Ok(Reply::Open(Arc::new(self.clone()))) } else { Err(Errno::ENOTDIR) }
    }
}
