//! `run --keep-failed`: a failed build's directory handed to the person
//! who ran it, without ever changing anything through a link the build
//! made.
//!
//! The build ran as the build user and could leave anything in its
//! directory: a symbolic link to a host file, or a hard link to one (a
//! hard link is the file itself, so changing its owner changes the host
//! file's: the way guix-daemon's CVE-2021-27851 went). The walk
//! therefore never follows a symbolic link, never changes a file that has
//! more than one name (it may have one outside), stays on the build
//! directory's device, and changes each entry by its name in a directory
//! it opened itself (`O_DIRECTORY | O_NOFOLLOW`), never by a path. What to
//! do with an entry is [`decide`], pure; [`hand_over`] carries it out.
//! It runs only once every process of the build is gone, so nothing
//! changes the tree while it is walked.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, fstatat};
use nix::unistd::{Gid, Uid, fchownat};

/// The set-user-ID and set-group-ID bits.
const SET_ID: u32 = 0o6000;

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

/// What `fstatat(…, AT_SYMLINK_NOFOLLOW)` says of an entry: the entry
/// itself, never what a link names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub kind: Kind,
    pub nlink: u64,
    pub dev: u64,
    pub ino: u64,
    /// The permission bits, set-ID bits included.
    pub mode: u32,
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
        }
    }
}

/// Why an entry is left as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// A file with more than one name: one may be outside the build
    /// directory, and changing it would change that one.
    HardLinked { links: u64 },
    /// On another device than the build directory (a file system mounted
    /// or a translator set below it): not the build's to hand over.
    OtherDevice,
    /// A device node: its owner may use the device.
    Device,
}

impl std::fmt::Display for Left {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
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
    /// A directory: change its owner and hand over what it holds.
    Descend,
    /// Change its owner (a symbolic link's own, never what it names);
    /// `strip_set_id`: clear its set-user-ID and set-group-ID bits too,
    /// which would otherwise run it as the new owner for anyone.
    Chown {
        strip_set_id: bool,
    },
    Leave(Left),
}

