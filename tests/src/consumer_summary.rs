//! The consumer's machine-readable summary, as tests read it.

use std::process::Output;

/// The consumer's summary: the JSON object it prints as the last line of its stdout.
#[derive(Debug, Clone)]
pub struct ConsumerSummary(pub serde_json::Value);

impl ConsumerSummary {
    /// Parses the summary of a finished consumer, whatever its exit status.
    pub fn of(out: &Output) -> Self {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().rev().find(|l| l.starts_with('{')).unwrap_or_else(|| {
            panic!(
                "no JSON summary (exit {:?})\nstdout:\n{stdout}\nstderr:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        });
        Self(serde_json::from_str(line).expect("the summary is JSON"))
    }

    /// A counter; fails the test when it is missing.
    pub fn count(&self, key: &str) -> u64 {
        self.0[key].as_u64().unwrap_or_else(|| panic!("no {key} in {}", self.0))
    }

    /// `drained`, `stopped` or `failed`.
    pub fn outcome(&self) -> &str {
        self.0["outcome"].as_str().unwrap_or_default()
    }

    /// Dead letters of one class.
    pub fn dead_lettered(&self, class: &str) -> u64 {
        self.0["dead_lettered_by_class"][class].as_u64().unwrap_or(0)
    }

    /// Whether every message is accounted for exactly once.
    pub fn balances(&self) -> bool {
        self.count("consumed")
            == self.count("inserted")
                + self.count("duplicates")
                + self.count("filtered")
                + self.count("dead_lettered")
                + self.count("deleted")
                + self.count("already_applied")
    }
}

/// Asserts the consumer succeeded and returns its summary.
pub fn consumer_summary(out: &Output) -> ConsumerSummary {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let s = ConsumerSummary::of(out);
    assert!(
        s.balances(),
        "consumed = stored + duplicates + filtered + dead-lettered + deleted + already applied: {}",
        s.0
    );
    s
}
