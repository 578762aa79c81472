//! The composed tree: resolution of every kind of name, listings, and
//! properties checked against a simple model over random trees and names.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sandbox_spec::{
    AbsPath, Access, Device, DirentType, Entry, EntryKind, InsertError, LookupError, ROOT, Resolution, Tree,
};

fn p(s: &str) -> AbsPath {
    AbsPath::parse(s).unwrap()
}

fn firmlink(host: &str) -> Entry {
    Entry { origin: format!("test:{host}"), kind: EntryKind::Firmlink { host: p(host), access: Access::ReadOnly } }
}

fn sample() -> Tree {
    let mut t = Tree::new();
    t.insert(&p("/gnu/store/aaa-glibc"), firmlink("/gnu/store/aaa-glibc")).unwrap();
    t.insert(&p("/gnu/store/bbb-bash"), firmlink("/gnu/store/bbb-bash")).unwrap();
    t.insert(&p("/tmp/build"), firmlink("/var/tmp/b")).unwrap();
    t.insert(&p("/dev/null"), Entry { origin: "d".into(), kind: EntryKind::Device(Device::Null) }).unwrap();
    t.insert(&p("/dev/stdin"), Entry { origin: "d".into(), kind: EntryKind::Symlink { target: "fd/0".into() } })
        .unwrap();
    t.insert(&p("/etc/passwd"), Entry { origin: "f".into(), kind: EntryKind::File { content: "x\n".into() } }).unwrap();
    t
}

fn dir_path(r: Result<Resolution<'_>, LookupError>) -> String {
    match r {
        Ok(Resolution::Directory { path, .. }) => path.to_string(),
        other => panic!("not a directory: {other:?}"),
    }
}

fn firmlink_of(r: Result<Resolution<'_>, LookupError>) -> (String, String) {
    match r {
        Ok(Resolution::Firmlink { path, rest, .. }) => (path.to_string(), rest),
        other => panic!("not a firmlink: {other:?}"),
    }
}

#[test]
fn dots_slashes_and_the_root() {
    let t = sample();
    assert_eq!(dir_path(t.resolve("/")), "/");
    assert_eq!(dir_path(t.resolve("")), "/");
    assert_eq!(dir_path(t.resolve("//gnu///store//")), "/gnu/store");
    assert_eq!(dir_path(t.resolve("/gnu/./store/.")), "/gnu/store");
    assert_eq!(dir_path(t.resolve("/gnu/store/..")), "/gnu");
    // `..` at the root stays at the root, however often.
    assert_eq!(dir_path(t.resolve("/..")), "/");
    assert_eq!(dir_path(t.resolve("../../../..")), "/");
    assert_eq!(dir_path(t.resolve("/../../gnu/../../tmp")), "/tmp");
}

#[test]
fn dotdot_at_a_root_with_a_parent_leaves_only_when_asked() {
    let t = sample();
    assert_eq!(dir_path(t.resolve_from(ROOT, "..", false)), "/");
    assert_eq!(t.resolve_from(ROOT, "../x/y", true), Ok(Resolution::Parent { rest: "x/y".into() }));
    assert_eq!(t.resolve_from(ROOT, "gnu/../..//z", true), Ok(Resolution::Parent { rest: "z".into() }));
    // Below the root, `..` is the tree's own, whatever the root has.
    assert_eq!(dir_path(t.resolve_from(ROOT, "gnu/store/..", true)), "/gnu");
}

#[test]
fn relative_names_start_where_they_are_looked_up() {
    let t = sample();
    let Ok(Resolution::Directory { node: store, .. }) = t.resolve("/gnu/store") else { panic!() };
    assert_eq!(firmlink_of(t.resolve_at(store, "aaa-glibc/lib")), ("/gnu/store/aaa-glibc".into(), "lib".into()));
    assert_eq!(dir_path(t.resolve_at(store, "../../etc")), "/etc");
    assert_eq!(dir_path(t.resolve_at(store, "../../../../../dev")), "/dev");
    // An absolute name ignores the start.
    assert_eq!(dir_path(t.resolve_at(store, "/tmp")), "/tmp");
}

