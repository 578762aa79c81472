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
use hurd_server::ports::{self, Object};
use hurd_server::process::{Members, PROCESS, Process, Waited};
use hurd_server::task_notify::{NEW_TASK, NewTask};

use crate::namespace::{Namespace, Reaped};

/// The routines that name no other process: they go to the host's proc
/// server as they came, on the member's host port, and the host answers
/// the member. Any routine neither here nor answered by [`Member`]
/// answers EOPNOTSUPP: among them those that would hand out the host's
/// own ports or rights (`proc_getprivports`, `proc_reauthenticate`,
/// `proc_reassign`, `proc_setexecdata`, `proc_make_task_namespace`).
const FORWARDED: &[&str] = &[
    "proc_setmsgport",
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
    "proc_getexecdata",
    "proc_execdata_notify",
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
    /// The task the namespace belongs to: when it dies, the host's proc
    /// server ends every task inside.
    root: Mutex<Option<SendRight>>,
    /// Where the host's notices come (see [`Notices`]).
    notices: OnceLock<SendRight>,
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
            root: Mutex::new(None),
            notices: OnceLock::new(),
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
        Ok(ports::serve(Object::new(&PROCESS, admit))?)
    }

    /// `task` (held by a member, or the builder's) as a member, made by
    /// `parent`.
    fn admit(self: &Arc<Self>, task: &SendRight, parent: Option<u32>) -> Result<Arc<Entry>, Errno> {
        let real = host::task2pid(&self.host, task)?;
        let pid = self.table().admit(real, parent)?;
        let host_port = host::task2proc(&self.host, task)?;
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        if let std::collections::btree_map::Entry::Vacant(slot) = tasks.entry(pid) {
            let kept = task.try_clone().map_err(|_| Errno::EIO)?;
            // Told to the notice port when the task dies.
            let notices = self.notices.get().ok_or(Errno::EIO)?;
            request_notification(kept.as_raw(), Notification::DeadName, notices.as_raw())?;
            slot.insert(kept);
        }
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
    /// table already knows): waiters wake, and its parent gets SIGCHLD.
    fn ended(&self, pid: u32, died: bool) {
        let parent = {
            let mut table = self.table();
            if died && !table.died(pid) {
                return;
            }
            table.parent_now(pid)
        };
        let parent_task = {
            let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
            tasks.remove(&pid);
            parent.and_then(|p| tasks.get(&p)).and_then(|t| t.try_clone().ok())
        };
        self.ended.notify_all();
        // The parent is told by its task (never by a PID, which could be
        // another process's by now).
        if let (Some(task), Ok(host)) = (parent_task, self.host.try_clone()) {
            std::thread::spawn(move || {
                let posted = host::task2pid(&host, &task)
                    .and_then(|real| host::getmsgport(&host, real))
                    .and_then(|msgport| host::sig_post(&msgport, host::SIGCHLD, host::CLD_EXITED, &task));
                if let Err(e) = posted {
                    log::debug!("SIGCHLD for the end of {pid}: {e}");
                }
            });
        }
    }

    /// A task of the namespace's named `name` here has died.
    fn task_died(&self, name: RawPort) {
        let pid = {
            let tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
            tasks.iter().find(|(_, t)| t.as_raw() == name).map(|(&p, _)| p)
        };
        if let Some(pid) = pid {
            self.ended(pid, true);
        }
    }

    /// Waits as `waiter` (none: the parent outside) for `pid`, answering
    /// the child's PID and wait status; EAGAIN with WNOHANG while none
    /// has ended, ECHILD when none fits, EINTR when the waiter itself is
    /// gone.
    fn wait(&self, waiter: Option<u32>, pid: i32, options: i32) -> Result<(u32, i32), Errno> {
        const WNOHANG: i32 = 1;
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
        self.live().map_or(0, |live| live.len())
    }

    /// Ends every process of the namespace: the root's task first (the
    /// host's proc server then ends every task inside), then each one
    /// still listed, until none is or `rounds` have passed. Answers how
    /// many were left.
    pub fn end(&self, rounds: usize) -> usize {
        if let Some(root) = self.root.lock().unwrap_or_else(|e| e.into_inner()).take() {
            if let Err(e) = hurd::process::terminate_task(&root) {
                log::warn!("ending the namespace's root task: {e}");
            }
        }
        // By their task ports, which no other process can come to name
        // (a PID could be given again meanwhile).
        let mut left = 0;
        for _ in 0..rounds {
            let _ = self.live();
            let tasks: Vec<SendRight> = {
                let tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
                tasks.values().filter_map(|t| t.try_clone().ok()).collect()
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
        // proc_task2pid and proc_task2proc first); the notice only says
        // that the host made it a child of its maker.
        log::trace!("new task {task:?} made by {parent:?}");
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
    /// `task` becomes the namespace's root: every task it makes from now
    /// on is inside, and ends when it does.
    fn child(&self, task: &SendRight) -> Result<(), Errno> {
        let mut root = self.0.root.lock().unwrap_or_else(|e| e.into_inner());
        if root.is_some() {
            return Err(Errno::EBUSY);
        }
        let port = host::task2proc(&self.0.host, task)?;
        host::make_task_namespace(&port, self.0.notices.get().ok_or(Errno::EIO)?)?;
        *root = Some(task.try_clone().map_err(|_| Errno::EIO)?);
        log::info!("the build's PID namespace is made");
        Ok(())
    }

    /// The builder's task (made by the root) becomes the first member.
    fn task_proc(&self, task: &SendRight) -> Result<SendRight, Errno> {
        let entry = self.0.admit(task, None)?;
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

    /// A member `pid` names, as a task this member may hold (the host
    /// checks that it may).
    fn task_of(&self, pid: i32) -> Result<SendRight, Errno> {
        let real = self.real(pid)?;
        host::pid2task(&self.entry.host, real)
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
        let real = self.real(pid)?;
        let (flags, mut words, waits) = host::procinfo(&self.ns.host, real, flags)?;
        let table = self.ns.table();
        let seen = table.seen(real);
        table.translate_info(seen as u32, &mut words);
        Ok((flags, words, waits))
    }

    fn args(&self, pid: i32, env: bool) -> Result<Vec<u8>, Errno> {
        host::args(&self.ns.host, self.real(pid)?, env)
    }

    fn msgport(&self, pid: i32) -> Result<SendRight, Errno> {
        host::getmsgport(&self.ns.host, self.real(pid)?)
    }

    fn wait(&self, pid: i32, options: i32, _waitid: bool) -> Result<Waited, Errno> {
        // (Process groups are not told apart: a wait for one waits for
        // any child.)
        let pid = if pid < -1 { -1 } else { pid };
        let (child, status) = self.ns.wait(Some(self.entry.pid), pid, options)?;
        Ok(Waited { status, sigcode: 0, rusage: Default::default(), pid: child as i32 })
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
