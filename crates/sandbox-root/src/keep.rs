//! `run --keep-failed`: a failed build's directory handed to the person
//! who ran it, without ever changing anything through a link the build
//! made or a translator on one of its nodes.
//!
//! The build ran as the build user and could leave anything in its
//! directory: a symbolic link to a host file, or a hard link to one (a
//! hard link is the file itself, so changing its owner changes the host
//! file's: the way guix-daemon's CVE-2021-27851 went). On the Hurd a node
//! can also carry a translator (a passive record that the host's file
//! system starts when the node is looked up, or an active one set from
//! outside), which may answer a lookup of the node with a retry to any
//! host file, say `/etc/shadow`, and report what it likes to a `stat` by
//! name.
//!
//! So the walk never acts on a name. Each entry is opened once, relative
//! to the descriptor of the directory the walk opened itself, as the node
//! itself ([`open_itself`]: on the Hurd `O_NOTRANS | O_NOLINK` with
//! neither read nor write access, which gives the node, never a
//! translator's answer nor what a link names, and starts nothing; on
//! Linux `O_PATH | O_NOFOLLOW`); what to do is decided on `fstat` of that
//! descriptor ([`decide`], pure), and the owner and mode are changed
//! through that descriptor. A node with a translator set on it (the
//! Hurd's `S_IPTRANS` and `S_IATRANS` in the descriptor's mode, and, for
//! a regular file or a directory, `file_get_translator` and
//! `file_get_translator_cntl` on the node looked up with `O_NOTRANS` and
//! checked to be the same one) is left as it is, and so is everything
//! below it; so is a non-directory with more than one name (it may have
//! one outside), and anything on another device. Set-user-ID and
//! set-group-ID bits are cleared before the owner changes, and a
//! directory changes owner only once everything in it has.
//! It runs only once every process of the build is gone ([`crate::run`]
//! checks that first), so nothing of the build changes the tree while it
//! is walked.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{FileStat, Mode, SFlag, fstat};
use nix::unistd::{Gid, Uid};

/// The set-user-ID and set-group-ID bits.
const SET_ID: u32 = 0o6000;

/// The Hurd's `S_IPTRANS` and `S_IATRANS`: in a node's `st_mode`, a
/// passive translator is recorded on it, a translator runs on it. No
/// other system sets these bits.
const PASSIVE_BIT: u32 = 0o1000_0000;
const ACTIVE_BIT: u32 = 0o2000_0000;
#[cfg(target_os = "hurd")]
const _: () =
    assert!(PASSIVE_BIT == nix::libc::S_IPTRANS && ACTIVE_BIT == nix::libc::S_IATRANS, "the Hurd's translator bits");

/// What kind of node an entry is, from its `st_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Directory,
    Regular,
    Symlink,
    Fifo,
    Socket,
    /// A character or block device.
    Device,
}

impl Kind {
    pub fn of(mode: u32) -> Kind {
        let format = SFlag::from_bits_truncate(mode as nix::libc::mode_t & SFlag::S_IFMT.bits());
        match format {
            SFlag::S_IFDIR => Kind::Directory,
            SFlag::S_IFLNK => Kind::Symlink,
            SFlag::S_IFIFO => Kind::Fifo,
            SFlag::S_IFSOCK => Kind::Socket,
            SFlag::S_IFCHR | SFlag::S_IFBLK => Kind::Device,
            _ => Kind::Regular,
        }
    }
}

/// A translator set on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Translator {
    /// A passive translator record: the node's file system starts that
    /// program when the node is looked up (without `O_NOTRANS`), and its
    /// answers stand for the node.
    Passive,
    /// A translator runs on the node.
    Active,
}

impl Translator {
    /// What a node's mode says is set on it (the Hurd's `S_IPTRANS` and
    /// `S_IATRANS`; never set elsewhere).
    pub fn of(mode: u32) -> Option<Translator> {
        if mode & PASSIVE_BIT != 0 {
            Some(Translator::Passive)
        } else if mode & ACTIVE_BIT != 0 {
            Some(Translator::Active)
        } else {
            None
        }
    }
}

