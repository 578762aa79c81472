//! The PID namespace's decisions, pure: which real processes are the
//! build's, the PIDs they see, and how every PID crossing the namespace's
//! edge is translated. A PID outside the namespace is never answered: as
//! an argument it is ESRCH (ECHILD for a wait), as an answer it is 0.

use std::collections::{BTreeMap, BTreeSet};

use hurd_translator::Errno;

use crate::pidmap::{PidMap, PidMapError};

/// The most PIDs a namespace hands out.
pub const PID_LIMIT: u32 = 1 << 22;

/// The build's processes, by the PIDs they see.
#[derive(Debug, Clone)]
pub struct Namespace {
    map: PidMap,
    first: u32,
    /// Each process's parent, as the namespace saw it made.
    parents: BTreeMap<u32, u32>,
    /// The processes whose parent is outside (each `exec`'s builder).
    outside: BTreeSet<u32>,
    /// The wait status a live process said it ends with.
    exiting: BTreeMap<u32, i32>,
    /// Processes that ended and were not waited for yet: their status.
    /// (Their PIDs stay taken until then.)
    zombies: BTreeMap<u32, i32>,
    /// The process group each zombie was in when it ended: a wait for a
    /// group (`waitpid(-pgrp)`, `waitpid(0)`) still finds it there.
    zombie_pgrps: BTreeMap<u32, u32>,
    /// What a process had used when it said how it ends; once it is a
    /// zombie, with what its waited-for descendants used (what its own
    /// wait answers, as Linux's `wait4` does).
    usage: BTreeMap<u32, Usage>,
    /// What each process's children that ended and were waited for used,
    /// with their waited-for descendants (`getrusage(RUSAGE_CHILDREN)`).
    children_usage: BTreeMap<u32, Usage>,
    /// Each live process's process group, session and login collection,
    /// kept here and nowhere else: the host's proc server is never asked
    /// about a process of the namespace (see `serve`).
    ids: BTreeMap<u32, Ids>,
}

/// What a process used, as a wait and `getrusage(RUSAGE_CHILDREN)` tell
/// it: user and system CPU time, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub user_us: u64,
    pub system_us: u64,
}

impl Usage {
    fn add(&mut self, other: &Usage) {
        self.user_us = self.user_us.saturating_add(other.user_us);
        self.system_us = self.system_us.saturating_add(other.system_us);
    }
}

/// A live process's groups, by the namespace's PIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ids {
    pgrp: u32,
    sid: u32,
    login: u32,
    /// It has run a new program since it was made (`proc_mark_exec`): its
    /// parent may no longer move it to another group.
    execed: bool,
}

/// What each live process is to be told of itself (`msg_proc_newids`):
/// its parent, its process group, whether that group is orphaned.
pub type Snapshot = BTreeMap<u32, (i32, u32, bool)>;

/// A process whose parent, group or the group's orphaned state changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Newids {
    pub pid: u32,
    pub ppid: i32,
    pub pgrp: u32,
    pub orphaned: bool,
}

/// A set of processes named by one id (`proc_getpgrppids` and the like).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    Pgrp(u32),
    Session(u32),
    /// The process groups of a session.
    SessionPgrps(u32),
    Login(u32),
}

/// What a wait finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaped {
    /// This child ended with this wait status (now forgotten).
    Child(u32, i32),
    /// Children that fit are there, none has ended yet.
    Wait,
    /// No child fits (ECHILD).
    None,
}

/// The wait status of a process that ended without saying how: killed.
pub const KILLED: i32 = 9;

/// The most zombies a namespace keeps: past it, no new process is
/// admitted (a fork fails with EAGAIN) until some are waited for.
pub const ZOMBIES_MAX: usize = 4096;

/// The bits of `struct procinfo`'s state word (the Hurd's values).
pub mod state {
    pub const STOPPED: i32 = 0x1;
    pub const EXECED: i32 = 0x2;
    pub const ORPHAN: i32 = 0x8;
    pub const NOMSG: i32 = 0x10;
    pub const SESSLD: i32 = 0x20;
    pub const ZOMBIE: i32 = 0x100;
    pub const LOGINLD: i32 = 0x800;
}

impl Namespace {
    /// A namespace whose first process (the builder) is PID `first`.
    pub fn new(first: u32) -> Result<Namespace, PidMapError> {
        Ok(Namespace {
            map: PidMap::new(first, PID_LIMIT)?,
            first,
            parents: BTreeMap::new(),
            outside: BTreeSet::new(),
            exiting: BTreeMap::new(),
            zombies: BTreeMap::new(),
            zombie_pgrps: BTreeMap::new(),
            usage: BTreeMap::new(),
            children_usage: BTreeMap::new(),
            ids: BTreeMap::new(),
        })
    }

