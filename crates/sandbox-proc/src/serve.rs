//! Serving the namespace on the Hurd: each build process's proc port is a
//! [`Member`] of ours. Everything the proc interface says of the build's
//! processes (PIDs, parents, process groups, sessions, message ports,
//! where their arguments are, how they ended) is kept and answered here,
//! through [`Namespace`]; the host's proc server is asked only for what
//! it alone knows of a task (its real PID, the list of live PIDs, a
//! task's port by real PID), never anything it would relay back to us.
//!
//! Why: the host relays every question naming a process of a task
//! namespace (`proc_pid2proc`, `proc_getprocinfo`, `proc_getprocargs`,
//! `proc_getmsgport`, `proc_getsid`, `proc_getpgrppids`, ...) to the
//! namespace's notice port with its lock released, and when the answer
//! is an error it goes on with its own record of the process, which may
//! have been freed meanwhile if the process died: the host's proc server
//! then aborts, and with it the whole system. A build that starts and
//! kills processes while such questions are asked about them would win
//! that race; here no such question is ever asked.
//!
//! Three kinds of port: a member's; the admission port (sandbox-root
//! gives it to `sandbox-root exec` only), through which a task becomes
//! the namespace's root (`proc_child`) and its first task a member
//! (`proc_task2proc`); and the notice port the host's proc server tells
//! of every task made inside (and relays questions about members to,
//! from processes outside: answered EOPNOTSUPP, see docs/design.md).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::Duration;

use hurd::errno::Errno;
use hurd::port::{Notification, RawPort, ReceiveRight, SendRight, request_notification};
use hurd::procserver as host;
use hurd_server::Forward;
use hurd_server::ports::{self, Object};
use hurd_server::process::{Location, Locations, Members, MsgportReply, PROCESS, Process, Rusage, WaitReply, Waited};
use hurd_server::task_notify::{DEATHS, NEW_TASK, NewTask};
use hurd_sys::raw;

use crate::namespace::{Namespace, Newids, Reaped, Set, Snapshot, Usage};

/// The routines a member's port sends on to the host's proc server as
/// they came, on sandbox-root's own port there: those whose answer does
/// not depend on the calling process (`proc_handle_exceptions` sets up a
/// port of the host's that forwards the exceptions raised on it, with the
/// thread state the caller gave, whoever calls). Any routine neither here
/// nor answered by [`Member`] answers EOPNOTSUPP: among them those that
/// would hand out the host's own ports or rights (`proc_getprivports`,
/// `proc_reauthenticate`, `proc_reassign`, `proc_getexecdata` and
/// `proc_execdata_notify`: the host's root and working directory;
/// `proc_setexecdata`, `proc_make_task_namespace`).
const FORWARDED: &[&str] = &["proc_uname", "proc_handle_exceptions"];

/// Whether a request for `routine` goes to the host as it came.
pub fn forwarded(routine: &str) -> bool {
    FORWARDED.contains(&routine)
}

/// The namespace of one build.
#[derive(Debug)]
pub struct Ns {
    table: Mutex<Namespace>,
    /// Told when a process of the namespace ends.
    ended: Condvar,
    /// The members' tasks, by PID: the host tells [`Notices`] when one
    /// dies (it reaps a namespace's processes itself, so a wait on the
    /// host never finds them).
    tasks: Mutex<BTreeMap<u32, SendRight>>,
    /// Our own port on the host's proc server (sandbox-root's: root).
    host: SendRight,
    /// Whom `ps` shows as every process's owner: the build user, as
    /// `sandbox-root exec` started it (what a process does with its ids
    /// afterwards is the auth server's business, not told here).
    owner: u32,
    /// The tasks the namespace belongs to (one per `sandbox-root exec`):
    /// when one dies, the host's proc server ends every task it made.
    roots: Mutex<Vec<SendRight>>,
    /// Where the host's notices come (see [`Notices`]).
    notices: OnceLock<SendRight>,
    /// Where the deaths of the members' tasks and message ports are told
    /// (the same [`Notices`], served by a thread of their own: see [`DEATHS`]).
    deaths: OnceLock<SendRight>,
    /// The members' message ports, by PID (forgotten when one dies: an
    /// exec makes a new one).
    msgports: Mutex<BTreeMap<u32, SendRight>>,
    /// Where each member's arguments, environment and code are.
    locations: Mutex<BTreeMap<u32, Locations>>,
    /// The members that said they stopped (`proc_mark_stop`).
    stopped: Mutex<BTreeSet<u32>>,
    /// One port per session, by its id (`proc_getsidport`).
    sessions: Mutex<BTreeMap<u32, ReceiveRight>>,
    /// Every task the host told us was made inside, member or not yet:
    /// ended too at teardown (the dead are dropped as more come).
    made: Mutex<Vec<SendRight>>,
    /// Members' waits that found no child ended yet: answered when one
    /// ends (or the waiter does, or is interrupted), holding no thread.
    pending: Mutex<Vec<Pending>>,
    /// Questions for the message port of a member that has none yet:
    /// answered when it has one (or ends, or the asker is interrupted),
    /// holding no thread.
    msgport_waits: Mutex<Vec<MsgportWait>>,
}

/// A `proc_getmsgport` to be answered later.
#[derive(Debug)]
struct MsgportWait {
    /// The process whose port is asked for.
    pid: u32,
    /// The asker's port's interrupts, and the request's number there.
    interrupts: Arc<Interrupts>,
    seqno: u32,
    reply: MsgportReply,
}

/// `proc_wait`'s option: answer at once.
const WNOHANG: i32 = 1;

