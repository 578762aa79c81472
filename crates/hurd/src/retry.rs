//! The retry kinds of `dir_lookup` and `fsys_getroot`: how a lookup
//! answers "go on elsewhere" (values as the Hurd's `fs.defs` types give
//! them).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryKind {
    /// Go on with the name left at the returned port, with the same
    /// credentials.
    Normal = 1,
    /// Reauthenticate the returned port first (it comes from a server
    /// that does not know the client), then go on with the name left.
    Reauth = 2,
    /// The name left is special: an absolute name (start again at the
    /// client's root), or `fd/N`, `machtype`, `tty` and the like, which the
    /// C library answers.
    Magical = 3,
}

impl RetryKind {
    /// The kind a server's reply names, if it is one.
    pub fn from_code(code: u32) -> Option<RetryKind> {
        match code {
            1 => Some(RetryKind::Normal),
            2 => Some(RetryKind::Reauth),
            3 => Some(RetryKind::Magical),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for kind in [RetryKind::Normal, RetryKind::Reauth, RetryKind::Magical] {
            assert_eq!(RetryKind::from_code(kind as u32), Some(kind));
        }
        assert_eq!(RetryKind::from_code(0), None);
        assert_eq!(RetryKind::from_code(4), None);
    }
}