    /// The PID of the real process `real`, which becomes one of the
    /// namespace's if it is not yet, made by `parent` (a PID of the
    /// namespace's; none for the builder).
    pub fn admit(&mut self, real: i32, parent: Option<u32>) -> Result<u32, Errno> {
        let real = u32::try_from(real).map_err(|_| Errno::ESRCH)?;
        if let Some(pid) = self.map.to_virtual(real) {
            return Ok(pid);
        }
        if self.zombies.len() >= ZOMBIES_MAX {
            return Err(Errno::EAGAIN);
        }
        let pid = self.map.add(real).map_err(|_| Errno::EAGAIN)?;
        // A child is in its parent's group, session and login collection;
        // a process from outside (a builder) leads its own of each.
        let own = Ids { pgrp: pid, sid: pid, login: pid, execed: false };
        let ids = match parent.filter(|&p| p != pid) {
            Some(parent) => {
                self.parents.insert(pid, parent);
                self.ids.get(&parent).map_or(own, |p| Ids { execed: false, ..*p })
            }
            None => {
                self.outside.insert(pid);
                own
            }
        };
        self.ids.insert(pid, ids);
        Ok(pid)
    }

    /// The real process `real` is gone.
    pub fn forget(&mut self, real: i32) {
        if let Ok(real) = u32::try_from(real) {
            if let Ok(pid) = self.map.remove(real) {
                self.parents.remove(&pid);
                self.outside.remove(&pid);
                self.ids.remove(&pid);
                self.exiting.remove(&pid);
                self.usage.remove(&pid);
                self.children_usage.remove(&pid);
            }
        }
    }

    /// The real PID of `pid`, a PID as the build names it (ESRCH if no
    /// process of the namespace has it).
    pub fn real(&self, pid: i32) -> Result<i32, Errno> {
        let pid = u32::try_from(pid).map_err(|_| Errno::ESRCH)?;
        self.map.to_real(pid).map(|r| r as i32).ok_or(Errno::ESRCH)
    }

    /// The PID the build sees for the real `real`: 0 for a process
    /// outside.
    pub fn seen(&self, real: i32) -> i32 {
        u32::try_from(real).ok().and_then(|r| self.map.to_virtual(r)).map_or(0, |p| p as i32)
    }

    /// Whether `pid` is one of the namespace's.
    pub fn knows(&self, pid: i32) -> bool {
        self.real(pid).is_ok()
    }

    /// The parent `pid` sees: the process that made it while that one
    /// lives; the first process for an orphan (it is the namespace's
    /// init); 0 for the first process itself, as a PID namespace's init
    /// sees its parent.
    pub fn parent(&self, pid: u32) -> i32 {
        if pid == self.first || self.outside.contains(&pid) {
            return 0;
        }
        match self.parents.get(&pid) {
            Some(&p) if self.map.to_real(p).is_some() => p as i32,
            _ if self.map.to_real(self.first).is_some() => self.first as i32,
            _ => 0,
        }
    }

    /// A PID argument that may also be 0 (this process) or negative (a
    /// process group, or -1): the real value, or ESRCH.
    pub fn arg(&self, pid: i32) -> Result<i32, Errno> {
        match pid {
            0 | -1 => Ok(pid),
            p if p > 0 => self.real(p),
            p => self.real(p.checked_neg().ok_or(Errno::ESRCH)?).map(|r| -r),
        }
    }

    /// `proc_wait`'s PID argument: as [`Namespace::arg`], but a process
    /// outside is no child of the caller (ECHILD).
    pub fn wait_arg(&self, pid: i32) -> Result<i32, Errno> {
        self.arg(pid).map_err(|_| Errno::ECHILD)
    }

    /// The namespace's processes among the real `reals`, as the build
    /// names them.
    pub fn filter(&self, reals: &[i32]) -> Vec<i32> {
        reals.iter().map(|&r| self.seen(r)).filter(|&p| p != 0).collect()
    }

    /// Every process of the namespace that is not among `live` (the
    /// real processes still there) has died: their PIDs, now zombies'.
    pub fn prune(&mut self, live: &[i32]) -> Vec<u32> {
        self.prune_where(live, |_| true)
    }

    /// [`Namespace::prune`] after a look at the host's list that began
    /// when the namespace's processes were `listed` ([`Namespace::live_with_reals`]):
    /// one admitted since is not among them, and is not taken for dead,
    /// even with the real PID of one that was (the host gives PIDs again).
    pub fn prune_listed(&mut self, live: &[i32], listed: &[(u32, u32)]) -> Vec<u32> {
        let listed: BTreeSet<(u32, u32)> = listed.iter().copied().collect();
        self.prune_where(live, |member| listed.contains(&member))
    }

    /// The namespace's live processes, with their real PIDs.
    pub fn live_with_reals(&self) -> Vec<(u32, u32)> {
        self.map.live()
    }