/// The most waits, and the most questions for message ports, kept to be
/// answered later in one namespace: past it, one more answers EAGAIN. (A
/// build's C library asks each from a thread that waits for the answer;
/// a program speaking RPCs could send them without waiting, and nothing
/// else would bound the list.)
const LATER_MAX: usize = 4096;

/// What a wait answers for `child`, ended with `status`.
fn waited(child: u32, status: i32, used: Usage) -> Waited {
    Waited { status, sigcode: 0, rusage: rusage(&used), pid: child as i32 }
}

/// [`Usage`] as the C library's `struct rusage`: the CPU times (what the
/// namespace has no count for stays 0).
fn rusage(used: &Usage) -> Rusage {
    let time = |us: u64| raw::timeval { tv_sec: (us / 1_000_000) as _, tv_usec: (us % 1_000_000) as _ };
    Rusage { ru_utime: time(used.user_us), ru_stime: time(used.system_us), ..Default::default() }
}

/// What the kernel says `task` has used, as the namespace counts it.
fn usage_of(task: &SendRight) -> Usage {
    let t = hurd::process::task_usage(task);
    Usage { user_us: t.user_us, system_us: t.system_us }
}

/// Which pending waits an event concerns.
#[derive(Debug, Clone, Copy)]
enum Concerned<'a> {
    All,
    /// Those of these waiters.
    Waiters(&'a [u32]),
    /// Those that came to the port with these interrupts.
    Port(*const Interrupts),
}

/// A `proc_wait` to be answered later.
#[derive(Debug)]
struct Pending {
    waiter: u32,
    pid: i32,
    /// The waiter's port's interrupts, and the request's number there.
    interrupts: Arc<Interrupts>,
    seqno: u32,
    reply: WaitReply,
}

/// A process of the namespace.
#[derive(Debug)]
struct Entry {
    pid: u32,
    /// Its task, as admitted: what its own requests ask the kernel about
    /// without taking the namespace's table of tasks (held across host
    /// RPCs, and asked by every process that ends at once).
    task: SendRight,
}