#[test]
fn firmlinks_hand_the_rest_on() {
    let t = sample();
    assert_eq!(firmlink_of(t.resolve("/tmp/build")), ("/tmp/build".into(), "".into()));
    assert_eq!(firmlink_of(t.resolve("/tmp/build/")), ("/tmp/build".into(), "".into()));
    assert_eq!(firmlink_of(t.resolve("/tmp/build//src/./a.c")), ("/tmp/build".into(), "src/./a.c".into()));
    // `..` past the firmlink's root is the host side's to resolve: the
    // reparented port sends it back to /gnu/store inside.
    assert_eq!(firmlink_of(t.resolve("/gnu/store/aaa-glibc/../..")), ("/gnu/store/aaa-glibc".into(), "../..".into()));
    match t.resolve("/tmp/build/x").unwrap() {
        Resolution::Firmlink { host, access, .. } => {
            assert_eq!(host.as_str(), "/var/tmp/b");
            assert_eq!(access, Access::ReadOnly);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn leaves_that_are_not_directories() {
    let t = sample();
    assert!(matches!(t.resolve("/dev/null"), Ok(Resolution::Device { device: Device::Null, .. })));
    assert!(matches!(t.resolve("/etc/passwd"), Ok(Resolution::File { content: "x\n", .. })));
    for name in ["/dev/null/", "/dev/null/x", "/etc/passwd/.", "/etc/passwd/.."] {
        let bad = name.split('/').take(3).collect::<Vec<_>>().join("/");
        assert_eq!(t.resolve(name), Err(LookupError::NotDirectory(bad)), "{name}");
    }
    assert_eq!(
        t.resolve("/dev/stdin/x"),
        Ok(Resolution::Symlink { path: &p("/dev/stdin"), target: "fd/0", rest: "x".into() })
    );
}

#[test]
fn missing_names_say_where() {
    let t = sample();
    assert_eq!(t.resolve("/gnu/store/ccc"), Err(LookupError::NotFound("/gnu/store/ccc".into())));
    assert_eq!(t.resolve("/home/user/x"), Err(LookupError::NotFound("/home".into())));
    assert_eq!(t.resolve("/gnu/../usr"), Err(LookupError::NotFound("/usr".into())));
    assert_eq!(t.resolve("/gnu/store/aaa"), Err(LookupError::NotFound("/gnu/store/aaa".into())), "no prefix match");
}

#[test]
fn listings_are_exact() {
    let t = sample();
    let Ok(Resolution::Directory { node, .. }) = t.resolve("/") else { panic!() };
    assert_eq!(node, ROOT);
    let names: Vec<_> = t.list(ROOT).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["dev", "etc", "gnu", "tmp"]);
    let Ok(Resolution::Directory { node: dev, .. }) = t.resolve("/dev") else { panic!() };
    assert_eq!(t.list(dev), [("null", DirentType::CharDevice), ("stdin", DirentType::Symlink)]);
    let Ok(Resolution::Directory { node: store, .. }) = t.resolve("/gnu/store") else { panic!() };
    assert_eq!(t.list(store), [("aaa-glibc", DirentType::Unknown), ("bbb-bash", DirentType::Unknown)]);
}

#[test]
fn insertion_conflicts() {
    let mut t = sample();
    assert_eq!(
        t.insert(&p("/gnu/store/aaa-glibc"), firmlink("/x")),
        Err(InsertError::Duplicate { path: p("/gnu/store/aaa-glibc"), first: "test:/gnu/store/aaa-glibc".into() })
    );
    assert_eq!(
        t.insert(&p("/gnu/store/aaa-glibc/lib"), firmlink("/x")),
        Err(InsertError::InsideEntry {
            path: p("/gnu/store/aaa-glibc/lib"),
            leaf: p("/gnu/store/aaa-glibc"),
            leaf_origin: "test:/gnu/store/aaa-glibc".into()
        })
    );
    assert_eq!(
        t.insert(&p("/gnu"), firmlink("/gnu")),
        Err(InsertError::Shadows {
            path: p("/gnu"),
            below: p("/gnu/store/aaa-glibc"),
            below_origin: "test:/gnu/store/aaa-glibc".into()
        })
    );
    assert_eq!(t.insert(&AbsPath::root(), firmlink("/")), Err(InsertError::Root));
    // A refused insertion changes nothing.
    assert_eq!(t, sample());
}

#[test]
fn render_draws_the_tree() {
    let t = sample();
    let expected = "\
/                    directory
├── dev              directory
│   ├── null         device null: reads end at once, writes are discarded
│   └── stdin        symlink to fd/0
├── etc              directory
│   └── passwd       file, 2 bytes
├── gnu              directory
│   └── store        directory
│       ├── aaa-glibc  firmlink (read-only) to the same path on the host
│       └── bbb-bash   firmlink (read-only) to the same path on the host
└── tmp              directory
    └── build        firmlink (read-only) to /var/tmp/b
";
    let got = t.render();
    let words = |s: &str| s.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>();
    assert_eq!(words(&got), words(expected));
    // Descriptions start in one column, two spaces past the widest name.
    let starts: BTreeSet<usize> = got
        .lines()
        .zip(expected.lines())
        .map(|(line, exp)| {
            let description = exp.split("  ").filter(|s| !s.trim().is_empty()).last().unwrap().trim();
            line.chars().count() - description.chars().count()
        })
        .collect();
    assert_eq!(starts.len(), 1, "{got}");
    assert_eq!(*starts.first().unwrap(), "│       ├── aaa-glibc".chars().count() + 2);
}

// ---- properties ----------------------------------------------------------

const NAMES: [&str; 4] = ["a", "b", "c", "d"];

fn entry_paths() -> impl Strategy<Value = Vec<String>> {
    let path = prop::collection::vec(prop::sample::select(&NAMES[..]), 1..4).prop_map(|c| format!("/{}", c.join("/")));
    prop::collection::vec(path, 1..8)
}

/// Builds a tree from candidate paths, keeping those the tree accepts.
fn build(candidates: &[String]) -> (Tree, BTreeSet<String>) {
    let mut tree = Tree::new();
    let mut accepted = BTreeSet::new();
    for c in candidates {
        if tree.insert(&p(c), firmlink(c)).is_ok() {
            accepted.insert(c.clone());
        }
    }
    (tree, accepted)
}

/// The model: what a name must resolve to, from the set of entry paths.
#[derive(Debug, PartialEq)]
enum Expect {
    Dir(String),
    Leaf(String, String),
    Missing(String),
}

fn model(entries: &BTreeSet<String>, components: &[&str]) -> Expect {
    let is_dir = |p: &str| p == "/" || entries.iter().any(|e| e.starts_with(&format!("{p}/")));
    let mut stack: Vec<&str> = Vec::new();
    for (i, c) in components.iter().enumerate() {
        match *c {
            "" | "." => {}
            ".." => {
                stack.pop();
            }
            name => {
                stack.push(name);
                let path = format!("/{}", stack.join("/"));
                if entries.contains(&path) {
                    let rest = components[i + 1..].join("/");
                    return Expect::Leaf(path, rest.trim_start_matches('/').to_owned());
                }
                if !is_dir(&path) {
                    return Expect::Missing(path);
                }
            }
        }
    }
    Expect::Dir(format!("/{}", stack.join("/")))
}

proptest! {
    #[test]
    fn resolution_matches_the_model_and_never_escapes(
        candidates in entry_paths(),
        components in prop::collection::vec(prop::sample::select(&["a", "b", "c", "d", "x", ".", "..", ""][..]), 0..10),
    ) {
        let (tree, entries) = build(&candidates);
        let name = format!("/{}", components.join("/"));
        let got = match tree.resolve(&name) {
            Ok(Resolution::Directory { path, .. }) => Expect::Dir(path.to_string()),
            Ok(Resolution::Firmlink { path, rest, .. }) => Expect::Leaf(path.to_string(), rest),
            Err(LookupError::NotFound(at)) => Expect::Missing(at),
            other => panic!("unexpected {other:?}"),
        };
        // Whatever it is, it lies in the environment: a directory above an
        // entry, or an entry itself.
        match &got {
            Expect::Dir(d) => {
                let inside = d == "/" || entries.iter().any(|e| e.starts_with(&format!("{d}/")));
                prop_assert!(inside, "directory {} is above no entry", d);
            }
            Expect::Leaf(l, _) => prop_assert!(entries.contains(l)),
            Expect::Missing(_) => {}
        }
        prop_assert_eq!(got, model(&entries, &components));
    }

    #[test]
    fn every_entry_is_reachable_however_it_is_spelled(
        candidates in entry_paths(),
        noise in prop::collection::vec(0u8..4, 8),
    ) {
        let (tree, entries) = build(&candidates);
        for entry in &entries {
            let parts: Vec<&str> = entry.split('/').filter(|c| !c.is_empty()).collect();
            // Spell the path with `.`, doubled slashes and detours through
            // `..` in the virtual directories above the entry.
            let mut name = String::new();
            for (i, part) in parts.iter().enumerate() {
                match noise[i % noise.len()] {
                    0 => name.push_str("/./"),
                    1 => name.push_str("//"),
                    2 if i > 0 => name.push_str(&format!("/../{}/", parts[i - 1])),
                    _ => name.push('/'),
                }
                name.push_str(part);
            }
            match tree.resolve(&name) {
                Ok(Resolution::Firmlink { path, rest, .. }) => {
                    prop_assert_eq!(path.as_str(), entry.as_str());
                    prop_assert_eq!(rest, "");
                }
                other => prop_assert!(false, "{} ({}) gave {:?}", name, entry, other),
            }
        }
    }

    #[test]
    fn listings_hold_exactly_the_entries_below(candidates in entry_paths()) {
        let (tree, entries) = build(&candidates);
        let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for e in &entries {
            let parts: Vec<&str> = e.split('/').filter(|c| !c.is_empty()).collect();
            for depth in 0..parts.len() {
                let dir = format!("/{}", parts[..depth].join("/"));
                expected.entry(dir).or_default().insert(parts[depth].to_owned());
            }
        }
        let dirs: Vec<String> = tree.directories().into_iter().map(|d| d.to_string()).collect();
        prop_assert_eq!(dirs.iter().cloned().collect::<BTreeSet<_>>(), expected.keys().cloned().collect::<BTreeSet<_>>());
        for (dir, names) in &expected {
            let Ok(Resolution::Directory { node, .. }) = tree.resolve(dir) else { panic!("{dir}") };
            let listed: BTreeSet<String> = tree.list(node).into_iter().map(|(n, _)| n.to_owned()).collect();
            prop_assert_eq!(&listed, names);
        }
    }
}
