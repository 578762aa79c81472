//! Directory listings as `dir_readdir` carries them: a run of `struct
//! dirent64` records (the Hurd's layout: `d_ino` u64, `d_reclen` u16,
//! `d_type` u8, `d_namlen` u8, then the name and a NUL, each record padded
//! to the alignment of `d_ino`).

/// `d_type` values.
pub const DT_UNKNOWN: u8 = 0;
pub const DT_CHR: u8 = 2;
pub const DT_DIR: u8 = 4;
pub const DT_REG: u8 = 8;
pub const DT_LNK: u8 = 10;

/// The size of a record's fixed part: the offset of `d_name`.
const HEADER: usize = 8 + 2 + 1 + 1;

/// One entry of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub ino: u64,
    pub kind: u8,
    pub name: String,
}

/// The record length of an entry named `name`, for records aligned to
/// `align` bytes (the C alignment of a `u64`: 8 on x86_64, 4 on i686).
pub fn reclen(name: &str, align: usize) -> usize {
    (HEADER + name.len() + 1).div_ceil(align) * align
}

/// Encodes `entries[first..]`, at most `max_entries` of them (all when
/// negative) and at most `max_bytes` bytes (no limit when 0), as
/// `dir_readdir` answers. Returns the bytes and how many entries they
/// hold. A name longer than 255 bytes cannot be encoded (`d_namlen` is one
/// byte) and is left out.
pub fn encode(
    entries: &[DirEntry],
    first: usize,
    max_entries: i32,
    max_bytes: usize,
    align: usize,
) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut count = 0;
    for e in entries.iter().skip(first) {
        if max_entries >= 0 && count >= max_entries as usize {
            break;
        }
        let Ok(namlen) = u8::try_from(e.name.len()) else { continue };
        let len = reclen(&e.name, align);
        if max_bytes != 0 && out.len() + len > max_bytes {
            break;
        }
        let Ok(len16) = u16::try_from(len) else { continue };
        out.extend_from_slice(&e.ino.to_ne_bytes());
        out.extend_from_slice(&len16.to_ne_bytes());
        out.push(e.kind);
        out.push(namlen);
        out.extend_from_slice(e.name.as_bytes());
        out.resize(out.len() + len - HEADER - e.name.len(), 0);
        count += 1;
    }
    (out, count)
}

/// Reads back records `encode` wrote (for tests and for proxies).
pub fn decode(mut bytes: &[u8]) -> Vec<DirEntry> {
    let mut out = Vec::new();
    while bytes.len() >= HEADER {
        let ino = u64::from_ne_bytes(bytes[..8].try_into().expect("8 bytes"));
        let len = usize::from(u16::from_ne_bytes([bytes[8], bytes[9]]));
        let kind = bytes[10];
        let namlen = usize::from(bytes[11]);
        if len < HEADER + namlen || len > bytes.len() {
            break;
        }
        let name = String::from_utf8_lossy(&bytes[HEADER..HEADER + namlen]).into_owned();
        out.push(DirEntry { ino, kind, name });
        bytes = &bytes[len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn e(ino: u64, kind: u8, name: &str) -> DirEntry {
        DirEntry { ino, kind, name: name.into() }
    }

    #[test]
    fn layout_of_one_record() {
        let (bytes, n) = encode(&[e(7, DT_DIR, "gnu")], 0, -1, 0, 8);
        assert_eq!(n, 1);
        // 12 bytes of header, "gnu", NUL: 16, already a multiple of 8.
        assert_eq!(bytes.len(), 16);
        assert_eq!(&bytes[..8], &7u64.to_ne_bytes());
        assert_eq!(u16::from_ne_bytes([bytes[8], bytes[9]]), 16);
        assert_eq!((bytes[10], bytes[11]), (DT_DIR, 3));
        assert_eq!(&bytes[12..16], b"gnu\0");
        assert_eq!(reclen("store", 8), 24);
        assert_eq!(reclen("store", 4), 20);
    }

    #[test]
    fn windows_by_entry_count_and_bytes() {
        let all = [e(1, DT_DIR, "."), e(1, DT_DIR, ".."), e(2, DT_REG, "a"), e(3, DT_LNK, "bb")];
        let (bytes, n) = encode(&all, 0, -1, 0, 8);
        assert_eq!((n, decode(&bytes)), (4, all.to_vec()));
        let (bytes, n) = encode(&all, 2, -1, 0, 8);
        assert_eq!((n, decode(&bytes)), (2, all[2..].to_vec()));
        let (_, n) = encode(&all, 1, 2, 0, 8);
        assert_eq!(n, 2);
        // Each of these records takes 16 bytes: 40 bytes hold two.
        let (bytes, n) = encode(&all, 0, -1, 40, 8);
        assert_eq!((n, bytes.len()), (2, 32));
        assert_eq!(encode(&all, 9, -1, 0, 8), (Vec::new(), 0), "past the end: end of directory");
    }

    #[test]
    fn overlong_names_are_left_out() {
        let long = "x".repeat(256);
        let (bytes, n) = encode(&[e(1, DT_REG, &long), e(2, DT_REG, "ok")], 0, -1, 0, 8);
        assert_eq!((n, decode(&bytes)), (1, vec![e(2, DT_REG, "ok")]));
    }

    proptest! {
        #[test]
        fn round_trip(names in prop::collection::vec("[a-z.]{1,40}", 0..20), align in prop::sample::select(vec![4usize, 8])) {
            let entries: Vec<DirEntry> = names.iter().enumerate().map(|(i, n)| e(i as u64, DT_REG, n)).collect();
            let (bytes, n) = encode(&entries, 0, -1, 0, align);
            prop_assert_eq!(n, entries.len());
            prop_assert_eq!(bytes.len() % align, 0);
            prop_assert_eq!(decode(&bytes), entries);
        }
    }
}
