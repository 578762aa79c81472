//! Roots kept per identity: which root port a translator hands out again
//! to a client of the same identity, and which one it lets go.
//!
//! A host file system asks a translator for its root (`fsys_getroot`) on
//! every lookup that crosses its node. A new port each time costs the
//! translator a port made, a no-senders notice and the port destroyed,
//! far more than the lookup itself. A root kept for one set of
//! credentials and open flags is handed out again instead; it carries
//! the `..` of the first client that asked, which a client with the same
//! ids may use anyway (on the Hurd such processes reach each other's
//! ports through the proc server, so a chroot does not part them).
//!
//! Pure: the ports are the caller's values (`V`), made and released by
//! the caller.

use std::collections::{BTreeMap, VecDeque};

/// How many roots a translator keeps: past it, the oldest goes (a host
/// with ever new identities makes it forget some, not grow).
pub const KEPT_MAX: usize = 16;

/// The roots kept, by key (credentials and flags), oldest first.
#[derive(Debug)]
pub struct Kept<K: Ord + Clone, V: Copy> {
    roots: BTreeMap<K, V>,
    order: VecDeque<K>,
    max: usize,
}

impl<K: Ord + Clone, V: Copy> Kept<K, V> {
    pub fn new(max: usize) -> Kept<K, V> {
        Kept { roots: BTreeMap::new(), order: VecDeque::new(), max: max.max(1) }
    }

    /// The root kept for `key`.
    pub fn get(&self, key: &K) -> Option<V> {
        self.roots.get(key).copied()
    }

    /// Keeps `root` for `key` (in place of one kept for it before): what
    /// the caller is to let go, the root replaced and the oldest ones
    /// past [`Kept::new`]'s `max`.
    pub fn insert(&mut self, key: K, root: V) -> Vec<V> {
        let mut gone: Vec<V> = self.remove(&key).into_iter().collect();
        self.roots.insert(key.clone(), root);
        self.order.push_back(key);
        while self.order.len() > self.max {
            if let Some(old) = self.order.pop_front() {
                gone.extend(self.roots.remove(&old));
            }
        }
        gone
    }

    /// Forgets the root kept for `key` (it went away), answering it.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let root = self.roots.remove(key)?;
        self.order.retain(|k| k != key);
        Some(root)
    }

    pub fn len(&self) -> usize {
        self.roots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_root_per_key() {
        let mut kept = Kept::new(4);
        assert!(kept.insert((1000, 0), 7).is_empty());
        assert_eq!(kept.get(&(1000, 0)), Some(7));
        assert_eq!(kept.get(&(1000, 1)), None, "other flags, another root");
        assert_eq!(kept.get(&(1001, 0)), None, "another identity, another root");
        assert_eq!(kept.insert((1000, 0), 8), vec![7], "the root replaced is let go");
        assert_eq!(kept.get(&(1000, 0)), Some(8));
        assert_eq!(kept.len(), 1);
    }

    #[test]
    fn bounded_oldest_first() {
        let mut kept = Kept::new(2);
        assert!(kept.insert(1, 10).is_empty());
        assert!(kept.insert(2, 20).is_empty());
        assert_eq!(kept.insert(3, 30), vec![10]);
        assert_eq!((kept.get(&1), kept.get(&2), kept.get(&3)), (None, Some(20), Some(30)));
        // Replacing one makes it the newest.
        assert_eq!(kept.insert(2, 21), vec![20]);
        assert_eq!(kept.insert(4, 40), vec![30]);
        assert_eq!(kept.len(), 2);
    }

    #[test]
    fn removed_ones_leave_no_trace() {
        let mut kept = Kept::new(2);
        kept.insert(1, 10);
        assert_eq!(kept.remove(&1), Some(10));
        assert_eq!(kept.remove(&1), None);
        assert!(kept.is_empty());
        kept.insert(2, 20);
        kept.insert(3, 30);
        assert_eq!(kept.insert(4, 40), vec![20], "no stale key counted");
    }

    proptest::proptest! {
        /// Whatever is kept and removed: never more than the bound, and
        /// every root given is either kept or handed back exactly once.
        #[test]
        fn never_past_the_bound(ops in proptest::collection::vec((0u8..6, proptest::bool::ANY), 0..64)) {
            let mut kept = Kept::new(3);
            let mut given = 0u32;
            let mut back = Vec::new();
            for (key, insert) in ops {
                if insert {
                    given += 1;
                    back.extend(kept.insert(key, given));
                } else {
                    back.extend(kept.remove(&key));
                }
                proptest::prop_assert!(kept.len() <= 3);
            }
            let mut all: Vec<u32> = back;
            all.extend((0u8..6).filter_map(|k| kept.get(&k)));
            all.sort_unstable();
            proptest::prop_assert_eq!(all, (1..=given).collect::<Vec<_>>());
        }
    }
}
