//! A read-only directory of the host, served by proxy (see
//! `hurd_translator::readonly`): lookups below it come back here, and
//! every change is EROFS whatever the host's permissions.

use std::sync::Arc;

use hurd::errno::Errno;
use hurd::fs::{self, Lookup};
use hurd::port::SendRight;
use hurd::server::{Credentials, Node, Reply, RetryKind, Stat};
use hurd_translator::open::check_readonly;
use hurd_translator::readonly::{HOPS_MAX, Next, next};

use crate::link::target_for_client;

/// `S_IFMT` and `S_IFDIR`, the Hurd's (and everyone's) file type bits.
const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;

/// One open of a host directory, as one client opened it: the host's port
/// carries that client's identity and open flags.
#[derive(Debug)]
pub struct ReadOnlyDir {
    host: SendRight,
}

impl ReadOnlyDir {
    pub fn new(host: SendRight) -> Arc<ReadOnlyDir> {
        Arc::new(ReadOnlyDir { host })
    }
}

/// Opens `rest` below the host's `target` with `flags` for a client with
/// `creds`, keeping it read-only: `target` is looked up with the
/// translator's own credentials, reparented so that `..` from its top
/// leads to `dotdot`, and given the client's identity before anything is
/// looked up on the client's behalf.
pub fn open_readonly(
    target: &str,
    dotdot: Option<&SendRight>,
    creds: &Credentials,
    rest: &str,
    flags: i32,
) -> Result<Reply, Errno> {
    check_readonly(flags)?;
    open_below(&target_for_client(target, dotdot, creds)?, rest, flags)
}

/// Opens `name` below the host directory `dir` with `flags`, for a client
/// whose identity `dir` carries: a directory comes back served read-only
/// here, a file as the host's port opened without write access, and a
/// retry that leaves the read-only tree (an absolute link, `..` above it)
/// as the host gave it.
pub fn open_below(dir: &SendRight, name: &str, flags: i32) -> Result<Reply, Errno> {
    check_readonly(flags)?;
    let mut answer = fs::dir_lookup(dir, name, flags, 0).map_err(|e| e.code())?;
    for _ in 0..HOPS_MAX {
        let Lookup { kind, name, port } = answer;
        let Some(port) = port else {
            return Ok(Reply::Retry { kind, name, port: None });
        };
        match next(kind, &name, hurd::server::serves(&port)) {
            Next::Client => return Ok(Reply::Retry { kind, name, port: Some(port) }),
            Next::Done => {
                let stat = fs::stat(&port).map_err(|e| e.code())?;
                if stat.mode & S_IFMT == S_IFDIR {
                    return Ok(Reply::Open(ReadOnlyDir::new(port)));
                }
                return Ok(Reply::Retry { kind: RetryKind::Normal, name: String::new(), port: Some(port) });
            }
            Next::Continue => answer = fs::dir_lookup(&port, &name, flags, 0).map_err(|e| e.code())?,
        }
    }
    Err(Errno::ELOOP)
}

impl Node for ReadOnlyDir {
    fn stat(&self) -> Result<Stat, Errno> {
        fs::stat(&self.host).map_err(|e| e.code())
    }

    fn read(&self, _offset: i64, _amount: usize) -> Result<Vec<u8>, Errno> {
        Err(Errno::EISDIR)
    }

    fn write(&self, _offset: i64, _data: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EROFS)
    }

    fn set_size(&self, _size: i64) -> Result<(), Errno> {
        Err(Errno::EROFS)
    }

    fn readdir(&self, entry: usize, nentries: i32, bufsiz: usize) -> Result<(Vec<u8>, usize), Errno> {
        let entry = i32::try_from(entry).map_err(|_| Errno::EINVAL)?;
        fs::readdir(&self.host, entry, nentries, bufsiz).map_err(|e| e.code())
    }

    fn with_credentials(&self, creds: Credentials) -> Result<Arc<dyn Node>, Errno> {
        // The host narrows the identity; it never widens it.
        let host = fs::restrict_auth(&self.host, &creds.uids, &creds.gids).map_err(|e| e.code())?;
        Ok(ReadOnlyDir::new(host))
    }

    fn read_only(&self) -> bool {
        true
    }

    fn lookup(&self, name: &str, flags: i32, _mode: u32) -> Result<Reply, Errno> {
        open_below(&self.host, name, flags)
    }
}
