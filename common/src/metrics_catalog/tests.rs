//! The catalog cannot drift from the code, the alert rules or the dashboard: a series recorded
//! anywhere without HELP text, or a rule watching a name nothing exports, fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::*;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `tweetpipe_…` name in `text`, as a whole identifier.
fn names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("tweetpipe_") {
        let preceded = rest[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let tail = &rest[i..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        if !preceded {
            names.insert(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    names
}

fn catalogued(name: &str) -> bool {
    let base = ["_bucket", "_count", "_sum"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(name);
    CATALOG.iter().any(|s| s.name == name || (s.kind == Kind::Histogram && s.name == base))
}

#[test]
fn every_series_recorded_in_the_code_has_help_text() {
    let mut files = Vec::new();
    for krate in ["common", "producer", "consumer"] {
        rust_files(&workspace().join(krate).join("src"), &mut files);
    }
    let mut used = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        for line in text
            .lines()
            .filter(|l| l.contains("counter!(") || l.contains("gauge!(") || l.contains("histogram!("))
        {
            // A name built with format! ends at its placeholder; those are listed below.
            used.extend(names_in(line).into_iter().filter(|n| !n.ends_with('_')));
        }
    }
    // The X counters are named from their summary keys (`x_connections` -> `tweetpipe_x_connections_total`).
    used.extend(
        [
            "x_connections",
            "x_keep_alives",
            "x_tweets",
            "x_rate_limit_waits",
            "x_auth_failures",
            "x_truncated_lines",
            "x_search_pages",
        ]
        .iter()
        .map(|k| format!("tweetpipe_{k}_total")),
    );
    assert!(used.len() > 20, "the scan found too few metrics: {used:?}");
    let missing: Vec<&String> = used.iter().filter(|n| !catalogued(n)).collect();
    assert!(missing.is_empty(), "recorded without a catalog entry (HELP text): {missing:?}");
}

#[test]
fn alerts_and_dashboard_only_use_exported_series() {
    for file in [
        "deploy/helm/tweetpipe/files/prometheus-alerts.yaml",
        "deploy/helm/tweetpipe/files/grafana-dashboard.json",
    ] {
        let text = std::fs::read_to_string(workspace().join(file)).expect("readable file");
        let unknown: Vec<String> = names_in(&text).into_iter().filter(|n| !catalogued(n)).collect();
        assert!(unknown.is_empty(), "{file} uses series nothing exports: {unknown:?}");
    }
}

#[test]
fn the_catalog_follows_the_naming_conventions() {
    let mut seen = BTreeSet::new();
    for s in CATALOG {
        assert!(seen.insert(s.name), "{} listed twice", s.name);
        assert!(!s.help.trim().is_empty(), "{} has no HELP text", s.name);
        assert_eq!(
            s.kind == Kind::Counter,
            s.name.ends_with("_total"),
            "{}: counters, and only they, end in _total",
            s.name
        );
        if s.unit == Some(Unit::Seconds) {
            assert!(s.name.ends_with("_seconds"), "{}: the unit belongs in the name", s.name);
        }
    }
}
