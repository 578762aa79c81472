//! hurd-probe: asks the Hurd through the safe layer and prints the answer.
//!
//!   hurd-probe translator PATH   the passive translator on PATH
//!   hurd-probe pids              this process's PIDs, from the proc server
//!   hurd-probe options PATH [OPTION...]
//!                                the options of the translator on PATH itself
//!                                (fsysopts reaches a firmlink's target instead);
//!                                with OPTIONs, set them first
//!   hurd-probe bench-lookup PATH COUNT [PATH...]
//!                                look each PATH up and stat it, COUNT rounds;
//!                                print the mean nanoseconds per lookup and stat
//!   hurd-probe net PORT REMOTE   TCP over loopback on PORT (listen, connect,
//!                                exchange; ::1 when REMOTE is IPv6), then a
//!                                connection to REMOTE (ADDRESS:PORT); print
//!                                how each went
//!
//! Questions a sandbox's tests ask as an attacker would, speaking RPCs
//! directly:
//!   hurd-probe control NAME      look NAME up from the root with one
//!                                `dir_lookup`, keep whatever port comes back
//!                                without reauthenticating it, and ask it for
//!                                its file system's control port
//!   hurd-probe change PATH       open PATH for reading, then try to change it
//!                                through that port: reopen it for writing,
//!                                chmod it, write to it
//!   hurd-probe read-at PATH OFFSET AMOUNT
//!                                io_read with exactly these numbers
//!   hurd-probe stall PATH COUNT  start COUNT reauthentications of PATH's port
//!                                and never finish them; wait until killed
//!   hurd-probe reauth-race PATH COUNT
//!                                COUNT times: reauthenticate PATH's port as
//!                                the C library does and at once ask the new
//!                                port what its identity may do
//!                                (file_check_access); say how many answers
//!                                lacked write access that the first had
//!   hurd-probe ids               every id of this process (effective and
//!                                available users and groups)
//!   hurd-probe task-race COUNT   COUNT times: make a task, and ask this
//!                                process's proc server for its proc port
//!                                while another thread ends the task (a
//!                                proc server that asks the host's about a
//!                                process that dies meanwhile brings it
//!                                down); print how the answers went
//!   hurd-probe msgport-wait [COUNT [set|end]]
//!                                make COUNT tasks (1), ask this process's
//!                                proc server for each one's message port
//!                                at once, and 2 s later give them one
//!                                (set) or end them (end): print what the
//!                                questions got and how many were answered
//!                                before that (a proc server waits, as a
//!                                fork's child tells its port)
//!   hurd-probe forge-no-senders PATH
//!                                look PATH up, send its port a no-senders
//!                                notice as the kernel would, and say
//!                                whether the port still answers
//!   hurd-probe huge-message PATH MIB
//!                                send PATH's server one message of MIB MiB
//!                                inline (1 to 64), and say whether the
//!                                port still answers
//!   hurd-probe goaway-after-close NODE COUNT NAME
//!                                hold COUNT ports to NODE/NAME, let them
//!                                all go, and at once ask the translator on
//!                                NODE to go away (not forced): print its
//!                                answer (ports a client has let go, whose
//!                                no-senders notices are still queued,
//!                                hold nothing)
//!   hurd-probe tcp-echo ADDRESS:PORT   serve TCP there: each connection's
//!                                first 4 bytes come back; until killed
//!   hurd-probe udp-echo ADDRESS:PORT   the same for datagrams
//!   hurd-probe tcp-ask ADDRESS:PORT    connect, send 4 bytes, read them back;
//!                                print "ok" or the error's kind
//!   hurd-probe udp-ask ADDRESS:PORT    send a datagram, wait 3 s for it back
//!   hurd-probe bind-any FAMILY PORT    bind a TCP socket to the unspecified
//!                                address (4 or 6) and print where it is
//!   hurd-probe tcp-sink ADDRESS:PORT   serve TCP there: read each
//!                                connection to its end, answer one byte
//!   hurd-probe net-bench tcp|connect|udp ADDRESS:PORT N
//!                                N MiB to a tcp-sink, N connections to a
//!                                tcp-echo, or N datagrams to a udp-echo,
//!                                each answered: print the nanoseconds
//!   hurd-probe raw-socket FAMILY  ask /servers/socket/FAMILY for a raw
//!                                socket with socket_create itself
//!   hurd-probe group-wait        start a child in a group of its own that
//!                                ends after 2 s, and one in this process's
//!                                group that ends at once; wait for the
//!                                first's group, then for this group: print
//!                                which child each wait got, with its status
//!   hurd-probe child-usage       run a child that spends CPU time, wait for
//!                                it: print the CPU time the wait told and
//!                                then proc_getchildren_rusage, in µs
//!   hurd-probe with-ids UID GID CMD [ARG...]
//!                                run CMD with UID and GID added to this
//!                                process's ids

#![deny(unsafe_code)]

use sandbox_cli::{EXIT_OS, Program};