#[derive(Debug, thiserror::Error)]
pub enum NsError {
    #[error("the namespace's PIDs: {0}")]
    Pids(#[from] crate::pidmap::PidMapError),
    #[error("serving the namespace's ports: {0}")]
    Serve(#[from] hurd_server::ServerError),
    #[error("asking for our own proc port: {0}")]
    ProcPort(#[from] hurd::process::ProcError),
}

impl Ns {
    /// A namespace whose builder will be PID `first`, its processes
    /// shown as `owner`'s (the build user's).
    pub fn new(first: u32, owner: u32) -> Result<Arc<Ns>, NsError> {
        let host = hurd::process::proc_port()?;
        let ns = Arc::new(Ns {
            table: Mutex::new(Namespace::new(first)?),
            owner,
            ended: Condvar::new(),
            tasks: Mutex::new(BTreeMap::new()),
            host,
            roots: Mutex::new(Vec::new()),
            notices: OnceLock::new(),
            deaths: OnceLock::new(),
            msgports: Mutex::new(BTreeMap::new()),
            locations: Mutex::new(BTreeMap::new()),
            stopped: Mutex::new(BTreeSet::new()),
            sessions: Mutex::new(BTreeMap::new()),
            made: Mutex::new(Vec::new()),
            pending: Mutex::new(Vec::new()),
            msgport_waits: Mutex::new(Vec::new()),
        });
        // Waits answered later look at the host's list every second too (a
        // death whose notice is late), as long as the namespace is there.
        let weak = Arc::downgrade(&ns);
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let Some(ns) = weak.upgrade() else { return };
                let waits = !ns.pending.lock().unwrap_or_else(|e| e.into_inner()).is_empty();
                let questions = !ns.msgport_waits.lock().unwrap_or_else(|e| e.into_inner()).is_empty();
                if waits || questions {
                    let _ = ns.live();
                }
                if waits {
                    ns.answer_pending(Concerned::All);
                }
                if questions {
                    ns.answer_msgport_waits();
                }
            }
        });
        let notices: Arc<dyn NewTask> = Arc::new(Notices(Arc::downgrade(&ns)));
        let _ = ns.deaths.set(ports::serve(Object::new(&DEATHS, notices.clone()))?);
        let _ = ns.notices.set(ports::serve(Object::new(&NEW_TASK, notices))?);
        Ok(ns)
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Namespace> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The admission port, for `sandbox-root exec`.
    pub fn admission(self: &Arc<Self>) -> Result<SendRight, NsError> {
        let admit: Arc<dyn Process> = Arc::new(Admission(self.clone(), Interrupts::default()));
        // sandbox-root keeps it for itself: it holds nothing up.
        Ok(ports::serve(Object::new(&PROCESS, admit).own(true))?)
    }

    /// `task` (held by a member, or the builder's) as a member, made by
    /// `parent`.
    fn admit(self: &Arc<Self>, task: &SendRight, parent: Option<u32>) -> Result<Arc<Entry>, Errno> {
        // Everything the host is asked first: a task that dies meanwhile
        // leaves nothing in the table (its real PID could later be a host
        // process's).
        // (proc_task2pid is answered from the host's table, never
        // relayed: the one question about a member it is asked.)
        let real = host::task2pid(&self.host, task)?;
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let known = self.table().seen(real);
        if known != 0 {
            if tasks.get(&(known as u32)).is_some_and(|t| t.as_raw() == task.as_raw()) {
                let task = task.try_clone().map_err(|_| Errno::EIO)?;
                return Ok(Arc::new(Entry { pid: known as u32, task }));
            }
            // The host gave the real PID of a member to a new task (it
            // wraps its PIDs at 30000): that member has ended, whether or
            // not its death has been told yet. It ends here first, so that
            // the new task does not take over its PID, parent and waiter.
            drop(tasks);
            log::info!("real PID {real} given again: PID {known} has ended");
            self.ended(known as u32, true);
            tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
            if self.table().seen(real) != 0 {
                return Err(Errno::EAGAIN);
            }
        }
        let kept = task.try_clone().map_err(|_| Errno::EIO)?;
        let own = task.try_clone().map_err(|_| Errno::EIO)?;
        // Told to the notice port when the task dies; refused for a task
        // already dead.
        let deaths = self.deaths.get().ok_or(Errno::EIO)?;
        request_notification(kept.as_raw(), Notification::DeadName, deaths.as_raw())?;
        let pid = self.table().admit(real, parent)?;
        tasks.insert(pid, kept);
        // What a child's C library copies from its parent (fork) starts
        // as the parent's.
        if let Some(parent) = parent {
            let mut locations = self.locations.lock().unwrap_or_else(|e| e.into_inner());
            let inherited = locations.get(&parent).copied().unwrap_or_default();
            locations.insert(pid, inherited);
        }
        Ok(Arc::new(Entry { pid, task: own }))
    }

    /// A proc port of ours for `entry`.
    fn serve(self: &Arc<Self>, entry: Arc<Entry>) -> Result<SendRight, Errno> {
        let member = Arc::new(Member { ns: self.clone(), entry, interrupts: Arc::default() });
        let object = Object::new(&PROCESS, member.clone() as Arc<dyn Process>).with_forward(member);
        ports::serve(object).map_err(|_| Errno::ENOMEM)
    }

    /// The namespace's processes as the host lists them now (the dead
    /// become zombies).
    fn live(&self) -> Result<Vec<i32>, Errno> {
        // The host is asked with nothing held: it may be slow to answer
        // (a build ending hundreds of processes at once), and every
        // request of the namespace would queue behind it. A member
        // admitted meanwhile is not among those listed before, so it is
        // not taken for dead.
        let listed = self.table().live_with_reals();
        let all = host::getallpids(&self.host)?;
        let (gone, reals, before) = {
            // (Admissions hold the tasks while they enter the table.)
            let _tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
            let mut table = self.table();
            let before = table.snapshot();
            let gone = table.prune_listed(&all, &listed);
            (gone, table.reals(), before)
        };
        if !gone.is_empty() {
            for &pid in &gone {
                // (Its death's notice is late, or lost.)
                log::debug!("PID {pid} is no longer on the host's list: it has ended");
                self.ended(pid, false);
            }
            self.tell(&before, None);
        }
        Ok(reals)
    }

    /// `pid` has ended (`died`: its task's death was just told; else the
    /// table already knows): its parent is sent SIGCHLD, waiters wake,
    /// and (when `died`) whoever it changes for hears of it.
    fn ended(&self, pid: u32, died: bool) {
        let before = if died {
            let mut table = self.table();
            let before = table.snapshot();
            if !table.died(pid) {
                return;
            }
            Some(before)
        } else {
            None
        };
        self.msgports.lock().unwrap_or_else(|e| e.into_inner()).remove(&pid);
        self.locations.lock().unwrap_or_else(|e| e.into_inner()).remove(&pid);
        self.stopped.lock().unwrap_or_else(|e| e.into_inner()).remove(&pid);
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).remove(&pid);
        self.ended.notify_all();
        // SIGCHLD, as a proc server sends it: to the parent's message
        // port, vouched for by the parent's own task port, never waiting.
        const SIGCHLD: i32 = 20;
        let (parent, status) = {
            let table = self.table();
            (table.parent_now(pid), table.zombie_status(pid).unwrap_or(crate::namespace::KILLED))
        };
        // CLD_EXITED, CLD_KILLED, CLD_DUMPED, as the wait status says.
        let how = match (status & 0x7f, status & 0x80) {
            (0, _) => 1,
            (_, 0) => 2,
            _ => 3,
        };
        log::debug!("PID {pid} ended, wait status {status:#x}, parent {parent:?}");
        if let Some(parent) = parent {
            let msgport =
                self.msgports.lock().unwrap_or_else(|e| e.into_inner()).get(&parent).and_then(|m| m.try_clone().ok());
            let task =
                self.tasks.lock().unwrap_or_else(|e| e.into_inner()).get(&parent).and_then(|t| t.try_clone().ok());
            if let (Some(msgport), Some(task)) = (msgport, task) {
                if let Err(e) = host::post_signal_nowait(&msgport, SIGCHLD, how, &task) {
                    log::debug!("SIGCHLD to PID {parent}: {e}");
                }
            }
        }
        if let Some(before) = before {
            self.tell(&before, None);
        }
        // Its parent's waits, and its own (it is gone: EINTR); questions
        // for its message port (ESRCH).
        let waiters: Vec<u32> = std::iter::once(pid).chain(parent).collect();
        self.answer_pending(Concerned::Waiters(&waiters));
        self.answer_msgport_waits();
    }