/// What to do with an entry that `facts` describes, in a build directory
/// on the device `top_dev`.
pub fn decide(facts: &Facts, top_dev: u64) -> Handling {
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
    #[error("{path}: it changed while it was walked: left as it is")]
    Changed { path: PathBuf },
    #[error("{path}: listing it: {source}")]
    List { path: PathBuf, source: std::io::Error },
    #[error("{path}: changing its owner: {source}")]
    Chown { path: PathBuf, source: Errno },
    #[error("{path}: clearing its set-user-ID and set-group-ID bits: {source}")]
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
/// name names (a link there is refused); the path above it is the
/// daemon's, and followed.
pub fn hand_over(top: &Path, owner: (u32, u32)) -> Result<Handed, KeepError> {
    let name = top.file_name().ok_or_else(|| KeepError::NotADirectory { path: top.into() })?;
    let parent = match top.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = c_name(name, top)?;
    let above = nix::fcntl::open(parent, OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|source| KeepError::Open { path: parent.into(), source })?;
    let stat = fstatat(above.as_fd(), name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(|source| KeepError::Stat { path: top.into(), source })?;
    let facts = Facts::of(&stat);
    if facts.kind != Kind::Directory {
        return Err(KeepError::NotADirectory { path: top.into() });
    }
    let mut walk =
        Walk { owner: (Uid::from_raw(owner.0), Gid::from_raw(owner.1)), top_dev: facts.dev, handed: Handed::default() };
    walk.entry(&above, &name, top, &facts);
    Ok(walk.handed)
}

struct Walk {
    owner: (Uid, Gid),
    top_dev: u64,
    handed: Handed,
}

impl Walk {
    /// The entry `name` of the directory `dir` (at `path`), which
    /// `facts` describes.
    fn entry(&mut self, dir: &OwnedFd, name: &CStr, path: &Path, facts: &Facts) {
        match decide(facts, self.top_dev) {
            Handling::Leave(why) => self.handed.left.push((path.into(), why)),
            Handling::Chown { strip_set_id } => {
                if self.chown(dir, name, path) && strip_set_id {
                    if let Err(e) = strip(dir, name, path, facts) {
                        self.handed.errors.push(e);
                    }
                }
            }
            Handling::Descend => {
                if let Err(e) = self.directory(dir, name, path, facts) {
                    self.handed.errors.push(e);
                }
            }
        }
    }

    /// Changes the owner of `name` in `dir`: the entry itself, never
    /// what it names.
    fn chown(&mut self, dir: &OwnedFd, name: &CStr, path: &Path) -> bool {
        let (uid, gid) = self.owner;
        match fchownat(dir.as_fd(), name, Some(uid), Some(gid), AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(()) => {
                self.handed.changed += 1;
                true
            }
            Err(source) => {
                self.handed.errors.push(KeepError::Chown { path: path.into(), source });
                false
            }
        }
    }

    /// The directory `name` of `dir`: opened without following a link,
    /// checked to be the node `facts` describes, changed, then each of its
    /// entries.
    fn directory(&mut self, dir: &OwnedFd, name: &CStr, path: &Path, facts: &Facts) -> Result<(), KeepError> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let below = nix::fcntl::openat(dir.as_fd(), name, flags, Mode::empty())
            .map_err(|source| KeepError::Open { path: path.into(), source })?;
        let opened = fstat(below.as_fd()).map_err(|source| KeepError::Stat { path: path.into(), source })?;
        let opened = Facts::of(&opened);
        if (opened.dev, opened.ino, opened.kind) != (facts.dev, facts.ino, Kind::Directory) {
            return Err(KeepError::Changed { path: path.into() });
        }
        self.chown(dir, name, path);
        for entry_name in names(path, &opened)? {
            let entry_path = path.join(&entry_name);
            let entry_name = match c_name(&entry_name, &entry_path) {
                Ok(name) => name,
                Err(e) => {
                    self.handed.errors.push(e);
                    continue;
                }
            };
            match fstatat(below.as_fd(), entry_name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
                Ok(stat) => self.entry(&below, &entry_name, &entry_path, &Facts::of(&stat)),
                Err(source) => self.handed.errors.push(KeepError::Stat { path: entry_path, source }),
            }
        }
        Ok(())
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

/// Clears the set-ID bits of the regular file `name` in `dir`, through a
/// descriptor opened without following a link and checked to be that
/// file (not through its name again).
fn strip(dir: &OwnedFd, name: &CStr, path: &Path, facts: &Facts) -> Result<(), KeepError> {
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    let fd = nix::fcntl::openat(dir.as_fd(), name, flags, Mode::empty())
        .map_err(|source| KeepError::Open { path: path.into(), source })?;
    let now = Facts::of(&fstat(&fd).map_err(|source| KeepError::Stat { path: path.into(), source })?);
    if (now.dev, now.ino, now.kind) != (facts.dev, facts.ino, Kind::Regular) {
        return Err(KeepError::Changed { path: path.into() });
    }
    if now.mode & SET_ID == 0 {
        // (Changing the owner cleared them already.)
        return Ok(());
    }
    let mode = Mode::from_bits_truncate((now.mode & !SET_ID) as nix::libc::mode_t);
    nix::sys::stat::fchmod(&fd, mode).map_err(|source| KeepError::Chmod { path: path.into(), source })
}

fn c_name(name: &OsStr, path: &Path) -> Result<CString, KeepError> {
    CString::new(name.as_bytes()).map_err(|_| KeepError::Open { path: path.into(), source: Errno::EINVAL })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn facts(kind: Kind, nlink: u64, dev: u64, mode: u32) -> Facts {
        Facts { kind, nlink, dev, ino: 7, mode }
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
        // The top as a link's target is fine: the walk starts at the name.
        let handed = hand_over(&build, (4242, 4343)).unwrap();
        assert!(handed.errors.is_empty(), "{:?}", handed.errors);
        assert_eq!(handed.left, [(build.join("hard"), Left::HardLinked { links: 2 })]);
        let owner = |p: &Path| {
            let m = std::fs::symlink_metadata(p).unwrap();
            (m.uid(), m.gid())
        };
        for p in ["", "file", "sub", "sub/deeper", "sub/deeper/file", "soft", "sub/soft", "setuid"] {
            assert_eq!(owner(&build.join(p)), (4242, 4343), "{p}");
        }
        assert_eq!(handed.changed, 8);
        assert_eq!(owner(&outside), (0, 0), "the hard link's other name is the host's");
        assert_eq!(owner(&dir.join("link-target")), (0, 0), "a symlink was followed");
        let mode = std::fs::metadata(build.join("setuid")).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o755, "set-ID bits are cleared");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