const PROGRAM: Program = Program {
    name: "hurd-probe",
    version: env!("CARGO_PKG_VERSION"),
    usage: &[
        "translator PATH",
        "pids",
        "options PATH [OPTION...]",
        "bench-lookup PATH COUNT [PATH...]",
        "net PORT REMOTE",
        "control NAME",
        "change PATH",
        "read-at PATH OFFSET AMOUNT",
        "stall PATH COUNT",
        "reauth-race PATH COUNT",
        "ids",
        "with-ids UID GID CMD [ARG...]",
        "task-race COUNT",
        "msgport-wait [COUNT [set|end]]",
        "forge-no-senders PATH",
        "huge-message PATH MIB",
        "goaway-after-close NODE COUNT NAME",
        "tcp-echo ADDRESS:PORT",
        "udp-echo ADDRESS:PORT",
        "tcp-ask ADDRESS:PORT",
        "udp-ask ADDRESS:PORT",
        "bind-any 4|6 PORT",
        "tcp-sink ADDRESS:PORT",
        "net-bench tcp|connect|udp ADDRESS:PORT N",
        "raw-socket FAMILY",
        "known-pids",
        "proc-peek PID",
        "exec-outside PATH",
        "new-pgrp CMD [ARG...]",
        "as UID GID CMD [ARG...]",
    ],
    doc: "Ask the Hurd a small question through hurd-sandbox's safe layer, and print the answer.",
    options: &[],
    footer: "",
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(first) = args.first() {
        let arg = match first.as_str() {
            "--help" => Some(sandbox_cli::lexopt::Arg::Long("help")),
            "--version" => Some(sandbox_cli::lexopt::Arg::Long("version")),
            _ => None,
        };
        if let Some(text) = arg.and_then(|a| PROGRAM.standard(&a)) {
            print!("{text}");
            return;
        }
    }
    let question = parse(&args).unwrap_or_else(|m| PROGRAM.usage_error(m));
    if let Question::Net(port, remote) = &question {
        println!("{}", net(*port, *remote));
        return;
    }
    if let Question::Ip(q) = &question {
        match ip(q) {
            Ok(answer) => println!("{answer}"),
            Err(m) => PROGRAM.fail(EXIT_OS, m),
        }
        return;
    }
    match ask(&question) {
        Ok(answer) => println!("{answer}"),
        Err(m) => PROGRAM.fail(EXIT_OS, m),
    }
}

#[derive(Debug, PartialEq)]
enum Question {
    Translator(std::path::PathBuf),
    Pids,
    BenchLookup(Vec<std::path::PathBuf>, u32),
    Options(std::path::PathBuf, Vec<String>),
    Net(u16, std::net::SocketAddr),
    Control(String),
    Change(std::path::PathBuf),
    ReadAt(std::path::PathBuf, i64, usize),
    ReauthRace(std::path::PathBuf, u32),
    Stall(std::path::PathBuf, u32),
    Ids,
    WithIds(u32, u32, Vec<String>),
    KnownPids,
    ProcPeek(i32),
    ExecOutside(std::path::PathBuf),
    NewPgrp(Vec<String>),
    GroupWait,
    ChildUsage,
    As(u32, u32, Vec<String>),
    TaskRace(u32),
    /// How many, and whether their processes end instead of getting ports.
    MsgportWait(usize, bool),
    ForgeNoSenders(std::path::PathBuf),
    HugeMessage(std::path::PathBuf, usize),
    GoawayAfterClose(std::path::PathBuf, u32, String),
    Ip(IpQuestion),
    RawSocket(u32),
}

/// The questions about IP that the standard library asks.
#[derive(Debug, PartialEq)]
enum IpQuestion {
    TcpEcho(std::net::SocketAddr),
    UdpEcho(std::net::SocketAddr),
    TcpAsk(std::net::SocketAddr),
    UdpAsk(std::net::SocketAddr),
    BindAny(bool, u16),
    TcpSink(std::net::SocketAddr),
    Bench(Bench, std::net::SocketAddr, u32),
}

/// What `net-bench` times.
#[derive(Debug, PartialEq, Clone, Copy)]
enum Bench {
    Tcp,
    Connect,
    Udp,
}

