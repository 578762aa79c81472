//! Argz vectors: the NUL-separated strings in which `fsys_get_options`
//! and `fsys_set_options` carry a translator's options.

/// Why an argz vector was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgzError {
    #[error("an option is not valid UTF-8 at byte {0}")]
    NotUtf8(usize),
    #[error("an option has a NUL byte: {0:?}")]
    Nul(String),
}

/// Packs strings as an argz vector: each one followed by a NUL.
pub fn encode<S: AsRef<str>>(args: &[S]) -> Result<Vec<u8>, ArgzError> {
    let mut out = Vec::new();
    for a in args {
        let a = a.as_ref();
        if a.contains('\0') {
            return Err(ArgzError::Nul(a.to_owned()));
        }
        out.extend_from_slice(a.as_bytes());
        out.push(0);
    }
    Ok(out)
}

/// Unpacks an argz vector. A missing final NUL is tolerated (some
/// clients send a bare string); empty strings between NULs are kept.
pub fn decode(bytes: &[u8]) -> Result<Vec<String>, ArgzError> {
    let body = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut offset = 0;
    for part in body.split(|&b| b == 0) {
        let s = std::str::from_utf8(part).map_err(|e| ArgzError::NotUtf8(offset + e.valid_up_to()))?;
        out.push(s.to_owned());
        offset += part.len() + 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_vectors() {
        assert_eq!(encode(&["firmlink-rs", "--readonly", "/a"]).unwrap(), b"firmlink-rs\0--readonly\0/a\0");
        assert_eq!(decode(b"a\0bc\0").unwrap(), ["a", "bc"]);
        assert_eq!(decode(b"a\0bc").unwrap(), ["a", "bc"]);
        assert_eq!(decode(b"").unwrap(), Vec::<String>::new());
        assert_eq!(decode(b"a\0\0b\0").unwrap(), ["a", "", "b"]);
        assert_eq!(decode(b"ok\0\xff\0"), Err(ArgzError::NotUtf8(3)));
        assert_eq!(encode(&["a\0b"]), Err(ArgzError::Nul("a\0b".into())));
    }

    proptest! {
        #[test]
        fn round_trip(args in prop::collection::vec("[^\u{0}]+", 0..6)) {
            prop_assert_eq!(decode(&encode(&args).unwrap()).unwrap(), args);
        }
    }
}
