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

/// What `procinfo`'s words hold where (the Hurd's `struct procinfo`:
/// state, owner, then the PIDs).
const PPID: usize = 2;
const PGRP: usize = 3;
const SESSION: usize = 4;
const LOGIN: usize = 5;

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
        match parent.filter(|&p| p != pid) {
            Some(parent) => {
                self.parents.insert(pid, parent);
            }
            None => {
                self.outside.insert(pid);
            }
        }
        Ok(pid)
    }

    /// The real process `real` is gone.
    pub fn forget(&mut self, real: i32) {
        if let Ok(real) = u32::try_from(real) {
            if let Ok(pid) = self.map.remove(real) {
                self.parents.remove(&pid);
                self.outside.remove(&pid);
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
        let gone: Vec<u32> = self
            .map
            .live()
            .into_iter()
            .filter(|&(_, real)| !live.contains(&(real as i32)))
            .map(|(pid, _)| pid)
            .collect();
        for &pid in &gone {
            self.died(pid);
        }
        gone
    }

    /// A host `procinfo` of the namespace's `pid`, with the PIDs in it
    /// as the build sees them.
    pub fn translate_info(&self, pid: u32, words: &mut [i32]) {
        if let Some(w) = words.get_mut(PPID) {
            *w = self.parent(pid);
        }
        for i in [PGRP, SESSION, LOGIN] {
            if let Some(w) = words.get_mut(i) {
                *w = self.seen(*w);
            }
        }
    }

    /// The real processes of the namespace.
    pub fn reals(&self) -> Vec<i32> {
        self.map.live().into_iter().map(|(_, r)| r as i32).collect()
    }

    pub fn first(&self) -> u32 {
        self.first
    }

    /// The processes that said how they end and are not gone yet.
    pub fn exiting(&self) -> Vec<u32> {
        self.exiting.keys().copied().collect()
    }

    /// `pid` says it ends with `status` (`proc_mark_exit`).
    pub fn mark_exit(&mut self, pid: u32, status: i32) {
        if self.map.to_real(pid).is_some() {
            self.exiting.insert(pid, status);
        }
    }

    /// `pid`'s task is gone: it is a zombie until its parent waits for
    /// it (answers whether it was a live process of the namespace).
    pub fn died(&mut self, pid: u32) -> bool {
        let Some(real) = self.map.to_real(pid) else { return false };
        let status = self.exiting.remove(&pid).unwrap_or(KILLED);
        // Its PID stays taken until it is waited for.
        let _ = self.map.hold(pid);
        let _ = self.map.remove(real);
        self.zombies.insert(pid, status);
        true
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
    /// child is the first process) waiting for `pid` (a PID, or -1 or 0
    /// for any child; process groups are not told apart: any child)
    /// finds; a zombie found is forgotten.
    pub fn reap(&mut self, waiter: Option<u32>, pid: i32) -> Reaped {
        let fits = |p: u32| pid <= 0 || p as i32 == pid;
        let zombie = self.zombies.keys().copied().find(|&z| fits(z) && self.parent_now(z) == waiter);
        if let Some(z) = zombie {
            let status = self.zombies.remove(&z).unwrap_or(KILLED);
            self.parents.remove(&z);
            self.outside.remove(&z);
            let _ = self.map.release(z);
            return Reaped::Child(z, status);
        }
        let live = self.map.live().into_iter().any(|(p, _)| fits(p) && self.parent_now(p) == waiter);
        if live { Reaped::Wait } else { Reaped::None }
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
        let ns = ns();
        // state, owner, ppid, pgrp, session, login, ...
        let mut words = vec![0, 1000, 499, 501, 42, 1, 7];
        ns.translate_info(3, &mut words);
        assert_eq!(words, vec![0, 1000, 2, 2, 0, 0, 7]);
        let mut short = vec![0, 1000];
        ns.translate_info(3, &mut short);
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
    fn pruning_forgets_the_dead() {
        let mut ns = ns();
        assert_eq!(ns.prune(&[500, 502, 9999]), vec![2]);
        assert!(!ns.knows(2));
        assert!(ns.knows(3));
        assert_eq!(ns.reals(), vec![500, 502]);
    }
}