fn parse(args: &[String]) -> Result<Question, String> {
    match args {
        [cmd, path] if cmd == "translator" => Ok(Question::Translator(path.into())),
        [cmd] if cmd == "pids" => Ok(Question::Pids),
        [cmd, path, set @ ..] if cmd == "options" => Ok(Question::Options(path.into(), set.to_vec())),
        [cmd, path, count, more @ ..] if cmd == "bench-lookup" => match count.parse::<u32>() {
            Ok(n) if n > 0 => {
                let paths = std::iter::once(path).chain(more).map(Into::into).collect();
                Ok(Question::BenchLookup(paths, n))
            }
            _ => Err(format!("COUNT must be a positive number, not {count:?}")),
        },
        [cmd, port, remote] if cmd == "net" => {
            let port = port.parse::<u16>().map_err(|_| format!("PORT must be a port number, not {port:?}"))?;
            let remote = remote.parse().map_err(|_| format!("REMOTE must be ADDRESS:PORT, not {remote:?}"))?;
            Ok(Question::Net(port, remote))
        }
        [cmd, name] if cmd == "control" => Ok(Question::Control(name.clone())),
        [cmd, path] if cmd == "change" => Ok(Question::Change(path.into())),
        [cmd, path, offset, amount] if cmd == "read-at" => {
            let offset = offset.parse().map_err(|_| format!("OFFSET must be a number, not {offset:?}"))?;
            let amount = amount.parse().map_err(|_| format!("AMOUNT must be a number, not {amount:?}"))?;
            Ok(Question::ReadAt(path.into(), offset, amount))
        }
        [cmd, path, count] if cmd == "reauth-race" => match count.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Question::ReauthRace(path.into(), n)),
            _ => Err(format!("COUNT must be a positive number, not {count:?}")),
        },
        [cmd, path, count] if cmd == "stall" => match count.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Question::Stall(path.into(), n)),
            _ => Err(format!("COUNT must be a positive number, not {count:?}")),
        },
        [cmd] if cmd == "ids" => Ok(Question::Ids),
        [cmd, uid, gid, command @ ..] if cmd == "with-ids" && !command.is_empty() => {
            let uid = uid.parse().map_err(|_| format!("UID must be a number, not {uid:?}"))?;
            let gid = gid.parse().map_err(|_| format!("GID must be a number, not {gid:?}"))?;
            Ok(Question::WithIds(uid, gid, command.to_vec()))
        }
        [cmd] if cmd == "known-pids" => Ok(Question::KnownPids),
        [cmd, path] if cmd == "exec-outside" => Ok(Question::ExecOutside(path.into())),
        [cmd, command @ ..] if cmd == "new-pgrp" && !command.is_empty() => Ok(Question::NewPgrp(command.to_vec())),
        [cmd] if cmd == "group-wait" => Ok(Question::GroupWait),
        [cmd] if cmd == "child-usage" => Ok(Question::ChildUsage),
        [cmd, uid, gid, command @ ..] if cmd == "as" && !command.is_empty() => {
            let uid = uid.parse().map_err(|_| format!("UID must be a number, not {uid:?}"))?;
            let gid = gid.parse().map_err(|_| format!("GID must be a number, not {gid:?}"))?;
            Ok(Question::As(uid, gid, command.to_vec()))
        }
        [cmd, count] if cmd == "task-race" => match count.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Question::TaskRace(n)),
            _ => Err(format!("COUNT must be a positive number, not {count:?}")),
        },
        [cmd] if cmd == "msgport-wait" => Ok(Question::MsgportWait(1, false)),
        [cmd, count, how @ ..] if cmd == "msgport-wait" && how.len() <= 1 => {
            let end = match how.first().map(String::as_str) {
                None | Some("set") => false,
                Some("end") => true,
                Some(other) => return Err(format!("the last word is set or end, not {other:?}")),
            };
            match count.parse::<usize>() {
                Ok(n) if n > 0 => Ok(Question::MsgportWait(n, end)),
                _ => Err(format!("COUNT must be a positive number, not {count:?}")),
            }
        }
        [cmd, path] if cmd == "forge-no-senders" => Ok(Question::ForgeNoSenders(path.into())),
        [cmd, path, mib] if cmd == "huge-message" => match mib.parse::<usize>() {
            Ok(n) if (1..=64).contains(&n) => Ok(Question::HugeMessage(path.into(), n)),
            _ => Err(format!("MIB must be a number from 1 to 64, not {mib:?}")),
        },
        [cmd, what, at, n] if cmd == "net-bench" => {
            let bench = match what.as_str() {
                "tcp" => Bench::Tcp,
                "connect" => Bench::Connect,
                "udp" => Bench::Udp,
                _ => return Err(format!("net-bench measures tcp, connect or udp, not {what:?}")),
            };
            let at = at.parse().map_err(|_| format!("{at:?} is not ADDRESS:PORT"))?;
            match n.parse::<u32>() {
                Ok(n) if n > 0 => Ok(Question::Ip(IpQuestion::Bench(bench, at, n))),
                _ => Err(format!("N must be a positive number, not {n:?}")),
            }
        }
        [cmd, at] if cmd.ends_with("-echo") || cmd.ends_with("-ask") || cmd == "tcp-sink" => {
            let at = at.parse().map_err(|_| format!("{at:?} is not ADDRESS:PORT"))?;
            Ok(Question::Ip(match cmd.as_str() {
                "tcp-echo" => IpQuestion::TcpEcho(at),
                "udp-echo" => IpQuestion::UdpEcho(at),
                "tcp-ask" => IpQuestion::TcpAsk(at),
                "udp-ask" => IpQuestion::UdpAsk(at),
                "tcp-sink" => IpQuestion::TcpSink(at),
                _ => return Err(format!("unknown question: {cmd}")),
            }))
        }
        [cmd, family, port] if cmd == "bind-any" => {
            let port = port.parse().map_err(|_| format!("PORT must be a port number, not {port:?}"))?;
            match family.as_str() {
                "4" => Ok(Question::Ip(IpQuestion::BindAny(false, port))),
                "6" => Ok(Question::Ip(IpQuestion::BindAny(true, port))),
                _ => Err(format!("FAMILY must be 4 or 6, not {family:?}")),
            }
        }
        [cmd, family] if cmd == "raw-socket" => {
            family.parse().map(Question::RawSocket).map_err(|_| format!("FAMILY must be a number, not {family:?}"))
        }
        [cmd, node, count, name] if cmd == "goaway-after-close" => match count.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Question::GoawayAfterClose(node.into(), n, name.clone())),
            _ => Err(format!("COUNT must be a positive number, not {count:?}")),
        },
        [cmd, pid] if cmd == "proc-peek" => {
            pid.parse().map(Question::ProcPeek).map_err(|_| format!("PID must be a number, not {pid:?}"))
        }
        [] => Err("no question: `translator PATH` or `pids`".into()),
        _ => Err(format!("unknown question: {}", args.join(" "))),
    }
}