    fn prune_where(&mut self, live: &[i32], looked_at: impl Fn((u32, u32)) -> bool) -> Vec<u32> {
        let live: BTreeSet<i32> = live.iter().copied().collect();
        let gone: Vec<u32> = self
            .map
            .live()
            .into_iter()
            .filter(|&member| looked_at(member) && !live.contains(&(member.1 as i32)))
            .map(|(pid, _)| pid)
            .collect();
        for &pid in &gone {
            self.died(pid);
        }
        gone
    }

    /// The fixed part of `struct procinfo` for `pid` (live, or a zombie
    /// not yet waited for): state, owner, parent, process group, session,
    /// login collection, exit status, signal code, threads. `stopped` and
    /// `msgport`: what the process told of itself.
    pub fn procinfo(&self, pid: u32, owner: u32, stopped: bool, msgport: bool) -> Option<[i32; 9]> {
        let zombie = self.zombies.get(&pid).copied();
        let ids = self.ids.get(&pid);
        if zombie.is_none() && ids.is_none() {
            return None;
        }
        let mut bits = 0;
        let flag = |on: bool, bit: i32| if on { bit } else { 0 };
        bits |= flag(stopped, state::STOPPED) | flag(!msgport, state::NOMSG) | flag(zombie.is_some(), state::ZOMBIE);
        let (pgrp, sid, login) = ids.map_or((0, 0, 0), |i| (i.pgrp, i.sid, i.login));
        if let Some(i) = ids {
            bits |= flag(i.execed, state::EXECED) | flag(self.orphaned(pid), state::ORPHAN);
            bits |= flag(i.sid == pid, state::SESSLD) | flag(i.login == pid, state::LOGINLD);
        }
        Some([bits, owner as i32, self.parent(pid), pgrp as i32, sid as i32, login as i32, zombie.unwrap_or(0), 0, 0])
    }

    /// The real processes of the namespace.
    pub fn reals(&self) -> Vec<i32> {
        self.map.live().into_iter().map(|(_, r)| r as i32).collect()
    }

    pub fn first(&self) -> u32 {
        self.first
    }

    /// The processes that said how they end, are not gone yet, and are
    /// children of `waiter` (none: the parent outside): those a wait of
    /// `waiter`'s may find gone before their deaths are told.
    pub fn exiting_children(&self, waiter: Option<u32>) -> Vec<u32> {
        self.exiting.keys().copied().filter(|&p| self.parent_now(p) == waiter).collect()
    }

    /// `pid` says it ends with `status` (`proc_mark_exit`).
    pub fn mark_exit(&mut self, pid: u32, status: i32) {
        self.mark_exit_using(pid, status, Usage::default());
    }

    /// [`Namespace::mark_exit`], with what the process had used by then
    /// (a process killed outright never says: it counts as nothing, as
    /// with the host's proc server).
    pub fn mark_exit_using(&mut self, pid: u32, status: i32, usage: Usage) {
        if self.map.to_real(pid).is_some() {
            self.exiting.insert(pid, status);
            self.usage.insert(pid, usage);
        }
    }

    /// What `pid`'s children that ended and were waited for used, with
    /// their waited-for descendants.
    pub fn children_usage(&self, pid: u32) -> Usage {
        self.children_usage.get(&pid).copied().unwrap_or_default()
    }

    /// `pid`'s task is gone: it is a zombie until its parent waits for
    /// it (answers whether it was a live process of the namespace).
    pub fn died(&mut self, pid: u32) -> bool {
        let Some(real) = self.map.to_real(pid) else { return false };
        let status = self.exiting.remove(&pid).unwrap_or(KILLED);
        // What a wait for it tells: its own and its waited-for
        // descendants' usage.
        let mut used = self.usage.remove(&pid).unwrap_or_default();
        used.add(&self.children_usage.remove(&pid).unwrap_or_default());
        self.usage.insert(pid, used);
        // Its PID stays taken until it is waited for.
        let _ = self.map.hold(pid);
        let _ = self.map.remove(real);
        self.zombies.insert(pid, status);
        // A zombie is in no group: its id may no longer be joined. A
        // wait for the group it was in still finds it.
        if let Some(ids) = self.ids.remove(&pid) {
            self.zombie_pgrps.insert(pid, ids.pgrp);
        }
        true
    }

    /// `pid` (0: `caller`)'s process group (ESRCH for a process not of
    /// the namespace or not alive).
    pub fn pgrp(&self, caller: u32, pid: u32) -> Result<u32, Errno> {
        self.ids_of(caller, pid).map(|i| i.pgrp)
    }

    /// `pid` (0: `caller`)'s session.
    pub fn sid(&self, caller: u32, pid: u32) -> Result<u32, Errno> {
        self.ids_of(caller, pid).map(|i| i.sid)
    }

    /// `pid` (0: `caller`)'s login collection.
    pub fn login(&self, caller: u32, pid: u32) -> Result<u32, Errno> {
        self.ids_of(caller, pid).map(|i| i.login)
    }

