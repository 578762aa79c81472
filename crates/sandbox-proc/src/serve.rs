//! Serving the namespace on the Hurd: each build process's proc port is a
//! [`Member`] of ours standing for its port on the host's proc server.
//! Requests that name no process go to the host as they came; the ones
//! that do are answered here through [`Namespace`], relayed to the host
//! with real PIDs.
//!
//! Three kinds of port: a member's; the admission port (sandbox-root
//! gives it to `sandbox-root exec` only), through which a task becomes
//! the namespace's root (`proc_child`) and its first task a member
//! (`proc_task2proc`); and the notice port the host's proc server tells
//! of every task made inside, and relays its questions about members to
//! (answered EOPNOTSUPP: the host then answers from its own records).

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::Duration;

use hurd::errno::Errno;
use hurd::port::{Notification, RawPort, SendRight, request_notification};
use hurd::procserver as host;
use hurd_server::Forward;
use hurd_server::msg::{MSGPORT, MsgPort};
use hurd_server::ports::{self, Object};
use hurd_server::process::{Members, PROCESS, Process, Waited};
use hurd_server::task_notify::{NEW_TASK, NewTask};

use crate::namespace::{Namespace, Reaped};

/// The routines that name no other process: they go to the host's proc
/// server as they came, on the member's host port, and the host answers
/// the member. Any routine neither here nor answered by [`Member`]
/// answers EOPNOTSUPP: among them those that would hand out the host's
/// own ports or rights (`proc_getprivports`, `proc_reauthenticate`,
/// `proc_reassign`, `proc_getexecdata` and `proc_execdata_notify`: the
/// host's root and working directory; `proc_setexecdata`,
/// `proc_make_task_namespace`).
const FORWARDED: &[&str] = &[
    "proc_set_arg_locations",
    "proc_get_arg_locations",
    "proc_set_code",
    "proc_get_code",
    "proc_set_entry",
    "proc_get_entry",
    "proc_set_exe",
    "proc_mark_stop",
    "proc_mark_cont",
    "proc_mark_exec",
    "proc_mark_traced",
    "proc_mod_stopchild",
    "proc_dostop",
    "proc_handle_exceptions",
    "proc_setsid",
    "proc_getsidport",
    "proc_getlogin",
    "proc_setlogin",
    "proc_make_login_coll",
    "proc_uname",
    "proc_getchildren_rusage",
    "proc_is_important",
];

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
    /// The tasks the namespace belongs to (one per `sandbox-root exec`):
    /// when one dies, the host's proc server ends every task it made.
    roots: Mutex<Vec<SendRight>>,
    /// Where the host's notices come (see [`Notices`]).
    notices: OnceLock<SendRight>,
    /// The members' own message ports, by PID, and the port of ours the
    /// host holds for each ([`MsgProxy`]); when a member's dies (an exec
    /// makes a new one), ours is destroyed too, so that the host knows
    /// it has none until the next is set.
    msgports: Mutex<BTreeMap<u32, (SendRight, RawPort)>>,
    /// Every task the host told us was made inside, member or not yet:
    /// ended too at teardown (the dead are dropped as more come).
    made: Mutex<Vec<SendRight>>,
}