impl std::fmt::Display for Translator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Translator::Passive => "a passive translator record",
            Translator::Active => "an active translator",
        })
    }
}

/// What `fstat` of an entry's own descriptor ([`open_itself`]) says of it:
/// the node itself, never what a link names or a translator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub kind: Kind,
    pub nlink: u64,
    pub dev: u64,
    pub ino: u64,
    /// The permission bits, set-ID bits included.
    pub mode: u32,
    /// A translator set on it, if any.
    pub translator: Option<Translator>,
}

impl Facts {
    // (The widths of these fields differ between systems.)
    #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
    pub fn of(stat: &FileStat) -> Facts {
        Facts {
            kind: Kind::of(stat.st_mode as u32),
            nlink: u64::from(stat.st_nlink),
            dev: stat.st_dev as u64,
            ino: stat.st_ino as u64,
            mode: stat.st_mode as u32 & 0o7777,
            translator: Translator::of(stat.st_mode as u32),
        }
    }
}

/// Why an entry is left as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// A translator is set on it: what a lookup of it answers (a retry
    /// to any file of the host, any `stat`) is the translator's, not the
    /// build directory's. A directory's entries are left with it.
    Translated(Translator),
    /// A file with more than one name: one may be outside the build
    /// directory, and changing it would change that one.
    HardLinked { links: u64 },
    /// On another device than the build directory (a file system mounted
    /// below it): not the build's to hand over.
    OtherDevice,
    /// A device node: its owner may use the device.
    Device,
}

impl std::fmt::Display for Left {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Left::Translated(translator) => write!(
                f,
                "{translator} is set on it, and what a lookup of it answers may be any file outside the build directory"
            ),
            Left::HardLinked { links } => {
                write!(f, "it has {links} names (hard links), and one may be a file outside the build directory")
            }
            Left::OtherDevice => write!(f, "it is on another device than the build directory"),
            Left::Device => write!(f, "it is a device node"),
        }
    }
}

/// What to do with one entry of the build directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// A directory: hand over what it holds, then change its owner.
    Descend,
    /// Change its owner (a symbolic link's own, never what it names);
    /// `strip_set_id`: first clear its set-user-ID and set-group-ID bits,
    /// which would otherwise run it as the new owner for anyone.
    Chown {
        strip_set_id: bool,
    },
    Leave(Left),
}

/// What to do with an entry that `facts` describes, in a build directory
/// on the device `top_dev`.
pub fn decide(facts: &Facts, top_dev: u64) -> Handling {
    if let Some(translator) = facts.translator {
        return Handling::Leave(Left::Translated(translator));
    }
    if facts.dev != top_dev {
        return Handling::Leave(Left::OtherDevice);
    }
    match facts.kind {
        // A directory has one name (its other links are `.` and `..`).
        Kind::Directory => Handling::Descend,
        _ if facts.nlink > 1 => Handling::Leave(Left::HardLinked { links: facts.nlink }),
        Kind::Device => Handling::Leave(Left::Device),
        Kind::Regular => Handling::Chown { strip_set_id: facts.mode & SET_ID != 0 },
        Kind::Symlink | Kind::Fifo | Kind::Socket => Handling::Chown { strip_set_id: false },
    }
}

/// Who gets a kept build directory: the invoking user, `real` (the real
/// uid and gid of `run`), or, when that is root and `sudo` ran it, the
/// user `SUDO_UID` names, with `SUDO_GID` as the group (else that user's
/// primary group, `primary_gid`, else root's group). Never the build
/// group: every build user has it.
pub fn recipient(
    real: (u32, u32),
    sudo_uid: Option<&OsStr>,
    sudo_gid: Option<&OsStr>,
    primary_gid: impl Fn(u32) -> Option<u32>,
) -> (u32, u32) {
    let number = |text: Option<&OsStr>| text.and_then(|t| t.to_str()).and_then(|t| t.parse::<u32>().ok());
    match number(sudo_uid) {
        Some(uid) if real.0 == 0 => (uid, number(sudo_gid).or_else(|| primary_gid(uid)).unwrap_or(real.1)),
        _ => real,
    }
}