    fn ids_of(&self, caller: u32, pid: u32) -> Result<Ids, Errno> {
        let pid = if pid == 0 { caller } else { pid };
        self.ids.get(&pid).copied().ok_or(Errno::ESRCH)
    }

    /// Whether `pid` leads its session.
    pub fn session_leader(&self, pid: u32) -> bool {
        self.ids.get(&pid).is_some_and(|i| i.sid == pid)
    }

    /// `pid` has run a new program (`proc_mark_exec`).
    pub fn mark_exec(&mut self, pid: u32) {
        if let Some(ids) = self.ids.get_mut(&pid) {
            ids.execed = true;
        }
    }

    /// `proc_setsid` for `pid`: it leads a new session and a new process
    /// group, unless it already leads a group (or one has its PID).
    pub fn setsid(&mut self, pid: u32) -> Result<(), Errno> {
        if !self.ids.contains_key(&pid) {
            return Err(Errno::ESRCH);
        }
        if self.ids.values().any(|i| i.pgrp == pid) {
            return Err(Errno::EPERM);
        }
        if let Some(ids) = self.ids.get_mut(&pid) {
            ids.pgrp = pid;
            ids.sid = pid;
        }
        Ok(())
    }

    /// `proc_setpgrp` from `caller`: `pid` (0: the caller; else the caller
    /// or a child of it) joins the group `pgrp` (0: its own PID), as
    /// setpgid(2) allows it: ESRCH for another process, EACCES for a
    /// child that ran a new program, EPERM for a session leader, a child
    /// in another session, or a group of another session or none.
    pub fn setpgrp(&mut self, caller: u32, pid: u32, pgrp: u32) -> Result<(), Errno> {
        let pid = if pid == 0 { caller } else { pid };
        let mine = *self.ids.get(&caller).ok_or(Errno::ESRCH)?;
        let theirs = *self.ids.get(&pid).ok_or(Errno::ESRCH)?;
        let child = pid != caller && self.parent_now(pid) == Some(caller);
        if pid != caller && !child {
            return Err(Errno::ESRCH);
        }
        if child && theirs.execed {
            return Err(Errno::EACCES);
        }
        let pgrp = if pgrp == 0 { pid } else { pgrp };
        let exists_here = self.ids.values().any(|i| i.pgrp == pgrp && i.sid == mine.sid);
        if theirs.sid == pid || theirs.sid != mine.sid || (pgrp != pid && !exists_here) {
            return Err(Errno::EPERM);
        }
        if let Some(ids) = self.ids.get_mut(&pid) {
            ids.pgrp = pgrp;
        }
        Ok(())
    }

    /// The live processes of `set` (an id of 0: the caller's), or, for
    /// [`Set::SessionPgrps`], the session's process groups; ESRCH when
    /// there are none.
    pub fn members(&self, caller: u32, set: Set) -> Result<Vec<u32>, Errno> {
        let mine = self.ids.get(&caller).copied();
        let or_mine = |id: u32, f: fn(&Ids) -> u32| if id == 0 { mine.map(|i| f(&i)) } else { Some(id) };
        let found: Vec<u32> = match set {
            Set::Pgrp(id) => {
                let id = or_mine(id, |i| i.pgrp).ok_or(Errno::ESRCH)?;
                self.ids.iter().filter(|(_, i)| i.pgrp == id).map(|(&p, _)| p).collect()
            }
            Set::Session(id) => {
                let id = or_mine(id, |i| i.sid).ok_or(Errno::ESRCH)?;
                self.ids.iter().filter(|(_, i)| i.sid == id).map(|(&p, _)| p).collect()
            }
            Set::SessionPgrps(id) => {
                let id = or_mine(id, |i| i.sid).ok_or(Errno::ESRCH)?;
                let groups: BTreeSet<u32> = self.ids.values().filter(|i| i.sid == id).map(|i| i.pgrp).collect();
                groups.into_iter().collect()
            }
            Set::Login(id) => {
                let id = or_mine(id, |i| i.login).ok_or(Errno::ESRCH)?;
                self.ids.iter().filter(|(_, i)| i.login == id).map(|(&p, _)| p).collect()
            }
        };
        if found.is_empty() { Err(Errno::ESRCH) } else { Ok(found) }
    }

    /// The process groups that are orphaned: no member has a parent in
    /// another group of the same session (a parent outside counts as
    /// none, as with a Linux PID namespace's init).
    fn orphaned_groups(&self) -> BTreeSet<u32> {
        let mut held = BTreeSet::new();
        for (&pid, ids) in &self.ids {
            if let Some(parent) = self.parent_now(pid).and_then(|p| self.ids.get(&p)) {
                if parent.pgrp != ids.pgrp && parent.sid == ids.sid {
                    held.insert(ids.pgrp);
                }
            }
        }
        self.ids.values().map(|i| i.pgrp).filter(|g| !held.contains(g)).collect()
    }

