//! Relative links in the Markdown must resolve: to a file or directory that exists and, when
//! they name an anchor in a Markdown file, to a heading (or an explicit `<a id>`) in it.
//! External links (`https:`, `mailto:`) are not fetched: tests stay offline.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `README.md` and every `.md` under `docs/`, relative to the root, sorted.
pub fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md"), PathBuf::from("CHANGELOG.md")];
    let mut dirs = vec![PathBuf::from("docs")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&dir)) else { continue };
        for entry in entries.flatten() {
            let relative = dir.join(entry.file_name());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(relative);
            } else if relative.extension().is_some_and(|e| e == "md") {
                files.push(relative);
            }
        }
    }
    files.retain(|f| root.join(f).is_file());
    files.sort();
    files
}

/// Link targets in a Markdown text, outside code blocks and code spans: inline `[text](target)`
/// and reference definitions `[name]: target`.
pub fn targets(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let line = without_code_spans(line);
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if let Some((_, rest)) = trimmed.split_once("]: ") {
                found.push(rest.split_whitespace().next().unwrap_or_default().to_string());
                continue;
            }
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or_default();
            found.push(target.trim_matches(|c| c == '<' || c == '>').to_string());
            rest = &after[end..];
        }
    }
    found
}

fn without_code_spans(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join("")
}

/// GitHub's anchors for a Markdown text: each heading lower-cased, punctuation dropped, spaces
/// as hyphens, repeats numbered; plus explicit `<a id="…">` / `<a name="…">`.
pub fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        for marker in ["<a id=\"", "<a name=\""] {
            let mut rest = line;
            while let Some(at) = rest.find(marker) {
                let after = &rest[at + marker.len()..];
                let end = after.find('"').unwrap_or(after.len());
                anchors.insert(after[..end].to_string());
                rest = &after[end..];
            }
        }
        let Some(title) = line.strip_prefix('#').map(|t| t.trim_start_matches('#')) else { continue };
        if !title.starts_with(' ') {
            continue;
        }
        let slug: String = title
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut candidate = slug.clone();
        let mut n = 0;
        while anchors.contains(&candidate) {
            n += 1;
            candidate = format!("{slug}-{n}");
        }
        anchors.insert(candidate);
    }
    anchors
}

/// Every broken relative link, as `file: target (why)`.
pub fn broken(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for file in markdown_files(root) {
        let Ok(text) = std::fs::read_to_string(root.join(&file)) else { continue };
        let dir = file.parent().unwrap_or(Path::new(""));
        for target in targets(&text) {
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let resolved = if path.is_empty() { file.clone() } else { normalise(&dir.join(path)) };
            if !root.join(&resolved).exists() {
                problems.push(format!("{}: {target} (no such file: {})", file.display(), resolved.display()));
                continue;
            }
            let Some(anchor) = anchor else { continue };
            if resolved.extension().map_or(true, |e| e != "md") {
                continue;
            }
            let target_text = std::fs::read_to_string(root.join(&resolved)).unwrap_or_default();
            if !anchors(&target_text).contains(anchor) {
                problems.push(format!(
                    "{}: {target} (no heading #{anchor} in {})",
                    file.display(),
                    resolved.display()
                ));
            }
        }
    }
    problems
}

/// `docs/../README.md` → `README.md`, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_links_outside_code() {
        let md = "See [a](docs/a.md#x) and `[no](here)`.\n```\n[no](there)\n```\n[ref]: ../b.md\n";
        assert_eq!(targets(md), ["docs/a.md#x", "../b.md"]);
    }

    #[test]
    fn anchors_follow_github() {
        let got = anchors("# Exit codes\n## `check`: pre-flight\n## Exit codes\n<a id=\"custom\"></a>\n");
        assert!(got.contains("exit-codes") && got.contains("exit-codes-1"), "{got:?}");
        assert!(got.contains("check-pre-flight") && got.contains("custom"), "{got:?}");
    }
}