/// Why a build directory, or part of it, could not be handed over.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    #[error("{path}: opening it: {source}")]
    Open { path: PathBuf, source: Errno },
    #[error("{path}: reading it: {source}")]
    Stat { path: PathBuf, source: Errno },
    #[error("{path}: not a directory (a symbolic link or a file): not handed over")]
    NotADirectory { path: PathBuf },
    #[error("{path}: {translator} is set on it: not handed over")]
    Translated { path: PathBuf, translator: Translator },
    #[error("{path}: asking whether a translator is set on it: {what}: left as it is")]
    Translator { path: PathBuf, what: String },
    #[error("{path}: it changed while it was walked: left as it is")]
    Changed { path: PathBuf },
    #[error("{path}: listing it: {source}")]
    List { path: PathBuf, source: std::io::Error },
    #[error("{path}: changing its owner: {source}")]
    Chown { path: PathBuf, source: Errno },
    #[error("{path}: clearing its set-user-ID and set-group-ID bits: {source}: left as it is")]
    Chmod { path: PathBuf, source: Errno },
}

/// What [`hand_over`] did.
#[derive(Debug, Default)]
pub struct Handed {
    /// How many entries now belong to the recipient (the directory
    /// itself included).
    pub changed: usize,
    /// Entries left as they are, and why.
    pub left: Vec<(PathBuf, Left)>,
    /// Entries that could not be changed.
    pub errors: Vec<KeepError>,
}

/// Gives the directory `top` and everything below it that [`decide`] lets
/// change to `owner` (uid, gid). `top` itself is opened as the node its
/// name names ([`open_itself`]: a link or a translator there is refused);
/// the path above it is the daemon's, and followed.
pub fn hand_over(top: &Path, owner: (u32, u32)) -> Result<Handed, KeepError> {
    let name = top.file_name().ok_or_else(|| KeepError::NotADirectory { path: top.into() })?;
    let parent = match top.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = c_name(name, top)?;
    let above = nix::fcntl::open(parent, OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|source| KeepError::Open { path: parent.into(), source })?;
    let fd = open_itself(&above, &name).map_err(|source| KeepError::Open { path: top.into(), source })?;
    let facts = facts_of(&fd, top)?;
    if facts.kind != Kind::Directory {
        return Err(KeepError::NotADirectory { path: top.into() });
    }
    if let Some(translator) = facts.translator {
        return Err(KeepError::Translated { path: top.into(), translator });
    }
    let mut walk =
        Walk { owner: (Uid::from_raw(owner.0), Gid::from_raw(owner.1)), top_dev: facts.dev, handed: Handed::default() };
    walk.entry(&above, &name, &fd, top, &facts);
    Ok(walk.handed)
}

struct Walk {
    owner: (Uid, Gid),
    top_dev: u64,
    handed: Handed,
}

impl Walk {
    /// The entry `name` of the directory `dir` (at `path`): `fd`, opened
    /// as the node itself, which `facts` describes.
    fn entry(&mut self, dir: &OwnedFd, name: &CStr, fd: &OwnedFd, path: &Path, facts: &Facts) {
        match decide(facts, self.top_dev) {
            Handling::Leave(why) => self.handed.left.push((path.into(), why)),
            Handling::Chown { strip_set_id } => {
                if strip_set_id {
                    if let Err(e) = strip(dir, name, fd, path, facts) {
                        // (Not handed over with its bits: it would run as
                        // its new owner for anyone.)
                        self.handed.errors.push(e);
                        return;
                    }
                }
                self.chown(fd, path);
            }
            Handling::Descend => match self.directory(fd, path, facts) {
                // Its owner last: until then nobody but root may change
                // what is in it.
                Ok(()) => self.chown(fd, path),
                Err(e) => self.handed.errors.push(e),
            },
        }
    }