    /// Whether `pid`'s process group is orphaned.
    pub fn orphaned(&self, pid: u32) -> bool {
        self.ids.get(&pid).is_some_and(|i| self.orphaned_groups().contains(&i.pgrp))
    }

    /// What every live process is to be told of itself now.
    pub fn snapshot(&self) -> Snapshot {
        let orphaned = self.orphaned_groups();
        self.ids.iter().map(|(&pid, i)| (pid, (self.parent(pid), i.pgrp, orphaned.contains(&i.pgrp)))).collect()
    }

    /// The live processes whose parent, group or orphaned state differ
    /// from `before` (and `also`, which is told whatever it was: a
    /// process that asked to change group is told even when nothing
    /// changed, as the C library waits to hear it).
    pub fn changed(&self, before: &Snapshot, also: Option<u32>) -> Vec<Newids> {
        self.snapshot()
            .into_iter()
            .filter(|(pid, now)| Some(*pid) == also || before.get(pid) != Some(now))
            .map(|(pid, (ppid, pgrp, orphaned))| Newids { pid, ppid, pgrp, orphaned })
            .collect()
    }

    /// The wait status of `pid`, a zombie not yet waited for.
    pub fn zombie_status(&self, pid: u32) -> Option<i32> {
        self.zombies.get(&pid).copied()
    }

    /// Whether `pid` is alive in the namespace.
    pub fn alive(&self, pid: u32) -> bool {
        self.map.to_real(pid).is_some()
    }

    /// The parent `pid` (live or a zombie) has now; none for the first
    /// process (its parent is outside).
    pub fn parent_now(&self, pid: u32) -> Option<u32> {
        if self.outside.contains(&pid) {
            return None;
        }
        match self.parents.get(&pid) {
            Some(&p) if self.alive(p) => Some(p),
            _ if pid != self.first && self.alive(self.first) => Some(self.first),
            _ => None,
        }
    }

    /// What `waiter` (none: the namespace's parent outside, whose only
    /// child is the first process) waiting for `pid` finds, as waitpid
    /// reads its argument: a PID; -1, any child; 0, any child in the
    /// waiter's process group; below -1, any child in group `-pid`. A
    /// zombie found is forgotten.
    pub fn reap(&mut self, waiter: Option<u32>, pid: i32) -> Reaped {
        self.reap_using(waiter, pid).0
    }