    /// Answers every question for a message port that can be answered
    /// now: the process has one (a copy of it), has ended (ESRCH), or the
    /// asker was interrupted (EINTR). (Lock order: these questions, then
    /// the table or the message ports; nothing holding either takes
    /// them.)
    fn answer_msgport_waits(&self) {
        let answers: Vec<(MsgportReply, Result<SendRight, Errno>)> = {
            let mut waits = self.msgport_waits.lock().unwrap_or_else(|e| e.into_inner());
            if waits.is_empty() {
                return;
            }
            let alive: Vec<bool> = {
                let table = self.table();
                waits.iter().map(|w| table.alive(w.pid)).collect()
            };
            let msgports = self.msgports.lock().unwrap_or_else(|e| e.into_inner());
            let mut answers = Vec::new();
            // (From the end, so that `alive` still follows the list.)
            for i in (0..waits.len()).rev() {
                let w = &waits[i];
                let answer = if w.interrupts.since(w.seqno) {
                    Some(Err(Errno::EINTR))
                } else if let Some(port) = msgports.get(&w.pid).filter(|p| !p.is_dead()) {
                    Some(port.try_clone().map_err(|_| Errno::EIO))
                } else if !alive[i] {
                    Some(Err(Errno::ESRCH))
                } else {
                    None
                };
                if let Some(answer) = answer {
                    answers.push((waits.swap_remove(i).reply, answer));
                }
            }
            answers
        };
        for (reply, answer) in answers {
            reply.answer(answer);
        }
    }

    /// Answers every pending wait among `which` that can be answered now:
    /// a child that fits has ended (it is reaped), none fits any more
    /// (ECHILD), or the waiter is gone or was interrupted (EINTR). (Only
    /// those an event concerns are looked at: with hundreds waiting, a
    /// look at all of them on every end would hold the table for long.)
    fn answer_pending(&self, which: Concerned<'_>) {
        let answers: Vec<(WaitReply, Result<Waited, Errno>)> = {
            let mut table = self.table();
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let mut answers = Vec::new();
            let mut i = 0;
            while i < pending.len() {
                let p = &pending[i];
                // (An interrupted wait is ended by whichever pass comes
                // first: its interrupt may have found the list taken.)
                let concerned = p.interrupts.since(p.seqno)
                    || match which {
                        Concerned::All => true,
                        Concerned::Waiters(waiters) => waiters.contains(&p.waiter),
                        Concerned::Port(interrupts) => std::ptr::eq(Arc::as_ptr(&p.interrupts), interrupts),
                    };
                if !concerned {
                    i += 1;
                    continue;
                }
                let answer = match table.reap_using(Some(p.waiter), p.pid) {
                    (Reaped::Child(child, status), used) => Some(Ok(waited(child, status, used))),
                    (Reaped::None, _) => Some(Err(Errno::ECHILD)),
                    (Reaped::Wait, _) if !table.alive(p.waiter) || p.interrupts.since(p.seqno) => {
                        Some(Err(Errno::EINTR))
                    }
                    (Reaped::Wait, _) => None,
                };
                match answer {
                    Some(answer) => answers.push((pending.swap_remove(i).reply, answer)),
                    None => i += 1,
                }
            }
            answers
        };
        for (reply, answer) in answers {
            reply.answer(answer);
        }
    }

    /// Answers EINTR to the pending waits and questions for message
    /// ports that came to `interrupts`'s port before its last interrupt,
    /// from each list that is free now; never waits for either, nor for
    /// the table (a list taken now is looked at again by its next pass).
    fn answer_interrupted(&self, interrupts: &Interrupts) {
        let ours = |i: &Arc<Interrupts>, seqno: u32| std::ptr::eq(Arc::as_ptr(i), interrupts) && i.since(seqno);
        let mut answers: Vec<WaitReply> = Vec::new();
        if let Ok(mut pending) = self.pending.try_lock() {
            for i in (0..pending.len()).rev() {
                if ours(&pending[i].interrupts, pending[i].seqno) {
                    answers.push(pending.swap_remove(i).reply);
                }
            }
        }
        let mut questions: Vec<MsgportReply> = Vec::new();
        if let Ok(mut waits) = self.msgport_waits.try_lock() {
            for i in (0..waits.len()).rev() {
                if ours(&waits[i].interrupts, waits[i].seqno) {
                    questions.push(waits.swap_remove(i).reply);
                }
            }
        }
        for reply in answers {
            reply.answer(Err(Errno::EINTR));
        }
        for reply in questions {
            reply.answer(Err(Errno::EINTR));
        }
    }

    /// Tells every member whose parent, process group or the group's
    /// orphaned state differs from `before` (and `also`, whatever it was)
    /// what it is now (`msg_proc_newids`, never waiting): the C library
    /// keeps what getppid and getpgrp answer from it.
    fn tell(&self, before: &Snapshot, also: Option<u32>) {
        let changed = self.table().changed(before, also);
        for Newids { pid, ppid, pgrp, orphaned } in changed {
            let msgport =
                self.msgports.lock().unwrap_or_else(|e| e.into_inner()).get(&pid).and_then(|m| m.try_clone().ok());
            let task = self.tasks.lock().unwrap_or_else(|e| e.into_inner()).get(&pid).and_then(|t| t.try_clone().ok());
            if let (Some(msgport), Some(task)) = (msgport, task) {
                if let Err(e) = host::proc_newids_nowait(&msgport, &task, ppid, pgrp as i32, orphaned) {
                    log::debug!("telling PID {pid} its new ids: {e}");
                }
            }
        }
    }

