//! Virtual ↔ real PIDs for one PID namespace.
//!
//! Rules:
//! - The first process gets the namespace's first PID (1 unless the spec
//!   says otherwise).
//! - Later processes get the next free PID above the last one handed out;
//!   past the top of the range allocation wraps to the first PID. So a PID
//!   just freed is not handed out again until the range has gone round.
//! - A virtual PID stays taken while its process lives and, after it is
//!   reaped, while it still names a process group or session (`hold`).
//! - When every PID of the range is taken, allocation fails.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PidMapError {
    #[error("the PID range {first}..{limit} is empty")]
    EmptyRange { first: u32, limit: u32 },
    #[error("every PID of {first}..{limit} is taken")]
    Full { first: u32, limit: u32 },
    #[error("real PID {real} is already in the namespace as {virt}")]
    AlreadyMapped { real: u32, virt: u32 },
    #[error("real PID {0} is not in the namespace")]
    UnknownReal(u32),
    #[error("PID {0} is not taken in the namespace")]
    UnknownVirtual(u32),
    #[error("PID {0} is held by no process group or session")]
    NotHeld(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    /// The live process's real PID; `None` once it is reaped.
    real: Option<u32>,
    /// Process groups and sessions still named by this PID.
    holds: u32,
}

/// One namespace's PIDs.
#[derive(Debug, Clone)]
pub struct PidMap {
    first: u32,
    limit: u32,
    /// The PID the next allocation starts looking at.
    cursor: u32,
    slots: BTreeMap<u32, Slot>,
    by_real: BTreeMap<u32, u32>,
}

impl PidMap {
    /// A namespace handing out PIDs in `first..limit`.
    pub fn new(first: u32, limit: u32) -> Result<Self, PidMapError> {
        if first == 0 || first >= limit {
            return Err(PidMapError::EmptyRange { first, limit });
        }
        Ok(PidMap { first, limit, cursor: first, slots: BTreeMap::new(), by_real: BTreeMap::new() })
    }

    /// Enters the process with real PID `real` into the namespace and
    /// returns its PID there.
    pub fn add(&mut self, real: u32) -> Result<u32, PidMapError> {
        if let Some(&virt) = self.by_real.get(&real) {
            return Err(PidMapError::AlreadyMapped { real, virt });
        }
        let mut candidate = self.cursor;
        for _ in self.first..self.limit {
            if let std::collections::btree_map::Entry::Vacant(slot) = self.slots.entry(candidate) {
                slot.insert(Slot { real: Some(real), holds: 0 });
                self.by_real.insert(real, candidate);
                self.cursor = self.after(candidate);
                return Ok(candidate);
            }
            candidate = self.after(candidate);
        }
        Err(PidMapError::Full { first: self.first, limit: self.limit })
    }

    /// The PID after `virt`, going round the range.
    fn after(&self, virt: u32) -> u32 {
        if virt + 1 == self.limit { self.first } else { virt + 1 }
    }

    /// The process with real PID `real` is gone (reaped). Its virtual PID
    /// is freed unless a process group or session still holds it.
    pub fn remove(&mut self, real: u32) -> Result<u32, PidMapError> {
        let virt = self.by_real.remove(&real).ok_or(PidMapError::UnknownReal(real))?;
        let slot = self.slots.get_mut(&virt).expect("by_real and slots agree");
        slot.real = None;
        if slot.holds == 0 {
            self.slots.remove(&virt);
        }
        Ok(virt)
    }

    /// A process group or session now bears the name `virt`.
    pub fn hold(&mut self, virt: u32) -> Result<(), PidMapError> {
        let slot = self.slots.get_mut(&virt).ok_or(PidMapError::UnknownVirtual(virt))?;
        slot.holds += 1;
        Ok(())
    }

    /// A process group or session named `virt` is gone.
    pub fn release(&mut self, virt: u32) -> Result<(), PidMapError> {
        let slot = self.slots.get_mut(&virt).ok_or(PidMapError::UnknownVirtual(virt))?;
        if slot.holds == 0 {
            return Err(PidMapError::NotHeld(virt));
        }
        slot.holds -= 1;
        if slot.holds == 0 && slot.real.is_none() {
            self.slots.remove(&virt);
        }
        Ok(())
    }

    pub fn to_virtual(&self, real: u32) -> Option<u32> {
        self.by_real.get(&real).copied()
    }

    /// The live process behind `virt`, if any.
    pub fn to_real(&self, virt: u32) -> Option<u32> {
        self.slots.get(&virt).and_then(|s| s.real)
    }

    /// Whether `virt` is taken (by a process, a group or a session).
    pub fn is_taken(&self, virt: u32) -> bool {
        self.slots.contains_key(&virt)
    }

    /// Live processes in the namespace.
    pub fn processes(&self) -> usize {
        self.by_real.len()
    }