    /// Changes the owner of the node `fd` itself.
    fn chown(&mut self, fd: &OwnedFd, path: &Path) {
        match chown_itself(fd, self.owner) {
            Ok(()) => self.handed.changed += 1,
            Err(source) => self.handed.errors.push(KeepError::Chown { path: path.into(), source }),
        }
    }

    /// Each entry of the directory `fd` (at `path`), which `facts`
    /// describes: opened as itself relative to `fd`, and handed over.
    fn directory(&mut self, fd: &OwnedFd, path: &Path, facts: &Facts) -> Result<(), KeepError> {
        for entry_name in names(path, facts)? {
            let entry_path = path.join(&entry_name);
            let name = match c_name(&entry_name, &entry_path) {
                Ok(name) => name,
                Err(e) => {
                    self.handed.errors.push(e);
                    continue;
                }
            };
            let entry = match open_itself(fd, &name) {
                Ok(entry) => entry,
                Err(source) => {
                    self.handed.errors.push(KeepError::Open { path: entry_path, source });
                    continue;
                }
            };
            match facts_of(&entry, &entry_path) {
                Ok(entry_facts) => self.entry(fd, &name, &entry, &entry_path, &entry_facts),
                Err(e) => self.handed.errors.push(e),
            }
        }
        Ok(())
    }
}

/// Opens the entry `name` of the directory `dir` as the node itself,
/// neither to read nor to write it: what `fstat`, changing its owner and
/// its mode take.
///
/// On the Hurd, `O_NOTRANS` and `O_NOLINK` on the last (only) component:
/// the file system answers with the node itself, never with a translator
/// set on it (none is started) nor with what a link names; no access
/// (`O_NORW`, no bit) and `O_IGNORE_CTTY`: nothing but the node is asked.
/// Not `O_NOFOLLOW`: the C library then refuses a link even opened as
/// itself (ELOOP), and `O_NOLINK` is what keeps it from being followed;
/// nor `O_DIRECTORY`, which without `O_NOFOLLOW` it sends as a trailing
/// slash, for which the file system starts the translator after all.
///
/// Elsewhere (Linux), `O_PATH | O_NOFOLLOW`: a link itself; nothing is
/// opened but the name's node.
pub fn open_itself(dir: &OwnedFd, name: &CStr) -> nix::Result<OwnedFd> {
    nix::fcntl::openat(dir.as_fd(), name, itself(), Mode::empty())
}

#[cfg(target_os = "hurd")]
fn itself() -> OFlag {
    use nix::libc::{O_IGNORE_CTTY, O_NOLINK, O_NOTRANS};
    OFlag::from_bits_retain(O_NOTRANS | O_NOLINK | O_IGNORE_CTTY) | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC
}

