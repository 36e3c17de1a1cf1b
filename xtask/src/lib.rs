//! Repository tasks. `cargo run -p xtask -- docs` writes the reference documentation that is
//! generated from the code rather than written by hand, so it cannot drift: the command-line
//! reference and man pages and shell completions of both binaries (from their clap
//! definitions), and the Helm values table (from the comments in `values.yaml`). The tests in
//! `xtask/tests/` regenerate everything in memory and fail when the committed files differ, and
//! check that every relative link in the Markdown resolves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub mod cli_reference;
pub mod helm_values;
pub mod links;
pub mod man;

/// The directory every generated file lives under, relative to the repository root.
pub const REFERENCE_DIR: &str = "docs/reference";
/// The chart whose `values.yaml` documents itself.
pub const CHART_VALUES: &str = "deploy/helm/tweetpipe/values.yaml";

/// One generated file: where it goes (relative to the repository root) and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub path: PathBuf,
    pub contents: Vec<u8>,
}

/// The repository root (this crate sits one level below it).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Every generated file, in memory.
pub fn generate(root: &Path) -> anyhow::Result<Vec<Generated>> {
    let mut files = Vec::new();
    let binaries = [
        ("producer", <tweetpipe_producer::cli::Cli as clap::CommandFactory>::command()),
        ("consumer", <tweetpipe_consumer::cli::Cli as clap::CommandFactory>::command()),
    ];
    for (short, command) in binaries {
        let mut command = command;
        command.build();
        files.push(Generated {
            path: Path::new(REFERENCE_DIR).join(format!("{short}.md")),
            contents: cli_reference::markdown(&command).into_bytes(),
        });
        files.extend(man::man_pages(&command)?);
        files.extend(man::completions(&command));
    }
    let values_path = root.join(CHART_VALUES);
    let values = std::fs::read_to_string(&values_path)
        .with_context(|| format!("reading {}", values_path.display()))?;
    files.push(Generated {
        path: Path::new(REFERENCE_DIR).join("helm-values.md"),
        contents: helm_values::markdown(&values, CHART_VALUES)?.into_bytes(),
    });
    Ok(files)
}

/// Writes every generated file and removes generated files nothing generates any more.
pub fn write(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let files = generate(root)?;
    for stale in orphans(root, &files)? {
        std::fs::remove_file(root.join(&stale)).with_context(|| format!("removing {}", stale.display()))?;
    }
    let mut written = Vec::new();
    for file in files {
        let path = root.join(&file.path);
        if std::fs::read(&path).ok().as_deref() == Some(&file.contents[..]) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, &file.contents).with_context(|| format!("writing {}", path.display()))?;
        written.push(file.path);
    }
    Ok(written)
}

/// The committed files that differ from what the code generates: changed, missing, or left
/// over in a generated directory.
pub fn drift(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let files = generate(root)?;
    let mut differ: Vec<PathBuf> = files
        .iter()
        .filter(|f| std::fs::read(root.join(&f.path)).ok().as_deref() != Some(&f.contents[..]))
        .map(|f| f.path.clone())
        .collect();
    differ.extend(orphans(root, &files)?);
    Ok(differ)
}

/// Files in the man-page and completion directories (wholly generated) that nothing generates.
fn orphans(root: &Path, files: &[Generated]) -> anyhow::Result<Vec<PathBuf>> {
    let wanted: BTreeSet<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    let mut orphans = Vec::new();
    for dir in [man::MAN_DIR, man::COMPLETIONS_DIR] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        for entry in entries {
            let relative = Path::new(dir).join(entry?.file_name());
            if !wanted.contains(relative.as_path()) {
                orphans.push(relative);
            }
        }
    }
    Ok(orphans)
}