    /// Members whose tasks are gone end now (`all`: every member; else
    /// those children of `waiter`, none: the parent outside, that said
    /// how they end). (Only a waiter's own: every wait asks the kernel
    /// about each candidate, and when hundreds of processes end at once,
    /// hundreds wait.)
    fn sweep(&self, all: bool, waiter: Option<u32>) {
        let candidates = if all { None } else { Some(self.table().exiting_children(waiter)) };
        let gone: Vec<u32> = {
            let tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
            tasks
                .iter()
                .filter(|(pid, _)| candidates.as_ref().is_none_or(|c| c.contains(pid)))
                .filter(|(_, task)| task.is_dead())
                .map(|(&pid, _)| pid)
                .collect()
        };
        for pid in gone {
            log::debug!("PID {pid}'s task is gone (found before its death's notice)");
            self.ended(pid, true);
        }
    }

    /// A right of the namespace's named `name` here has died: a
    /// member's task, or a member's message port.
    fn task_died(&self, name: RawPort) {
        let pid = {
            let tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
            tasks.iter().find(|(_, t)| t.as_raw() == name).map(|(&p, _)| p)
        };
        if let Some(pid) = pid {
            self.ended(pid, true);
            return;
        }
        let mut msgports = self.msgports.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pid) = msgports.iter().find(|(_, m)| m.as_raw() == name).map(|(&p, _)| p) {
            msgports.remove(&pid);
        }
    }

    /// Waits as `waiter` (none: the parent outside) for `pid`, answering
    /// the child's PID and wait status; EAGAIN with WNOHANG while none
    /// has ended, ECHILD when none fits, EINTR when the waiter itself is
    /// gone or `interrupted` says that the client has since asked for the
    /// request to end (it took a signal).
    fn wait(
        &self,
        waiter: Option<u32>,
        pid: i32,
        options: i32,
        interrupted: &dyn Fn() -> bool,
    ) -> Result<(u32, i32, Usage), Errno> {
        // A process that said how it ends may be gone already while its
        // death's notice is on its way (its parent may have had the
        // host's SIGCHLD): its task's name says so at once.
        self.sweep(false, waiter);
        let mut table = self.table();
        loop {
            match table.reap_using(waiter, pid) {
                (Reaped::Child(child, status), used) => return Ok((child, status, used)),
                (Reaped::None, _) => return Err(Errno::ECHILD),
                (Reaped::Wait, _) if options & WNOHANG != 0 => return Err(Errno::EAGAIN),
                (Reaped::Wait, _) => {}
            }
            if waiter.is_some_and(|w| !table.alive(w)) || interrupted() {
                return Err(Errno::EINTR);
            }
            // Woken by any end; every second, the host's list is looked
            // at too (a death whose notice is late).
            let (t, timeout) =
                self.ended.wait_timeout(table, Duration::from_secs(1)).unwrap_or_else(|e| e.into_inner());
            table = t;
            if timeout.timed_out() {
                drop(table);
                let _ = self.live();
                table = self.table();
            }
        }
    }

    /// How many processes the namespace has now.
    pub fn processes(&self) -> usize {
        // (Without asking the host: a goaway asks this.)
        self.sweep(true, None);
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Ends every process of the namespace: the root's task first (the
    /// host's proc server then ends every task inside), then each one
    /// still listed, until none is or `rounds` have passed. Answers how
    /// many were left.
    pub fn end(&self, rounds: usize) -> usize {
        for root in std::mem::take(&mut *self.roots.lock().unwrap_or_else(|e| e.into_inner())) {
            if let Err(e) = hurd::process::terminate_task(&root) {
                log::debug!("ending a root task of the namespace: {e}");
            }
        }
        // By their task ports, which no other process can come to name
        // (a PID could be given again meanwhile): the members' and every
        // task the host said was made inside.
        let mut left = 0;
        for _ in 0..rounds {
            self.sweep(true, None);
            let tasks: Vec<SendRight> = {
                let tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
                let mut made = self.made.lock().unwrap_or_else(|e| e.into_inner());
                made.retain(|t| !t.is_dead());
                tasks.values().chain(made.iter()).filter_map(|t| t.try_clone().ok()).collect()
            };
            left = tasks.len();
            if left == 0 {
                break;
            }
            for task in tasks {
                if let Err(e) = hurd::process::terminate_task(&task) {
                    log::debug!("ending a task of the namespace: {e}");
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        left
    }
}

/// The host's notices of tasks made inside and of members' deaths, and
/// its questions about members (which it answers itself when they fail).
#[derive(Debug)]
struct Notices(Weak<Ns>);

impl Forward for Notices {}

impl NewTask for Notices {
    fn new_task(&self, task: SendRight, parent: SendRight) {
        // Members are admitted when a member names them (fork calls
        // proc_task2pid and proc_task2proc first); the notice says that
        // the host made it a child of its maker, and it is kept to be
        // ended with the rest.
        log::trace!("new task {task:?} made by {parent:?}");
        if let Some(ns) = self.0.upgrade() {
            let mut made = ns.made.lock().unwrap_or_else(|e| e.into_inner());
            if made.len() >= 1024 {
                made.retain(|t| !t.is_dead());
            }
            made.push(task);
        }
    }

    fn dead_name(&self, name: RawPort) {
        if let Some(ns) = self.0.upgrade() {
            ns.task_died(name);
        }
    }
}

/// The admission port.
#[derive(Debug)]
struct Admission(Arc<Ns>, Interrupts);

impl Forward for Admission {}

impl Process for Admission {
    fn interrupted(&self, seqno: u32) {
        self.1.interrupted(seqno, &self.0);
    }

    /// `task` becomes a root of the namespace: every task it makes from
    /// now on is inside, and ends when it does. (Each `sandbox-root exec`
    /// into the environment is one; their builders share the PIDs.)
    fn child(&self, task: &SendRight) -> Result<(), Errno> {
        let port = host::task2proc(&self.0.host, task)?;
        host::make_task_namespace(&port, self.0.notices.get().ok_or(Errno::EIO)?)?;
        let mut roots = self.0.roots.lock().unwrap_or_else(|e| e.into_inner());
        roots.retain(|r| !r.is_dead());
        roots.push(task.try_clone().map_err(|_| Errno::EIO)?);
        log::info!("a process joined the build's PID namespace as its root");
        Ok(())
    }

    /// The builder's task (made by the root) becomes the first member: it
    /// leads a session and a process group of its own.
    fn task_proc(&self, task: &SendRight) -> Result<SendRight, Errno> {
        let entry = self.0.admit(task, None)?;
        log::debug!("the builder is PID {}", entry.pid);
        self.0.serve(entry)
    }

    /// The root waits for the builder.
    fn wait(&self, pid: i32, options: i32, _waitid: bool) -> Result<Waited, Errno> {
        let interrupted = self.1.since_this_request();
        let (pid, status, used) = self.0.wait(None, pid, options, &interrupted)?;
        Ok(waited(pid, status, used))
    }
}

/// A member's proc port.
#[derive(Debug)]
struct Member {
    ns: Arc<Ns>,
    entry: Arc<Entry>,
    interrupts: Arc<Interrupts>,
}

/// The last `interrupt_operation` a port of ours received, by its number
/// there (the C library sends one when a thread blocked in a request of
/// the port takes a signal, and gives the request up with EIEIO a minute
/// later if it has not ended).
#[derive(Debug, Default)]
struct Interrupts(Mutex<Option<u32>>);

impl Interrupts {
    /// Answered at once, whatever holds the namespace: the C library
    /// waits one second for the answer to `interrupt_operation`, then
    /// gives the interrupted request up with EIEIO (a shell takes that
    /// for its command's status 255). The waits it ends answer EINTR
    /// here when nobody holds the pending list, else at the next pass
    /// over it: any process's end, or the namespace's look once a second
    /// (the client waits a minute for those).
    fn interrupted(&self, seqno: u32, ns: &Ns) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(seqno);
        // (A blocked wait that misses this looks again within a second.)
        ns.ended.notify_all();
        ns.answer_interrupted(self);
    }

    /// Whether an interrupt came after the request numbered `request`.
    fn since(&self, request: u32) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).is_some_and(|i| hurd_server::message::interrupts(i, request))
    }

    /// Whether an interrupt came after the request being served on this
    /// thread.
    fn since_this_request(&self) -> impl Fn() -> bool + '_ {
        let request = hurd_server::message::request_seqno();
        move || self.since(request)
    }
}