#[cfg(not(target_os = "hurd"))]
fn itself() -> OFlag {
    OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

/// Changes the owner of the node `fd` ([`open_itself`]) itself.
#[cfg(target_os = "hurd")]
fn chown_itself(fd: &OwnedFd, (uid, gid): (Uid, Gid)) -> nix::Result<()> {
    nix::unistd::fchown(fd, Some(uid), Some(gid))
}

/// (An `O_PATH` descriptor takes `fchownat` of the empty name only; for a
/// link, that is the link itself.)
#[cfg(not(target_os = "hurd"))]
fn chown_itself(fd: &OwnedFd, (uid, gid): (Uid, Gid)) -> nix::Result<()> {
    nix::unistd::fchownat(fd, "", Some(uid), Some(gid), nix::fcntl::AtFlags::AT_EMPTY_PATH)
}

/// What the entry at `path`, opened as `fd` ([`open_itself`]), is: its
/// descriptor's `fstat`, and on the Hurd also what its file system says is
/// set on it ([`hurd_side::set_on`]).
fn facts_of(fd: &OwnedFd, path: &Path) -> Result<Facts, KeepError> {
    let facts = Facts::of(&fstat(fd).map_err(|source| KeepError::Stat { path: path.into(), source })?);
    #[cfg(all(target_os = "hurd", hurd_sys_generated))]
    if facts.translator.is_none() {
        return Ok(Facts { translator: hurd_side::set_on(path, &facts)?, ..facts });
    }
    #[cfg(not(all(target_os = "hurd", hurd_sys_generated)))]
    let _ = path;
    Ok(facts)
}

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
mod hurd_side {
    use std::path::Path;

    use super::{Facts, KeepError, Kind, Translator};

    /// What is set on the node at `path`, which `facts` describes (from
    /// its own descriptor, whose mode showed no translator bit), as its
    /// file system answers `file_get_translator_cntl` and
    /// `file_get_translator`: a second look, for a file system that keeps
    /// the bits out of its `stat`. The node is looked up with `O_NOTRANS |
    /// O_NOLINK` (the directories on the way are the walk's own, with no
    /// translator on them) and checked to be the one `facts` describes.
    pub(super) fn set_on(path: &Path, facts: &Facts) -> Result<Option<Translator>, KeepError> {
        let error = |what: String| KeepError::Translator { path: path.into(), what };
        let port =
            hurd::fs::lookup(path, hurd::fs::O_NOTRANS | hurd::fs::O_NOLINK, 0).map_err(|e| error(e.to_string()))?;
        let stat = hurd::fs::stat(&port).map_err(|e| error(e.to_string()))?;
        if stat.ino != facts.ino || Kind::of(stat.mode) != facts.kind {
            return Err(KeepError::Changed { path: path.into() });
        }
        if let Some(translator) = Translator::of(stat.mode) {
            return Ok(Some(translator));
        }
        if hurd::fs::translator_control(&port).is_ok() {
            return Ok(Some(Translator::Active));
        }
        // (For a link, a FIFO, a socket or a device, a disk file system
        // answers with the translator its type stands for, /hurd/symlink
        // and its target, /hurd/fifo…; a record of its own would show in
        // the mode.)
        if matches!(facts.kind, Kind::Regular | Kind::Directory) {
            let passive = hurd::fs::translator(&port).map_err(|e| error(e.to_string()))?;
            if !passive.is_empty() {
                return Ok(Some(Translator::Passive));
            }
        }
        Ok(None)
    }
}

/// The names in the directory at `path`, which is the node `facts`
/// describes (checked before and after): only names, which the walk
/// then takes relative to the descriptor it opened. (Not read from that
/// descriptor: nix's directory iteration overflows the Hurd's `dirent`,
/// whose name the libc crate declares one byte long.)
fn names(path: &Path, facts: &Facts) -> Result<Vec<OsString>, KeepError> {
    let same = || std::fs::symlink_metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == (facts.dev, facts.ino));
    if !same() {
        return Err(KeepError::Changed { path: path.into() });
    }
    let list = |source| KeepError::List { path: path.into(), source };
    let names = std::fs::read_dir(path)
        .map_err(list)?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(list)?;
    if !same() {
        return Err(KeepError::Changed { path: path.into() });
    }
    Ok(names)
}

/// Clears the set-ID bits of the regular file `fd` (the entry `name` of
/// `dir`, at `path`), which `facts` describes.
fn strip(dir: &OwnedFd, name: &CStr, fd: &OwnedFd, path: &Path, facts: &Facts) -> Result<(), KeepError> {
    let mode = Mode::from_bits_truncate((facts.mode & !SET_ID) as nix::libc::mode_t);
    chmod_itself(dir, name, fd, path, facts, mode)
}

/// Changes the mode of the node `fd` ([`open_itself`]) itself.
#[cfg(target_os = "hurd")]
fn chmod_itself(_: &OwnedFd, _: &CStr, fd: &OwnedFd, path: &Path, _: &Facts, mode: Mode) -> Result<(), KeepError> {
    nix::sys::stat::fchmod(fd, mode).map_err(|source| KeepError::Chmod { path: path.into(), source })
}

