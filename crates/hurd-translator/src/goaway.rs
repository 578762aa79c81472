//! `fsys_goaway`: when a translator may leave, and what leaving takes.
//!
//! The C translators refuse with EBUSY while anyone holds a port, unless
//! forced, and the earlier sandbox attempt left translators behind because
//! of it. Here a translator says what keeps it busy, and the decision is
//! one pure function: a forced goaway always leaves, after ending what the
//! translator started.

/// The flags of `fsys_goaway` (values as the Hurd's headers give them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GoawayFlags {
    /// Answer at once; do not wait for the translator to be gone.
    pub nowait: bool,
    /// Do not sync before leaving.
    pub nosync: bool,
    /// Leave even while busy.
    pub force: bool,
    /// Leave and unlink the node (for a passive translator).
    pub unlink: bool,
    /// Ask the translators below to leave too.
    pub recurse: bool,
}

impl GoawayFlags {
    pub const NOWAIT: u32 = 0x1;
    pub const NOSYNC: u32 = 0x2;
    pub const FORCE: u32 = 0x4;
    pub const UNLINK: u32 = 0x8;
    pub const RECURSE: u32 = 0x10;

    /// Flags from the RPC's bit mask; unknown bits are kept out and named.
    pub fn from_bits(bits: u32) -> (GoawayFlags, u32) {
        let flags = GoawayFlags {
            nowait: bits & Self::NOWAIT != 0,
            nosync: bits & Self::NOSYNC != 0,
            force: bits & Self::FORCE != 0,
            unlink: bits & Self::UNLINK != 0,
            recurse: bits & Self::RECURSE != 0,
        };
        let known = Self::NOWAIT | Self::NOSYNC | Self::FORCE | Self::UNLINK | Self::RECURSE;
        (flags, bits & !known)
    }
}

/// What keeps a translator from leaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Busy {
    /// Ports clients hold to nodes this translator serves itself.
    pub open_ports: usize,
    /// Live processes it is responsible for (a build's, in a PID namespace).
    pub processes: usize,
}

/// The answer to a goaway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Answer EBUSY and keep serving.
    Refuse,
    /// Leave, in this order: kill the processes (if any), end the helpers
    /// (servers and in-process firmlinks), sync unless told not to, answer,
    /// exit.
    Leave { kill_processes: bool, sync: bool },
}

/// The decision for `flags` given what keeps the translator busy, and
/// whether open ports count (a firmlink hands its target out and holds
/// nothing worth waiting for; a directory server does).
pub fn decide(flags: GoawayFlags, busy: Busy, ports_hold_it: bool) -> Decision {
    let held = busy.processes > 0 || (ports_hold_it && busy.open_ports > 0);
    if held && !flags.force {
        return Decision::Refuse;
    }
    Decision::Leave { kill_processes: busy.processes > 0, sync: !flags.nosync }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_from_bits() {
        let (f, unknown) = GoawayFlags::from_bits(0x4 | 0x10 | 0x100);
        assert!(f.force && f.recurse && !f.nowait && !f.nosync && !f.unlink);
        assert_eq!(unknown, 0x100);
        assert_eq!(GoawayFlags::from_bits(0), (GoawayFlags::default(), 0));
    }

    #[test]
    fn idle_translators_leave() {
        let d = decide(GoawayFlags::default(), Busy::default(), true);
        assert_eq!(d, Decision::Leave { kill_processes: false, sync: true });
        let (nosync, _) = GoawayFlags::from_bits(GoawayFlags::NOSYNC);
        assert_eq!(decide(nosync, Busy::default(), true), Decision::Leave { kill_processes: false, sync: false });
    }

    #[test]
    fn busy_translators_refuse_unless_forced() {
        let busy = Busy { open_ports: 3, processes: 0 };
        assert_eq!(decide(GoawayFlags::default(), busy, true), Decision::Refuse);
        let (force, _) = GoawayFlags::from_bits(GoawayFlags::FORCE);
        assert_eq!(decide(force, busy, true), Decision::Leave { kill_processes: false, sync: true });
    }

    #[test]
    fn ports_need_not_hold_a_firmlink() {
        let busy = Busy { open_ports: 3, processes: 0 };
        assert_eq!(decide(GoawayFlags::default(), busy, false), Decision::Leave { kill_processes: false, sync: true });
    }

    #[test]
    fn live_processes_hold_it_and_a_force_kills_them() {
        let busy = Busy { open_ports: 0, processes: 2 };
        assert_eq!(decide(GoawayFlags::default(), busy, false), Decision::Refuse);
        let (force, _) = GoawayFlags::from_bits(GoawayFlags::FORCE | GoawayFlags::NOSYNC);
        assert_eq!(decide(force, busy, false), Decision::Leave { kill_processes: true, sync: false });
    }
}