impl Forward for Member {
    fn forward_port(&self) -> Option<&SendRight> {
        Some(&self.ns.host)
    }

    fn forwards(&self, routine: &str) -> bool {
        forwarded(routine)
    }
}

impl Member {
    /// ESRCH once this port's process has ended: what a dead process's
    /// port says of itself is no longer kept.
    fn alive(&self) -> Result<(), Errno> {
        if self.ns.table().alive(self.entry.pid) {
            return Ok(());
        }
        // A process that has ended sends nothing more: one that still
        // asks was taken for dead.
        log::debug!("PID {} asks after its end was recorded", self.entry.pid);
        Err(Errno::ESRCH)
    }

    /// A PID argument (0: this process) as the namespace names it.
    fn pid(&self, pid: i32) -> Result<u32, Errno> {
        match pid {
            0 => Ok(self.entry.pid),
            p => u32::try_from(p).map_err(|_| Errno::ESRCH),
        }
    }

    /// The member `pid` (0: this one)'s task, the one the namespace was
    /// told of (a PID is never looked up on the host: a real PID given
    /// again to a host process would not be ours).
    fn task_of(&self, pid: i32) -> Result<SendRight, Errno> {
        let pid = self.pid(pid)?;
        let tasks = self.ns.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let task = tasks.get(&pid).ok_or(Errno::ESRCH)?;
        if task.is_dead() {
            return Err(Errno::ESRCH);
        }
        task.try_clone().map_err(|_| Errno::EIO)
    }

    /// Tells, after `change` on the table, whoever it changed things for.
    fn changing(&self, also: u32, change: impl FnOnce(&mut Namespace) -> Result<(), Errno>) -> Result<(), Errno> {
        let before = {
            let mut table = self.ns.table();
            let before = table.snapshot();
            change(&mut table)?;
            before
        };
        self.ns.tell(&before, Some(also));
        Ok(())
    }
}

impl Process for Member {
    fn interrupted(&self, seqno: u32) {
        self.interrupts.interrupted(seqno, &self.ns);
    }

    fn pids(&self) -> Result<(i32, i32, bool), Errno> {
        let table = self.ns.table();
        Ok((self.entry.pid as i32, table.parent(self.entry.pid), table.orphaned(self.entry.pid)))
    }

    fn task_pid(&self, task: &SendRight) -> Result<i32, Errno> {
        self.alive()?;
        Ok(self.ns.admit(task, Some(self.entry.pid))?.pid as i32)
    }

    fn task_proc(&self, task: &SendRight) -> Result<SendRight, Errno> {
        self.alive()?;
        let entry = self.ns.admit(task, Some(self.entry.pid))?;
        self.ns.serve(entry)
    }

    fn child(&self, task: &SendRight) -> Result<(), Errno> {
        // The host made it our child when it was made (it is inside the
        // namespace); asking it again would be refused.
        self.alive()?;
        self.ns.admit(task, Some(self.entry.pid)).map(|_| ())
    }