#[cfg(all(target_os = "hurd", hurd_sys_generated))]
fn ask(question: &Question) -> Result<String, String> {
    match question {
        Question::Translator(path) => {
            let node = hurd::fs::lookup(path, hurd::fs::O_NOTRANS, 0).map_err(|e| e.to_string())?;
            Ok(hurd::fs::translator(&node).map_err(|e| e.to_string())?.join(" "))
        }
        Question::Pids => {
            let p = hurd::process::pids().map_err(|e| e.to_string())?;
            Ok(format!("pid {} ppid {} orphaned {}", p.pid, p.ppid, p.orphaned))
        }
        Question::Options(path, set) => {
            let node = hurd::fs::lookup(path, hurd::fs::O_NOTRANS, 0).map_err(|e| e.to_string())?;
            let control = hurd::fs::translator_control(&node).map_err(|e| e.to_string())?;
            if !set.is_empty() {
                hurd::fs::set_options(&control, set).map_err(|e| e.to_string())?;
            }
            Ok(hurd::fs::options(&control).map_err(|e| e.to_string())?.join(" "))
        }
        Question::Net(..) => unreachable!("answered without the Hurd"),
        Question::Control(name) => {
            let root = hurd::fs::root().map_err(|e| e.to_string())?;
            let answer = hurd::fs::dir_lookup(&root, name, 0, 0).map_err(|e| e.to_string())?;
            let port = answer.port.ok_or("the lookup answered no port")?;
            Ok(format!("control: {}", said(hurd::fs::getcontrol(&port).map(drop))))
        }
        Question::Change(path) => {
            let port = hurd::fs::lookup(path, hurd::fs::O_READ, 0).map_err(|e| e.to_string())?;
            let reopen = hurd::fs::dir_lookup(&port, "", hurd::fs::O_WRITE, 0).map(drop);
            let chmod = hurd::fs::chmod(&port, 0o777);
            let write = hurd::fs::write(&port, 0, b"x").map(drop);
            Ok(format!("reopen-write: {}\nchmod: {}\nwrite: {}", said(reopen), said(chmod), said(write)))
        }
        Question::ReauthRace(path, count) => {
            let port = hurd::fs::lookup(path, hurd::fs::O_READ, 0).map_err(|e| e.to_string())?;
            let first = hurd::fs::check_access(&port).map_err(|e| e.to_string())?;
            let (mut lacked, mut failed) = (0, 0);
            for _ in 0..*count {
                match hurd::fs::reauthenticate(&port).and_then(|new| hurd::fs::check_access(&new)) {
                    Ok(allowed) if allowed & hurd::fs::O_WRITE == 0 && first & hurd::fs::O_WRITE != 0 => lacked += 1,
                    Ok(_) => {}
                    Err(_) => failed += 1,
                }
            }
            Ok(format!("first={first} lacked={lacked} failed={failed} of {count}"))
        }
        Question::ReadAt(path, offset, amount) => {
            let port = hurd::fs::lookup(path, hurd::fs::O_READ, 0).map_err(|e| e.to_string())?;
            let read = hurd::fs::read(&port, *offset, *amount);
            Ok(format!("read: {}", read.map_or_else(|e| e.code().to_string(), |b| format!("{} bytes", b.len()))))
        }
        Question::Stall(path, count) => {
            let port = hurd::fs::lookup(path, hurd::fs::O_READ, 0).map_err(|e| e.to_string())?;
            let pending: Vec<_> = (0..*count)
                .map(|_| hurd::fs::start_reauthentication(&port))
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
            println!("stalled {}", pending.len());
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
        Question::As(uid, gid, command) => {
            // Exactly this user and group, then the command in its place.
            use std::os::unix::process::CommandExt;
            hurd::auth::become_only(*uid, *gid).map_err(|e| e.to_string())?;
            let e = std::process::Command::new(&command[0]).args(&command[1..]).exec();
            Err(format!("{}: {e}", command[0]))
        }
        Question::NewPgrp(command) => {
            use std::os::unix::process::CommandExt;
            hurd::process::lead_own_group().map_err(|e| format!("setpgid: {e}"))?;
            let e = std::process::Command::new(&command[0]).args(&command[1..]).exec();
            Err(format!("{}: {e}", command[0]))
        }
        Question::GroupWait => {
            use std::os::unix::process::CommandExt;
            let sh = |script: &str| {
                let mut c = std::process::Command::new("/bin/sh");
                c.args(["-c", script]);
                c
            };
            let grouped = sh("sleep 2; exit 3").process_group(0).spawn().map_err(|e| format!("sh: {e}"))?.id();
            let other = sh("exit 4").spawn().map_err(|e| format!("sh: {e}"))?.id();
            // The other child has ended by now; the grouped one has not.
            std::thread::sleep(std::time::Duration::from_millis(700));
            let which = |(pid, status): (i32, i32)| {
                let name = match u32::try_from(pid) {
                    Ok(p) if p == grouped => "grouped",
                    Ok(p) if p == other => "other",
                    _ => "unknown",
                };
                format!("{name} {}", (status >> 8) & 0xff)
            };
            let group = hurd::process::wait_for(-(grouped as i32)).map(which).map_err(|e| e.to_string())?;
            let own = hurd::process::wait_for(0).map(which).map_err(|e| e.to_string())?;
            Ok(format!("wait(-pgrp): {group}\nwait(0): {own}"))
        }
        Question::ChildUsage => {
            let busy = "i=0; while [ $i -lt 3000 ]; do i=$((i + 1)); done";
            let child =
                std::process::Command::new("/bin/sh").args(["-c", busy]).spawn().map_err(|e| format!("sh: {e}"))?.id();
            let (_, status, waited) = hurd::process::wait_for_used(child as i32).map_err(|e| e.to_string())?;
            let children = hurd::process::children_used().map_err(|e| e.to_string())?;
            Ok(format!("child-usage: status {status}, wait {waited}, children {children}"))
        }
        Question::ExecOutside(path) => {
            let file = hurd::fs::lookup(path, hurd::fs::O_EXEC, 0).map_err(|e| e.to_string())?;
            Ok(format!("exec-outside: {}", told(hurd::spawn::exec_outside(&file, path))))
        }
        Question::TaskRace(count) => {
            let proc = hurd::process::proc_port().map_err(|e| e.to_string())?;
            let (mut answered, mut refused) = (0u32, 0u32);
            for i in 0..*count {
                let task = hurd::process::create_task().map_err(|e| format!("task_create: {e}"))?;
                let doomed = task.try_clone().map_err(|e| e.to_string())?;
                // Ended a little later each time, so that some end while
                // the proc server is still answering about them.
                let delay = std::time::Duration::from_micros(u64::from(i % 50) * 20);
                let ender = std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    let _ = hurd::process::terminate_task(&doomed);
                });
                match hurd::procserver::task2proc(&proc, &task) {
                    Ok(_) => answered += 1,
                    Err(_) => refused += 1,
                }
                let _ = ender.join();
            }
            Ok(format!("task-race: {count} tasks, {answered} answered, {refused} refused"))
        }
        Question::MsgportWait(count, end) => {
            // Processes with no message port yet, as a fork makes them: a
            // question for a port waits until it has one (or the process
            // ends: `end`).
            let proc = hurd::process::proc_port().map_err(|e| e.to_string())?;
            let mut made = Vec::new();
            for _ in 0..*count {
                let task = hurd::process::create_task().map_err(|e| format!("task_create: {e}"))?;
                let pid = hurd::procserver::task2pid(&proc, &task).map_err(|e| format!("proc_task2pid: {e}"))?;
                let child = hurd::procserver::task2proc(&proc, &task).map_err(|e| format!("proc_task2proc: {e}"))?;
                made.push((task, pid, child));
            }
            let start = std::time::Instant::now();
            let askers: Vec<_> = made
                .iter()
                .map(|&(_, pid, _)| {
                    let asking = proc.try_clone().map_err(|e| e.to_string())?;
                    std::thread::Builder::new()
                        .stack_size(64 * 1024)
                        .spawn(move || {
                            let got = hurd::procserver::getmsgport(&asking, pid).map(drop);
                            (got, std::time::Instant::now())
                        })
                        .map_err(|e| format!("starting an asking thread: {e}"))
                })
                .collect::<Result<_, String>>()?;
            std::thread::sleep(std::time::Duration::from_secs(2));
            // Every answer must come after this.
            let given = std::time::Instant::now();
            let port = hurd::port::ReceiveRight::allocate().map_err(|e| e.to_string())?;
            let send = port.make_send().map_err(|e| e.to_string())?;
            let mut set = Ok(());
            for (task, _, child) in &made {
                if *end {
                    set = set.and(hurd::process::terminate_task(task));
                } else {
                    set = set.and(hurd::procserver::setmsgport(child, &send).map(drop));
                }
            }
            let mut answers = Vec::new();
            for asker in askers {
                answers.push(asker.join().map_err(|_| "an asking thread panicked".to_owned())?);
            }
            for (task, _, _) in &made {
                let _ = hurd::process::terminate_task(task);
            }
            if let ([(got, at)], false) = (answers.as_slice(), *end) {
                let waited = at.duration_since(start).as_millis();
                return Ok(format!("msgport-wait: {} after {waited} ms (set: {})", told(*got), told(set)));
            }
            let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
            for (got, _) in &answers {
                *outcomes.entry(told(*got)).or_default() += 1;
            }
            let outcomes: Vec<String> = outcomes.iter().map(|(what, n)| format!("{n} {what}")).collect();
            let early = answers.iter().filter(|(_, at)| *at < given).count();
            Ok(format!(
                "msgport-wait {count} {}: {}; {early} answered before (given: {})",
                if *end { "end" } else { "set" },
                outcomes.join(", "),
                told(set)
            ))
        }
        Question::GoawayAfterClose(node, count, name) => {
            let at = hurd::fs::lookup(node, hurd::fs::O_NOTRANS, 0).map_err(|e| e.to_string())?;
            let control = hurd::fs::translator_control(&at).map_err(|e| e.to_string())?;
            let path = node.join(name);
            let held = (0..*count)
                .map(|_| hurd::fs::lookup(&path, hurd::fs::O_READ, 0))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            drop(held);
            let answer = match hurd::fs::goaway(&control, 0) {
                Ok(()) => Ok(()),
                Err(hurd::fs::FsError::Control { code, .. }) => Err(code),
                Err(e) => return Err(e.to_string()),
            };
            Ok(format!("goaway-after-close: {}", told(answer)))
        }
        Question::RawSocket(family) => {
            let path = std::path::PathBuf::from(format!("/servers/socket/{family}"));
            let server = hurd::fs::lookup(&path, 0, 0).map_err(|e| e.to_string())?;
            let made = hurd::socket::create(&server, 3, 1).map(drop);
            Ok(format!("raw-socket {family}: {}", told(made)))
        }
        Question::Ip(_) => unreachable!("asked through the C library"),
        Question::HugeMessage(path, mib) => {
            // One message of MIB MiB inline to PATH's server (numbered as
            // no routine is, the rest zeros), then the port used again.
            let node = hurd::fs::lookup(path, hurd::fs::O_READ, 0).map_err(|e| e.to_string())?;
            hurd::fs::stat(&node).map_err(|e| format!("stat before: {e}"))?;
            const NO_ROUTINE: i32 = 0x7fff_0000;
            let sent = hurd::port::send_inline(&node, NO_ROUTINE, mib << 20);
            std::thread::sleep(std::time::Duration::from_secs(1));
            let after = hurd::fs::stat(&node).map(drop).map_err(|e| e.code());
            Ok(format!("huge-message: sent: {}; the port afterwards: {}", told(sent), told(after)))
        }
        Question::ForgeNoSenders(path) => {
            // Look PATH up, tell its server that the port has no senders
            // left (which it has: ours), and use the port again.
            let node = hurd::fs::lookup(path, hurd::fs::O_READ, 0).map_err(|e| e.to_string())?;
            hurd::fs::stat(&node).map_err(|e| format!("stat before: {e}"))?;
            hurd::port::forge_no_senders(&node, 1).map_err(|e| format!("sending the notice: {e}"))?;
            std::thread::sleep(std::time::Duration::from_millis(500));
            let after = hurd::fs::stat(&node).map(drop).map_err(|e| e.code());
            Ok(format!("forge-no-senders: the port afterwards: {}", told(after)))
        }
        Question::KnownPids => {
            let (pid, ppid, pgrp, sid) = hurd::process::known_ids();
            Ok(format!("pid {pid} ppid {ppid} pgrp {pgrp} sid {sid}"))
        }
        Question::ProcPeek(pid) => {
            // What a process learns of another through its proc server,
            // asking it directly.
            use hurd::procserver as p;
            let proc = hurd::process::proc_port().map_err(|e| e.to_string())?;
            Ok(format!(
                "getprocenv: {}\ngetprocargs: {}\npid2task: {}\ngetmsgport: {}\ngetprocinfo: {}\ngetpgrp: {}\ngetsid: {}",
                told(p::args(&proc, *pid, true).map(drop)),
                told(p::args(&proc, *pid, false).map(drop)),
                told(p::pid2task(&proc, *pid).map(drop)),
                told(p::getmsgport(&proc, *pid).map(drop)),
                told(p::procinfo(&proc, *pid, 0).map(drop)),
                told(p::getpgrp(&proc, *pid).map(drop)),
                told(p::getsid(&proc, *pid).map(drop)),
            ))
        }
        Question::Ids => {
            let ids = hurd::auth::ids().map_err(|e| e.to_string())?;
            let list = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            Ok(format!(
                "euids={} auids={} egids={} agids={}",
                list(&ids.euids),
                list(&ids.auids),
                list(&ids.egids),
                list(&ids.agids)
            ))
        }
        Question::WithIds(uid, gid, command) => {
            hurd::auth::add(*uid, *gid).map_err(|e| e.to_string())?;
            let status = std::process::Command::new(&command[0])
                .args(&command[1..])
                .status()
                .map_err(|e| format!("{}: {e}", command[0]))?;
            std::process::exit(status.code().unwrap_or(128));
        }
        Question::BenchLookup(paths, count) => {
            let start = std::time::Instant::now();
            for _ in 0..*count {
                for path in paths {
                    let node = hurd::fs::lookup(path, hurd::fs::O_READ, 0).map_err(|e| format!("{e}"))?;
                    hurd::fs::stat(&node).map_err(|e| e.to_string())?;
                }
            }
            let lookups = u128::from(*count) * paths.len() as u128;
            Ok(format!("{}", start.elapsed().as_nanos() / lookups))
        }
    }
}