    /// Every live process as (virtual, real), by virtual PID: what teardown
    /// must reach.
    pub fn live(&self) -> Vec<(u32, u32)> {
        self.slots.iter().filter_map(|(&v, s)| s.real.map(|r| (v, r))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn first_process_gets_the_first_pid() {
        let mut m = PidMap::new(1, 100).unwrap();
        assert_eq!(m.add(4711).unwrap(), 1);
        assert_eq!(m.add(4712).unwrap(), 2);
        assert_eq!(m.add(5000).unwrap(), 3);
        let mut m = PidMap::new(300, 400).unwrap();
        assert_eq!(m.add(9).unwrap(), 300);
    }

    #[test]
    fn lookups_both_ways() {
        let mut m = PidMap::new(1, 100).unwrap();
        m.add(4711).unwrap();
        m.add(812).unwrap();
        assert_eq!(m.to_virtual(812), Some(2));
        assert_eq!(m.to_real(2), Some(812));
        assert_eq!(m.to_virtual(9999), None);
        assert_eq!(m.to_real(3), None);
        assert_eq!(m.live(), [(1, 4711), (2, 812)]);
    }

    #[test]
    fn freed_pids_are_not_reused_before_the_range_wraps() {
        let mut m = PidMap::new(1, 6).unwrap();
        for real in 100..103 {
            m.add(real).unwrap(); // 1, 2, 3
        }
        assert_eq!(m.remove(101).unwrap(), 2);
        assert_eq!(m.add(200).unwrap(), 4, "2 was just freed: go on upwards");
        assert_eq!(m.add(201).unwrap(), 5);
        assert_eq!(m.add(202).unwrap(), 2, "wrapped: 1 is taken, 2 is free");
        assert_eq!(m.add(203), Err(PidMapError::Full { first: 1, limit: 6 }));
        m.remove(100).unwrap();
        assert_eq!(m.add(204).unwrap(), 1);
    }

    #[test]
    fn groups_and_sessions_keep_their_pid_taken() {
        let mut m = PidMap::new(1, 4).unwrap();
        m.add(10).unwrap(); // 1
        m.add(11).unwrap(); // 2: a session leader
        m.hold(2).unwrap();
        m.remove(11).unwrap();
        assert!(m.is_taken(2));
        assert_eq!(m.to_real(2), None, "no live process behind it");
        assert_eq!(m.add(12).unwrap(), 3);
        assert_eq!(m.add(13), Err(PidMapError::Full { first: 1, limit: 4 }), "2 is still held");
        m.release(2).unwrap();
        assert!(!m.is_taken(2));
        assert_eq!(m.add(13).unwrap(), 2);
        assert_eq!(m.release(2), Err(PidMapError::NotHeld(2)));
    }

    #[test]
    fn errors() {
        assert_eq!(PidMap::new(0, 10).unwrap_err(), PidMapError::EmptyRange { first: 0, limit: 10 });
        assert_eq!(PidMap::new(5, 5).unwrap_err(), PidMapError::EmptyRange { first: 5, limit: 5 });
        let mut m = PidMap::new(1, 10).unwrap();
        m.add(7).unwrap();
        assert_eq!(m.add(7), Err(PidMapError::AlreadyMapped { real: 7, virt: 1 }));
        assert_eq!(m.remove(8), Err(PidMapError::UnknownReal(8)));
        assert_eq!(m.hold(9), Err(PidMapError::UnknownVirtual(9)));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(u32),
        Remove(usize),
        Hold(usize),
        Release(usize),
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        prop::collection::vec(
            prop_oneof![
                (1000..1040u32).prop_map(Op::Add),
                any::<usize>().prop_map(Op::Remove),
                any::<usize>().prop_map(Op::Hold),
                any::<usize>().prop_map(Op::Release),
            ],
            0..200,
        )
    }

    proptest! {
        /// Whatever happens, the two directions agree, PIDs stay in range,
        /// no two live processes share a PID, and allocation fails only
        /// when the range is really full.
        #[test]
        fn map_stays_consistent(ops in ops(), first in 1..50u32, size in 1..12u32) {
            let limit = first + size;
            let mut m = PidMap::new(first, limit).unwrap();
            for op in ops {
                match op {
                    Op::Add(real) => match m.add(real) {
                        Ok(v) => {
                            prop_assert!((first..limit).contains(&v));
                            prop_assert_eq!(m.to_real(v), Some(real));
                        }
                        Err(PidMapError::Full { .. }) => {
                            prop_assert!((first..limit).all(|v| m.is_taken(v)));
                        }
                        Err(PidMapError::AlreadyMapped { virt, .. }) => prop_assert_eq!(m.to_virtual(real), Some(virt)),
                        Err(e) => prop_assert!(false, "{}", e),
                    },
                    Op::Remove(i) => {
                        let live = m.live();
                        if !live.is_empty() {
                            let (v, r) = live[i % live.len()];
                            prop_assert_eq!(m.remove(r).unwrap(), v);
                            prop_assert_eq!(m.to_virtual(r), None);
                        }
                    }
                    Op::Hold(i) => {
                        let live = m.live();
                        if !live.is_empty() {
                            m.hold(live[i % live.len()].0).unwrap();
                        }
                    }
                    Op::Release(i) => {
                        let taken: Vec<u32> = (first..limit).filter(|&v| m.is_taken(v)).collect();
                        if !taken.is_empty() {
                            let _ = m.release(taken[i % taken.len()]);
                        }
                    }
                }
                for (v, r) in m.live() {
                    prop_assert_eq!(m.to_virtual(r), Some(v));
                }
                prop_assert_eq!(m.live().len(), m.processes());
            }
        }
    }
}