    /// Any member's task, to any member: they are all the build's (the
    /// host would check that the caller has the owner's ids; inside, a
    /// process that gave up some of its ids still gets its siblings').
    fn pid_task(&self, pid: i32) -> Result<SendRight, Errno> {
        self.task_of(pid)
    }

    fn pid_proc(&self, pid: i32) -> Result<SendRight, Errno> {
        let task = self.task_of(pid)?;
        let entry = self.ns.admit(&task, None)?;
        self.ns.serve(entry)
    }

    fn all_pids(&self) -> Result<Vec<i32>, Errno> {
        let live = self.ns.live()?;
        Ok(self.ns.table().filter(&live))
    }

    /// The namespace's own record of the process, with what the kernel
    /// says of its task and threads as `flags` asks (never thread waits:
    /// those would be asked of the process itself).
    fn info(&self, pid: i32, flags: i32) -> Result<(i32, Vec<i32>, Vec<u8>), Errno> {
        let pid = self.pid(pid)?;
        let stopped = self.ns.stopped.lock().unwrap_or_else(|e| e.into_inner()).contains(&pid);
        let msgport = self.ns.msgports.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&pid);
        let fixed = self.ns.table().procinfo(pid, self.ns.owner, stopped, msgport).ok_or(Errno::ESRCH)?;
        // (A zombie's task is gone: the fixed part alone.)
        let task = self.task_of(pid as i32).ok();
        let (flags, words) = hurd::process::procinfo(fixed, task.as_ref(), flags);
        Ok((flags, words, Vec::new()))
    }

    /// Not answered (EOPNOTSUPP; ESRCH outside the namespace): the
    /// vectors would be read from the process's memory, which the process
    /// may back with a pager of its own that never answers, or that fails
    /// the read and so faults us.
    fn args(&self, pid: i32, env: bool) -> Result<Vec<u8>, Errno> {
        if !self.ns.table().alive(self.pid(pid)?) {
            return Err(Errno::ESRCH);
        }
        Err(hurd_server::unsupported(if env { "proc_getprocenv" } else { "proc_getprocargs" }))
    }

    /// As a proc server answers it: a process that has no message port
    /// yet (just forked) or whose port died (it is execing) is waited for
    /// until it has one or ends; a signal ends the wait (EINTR). (The C
    /// library's `kill` gives up on any other error: `kill $!` right after
    /// `&` failed with EAGAIN.) The wait holds no server thread: a build
    /// that forks and signals at once, hundreds of times, must not take
    /// the threads that answer its other requests (and the interrupts its
    /// C library waits a second for).
    fn msgport_later(&self, pid: i32, later: &mut Option<MsgportReply>) -> Result<Option<SendRight>, Errno> {
        let pid = self.pid(pid)?;
        let seqno = hurd_server::message::request_seqno();
        let mut waits = self.ns.msgport_waits.lock().unwrap_or_else(|e| e.into_inner());
        if !self.ns.table().alive(pid) {
            return Err(Errno::ESRCH);
        }
        {
            let msgports = self.ns.msgports.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(port) = msgports.get(&pid).filter(|p| !p.is_dead()) {
                return port.try_clone().map(Some).map_err(|_| Errno::EIO);
            }
        }
        if self.interrupts.since(seqno) {
            return Err(Errno::EINTR);
        }
        if waits.len() >= LATER_MAX {
            return Err(Errno::EAGAIN);
        }
        let reply = later.take().ok_or(Errno::EAGAIN)?;
        waits.push(MsgportWait { pid, interrupts: self.interrupts.clone(), seqno, reply });
        drop(waits);
        // (An interrupt that came meanwhile found the question not kept
        // yet: look again.)
        if self.interrupts.since(seqno) {
            self.ns.answer_msgport_waits();
        }
        Ok(None)
    }

    fn wait(&self, pid: i32, options: i32, _waitid: bool) -> Result<Waited, Errno> {
        let interrupted = self.interrupts.since_this_request();
        let (child, status, used) =
            self.ns.wait(Some(self.entry.pid), pid, options, &interrupted).inspect_err(|e| {
                // (A shell takes a failed wait for its child's status 255;
                // ECHILD ends every shell's round of waits.)
                match *e {
                    Errno::EAGAIN | Errno::ECHILD => log::trace!("PID {} waiting for {pid}: {e}", self.entry.pid),
                    _ => log::debug!("PID {} waiting for {pid}: {e}", self.entry.pid),
                }
            })?;
        Ok(waited(child, status, used))
    }

    /// `proc_wait`: a wait that finds no child ended yet is answered when
    /// one ends (`Ns::answer_pending`), holding no server thread: every
    /// build process may wait at once (a `make -j` tree of shells), and
    /// no number of waits keeps the rest of the environment from being
    /// served.
    fn wait_later(&self, pid: i32, options: i32, later: &mut Option<WaitReply>) -> Result<Option<Waited>, Errno> {
        let me = self.entry.pid;
        self.ns.sweep(false, Some(me));
        // Held while the wait is kept, so that an end told meanwhile
        // (which takes the table first) finds it.
        let mut table = self.ns.table();
        match table.reap_using(Some(me), pid) {
            (Reaped::Child(child, status), used) => {
                return Ok(Some(waited(child, status, used)));
            }
            (Reaped::None, _) => return Err(Errno::ECHILD),
            (Reaped::Wait, _) if options & WNOHANG != 0 => return Err(Errno::EAGAIN),
            (Reaped::Wait, _) => {}
        }
        if !table.alive(me) {
            return Err(Errno::EINTR);
        }
        let mut pending = self.ns.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.len() >= LATER_MAX {
            return Err(Errno::EAGAIN);
        }
        let reply = later.take().ok_or(Errno::EAGAIN)?;
        let seqno = hurd_server::message::request_seqno();
        pending.push(Pending { waiter: me, pid, interrupts: self.interrupts.clone(), seqno, reply });
        drop((pending, table));
        // (An interrupt that came before the wait was kept.)
        if self.interrupts.since(seqno) {
            self.ns.answer_pending(Concerned::Port(Arc::as_ptr(&self.interrupts)));
        }
        Ok(None)
    }

    fn set_msgport(&self, msgport: SendRight) -> Result<Option<SendRight>, Errno> {
        self.alive()?;
        let deaths = self.ns.deaths.get().ok_or(Errno::EIO)?;
        request_notification(msgport.as_raw(), Notification::DeadName, deaths.as_raw())?;
        let old = self.ns.msgports.lock().unwrap_or_else(|e| e.into_inner()).insert(self.entry.pid, msgport);
        // Whoever asked for it (`proc_getmsgport`) is answered.
        self.ns.answer_msgport_waits();
        Ok(old)
    }

    /// Also counts what the process used by then (a kernel question
    /// about its own task, asked before the table is taken).
    fn mark_exit(&self, status: i32, _sigcode: i32) -> Result<(), Errno> {
        let used = usage_of(&self.entry.task);
        self.ns.table().mark_exit_using(self.entry.pid, status, used);
        Ok(())
    }

    fn pgrp(&self, pid: i32) -> Result<i32, Errno> {
        Ok(self.ns.table().pgrp(self.entry.pid, self.pid(pid)?)? as i32)
    }

    fn set_pgrp(&self, pid: i32, pgrp: i32) -> Result<(), Errno> {
        let target = self.pid(pid)?;
        let pgrp = u32::try_from(pgrp).map_err(|_| Errno::EINVAL)?;
        let caller = self.entry.pid;
        // The process moved is told even when it was there already: its
        // C library waits to hear it.
        self.changing(target, |t| t.setpgrp(caller, target, pgrp))
    }

    fn sid(&self, pid: i32) -> Result<i32, Errno> {
        Ok(self.ns.table().sid(self.entry.pid, self.pid(pid)?)? as i32)
    }

    fn members(&self, of: Members) -> Result<Vec<i32>, Errno> {
        let id = |i: i32| u32::try_from(i).map_err(|_| Errno::ESRCH);
        let set = match of {
            Members::Pgrp(i) => Set::Pgrp(id(i)?),
            Members::Session(i) => Set::Session(id(i)?),
            Members::SessionPgrps(i) => Set::SessionPgrps(id(i)?),
            Members::Login(i) => Set::Login(id(i)?),
        };
        Ok(self.ns.table().members(self.entry.pid, set)?.into_iter().map(|p| p as i32).collect())
    }

    fn login_id(&self, pid: i32) -> Result<i32, Errno> {
        Ok(self.ns.table().login(self.entry.pid, self.pid(pid)?)? as i32)
    }

    fn set_sid(&self) -> Result<(), Errno> {
        let pid = self.entry.pid;
        self.changing(pid, |t| t.setsid(pid))
    }

    fn sid_port(&self) -> Result<SendRight, Errno> {
        let sid = self.ns.table().sid(self.entry.pid, 0)?;
        let mut sessions = self.ns.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let port = match sessions.entry(sid) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(ReceiveRight::allocate().map_err(|_| Errno::ENOMEM)?)
            }
        };
        port.make_send().map_err(|_| Errno::ENOMEM)
    }

    fn locations(&self) -> Result<Locations, Errno> {
        let locations = self.ns.locations.lock().unwrap_or_else(|e| e.into_inner());
        Ok(locations.get(&self.entry.pid).copied().unwrap_or_default())
    }

    fn set_location(&self, location: Location) -> Result<(), Errno> {
        self.alive()?;
        let mut locations = self.ns.locations.lock().unwrap_or_else(|e| e.into_inner());
        let l = locations.entry(self.entry.pid).or_default();
        match location {
            Location::Args { argv, envp } => (l.argv, l.envp) = (argv, envp),
            Location::Code { start, end } => (l.start_code, l.end_code) = (start, end),
            Location::Entry(entry) => l.entry = entry,
        }
        Ok(())
    }

    fn mark_stopped(&self, stopped: bool) -> Result<(), Errno> {
        self.alive()?;
        let mut set = self.ns.stopped.lock().unwrap_or_else(|e| e.into_inner());
        if stopped {
            set.insert(self.entry.pid);
        } else {
            set.remove(&self.entry.pid);
        }
        Ok(())
    }

    fn mark_exec(&self) -> Result<(), Errno> {
        self.ns.table().mark_exec(self.entry.pid);
        Ok(())
    }

    fn stop_others(&self, thread: &SendRight) -> Result<(), Errno> {
        hurd::process::stop_threads_but(&self.task_of(0)?, thread)
    }

    fn set_exe(&self, _path: &str) -> Result<(), Errno> {
        Ok(())
    }

    /// Not counted here: all zeros (the host counted it from the reaped
    /// processes it waited for itself; here nothing of a task is left to
    /// ask once it has ended).
    fn children_rusage(&self) -> Result<Rusage, Errno> {
        Ok(rusage(&self.ns.table().children_usage(self.entry.pid)))
    }

    fn knows(&self, pid: i32) -> bool {
        self.ns.table().knows(pid)
    }
}