/// (An `O_PATH` descriptor takes no `fchmod`: the regular file is opened
/// again by its name in `dir`, read-only, without following a link, and
/// checked to be the node `facts` describes. Linux has no translators.)
#[cfg(not(target_os = "hurd"))]
fn chmod_itself(
    dir: &OwnedFd,
    name: &CStr,
    _: &OwnedFd,
    path: &Path,
    facts: &Facts,
    mode: Mode,
) -> Result<(), KeepError> {
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    let again = nix::fcntl::openat(dir.as_fd(), name, flags, Mode::empty())
        .map_err(|source| KeepError::Open { path: path.into(), source })?;
    let now = Facts::of(&fstat(&again).map_err(|source| KeepError::Stat { path: path.into(), source })?);
    if (now.dev, now.ino, now.kind) != (facts.dev, facts.ino, Kind::Regular) {
        return Err(KeepError::Changed { path: path.into() });
    }
    nix::sys::stat::fchmod(&again, mode).map_err(|source| KeepError::Chmod { path: path.into(), source })
}

fn c_name(name: &OsStr, path: &Path) -> Result<CString, KeepError> {
    CString::new(name.as_bytes()).map_err(|_| KeepError::Open { path: path.into(), source: Errno::EINVAL })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn facts(kind: Kind, nlink: u64, dev: u64, mode: u32) -> Facts {
        Facts { kind, nlink, dev, ino: 7, mode, translator: None }
    }

    const KINDS: [Kind; 6] = [Kind::Directory, Kind::Regular, Kind::Symlink, Kind::Fifo, Kind::Socket, Kind::Device];

    #[test]
    fn a_node_with_a_translator_is_left_alone() {
        // A passive record the host's file system starts (a firmlink to
        // /etc/shadow), or an active translator set from outside: the node
        // itself looks like any file of the build (one name, the build
        // directory's device), but a lookup of it answers with the host's.
        for translator in [Translator::Passive, Translator::Active] {
            for kind in KINDS {
                let set = Facts { translator: Some(translator), ..facts(kind, 1, 1, 0o644) };
                assert_eq!(decide(&set, 1), Handling::Leave(Left::Translated(translator)), "{kind:?}");
                // Whatever else it is.
                let set = Facts { translator: Some(translator), ..facts(kind, 2, 9, 0o4755) };
                assert_eq!(decide(&set, 1), Handling::Leave(Left::Translated(translator)), "{kind:?}");
            }
        }
        let text = Left::Translated(Translator::Passive).to_string();
        assert!(text.starts_with("a passive translator record is set on it"), "{text}");
    }

    #[test]
    fn translators_from_the_mode() {
        assert_eq!(Translator::of(0o100_644), None);
        assert_eq!(Translator::of(0o040_755), None);
        assert_eq!(Translator::of(0o100_644 | PASSIVE_BIT), Some(Translator::Passive));
        assert_eq!(Translator::of(0o040_755 | ACTIVE_BIT), Some(Translator::Active));
        assert_eq!(Translator::of(0o100_644 | PASSIVE_BIT | ACTIVE_BIT), Some(Translator::Passive));
        // The mode's other high bits (the Hurd's S_IROOT, S_IMMAP0, the
        // unknown user's) say nothing of a translator.
        assert_eq!(Translator::of(0o040_755 | 0o4000_0000 | 0o1_0000_0000 | 0o7_000_000), None);
        assert_eq!(Kind::of(0o100_644 | PASSIVE_BIT | ACTIVE_BIT), Kind::Regular);
    }

    #[test]
    fn a_hard_link_to_a_file_outside_is_left_alone() {
        // A build's hard link to /etc/shadow is /etc/shadow: two names.
        assert_eq!(decide(&facts(Kind::Regular, 2, 1, 0o640), 1), Handling::Leave(Left::HardLinked { links: 2 }));
        // Whatever it is: a hard link to a link, a FIFO, a socket.
        for kind in [Kind::Symlink, Kind::Fifo, Kind::Socket, Kind::Device] {
            assert_eq!(
                decide(&facts(kind, 3, 1, 0o644), 1),
                Handling::Leave(Left::HardLinked { links: 3 }),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn a_symlink_is_changed_itself_never_followed() {
        // (What it names is never looked at: only the link's own facts.)
        assert_eq!(decide(&facts(Kind::Symlink, 1, 1, 0o777), 1), Handling::Chown { strip_set_id: false });
    }

    #[test]
    fn files_and_directories_of_the_build_are_handed_over() {
        assert_eq!(decide(&facts(Kind::Regular, 1, 1, 0o644), 1), Handling::Chown { strip_set_id: false });
        assert_eq!(decide(&facts(Kind::Fifo, 1, 1, 0o600), 1), Handling::Chown { strip_set_id: false });
        assert_eq!(decide(&facts(Kind::Socket, 1, 1, 0o755), 1), Handling::Chown { strip_set_id: false });
        // A directory's link count counts its subdirectories' `..`.
        assert_eq!(decide(&facts(Kind::Directory, 5, 1, 0o755), 1), Handling::Descend);
    }

    #[test]
    fn set_id_bits_are_cleared() {
        assert_eq!(decide(&facts(Kind::Regular, 1, 1, 0o4755), 1), Handling::Chown { strip_set_id: true });
        assert_eq!(decide(&facts(Kind::Regular, 1, 1, 0o2755), 1), Handling::Chown { strip_set_id: true });
        // A set-group-ID directory only passes its group on.
        assert_eq!(decide(&facts(Kind::Directory, 2, 1, 0o2755), 1), Handling::Descend);
    }

    #[test]
    fn other_devices_and_device_nodes_are_left_alone() {
        assert_eq!(decide(&facts(Kind::Directory, 2, 9, 0o755), 1), Handling::Leave(Left::OtherDevice));
        assert_eq!(decide(&facts(Kind::Regular, 1, 9, 0o644), 1), Handling::Leave(Left::OtherDevice));
        assert_eq!(decide(&facts(Kind::Device, 1, 1, 0o666), 1), Handling::Leave(Left::Device));
    }

    #[test]
    fn kinds_from_the_mode() {
        assert_eq!(Kind::of(0o040_755), Kind::Directory);
        assert_eq!(Kind::of(0o100_644), Kind::Regular);
        assert_eq!(Kind::of(0o120_777), Kind::Symlink);
        assert_eq!(Kind::of(0o010_644), Kind::Fifo);
        assert_eq!(Kind::of(0o140_755), Kind::Socket);
        assert_eq!(Kind::of(0o020_666), Kind::Device);
        assert_eq!(Kind::of(0o060_660), Kind::Device);
    }

    #[test]
    fn the_recipient_is_the_invoking_user() {
        let none = |_| None;
        let os = |s: &'static str| Some(OsStr::new(s));
        assert_eq!(recipient((1000, 100), None, None, none), (1000, 100));
        // Not root: SUDO_UID means nothing.
        assert_eq!(recipient((1000, 100), os("0"), os("0"), none), (1000, 100));
        assert_eq!(recipient((0, 0), None, None, none), (0, 0));
        assert_eq!(recipient((0, 0), os("1000"), os("1001"), none), (1000, 1001));
        assert_eq!(recipient((0, 0), os("1000"), None, |uid| (uid == 1000).then_some(100)), (1000, 100));
        assert_eq!(recipient((0, 0), os("1000"), None, none), (1000, 0));
        assert_eq!(recipient((0, 0), os("-1"), os("x"), none), (0, 0));
    }

    /// A directory of its own under the system's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sandbox-root-keep-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn hand_over_refuses_a_link_as_the_top() {
        let dir = scratch("top-link");
        std::fs::create_dir(dir.join("real")).unwrap();
        std::os::unix::fs::symlink(dir.join("real"), dir.join("build")).unwrap();
        let mine = (nix::unistd::getuid().as_raw(), nix::unistd::getgid().as_raw());
        assert!(matches!(hand_over(&dir.join("build"), mine), Err(KeepError::NotADirectory { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hand_over_to_oneself_walks_by_descriptor() {
        // (Any user may "change" the owner of their own files to
        // themselves: the whole walk, without root.)
        let dir = scratch("self");
        let build = dir.join("build");
        std::fs::create_dir_all(build.join("a/b")).unwrap();
        std::fs::write(build.join("a/b/file"), "x").unwrap();
        std::fs::write(build.join("setgid"), "y").unwrap();
        std::fs::set_permissions(build.join("setgid"), std::fs::Permissions::from_mode(0o2755)).unwrap();
        std::os::unix::fs::symlink("/nonexistent/target", build.join("dangling")).unwrap();
        std::fs::write(build.join("twice"), "z").unwrap();
        std::fs::hard_link(build.join("twice"), build.join("a/twice")).unwrap();
        let mine = (nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw());
        let handed = hand_over(&build, mine).unwrap();
        assert!(handed.errors.is_empty(), "{:?}", handed.errors);
        // "", a, a/b, a/b/file, setgid, dangling.
        assert_eq!(handed.changed, 6);
        let mut left: Vec<_> = handed.left.iter().map(|(p, why)| (p.strip_prefix(&build).unwrap(), *why)).collect();
        left.sort_by_key(|(p, _)| p.to_path_buf());
        let twice = Left::HardLinked { links: 2 };
        assert_eq!(left, [(Path::new("a/twice"), twice), (Path::new("twice"), twice)]);
        let mode = std::fs::metadata(build.join("setgid")).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o755, "set-ID bits are cleared");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hand_over_changes_only_what_is_the_builds() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: changing owners needs root");
            return;
        }
        let dir = scratch("tree");
        let outside = dir.join("outside");
        std::fs::write(&outside, "host").unwrap();
        std::fs::write(dir.join("link-target"), "host").unwrap();
        let build = dir.join("build");
        std::fs::create_dir_all(build.join("sub/deeper")).unwrap();
        std::fs::write(build.join("file"), "x").unwrap();
        std::fs::write(build.join("sub/deeper/file"), "y").unwrap();
        std::fs::hard_link(&outside, build.join("hard")).unwrap();
        std::os::unix::fs::symlink(dir.join("link-target"), build.join("soft")).unwrap();
        std::os::unix::fs::symlink(dir.join("link-target"), build.join("sub/soft")).unwrap();
        std::fs::write(build.join("setuid"), "z").unwrap();
        std::fs::set_permissions(build.join("setuid"), std::fs::Permissions::from_mode(0o4755)).unwrap();
        // A link to a directory outside: changed itself, never entered.
        std::fs::create_dir(dir.join("host-dir")).unwrap();
        std::fs::write(dir.join("host-dir/file"), "host").unwrap();
        std::os::unix::fs::symlink(dir.join("host-dir"), build.join("sub/dir-link")).unwrap();
        nix::unistd::mkfifo(&build.join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(build.join("socket")).unwrap();
        let handed = hand_over(&build, (4242, 4343)).unwrap();
        assert!(handed.errors.is_empty(), "{:?}", handed.errors);
        assert_eq!(handed.left, [(build.join("hard"), Left::HardLinked { links: 2 })]);
        let owner = |p: &Path| {
            let m = std::fs::symlink_metadata(p).unwrap();
            (m.uid(), m.gid())
        };
        let builds =
            ["", "file", "sub", "sub/deeper", "sub/deeper/file", "soft", "sub/soft", "sub/dir-link", "setuid", "fifo"];
        for p in builds.iter().chain(&["socket"]) {
            assert_eq!(owner(&build.join(p)), (4242, 4343), "{p}");
        }
        assert_eq!(handed.changed, builds.len() + 1);
        assert_eq!(owner(&outside), (0, 0), "the hard link's other name is the host's");
        assert_eq!(owner(&dir.join("link-target")), (0, 0), "a symlink was followed");
        for p in ["host-dir", "host-dir/file"] {
            assert_eq!(owner(&dir.join(p)), (0, 0), "a link to a directory was entered: {p}");
        }
        let mode = std::fs::metadata(build.join("setuid")).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o755, "set-ID bits are cleared");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
