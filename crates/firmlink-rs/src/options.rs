//! The firmlink's options, as given on its command line and as
//! `fsys_set_options`/`fsys_get_options` (fsysopts) carry them.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("missing TARGET: the file or directory the link leads to")]
    MissingTarget,
    #[error("more than one TARGET given: {0:?} and {1:?}")]
    TwoTargets(String, String),
    #[error("--timeout takes a number of seconds, not {0:?}")]
    BadTimeout(String),
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("unknown option {0:?}")]
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// What the link leads to, as given (looked up with the translator's
    /// own credentials, relative to its working directory).
    pub target: String,
    /// Hand the target out without write access.
    pub readonly: bool,
    /// Go away when no client has used the link for this long.
    pub timeout: Option<Duration>,
}

impl Options {
    /// Parses arguments the way both the command line and
    /// `fsys_set_options` give them (`--help` and `--version` are the
    /// program's to handle before). With `current`, the options not given
    /// keep their current values, as `fsysopts` expects.
    pub fn parse<I, S>(args: I, current: Option<&Options>) -> Result<Options, OptionsError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut target: Option<String> = None;
        let mut readonly = current.is_some_and(|c| c.readonly);
        let mut timeout = current.and_then(|c| c.timeout);
        let mut args = args.into_iter().map(|a| a.as_ref().to_owned());
        let mut only_operands = false;
        while let Some(arg) = args.next() {
            if only_operands || !arg.starts_with('-') || arg == "-" {
                if let Some(first) = target.replace(arg.clone()) {
                    return Err(OptionsError::TwoTargets(first, arg));
                }
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                None => (arg.clone(), None),
            };
            match name.as_str() {
                "--" => only_operands = true,
                "-r" | "--readonly" | "--read-only" => readonly = true,
                "-w" | "--writable" => readonly = false,
                "-t" | "--timeout" => {
                    let value = match inline {
                        Some(v) => v,
                        None => args.next().ok_or_else(|| OptionsError::MissingValue(name.clone()))?,
                    };
                    let secs: u64 = value.parse().map_err(|_| OptionsError::BadTimeout(value.clone()))?;
                    timeout = (secs > 0).then(|| Duration::from_secs(secs));
                }
                _ => return Err(OptionsError::Unknown(arg)),
            }
        }
        let target = match (target, current) {
            (Some(t), _) => t,
            (None, Some(c)) => c.target.clone(),
            (None, None) => return Err(OptionsError::MissingTarget),
        };
        Ok(Options { target, readonly, timeout })
    }

    /// The options as `fsys_get_options` reports them: what, given back to
    /// the translator, recreates its state.
    pub fn to_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.readonly {
            out.push("--readonly".to_owned());
        }
        if let Some(t) = self.timeout {
            out.push(format!("--timeout={}", t.as_secs()));
        }
        if self.target.starts_with('-') {
            out.push("--".to_owned());
        }
        out.push(self.target.clone());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, OptionsError> {
        Options::parse(args, None)
    }

    #[test]
    fn the_c_firmlinks_one_argument() {
        assert_eq!(
            parse(&["/gnu/store/x"]).unwrap(),
            Options { target: "/gnu/store/x".into(), readonly: false, timeout: None }
        );
    }

    #[test]
    fn options_in_every_spelling() {
        let o = parse(&["-r", "--timeout", "30", "/t"]).unwrap();
        assert_eq!((o.readonly, o.timeout), (true, Some(Duration::from_secs(30))));
        assert_eq!(parse(&["--timeout=0", "/t"]).unwrap().timeout, None, "0 means never");
        assert!(parse(&["/t", "--readonly"]).unwrap().readonly);
        assert_eq!(parse(&["--", "-odd"]).unwrap().target, "-odd");
    }

    #[test]
    fn errors_name_the_argument() {
        assert_eq!(parse(&[]), Err(OptionsError::MissingTarget));
        assert_eq!(parse(&["/a", "/b"]), Err(OptionsError::TwoTargets("/a".into(), "/b".into())));
        assert_eq!(parse(&["-t", "soon", "/a"]), Err(OptionsError::BadTimeout("soon".into())));
        assert_eq!(parse(&["/a", "--timeout"]), Err(OptionsError::MissingValue("--timeout".into())));
        assert_eq!(parse(&["--frob", "/a"]), Err(OptionsError::Unknown("--frob".into())));
    }

    #[test]
    fn set_options_keeps_what_is_not_given() {
        let current = parse(&["-r", "-t", "5", "/a"]).unwrap();
        let changed = Options::parse(["--timeout=9"], Some(&current)).unwrap();
        assert_eq!(changed, Options { target: "/a".into(), readonly: true, timeout: Some(Duration::from_secs(9)) });
        let changed = Options::parse(["--writable", "/b"], Some(&current)).unwrap();
        assert_eq!((changed.readonly, changed.target.as_str()), (false, "/b"));
    }

    #[test]
    fn get_options_round_trips() {
        for args in [&["/a"][..], &["-r", "/a"], &["-t", "7", "/a"], &["-r", "-t", "7", "--", "-x"]] {
            let o = parse(args).unwrap();
            assert_eq!(parse(&o.to_args().iter().map(String::as_str).collect::<Vec<_>>()).unwrap(), o);
        }
        assert_eq!(parse(&["-t", "7", "-r", "/a"]).unwrap().to_args(), ["--readonly", "--timeout=7", "/a"]);
    }
}