/// A process of the namespace.
#[derive(Debug)]
struct Entry {
    pid: u32,
    /// Its port on the host's proc server.
    host: SendRight,
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
    /// A namespace whose builder will be PID `first`.
    pub fn new(first: u32) -> Result<Arc<Ns>, NsError> {
        let host = hurd::process::proc_port()?;
        let ns = Arc::new(Ns {
            table: Mutex::new(Namespace::new(first)?),
            ended: Condvar::new(),
            tasks: Mutex::new(BTreeMap::new()),
            host,
            roots: Mutex::new(Vec::new()),
            notices: OnceLock::new(),
            msgports: Mutex::new(BTreeMap::new()),
            made: Mutex::new(Vec::new()),
        });
        let notices: Arc<dyn NewTask> = Arc::new(Notices(Arc::downgrade(&ns)));
        let _ = ns.notices.set(ports::serve(Object::new(&NEW_TASK, notices))?);
        Ok(ns)
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Namespace> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The admission port, for `sandbox-root exec`.
    pub fn admission(self: &Arc<Self>) -> Result<SendRight, NsError> {
        let admit: Arc<dyn Process> = Arc::new(Admission(self.clone()));
        // sandbox-root keeps it for itself: it holds nothing up.
        Ok(ports::serve(Object::new(&PROCESS, admit).own(true))?)
    }

    /// `task` (held by a member, or the builder's) as a member, made by
    /// `parent`.
    fn admit(self: &Arc<Self>, task: &SendRight, parent: Option<u32>) -> Result<Arc<Entry>, Errno> {
        // Everything the host is asked first: a task that dies meanwhile
        // leaves nothing in the table (its real PID could later be a host
        // process's).
        let real = host::task2pid(&self.host, task)?;
        // By PID, not by task: the host's proc_task2proc does not check
        // that the process is not dead, and aborts the whole proc server
        // on one that just died (the i686 soak met it); proc_pid2proc
        // answers none for a dead one.
        let host_port = host::pid2proc(&self.host, real)?;
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let known = self.table().seen(real);
        if known != 0 && tasks.get(&(known as u32)).is_some_and(|t| t.as_raw() == task.as_raw()) {
            return Ok(Arc::new(Entry { pid: known as u32, host: host_port }));
        }
        let kept = task.try_clone().map_err(|_| Errno::EIO)?;
        // Told to the notice port when the task dies; refused for a task
        // already dead.
        let notices = self.notices.get().ok_or(Errno::EIO)?;
        request_notification(kept.as_raw(), Notification::DeadName, notices.as_raw())?;
        let pid = self.table().admit(real, parent)?;
        tasks.insert(pid, kept);
        Ok(Arc::new(Entry { pid, host: host_port }))
    }

    /// A proc port of ours for `entry`.
    fn serve(self: &Arc<Self>, entry: Arc<Entry>) -> Result<SendRight, Errno> {
        let member = Arc::new(Member { ns: self.clone(), entry });
        let object = Object::new(&PROCESS, member.clone() as Arc<dyn Process>).with_forward(member);
        ports::serve(object).map_err(|_| Errno::ENOMEM)
    }

    /// The namespace's processes as the host lists them now (the dead
    /// become zombies).
    fn live(&self) -> Result<Vec<i32>, Errno> {
        let all = host::getallpids(&self.host)?;
        let (gone, reals) = {
            let mut table = self.table();
            let gone = table.prune(&all);
            (gone, table.reals())
        };
        for pid in gone {
            self.ended(pid, false);
        }
        Ok(reals)
    }

    /// `pid` has ended (`died`: its task's death was just told; else the
    /// table already knows): waiters wake.
    fn ended(&self, pid: u32, died: bool) {
        if died && !self.table().died(pid) {
            return;
        }
        if let Some((_, proxy)) = self.msgports.lock().unwrap_or_else(|e| e.into_inner()).remove(&pid) {
            ports::destroy(proxy);
        }
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).remove(&pid);
        self.ended.notify_all();
        // (SIGCHLD comes from the host's proc server, which tells the
        // process's parent there: through the parent's message port,
        // which is a port of ours when the parent is a member.)
    }

    /// Members whose tasks are gone end now (`all`: every member; else
    /// those that said how they end).
    fn sweep(&self, all: bool) {
        let candidates = if all { None } else { Some(self.table().exiting()) };
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
        if let Some(pid) = msgports.iter().find(|(_, (real, _))| real.as_raw() == name).map(|(&p, _)| p) {
            if let Some((_, proxy)) = msgports.remove(&pid) {
                ports::destroy(proxy);
            }
        }
    }