/// What the network looks like from here: a TCP exchange over loopback (of
/// `remote`'s family) on `port`, and a connection to `remote` (two lines, "loopback: …" and
/// "remote: …", each "ok" or the error).
fn net(port: u16, remote: std::net::SocketAddr) -> String {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let loopback = (|| -> std::io::Result<()> {
        // Loopback of the remote's family.
        let loopback: std::net::IpAddr =
            if remote.is_ipv6() { std::net::Ipv6Addr::LOCALHOST.into() } else { std::net::Ipv4Addr::LOCALHOST.into() };
        let listener = TcpListener::bind((loopback, port))?;
        let address = listener.local_addr()?;
        let echo = std::thread::spawn(move || -> std::io::Result<()> {
            let (mut peer, _) = listener.accept()?;
            let mut buf = [0u8; 4];
            peer.read_exact(&mut buf)?;
            peer.write_all(&buf)
        });
        let mut stream = TcpStream::connect(address)?;
        stream.write_all(b"ping")?;
        let mut back = [0u8; 4];
        stream.read_exact(&mut back)?;
        echo.join().map_err(|_| std::io::Error::other("the echo thread panicked"))??;
        if &back == b"ping" { Ok(()) } else { Err(std::io::Error::other("the echo differs")) }
    })();
    let remote = TcpStream::connect_timeout(&remote, std::time::Duration::from_secs(5)).map(drop);
    let say = |r: std::io::Result<()>| r.map_or_else(|e| e.to_string(), |()| "ok".to_owned());
    format!("loopback: {}\nremote: {}", say(loopback), say(remote))
}