    /// [`Namespace::reap`], with what the child found had used itself.
    pub fn reap_using(&mut self, waiter: Option<u32>, pid: i32) -> (Reaped, Usage) {
        let group = match pid {
            // (The parent outside is in no group of the namespace: any.)
            0 => waiter.and_then(|w| self.ids.get(&w)).map(|i| i.pgrp),
            p if p < -1 => Some(p.unsigned_abs()),
            _ => None,
        };
        let pgrp_of = |p: u32| self.ids.get(&p).map(|i| i.pgrp).or_else(|| self.zombie_pgrps.get(&p).copied());
        let fits = |p: u32| match (pid, group) {
            (_, Some(g)) => pgrp_of(p) == Some(g),
            (p_arg, None) if p_arg > 0 => p as i32 == p_arg,
            _ => true,
        };
        let zombie = self.zombies.keys().copied().find(|&z| fits(z) && self.parent_now(z) == waiter);
        if let Some(z) = zombie {
            let status = self.zombies.remove(&z).unwrap_or(KILLED);
            self.zombie_pgrps.remove(&z);
            self.parents.remove(&z);
            self.outside.remove(&z);
            let _ = self.map.release(z);
            let used = self.usage.remove(&z).unwrap_or_default();
            // The waiter counts it among its children's (a parent outside
            // counts nothing here).
            if let Some(w) = waiter {
                self.children_usage.entry(w).or_default().add(&used);
            }
            return (Reaped::Child(z, status), used);
        }
        let live = self.map.live().into_iter().any(|(p, _)| fits(p) && self.parent_now(p) == waiter);
        (if live { Reaped::Wait } else { Reaped::None }, Usage::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns() -> Namespace {
        let mut ns = Namespace::new(1).unwrap();
        assert_eq!(ns.admit(500, None), Ok(1));
        assert_eq!(ns.admit(501, Some(1)), Ok(2));
        assert_eq!(ns.admit(502, Some(2)), Ok(3));
        ns
    }

    #[test]
    fn the_builder_is_the_first_pid_and_sees_no_parent() {
        let ns = ns();
        assert_eq!(ns.real(1), Ok(500));
        assert_eq!(ns.parent(1), 0);
        assert_eq!(ns.parent(3), 2);
    }

    #[test]
    fn admitting_twice_gives_the_same_pid() {
        let mut ns = ns();
        assert_eq!(ns.admit(501, Some(3)), Ok(2));
        assert_eq!(ns.parent(2), 1, "the first parent stays");
    }

    #[test]
    fn orphans_see_the_first_process_as_their_parent() {
        let mut ns = ns();
        ns.forget(501);
        assert_eq!(ns.parent(3), 1);
        ns.forget(500);
        assert_eq!(ns.parent(3), 0);
    }

    #[test]
    fn no_pid_outside_the_namespace_is_answered() {
        let ns = ns();
        for outside in [2, 7, 100, 499, 503] {
            assert_eq!(ns.seen(outside), 0, "{outside}");
        }
        assert_eq!(ns.real(4), Err(Errno::ESRCH));
        assert_eq!(ns.real(-5), Err(Errno::ESRCH));
        assert_eq!(ns.arg(9), Err(Errno::ESRCH));
        assert_eq!(ns.arg(-9), Err(Errno::ESRCH));
        assert_eq!(ns.arg(i32::MIN), Err(Errno::ESRCH));
        assert_eq!(ns.wait_arg(9), Err(Errno::ECHILD));
        assert_eq!(ns.filter(&[1, 500, 77, 502]), vec![1, 3]);
    }

    #[test]
    fn special_arguments_pass_and_groups_are_translated() {
        let ns = ns();
        assert_eq!(ns.arg(0), Ok(0));
        assert_eq!(ns.arg(-1), Ok(-1));
        assert_eq!(ns.arg(-2), Ok(-501));
        assert_eq!(ns.wait_arg(3), Ok(502));
    }

    #[test]
    fn procinfo_is_told_in_the_namespace_pids() {
        let mut ns = ns();
        let [bits, owner, ppid, pgrp, sid, login, ..] = ns.procinfo(1, 30001, false, true).unwrap();
        assert_eq!((owner, ppid, pgrp, sid, login), (30001, 0, 1, 1, 1));
        assert_eq!(bits, state::ORPHAN | state::SESSLD | state::LOGINLD);
        ns.mark_exec(3);
        let [bits, _, ppid, ..] = ns.procinfo(3, 30001, true, false).unwrap();
        assert_eq!(ppid, 2);
        assert_eq!(bits, state::STOPPED | state::NOMSG | state::EXECED | state::ORPHAN);
        ns.mark_exit(3, 7 << 8);
        assert!(ns.died(3));
        let [bits, _, ppid, pgrp, .., status, _, _] = ns.procinfo(3, 30001, false, true).unwrap();
        assert_eq!((bits & state::ZOMBIE, ppid, pgrp, status), (state::ZOMBIE, 2, 0, 7 << 8));
        assert_eq!(ns.procinfo(9, 30001, false, true), None);
    }

    #[test]
    fn a_parent_reaps_its_children_once_with_their_status() {
        let mut ns = ns();
        assert_eq!(ns.reap(Some(1), -1), Reaped::Wait, "a live child");
        ns.mark_exit(2, 3 << 8);
        assert_eq!(ns.reap(Some(1), 2), Reaped::Wait, "said it ends, not ended yet");
        assert!(ns.died(2));
        // Only its parent finds it.
        assert_eq!(ns.reap(Some(3), -1), Reaped::None);
        assert_eq!(ns.reap(Some(1), 2), Reaped::Child(2, 3 << 8));
        assert_eq!(ns.reap(Some(1), 2), Reaped::None, "reaped once");
        // 3 is now an orphan: the first process adopts it.
        assert!(ns.died(3));
        assert_eq!(ns.reap(Some(1), 0), Reaped::Child(3, KILLED), "died without a word: killed");
        assert_eq!(ns.reap(Some(1), -1), Reaped::None);
    }

    #[test]
    fn a_second_process_from_outside_is_nobodys_child_and_nobody_adopts_it() {
        let mut ns = ns();
        assert_eq!(ns.admit(700, None), Ok(4));
        assert_eq!(ns.parent(4), 0);
        assert!(ns.died(4));
        assert_eq!(ns.reap(Some(1), -1), Reaped::Wait, "the first process has only its own");
        assert_eq!(ns.reap(None, 4), Reaped::Child(4, KILLED));
    }

    #[test]
    fn outside_waits_for_the_first_process_only() {
        let mut ns = ns();
        assert_eq!(ns.reap(None, 1), Reaped::Wait);
        assert!(ns.died(1));
        assert_eq!(ns.reap(None, -1), Reaped::Child(1, KILLED));
    }

    #[test]
    fn a_zombies_pid_is_not_given_again_until_reaped() {
        let mut ns = ns();
        assert!(ns.died(3));
        let next = ns.admit(600, Some(1)).unwrap();
        assert_ne!(next, 3);
        assert_eq!(ns.reap(Some(2), 3), Reaped::Child(3, KILLED));
        assert!(!ns.died(3), "no longer a process");
    }

    #[test]
    fn children_are_in_their_parents_groups_and_a_builder_leads_its_own() {
        let ns = ns();
        assert_eq!((ns.pgrp(3, 0), ns.sid(3, 0), ns.login(3, 0)), (Ok(1), Ok(1), Ok(1)));
        assert!(ns.session_leader(1));
        assert!(!ns.session_leader(3));
        assert_eq!(ns.pgrp(1, 9), Err(Errno::ESRCH));
        assert_eq!(ns.members(3, Set::Pgrp(0)), Ok(vec![1, 2, 3]));
        assert_eq!(ns.members(1, Set::Pgrp(7)), Err(Errno::ESRCH));
    }

    #[test]
    fn a_wait_for_a_group_finds_only_that_groups_children() {
        let mut ns = ns();
        // 2 leads a group of its own; 4 stays in the builder's group 1;
        // 3 (2's child) was made in group 1.
        assert_eq!(ns.setpgrp(1, 2, 2), Ok(()));
        assert_eq!(ns.admit(503, Some(1)), Ok(4));
        assert_eq!(ns.reap(Some(1), -2), Reaped::Wait);
        assert_eq!(ns.reap(Some(1), -77), Reaped::None, "no child in that group");
        ns.mark_exit(4, 5 << 8);
        assert!(ns.died(4));
        assert_eq!(ns.reap(Some(1), -2), Reaped::Wait, "4 is not in group 2");
        assert_eq!(ns.reap(Some(1), 0), Reaped::Child(4, 5 << 8), "4 ended in the waiter's group");
        assert!(ns.died(2));
        // 3 is adopted by 1, alive in group 1; 2 is a zombie of group 2.
        assert_eq!(ns.reap(Some(1), 0), Reaped::Wait);
        assert_eq!(ns.reap(Some(1), -2), Reaped::Child(2, KILLED), "a zombie keeps the group it ended in");
        assert_eq!(ns.reap(Some(1), -2), Reaped::None);
        // From outside (the root waits for the builder), 0 is any child.
        assert_eq!(ns.reap(None, 0), Reaped::Wait);
    }

    #[test]
    fn a_wait_tells_the_childs_usage_and_the_waiter_counts_what_it_waited_for() {
        let mut ns = ns();
        // 3 is 2's child; 2 is the builder's.
        assert_eq!(ns.admit(502, Some(2)), Ok(3));
        let used = |us| Usage { user_us: us, system_us: 1 };
        ns.mark_exit_using(3, 0, used(100));
        assert!(ns.died(3));
        assert_eq!(ns.children_usage(2), Usage::default(), "not counted before it is waited for");
        assert_eq!(ns.reap_using(Some(2), 3), (Reaped::Child(3, 0), used(100)));
        assert_eq!(ns.children_usage(2), used(100));
        ns.mark_exit_using(2, 0, used(20));
        assert!(ns.died(2));
        assert_eq!(ns.children_usage(1), Usage::default());
        // A wait tells the child's own and its waited-for descendants'.
        assert_eq!(ns.reap_using(Some(1), 2).1, Usage { user_us: 120, system_us: 2 });
        assert_eq!(ns.children_usage(1), Usage { user_us: 120, system_us: 2 });
        // A child never waited for counts nowhere; killed without a word:
        // nothing.
        let unwaited = ns.admit(504, Some(1)).unwrap();
        let grandchild = ns.admit(505, Some(unwaited)).unwrap();
        ns.mark_exit_using(grandchild, 0, used(7));
        assert!(ns.died(grandchild));
        assert!(ns.died(unwaited));
        assert_eq!(ns.reap_using(Some(1), unwaited as i32), (Reaped::Child(unwaited, KILLED), Usage::default()));
        assert_eq!(ns.children_usage(1), Usage { user_us: 120, system_us: 2 });
        // The orphaned zombie is the first process's to wait for now.
        assert_eq!(ns.reap_using(Some(1), grandchild as i32).1, used(7));
        assert_eq!(ns.children_usage(1).user_us, 127);
        assert_eq!(ns.children_usage(2), Usage::default(), "an ended process's count is gone with it");
    }

    #[test]
    fn setpgid_follows_posix() {
        let mut ns = ns();
        // A shell's job: the child in a group of its own, then another
        // child joins it.
        assert_eq!(ns.setpgrp(1, 2, 2), Ok(()));
        assert_eq!(ns.admit(503, Some(1)), Ok(4));
        assert_eq!(ns.setpgrp(1, 4, 2), Ok(()));
        assert_eq!(ns.members(1, Set::Pgrp(2)), Ok(vec![2, 4]), "3 was made while 2 was in 1's group");
        assert_eq!(ns.members(1, Set::SessionPgrps(0)), Ok(vec![1, 2]));
        // Not a child of the caller, a session leader, a group nobody has.
        assert_eq!(ns.setpgrp(2, 4, 0), Err(Errno::ESRCH));
        assert_eq!(ns.setpgrp(1, 1, 2), Err(Errno::EPERM));
        assert_eq!(ns.setpgrp(1, 4, 77), Err(Errno::EPERM));
        // A child that ran a new program stays where it is.
        ns.mark_exec(4);
        assert_eq!(ns.setpgrp(1, 4, 0), Err(Errno::EACCES));
        assert_eq!(ns.setpgrp(4, 0, 0), Ok(()), "it may move itself");
        assert_eq!(ns.pgrp(1, 4), Ok(4));
    }

    #[test]
    fn setsid_needs_a_process_that_leads_no_group() {
        let mut ns = ns();
        assert_eq!(ns.setsid(1), Err(Errno::EPERM), "the builder leads its group");
        assert_eq!(ns.setsid(3), Ok(()));
        assert_eq!((ns.pgrp(3, 0), ns.sid(3, 0)), (Ok(3), Ok(3)));
        assert!(ns.session_leader(3));
        // Another session's group may not be joined.
        assert_eq!(ns.setpgrp(1, 2, 3), Err(Errno::EPERM));
        assert_eq!(ns.setsid(9), Err(Errno::ESRCH));
    }

    #[test]
    fn orphaned_groups_and_who_is_told() {
        let mut ns = ns();
        // Everyone in the builder's group: orphaned (its parent is outside).
        assert!(ns.orphaned(1) && ns.orphaned(3));
        let before = ns.snapshot();
        ns.setpgrp(1, 2, 0).unwrap();
        // 2's group has a parent (1) in another group of the session: not
        // orphaned; 3 (in 1's group, parent 2 elsewhere) holds 1's up.
        assert!(!ns.orphaned(2));
        assert!(!ns.orphaned(1));
        let told = ns.changed(&before, Some(2));
        assert_eq!(
            told,
            vec![
                Newids { pid: 1, ppid: 0, pgrp: 1, orphaned: false },
                Newids { pid: 2, ppid: 1, pgrp: 2, orphaned: false },
                Newids { pid: 3, ppid: 2, pgrp: 1, orphaned: false },
            ]
        );
        // 2 dies: 3 is adopted by 1, in its own group: 1's group is
        // orphaned again; 3 hears of its new parent.
        let before = ns.snapshot();
        assert!(ns.died(2));
        assert_eq!(
            ns.changed(&before, None),
            vec![
                Newids { pid: 1, ppid: 0, pgrp: 1, orphaned: true },
                Newids { pid: 3, ppid: 1, pgrp: 1, orphaned: true },
            ]
        );
        assert_eq!(ns.pgrp(1, 2), Err(Errno::ESRCH), "a zombie is in no group");
        let unchanged = ns.snapshot();
        assert_eq!(ns.changed(&unchanged, None), vec![]);
    }

    #[test]
    fn pruning_forgets_the_dead() {
        let mut ns = ns();
        assert_eq!(ns.prune(&[500, 502, 9999]), vec![2]);
        assert!(!ns.knows(2));
        assert!(ns.knows(3));
        assert_eq!(ns.reals(), vec![500, 502]);
    }

    #[test]
    fn a_wait_looks_only_at_its_own_exiting_children() {
        let mut ns = ns();
        ns.mark_exit(3, 0);
        ns.mark_exit(2, 0);
        assert_eq!(ns.exiting_children(Some(2)), vec![3]);
        assert_eq!(ns.exiting_children(Some(1)), vec![2]);
        assert_eq!(ns.exiting_children(Some(3)), Vec::<u32>::new());
        ns.mark_exit(1, 0);
        assert_eq!(ns.exiting_children(None), vec![1], "the first process's parent is outside");
    }

    #[test]
    fn a_process_admitted_during_a_look_is_not_taken_for_dead() {
        let mut ns = ns();
        let listed = ns.live_with_reals();
        // While the host was asked, 503 was admitted (as 4) and 501 died;
        // the host's list was made before 503 existed.
        assert_eq!(ns.admit(503, Some(3)), Ok(4));
        assert_eq!(ns.prune_listed(&[500, 502], &listed), vec![2]);
        assert!(ns.knows(4), "admitted after the list was asked for");
        assert!(!ns.knows(2));
        // 502 (3) dies and the host gives its real PID to a new process,
        // admitted as 5, before a list made while 3 lived comes back.
        let listed = ns.live_with_reals();
        assert!(ns.died(3));
        assert_eq!(ns.admit(502, Some(1)), Ok(5));
        assert_eq!(ns.prune_listed(&[500], &listed), vec![4]);
        assert!(ns.knows(5), "a new process with a listed real PID");
        // The same list without the guard would take 5 for dead.
        assert_eq!(ns.prune(&[500]), vec![5]);
    }
}