    /// Waits as `waiter` (none: the parent outside) for `pid`, answering
    /// the child's PID and wait status; EAGAIN with WNOHANG while none
    /// has ended, ECHILD when none fits, EINTR when the waiter itself is
    /// gone.
    fn wait(&self, waiter: Option<u32>, pid: i32, options: i32) -> Result<(u32, i32), Errno> {
        const WNOHANG: i32 = 1;
        // A process that said how it ends may be gone already while its
        // death's notice is on its way (its parent may have had the
        // host's SIGCHLD): its task's name says so at once.
        self.sweep(false);
        let mut table = self.table();
        loop {
            match table.reap(waiter, pid) {
                Reaped::Child(child, status) => return Ok((child, status)),
                Reaped::None => return Err(Errno::ECHILD),
                Reaped::Wait if options & WNOHANG != 0 => return Err(Errno::EAGAIN),
                Reaped::Wait => {}
            }
            if waiter.is_some_and(|w| !table.alive(w)) {
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
        self.sweep(true);
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
            self.sweep(true);
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
struct Admission(Arc<Ns>);

impl Forward for Admission {}

impl Process for Admission {
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

    /// The builder's task (made by the root) becomes the first member.
    fn task_proc(&self, task: &SendRight) -> Result<SendRight, Errno> {
        let entry = self.0.admit(task, None)?;
        // It leads a session and a process group of its own, before it
        // runs: its group and session are then its PID, not a process
        // outside. (Once the host has made it its maker's child, which
        // would put it back in its maker's group: until then the host
        // says its parent is init, PID 1.)
        for _ in 0..200 {
            if host::getpids(&entry.host)?.1 != 1 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        host::setsid(&entry.host)?;
        log::debug!("the builder is PID {}", entry.pid);
        self.0.serve(entry)
    }

    /// The root waits for the builder.
    fn wait(&self, pid: i32, options: i32, _waitid: bool) -> Result<Waited, Errno> {
        let (pid, status) = self.0.wait(None, pid, options)?;
        Ok(Waited { status, sigcode: 0, rusage: Default::default(), pid: pid as i32 })
    }
}

/// A member's proc port.
#[derive(Debug)]
struct Member {
    ns: Arc<Ns>,
    entry: Arc<Entry>,
}

impl Forward for Member {
    fn forward_port(&self) -> Option<&SendRight> {
        Some(&self.entry.host)
    }

    fn forwards(&self, routine: &str) -> bool {
        forwarded(routine)
    }
}

impl Member {
    fn real(&self, pid: i32) -> Result<i32, Errno> {
        if pid == 0 {
            return self.ns.table().real(self.entry.pid as i32);
        }
        self.ns.table().real(pid)
    }

    /// The real PID of the member `pid`, checked to be still its task's
    /// (a PID the host gave again to a process of its own is never
    /// asked about), and that task. Through `proc` (the caller's host
    /// port, which the host checks the caller's rights on; or ours).
    fn checked(&self, pid: i32, proc: &SendRight) -> Result<(i32, SendRight), Errno> {
        let pid = if pid == 0 { self.entry.pid as i32 } else { pid };
        let real = self.ns.table().real(pid)?;
        let task = host::pid2task(proc, real)?;
        let ours = self.ns.tasks.lock().unwrap_or_else(|e| e.into_inner()).get(&(pid as u32)).map(SendRight::as_raw);
        if ours != Some(task.as_raw()) {
            return Err(Errno::ESRCH);
        }
        Ok((real, task))
    }

    /// A member `pid` names, as a task this member may hold (the host
    /// checks that it may).
    fn task_of(&self, pid: i32) -> Result<SendRight, Errno> {
        Ok(self.checked(pid, &self.entry.host)?.1)
    }

    /// The checked real PID of the member `pid`, asked as us.
    fn real_checked(&self, pid: i32) -> Result<i32, Errno> {
        Ok(self.checked(pid, &self.ns.host)?.0)
    }
}

impl Process for Member {
    fn pids(&self) -> Result<(i32, i32, bool), Errno> {
        let (_, _, orphaned) = host::getpids(&self.entry.host)?;
        Ok((self.entry.pid as i32, self.ns.table().parent(self.entry.pid), orphaned))
    }

    fn task_pid(&self, task: &SendRight) -> Result<i32, Errno> {
        Ok(self.ns.admit(task, Some(self.entry.pid))?.pid as i32)
    }

    fn task_proc(&self, task: &SendRight) -> Result<SendRight, Errno> {
        let entry = self.ns.admit(task, Some(self.entry.pid))?;
        self.ns.serve(entry)
    }

    fn child(&self, task: &SendRight) -> Result<(), Errno> {
        // The host made it our child when it was made (it is inside the
        // namespace); asking it again would be refused.
        self.ns.admit(task, Some(self.entry.pid)).map(|_| ())
    }

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

    fn info(&self, pid: i32, flags: i32) -> Result<(i32, Vec<i32>, Vec<u8>), Errno> {
        let real = self.real_checked(pid)?;
        let (flags, mut words, waits) = host::procinfo(&self.ns.host, real, flags)?;
        let table = self.ns.table();
        let seen = table.seen(real);
        table.translate_info(seen as u32, &mut words);
        Ok((flags, words, waits))
    }

    fn args(&self, pid: i32, env: bool) -> Result<Vec<u8>, Errno> {
        host::args(&self.ns.host, self.real_checked(pid)?, env)
    }

    fn msgport(&self, pid: i32) -> Result<SendRight, Errno> {
        host::getmsgport(&self.ns.host, self.real_checked(pid)?)
    }

    fn wait(&self, pid: i32, options: i32, _waitid: bool) -> Result<Waited, Errno> {
        // (Process groups are not told apart: a wait for one waits for
        // any child.)
        let pid = if pid < -1 { -1 } else { pid };
        let (child, status) = self.ns.wait(Some(self.entry.pid), pid, options)?;
        Ok(Waited { status, sigcode: 0, rusage: Default::default(), pid: child as i32 })
    }

    /// The host is given a port of ours that stands for the process's
    /// message port, so that what it tells the process of its ids is told
    /// in the namespace's PIDs; the rest goes on as it came.
    fn set_msgport(&self, msgport: SendRight) -> Result<Option<SendRight>, Errno> {
        let proxy = Arc::new(MsgProxy {
            ns: self.ns.clone(),
            pid: self.entry.pid,
            real: msgport.try_clone().map_err(|_| Errno::EIO)?,
        });
        let object = Object::new(&MSGPORT, proxy.clone() as Arc<dyn MsgPort>).with_forward(proxy);
        let port = ports::serve(object).map_err(|_| Errno::ENOMEM)?;
        let notices = self.ns.notices.get().ok_or(Errno::EIO)?;
        request_notification(msgport.as_raw(), Notification::DeadName, notices.as_raw())?;
        // (The host's old one is a proxy of ours, or none.)
        drop(host::setmsgport(&self.entry.host, &port)?);
        let old =
            self.ns.msgports.lock().unwrap_or_else(|e| e.into_inner()).insert(self.entry.pid, (msgport, port.as_raw()));
        Ok(old.map(|(real, proxy)| {
            ports::destroy(proxy);
            real
        }))
    }

    fn mark_exit(&self, status: i32, _sigcode: i32) -> Result<(), Errno> {
        self.ns.table().mark_exit(self.entry.pid, status);
        Ok(())
    }

    fn pgrp(&self, pid: i32) -> Result<i32, Errno> {
        let pgrp = host::getpgrp(&self.entry.host, self.real(pid)?)?;
        Ok(self.ns.table().seen(pgrp))
    }

    fn set_pgrp(&self, pid: i32, pgrp: i32) -> Result<(), Errno> {
        let (pid, pgrp) = {
            let table = self.ns.table();
            (table.arg(pid)?, table.arg(pgrp)?)
        };
        host::setpgrp(&self.entry.host, pid, pgrp)
    }

    fn sid(&self, pid: i32) -> Result<i32, Errno> {
        let sid = host::getsid(&self.entry.host, self.real(pid)?)?;
        Ok(self.ns.table().seen(sid))
    }

    fn members(&self, of: Members) -> Result<Vec<i32>, Errno> {
        let (set, id) = match of {
            Members::Pgrp(id) => (host::Set::Pgrp, id),
            Members::Session(id) => (host::Set::Session, id),
            Members::SessionPgrps(id) => (host::Set::SessionPgrps, id),
            Members::Login(id) => (host::Set::Login, id),
        };
        let real = self.real(id)?;
        let all = host::members(&self.entry.host, set, real)?;
        Ok(self.ns.table().filter(&all))
    }

    fn login_id(&self, pid: i32) -> Result<i32, Errno> {
        let id = host::getloginid(&self.entry.host, self.real(pid)?)?;
        Ok(self.ns.table().seen(id))
    }

    fn knows(&self, pid: i32) -> bool {
        self.ns.table().knows(pid)
    }
}

/// A member's message port as the host holds it.
#[derive(Debug)]
struct MsgProxy {
    ns: Arc<Ns>,
    pid: u32,
    real: SendRight,
}

impl Forward for MsgProxy {
    fn forward_port(&self) -> Option<&SendRight> {
        Some(&self.real)
    }

    fn forwards(&self, routine: &str) -> bool {
        routine != "msg_proc_newids"
    }
}

impl MsgPort for MsgProxy {
    fn proc_newids(&self, task: &SendRight, ppid: i32, pgrp: i32, orphaned: bool) -> Result<(), Errno> {
        let (ppid, pgrp) = {
            let table = self.ns.table();
            // A parent outside is the namespace's root: this process was
            // orphaned (whether or not its old parent's end is known here
            // yet), and the first process adopts it.
            let ppid = match table.seen(ppid) {
                0 if self.pid == table.first() => 0,
                0 => table.first() as i32,
                seen => seen,
            };
            (ppid, table.seen(pgrp))
        };
        host::proc_newids(&self.real, task, ppid, pgrp, orphaned)
    }
}