/// Asks an IP question through the C library, as a build's programs do.
fn ip(question: &IpQuestion) -> Result<String, String> {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream, UdpSocket};
    use std::time::Duration;
    let kind = |e: std::io::Error| format!("{:?}", e.kind());
    match *question {
        IpQuestion::TcpEcho(at) => {
            let listener = TcpListener::bind(at).map_err(|e| format!("binding {at}: {e}"))?;
            println!("tcp-echo: listening on {}", listener.local_addr().map_err(|e| e.to_string())?);
            loop {
                let Ok((mut peer, _)) = listener.accept() else { continue };
                let mut buf = [0u8; 4];
                if peer.read_exact(&mut buf).is_ok() {
                    let _ = peer.write_all(&buf);
                }
            }
        }
        IpQuestion::UdpEcho(at) => {
            let socket = UdpSocket::bind(at).map_err(|e| format!("binding {at}: {e}"))?;
            println!("udp-echo: listening on {}", socket.local_addr().map_err(|e| e.to_string())?);
            let mut buf = [0u8; 512];
            loop {
                if let Ok((n, from)) = socket.recv_from(&mut buf) {
                    let _ = socket.send_to(&buf[..n], from);
                }
            }
        }
        IpQuestion::TcpAsk(at) => {
            let asked = (|| -> std::io::Result<()> {
                let mut stream = TcpStream::connect_timeout(&at, Duration::from_secs(5))?;
                stream.write_all(b"ping")?;
                let mut back = [0u8; 4];
                stream.read_exact(&mut back)?;
                if &back == b"ping" { Ok(()) } else { Err(std::io::Error::other("the echo differs")) }
            })();
            Ok(format!("tcp-ask {at}: {}", asked.map_or_else(kind, |()| "ok".to_owned())))
        }
        IpQuestion::UdpAsk(at) => {
            let asked = (|| -> std::io::Result<()> {
                let any: std::net::SocketAddr =
                    if at.is_ipv6() { "[::]:0".parse().expect("valid") } else { "0.0.0.0:0".parse().expect("valid") };
                let socket = UdpSocket::bind(any)?;
                socket.send_to(b"ping", at)?;
                // (A thread waits for the answer: a socket's own receive
                // timeout is not every stack's.)
                let (tx, rx) = std::sync::mpsc::channel();
                std::thread::spawn(move || {
                    let mut back = [0u8; 4];
                    let _ = tx.send(socket.recv_from(&mut back).map(|(n, _)| back[..n] == *b"ping"));
                });
                match rx.recv_timeout(Duration::from_secs(3)) {
                    Ok(Ok(true)) => Ok(()),
                    Ok(Ok(false)) => Err(std::io::Error::other("the echo differs")),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
                }
            })();
            Ok(format!("udp-ask {at}: {}", asked.map_or_else(kind, |()| "ok".to_owned())))
        }
        IpQuestion::TcpSink(at) => {
            let listener = TcpListener::bind(at).map_err(|e| format!("binding {at}: {e}"))?;
            println!("tcp-sink: listening on {}", listener.local_addr().map_err(|e| e.to_string())?);
            loop {
                let Ok((mut peer, _)) = listener.accept() else { continue };
                let _ = std::io::copy(&mut peer, &mut std::io::sink());
                let _ = peer.write_all(b"k");
            }
        }
        IpQuestion::Bench(bench, at, n) => {
            let start = std::time::Instant::now();
            let run = || -> std::io::Result<()> {
                match bench {
                    Bench::Tcp => {
                        let mut stream = TcpStream::connect(at)?;
                        let chunk = vec![0x5au8; 64 * 1024];
                        for _ in 0..n * 16 {
                            stream.write_all(&chunk)?;
                        }
                        stream.shutdown(std::net::Shutdown::Write)?;
                        let mut ack = [0u8; 1];
                        stream.read_exact(&mut ack)
                    }
                    Bench::Connect => {
                        for _ in 0..n {
                            let mut stream = TcpStream::connect(at)?;
                            stream.write_all(b"ping")?;
                            let mut back = [0u8; 4];
                            stream.read_exact(&mut back)?;
                        }
                        Ok(())
                    }
                    Bench::Udp => {
                        let any: std::net::SocketAddr = if at.is_ipv6() {
                            "[::]:0".parse().expect("valid")
                        } else {
                            "0.0.0.0:0".parse().expect("valid")
                        };
                        let socket = UdpSocket::bind(any)?;
                        socket.connect(at)?;
                        let mut back = [0u8; 4];
                        for _ in 0..n {
                            socket.send(b"ping")?;
                            socket.recv(&mut back)?;
                        }
                        Ok(())
                    }
                }
            };
            run().map_err(|e| format!("net-bench {bench:?} {at}: {e}"))?;
            Ok(format!("net-bench {bench:?} {at} {n}: {} ns", start.elapsed().as_nanos()))
        }
        IpQuestion::BindAny(v6, port) => {
            let any: std::net::IpAddr =
                if v6 { std::net::Ipv6Addr::UNSPECIFIED.into() } else { std::net::Ipv4Addr::UNSPECIFIED.into() };
            let bound = TcpListener::bind((any, port)).and_then(|l| l.local_addr());
            Ok(format!("bind-any: {}", bound.map_or_else(kind, |a| a.to_string())))
        }
    }
}

