//! Absolute, normalised paths: the paths a spec names, inside the
//! environment or on the host.

use std::fmt;

/// Why a path given in the spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("{0:?} is not an absolute path")]
    NotAbsolute(String),
    #[error("{0:?} has a `..` component")]
    DotDot(String),
    #[error("{0:?} has a `.` component")]
    Dot(String),
    #[error("{0:?} has a NUL byte")]
    Nul(String),
    #[error("the path is empty")]
    Empty,
}

/// An absolute path with no `.`, `..`, empty components or trailing slash.
/// `/` itself is the only path with no components.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AbsPath(String);

impl AbsPath {
    /// The root, `/`.
    pub fn root() -> Self {
        AbsPath("/".to_owned())
    }

    /// Checks and normalises `text`: repeated and trailing slashes are
    /// folded, `.` and `..` components are refused (a spec must say what it
    /// means, not leave it to resolution).
    pub fn parse(text: &str) -> Result<Self, PathError> {
        if text.is_empty() {
            return Err(PathError::Empty);
        }
        if text.contains('\0') {
            return Err(PathError::Nul(text.to_owned()));
        }
        if !text.starts_with('/') {
            return Err(PathError::NotAbsolute(text.to_owned()));
        }
        let mut out = String::with_capacity(text.len());
        for component in text.split('/').filter(|c| !c.is_empty()) {
            match component {
                "." => return Err(PathError::Dot(text.to_owned())),
                ".." => return Err(PathError::DotDot(text.to_owned())),
                _ => {
                    out.push('/');
                    out.push_str(component);
                }
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        Ok(AbsPath(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The components, outermost first; none for `/`.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|c| !c.is_empty())
    }

    /// The last component, `None` for `/`.
    pub fn file_name(&self) -> Option<&str> {
        self.components().last()
    }

    /// True when `self` is `other` or lies below it (at a `/` boundary:
    /// `/gnu/storex` is not below `/gnu/store`).
    pub fn starts_with(&self, other: &AbsPath) -> bool {
        if other.is_root() {
            return true;
        }
        match self.0.strip_prefix(&other.0) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    /// `self/name` for a single component `name`.
    pub fn join(&self, name: &str) -> AbsPath {
        debug_assert!(!name.is_empty() && !name.contains('/'));
        if self.is_root() { AbsPath(format!("/{name}")) } else { AbsPath(format!("{}/{name}", self.0)) }
    }
}

impl fmt::Display for AbsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_slashes() {
        assert_eq!(AbsPath::parse("//gnu///store/").unwrap().as_str(), "/gnu/store");
        assert_eq!(AbsPath::parse("/").unwrap().as_str(), "/");
        assert_eq!(AbsPath::parse("///").unwrap().as_str(), "/");
    }

    #[test]
    fn refuses_what_resolution_would_have_to_guess() {
        assert_eq!(AbsPath::parse("gnu/store"), Err(PathError::NotAbsolute("gnu/store".into())));
        assert_eq!(AbsPath::parse("/gnu/../etc"), Err(PathError::DotDot("/gnu/../etc".into())));
        assert_eq!(AbsPath::parse("/gnu/./store"), Err(PathError::Dot("/gnu/./store".into())));
        assert_eq!(AbsPath::parse("/a\0b"), Err(PathError::Nul("/a\0b".into())));
        assert_eq!(AbsPath::parse(""), Err(PathError::Empty));
    }

    #[test]
    fn prefix_matches_only_at_component_boundaries() {
        let store = AbsPath::parse("/gnu/store").unwrap();
        assert!(AbsPath::parse("/gnu/store/abc").unwrap().starts_with(&store));
        assert!(AbsPath::parse("/gnu/store").unwrap().starts_with(&store));
        assert!(!AbsPath::parse("/gnu/storex").unwrap().starts_with(&store));
        assert!(!AbsPath::parse("/gnu").unwrap().starts_with(&store));
        assert!(store.starts_with(&AbsPath::root()));
    }

    #[test]
    fn components_and_join() {
        let p = AbsPath::parse("/a/b").unwrap();
        assert_eq!(p.components().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(p.file_name(), Some("b"));
        assert_eq!(AbsPath::root().file_name(), None);
        assert_eq!(AbsPath::root().join("x").as_str(), "/x");
        assert_eq!(p.join("c").as_str(), "/a/b/c");
    }
}
