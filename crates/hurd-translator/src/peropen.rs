//! Opens and seeks: a peropen is one open of a node (its flags and its
//! file offset, shared by every port made from that open), apart from the
//! node and from the credentials a protid adds.

use std::sync::Mutex;

use crate::errno::Errno;

/// `whence` of `io_seek`.
pub const SEEK_SET: i32 = 0;
pub const SEEK_CUR: i32 = 1;
pub const SEEK_END: i32 = 2;

/// The offset a seek leads to, or why it cannot be.
pub fn seek(current: i64, size: i64, offset: i64, whence: i32) -> Result<i64, Errno> {
    let base = match whence {
        SEEK_SET => 0,
        SEEK_CUR => current,
        SEEK_END => size,
        _ => return Err(Errno::EINVAL),
    };
    match base.checked_add(offset) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(Errno::EINVAL),
    }
}

/// The part of `bytes` that a read of `amount` bytes at `offset` answers:
/// nothing past the end, whatever the numbers (a client chooses both);
/// EINVAL for a negative offset.
pub fn window(bytes: &[u8], offset: i64, amount: usize) -> Result<&[u8], Errno> {
    // In 64 bits whatever the target's word size: an offset past what a
    // 32-bit usize holds is past the end, not an error (the i686 suite
    // found it answered EINVAL there).
    let offset = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
    let len = bytes.len() as u64;
    let start = offset.min(len);
    let end = start.saturating_add(amount as u64).min(len);
    // Both are at most the slice's length, a usize.
    Ok(&bytes[start as usize..end as usize])
}

/// One open of a node.
#[derive(Debug)]
pub struct Peropen<N> {
    pub node: N,
    /// The open flags (`O_READ`, `O_WRITE`, …).
    pub flags: i32,
    offset: Mutex<i64>,
}

impl<N> Peropen<N> {
    pub fn new(node: N, flags: i32) -> Self {
        Peropen { node, flags, offset: Mutex::new(0) }
    }

    pub fn offset(&self) -> i64 {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the offset as `io_seek` says, given the node's size.
    pub fn seek(&self, offset: i64, whence: i32, size: i64) -> Result<i64, Errno> {
        let mut current = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *current = seek(*current, size, offset, whence)?;
        Ok(*current)
    }

    /// The offset a read or write at `offset` uses (-1: the open's own,
    /// which then moves by `moved`).
    pub fn advance(&self, offset: i64, moved: usize) -> i64 {
        if offset >= 0 {
            return offset;
        }
        let mut current = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        let at = *current;
        *current = at.saturating_add(i64::try_from(moved).unwrap_or(i64::MAX));
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeks() {
        assert_eq!(seek(5, 100, 10, SEEK_SET), Ok(10));
        assert_eq!(seek(5, 100, 10, SEEK_CUR), Ok(15));
        assert_eq!(seek(5, 100, -10, SEEK_END), Ok(90));
        assert_eq!(seek(5, 100, -6, SEEK_CUR), Err(Errno::EINVAL));
        assert_eq!(seek(5, 100, 0, 7), Err(Errno::EINVAL));
        assert_eq!(seek(i64::MAX, 0, 1, SEEK_CUR), Err(Errno::EINVAL));
    }

    #[test]
    fn reads_never_reach_past_the_end() {
        let b = b"hello";
        assert_eq!(window(b, 0, 5), Ok(&b"hello"[..]));
        assert_eq!(window(b, 1, 2), Ok(&b"el"[..]));
        assert_eq!(window(b, 4, usize::MAX), Ok(&b"o"[..]), "an amount that overflows");
        assert_eq!(window(b, i64::MAX, usize::MAX), Ok(&b""[..]), "both at their largest");
        assert_eq!(window(b, 1 << 40, 4), Ok(&b""[..]), "past what a 32-bit usize holds");
        assert_eq!(window(b, 9, 1), Ok(&b""[..]));
        assert_eq!(window(b, -2, 1), Err(Errno::EINVAL));
    }

    proptest::proptest! {
        #[test]
        fn any_read_is_inside(len in 0usize..64, offset in proptest::num::i64::ANY, amount in proptest::num::usize::ANY) {
            let bytes = vec![7u8; len];
            match window(&bytes, offset, amount) {
                Ok(part) => {
                    proptest::prop_assert!(offset >= 0);
                    proptest::prop_assert!(part.len() <= amount.min(len));
                }
                Err(e) => proptest::prop_assert_eq!((e, offset < 0), (Errno::EINVAL, true)),
            }
        }
    }

    #[test]
    fn the_offset_belongs_to_the_open() {
        let p = Peropen::new("node", 1);
        assert_eq!(p.seek(4, SEEK_SET, 10), Ok(4));
        assert_eq!(p.advance(-1, 3), 4, "a read at the open's offset starts there");
        assert_eq!(p.offset(), 7, "and moves it");
        assert_eq!(p.advance(100, 3), 100, "an explicit offset leaves it alone");
        assert_eq!(p.offset(), 7);
    }
}