/// "ok", or the error's code.
#[cfg(all(target_os = "hurd", hurd_sys_generated))]
fn said(result: Result<(), hurd::fs::FsError>) -> String {
    result.map_or_else(|e| e.code().to_string(), |()| "ok".to_owned())
}

/// An RPC's answer, as `said` tells it.
#[cfg(all(target_os = "hurd", hurd_sys_generated))]
fn told(result: Result<(), hurd::Errno>) -> String {
    result.map_or_else(|e| e.to_string(), |()| "ok".to_owned())
}

#[cfg(not(all(target_os = "hurd", hurd_sys_generated)))]
fn ask(_: &Question) -> Result<String, String> {
    Err("needs GNU/Hurd (and hurd-sys built from a GNU/Hurd sysroot)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse(&s(&["translator", "/servers/socket/1"])),
            Ok(Question::Translator("/servers/socket/1".into()))
        );
        assert_eq!(parse(&s(&["pids"])), Ok(Question::Pids));
        assert!(parse(&s(&[])).unwrap_err().starts_with("no question"));
        assert_eq!(parse(&s(&["pids", "x"])), Err("unknown question: pids x".into()));
        assert_eq!(parse(&s(&["bench-lookup", "/a", "10"])), Ok(Question::BenchLookup(vec!["/a".into()], 10)));
        assert_eq!(
            parse(&s(&["bench-lookup", "/a", "3", "/b", "/c"])),
            Ok(Question::BenchLookup(vec!["/a".into(), "/b".into(), "/c".into()], 3))
        );
        assert!(parse(&s(&["bench-lookup", "/a", "0"])).is_err());
        assert_eq!(parse(&s(&["task-race", "20"])), Ok(Question::TaskRace(20)));
        assert_eq!(parse(&s(&["msgport-wait"])), Ok(Question::MsgportWait(1, false)));
        assert_eq!(parse(&s(&["msgport-wait", "300"])), Ok(Question::MsgportWait(300, false)));
        assert_eq!(parse(&s(&["msgport-wait", "3", "end"])), Ok(Question::MsgportWait(3, true)));
        assert!(parse(&s(&["msgport-wait", "0"])).is_err());
        assert!(parse(&s(&["msgport-wait", "3", "later"])).is_err());
        assert_eq!(parse(&s(&["forge-no-senders", "/r"])), Ok(Question::ForgeNoSenders("/r".into())));
        assert_eq!(
            parse(&s(&["goaway-after-close", "/r", "300", "etc"])),
            Ok(Question::GoawayAfterClose("/r".into(), 300, "etc".into()))
        );
        assert!(parse(&s(&["goaway-after-close", "/r", "0", "etc"])).is_err());
        assert_eq!(
            parse(&s(&["tcp-ask", "10.0.0.1:80"])),
            Ok(Question::Ip(IpQuestion::TcpAsk("10.0.0.1:80".parse().unwrap())))
        );
        assert_eq!(parse(&s(&["bind-any", "6", "0"])), Ok(Question::Ip(IpQuestion::BindAny(true, 0))));
        assert!(parse(&s(&["udp-ask", "nowhere"])).is_err());
        assert!(parse(&s(&["bind-any", "5", "0"])).is_err());
        assert_eq!(parse(&s(&["raw-socket", "2"])), Ok(Question::RawSocket(2)));
        assert!(parse(&s(&["task-race", "0"])).is_err());
        assert!(parse(&s(&["task-race", "x"])).is_err());
        assert_eq!(parse(&s(&["options", "/l"])), Ok(Question::Options("/l".into(), vec![])));
        assert_eq!(parse(&s(&["options", "/l", "-r"])), Ok(Question::Options("/l".into(), vec!["-r".into()])));
        assert_eq!(
            parse(&s(&["net", "7777", "192.0.2.1:80"])),
            Ok(Question::Net(7777, "192.0.2.1:80".parse().unwrap()))
        );
        assert!(parse(&s(&["net", "x", "192.0.2.1:80"])).unwrap_err().contains("PORT"));
        assert!(parse(&s(&["net", "7777", "nowhere"])).unwrap_err().contains("REMOTE"));
        assert_eq!(parse(&s(&["control", "servers/socket/1"])), Ok(Question::Control("servers/socket/1".into())));
        assert_eq!(parse(&s(&["change", "/a"])), Ok(Question::Change("/a".into())));
        assert_eq!(
            parse(&s(&["read-at", "/a", "9223372036854775807", "18446744073709551615"])),
            Ok(Question::ReadAt("/a".into(), i64::MAX, usize::MAX))
        );
        assert!(parse(&s(&["read-at", "/a", "x", "1"])).unwrap_err().contains("OFFSET"));
        assert_eq!(parse(&s(&["stall", "/", "40"])), Ok(Question::Stall("/".into(), 40)));
        assert!(parse(&s(&["stall", "/", "0"])).is_err());
        assert_eq!(parse(&s(&["ids"])), Ok(Question::Ids));
        assert_eq!(parse(&s(&["known-pids"])), Ok(Question::KnownPids));
        assert_eq!(parse(&s(&["proc-peek", "7"])), Ok(Question::ProcPeek(7)));
        assert!(parse(&s(&["proc-peek", "x"])).is_err());
        assert_eq!(parse(&s(&["exec-outside", "/bin/true"])), Ok(Question::ExecOutside("/bin/true".into())));
        assert_eq!(parse(&s(&["group-wait"])), Ok(Question::GroupWait));
        assert_eq!(parse(&s(&["child-usage"])), Ok(Question::ChildUsage));
        assert_eq!(parse(&s(&["new-pgrp", "/bin/true"])), Ok(Question::NewPgrp(vec!["/bin/true".into()])));
        assert!(parse(&s(&["new-pgrp"])).is_err());
        assert_eq!(parse(&s(&["as", "5", "6", "/bin/true"])), Ok(Question::As(5, 6, vec!["/bin/true".into()])));
        assert_eq!(
            parse(&s(&["with-ids", "5", "6", "/bin/true"])),
            Ok(Question::WithIds(5, 6, vec!["/bin/true".into()]))
        );
        assert!(parse(&s(&["with-ids", "5", "6"])).is_err());
    }

    #[test]
    fn loopback_works_here_and_a_closed_port_is_refused() {
        // Any free port for the exchange; port 1 on loopback, where nothing
        // listens on a test machine, for the refusal.
        let answer = net(0, "127.0.0.1:1".parse().unwrap());
        let lines: Vec<&str> = answer.lines().collect();
        assert_eq!(lines[0], "loopback: ok", "{answer}");
        assert!(lines[1].starts_with("remote: ") && lines[1] != "remote: ok", "{answer}");
    }
}
