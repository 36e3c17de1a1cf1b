//! The producer in the tests: its machine-readable summary (`--summary-json`, through
//! `TWEETPIPE_SUMMARY_JSON`), read instead of its stdout.

use std::path::PathBuf;
use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;

/// A producer's summary, as it wrote it.
#[derive(Debug, Clone)]
pub struct Produced(pub Value);

impl Produced {
    /// A top-level counter (`tweets`, `failed`, `dead_lettered`, `deletes`, `control`, …).
    pub fn count(&self, key: &str) -> u64 {
        self.0[key].as_u64().unwrap_or_else(|| panic!("no counter {key} in {}", self.0))
    }

    /// Dead letters sent with this class; 0 when none.
    pub fn dead_letters(&self, class: &str) -> u64 {
        self.0["dead_letter_classes"][class].as_u64().unwrap_or(0)
    }

    /// A counter of the X sources (`x_connections`, `x_tweets_rule_jb`, …).
    pub fn x(&self, key: &str) -> u64 {
        self.0["x"][key].as_u64().unwrap_or_else(|| panic!("no X counter {key} in {}", self.0))
    }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Where one producer run writes its summary.
pub struct SummaryFile(PathBuf);

impl Default for SummaryFile {
    fn default() -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Self(std::env::temp_dir().join(format!("tweetpipe-summary-{}-{n}.json", std::process::id())))
    }
}

impl SummaryFile {
    /// Tells `cmd` (a producer) to write its summary here.
    pub fn attach<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        let _ = std::fs::remove_file(&self.0);
        cmd.env("TWEETPIPE_SUMMARY_JSON", &self.0)
    }

    /// The summary, once the producer has exited; `None` if it wrote none.
    pub fn read(&self) -> Option<Produced> {
        let text = std::fs::read(&self.0).ok()?;
        let _ = std::fs::remove_file(&self.0);
        Some(Produced(serde_json::from_slice(&text).expect("the summary file is JSON")))
    }
}

/// Runs a producer command to completion within `limit`, asserts it succeeded, and returns its
/// summary.
pub fn produce(cmd: &mut Command, limit: Duration) -> Produced {
    let file = SummaryFile::default();
    let out = crate::run(file.attach(cmd), limit);
    summary_of(&out, &file)
}

/// Spawns a producer command that writes its summary to `file`.
pub fn spawn(cmd: &mut Command, file: &SummaryFile) -> Child {
    file.attach(cmd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the producer")
}

/// Asserts a finished producer succeeded and returns its summary.
pub fn summary_of(out: &Output, file: &SummaryFile) -> Produced {
    assert!(
        out.status.success(),
        "producer exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    file.read().expect("the producer wrote its summary")
}
