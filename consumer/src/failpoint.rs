//! Crash points for fault drills: `TWEETPIPE_FAILPOINT=<name>@<n>` aborts the process the n-th
//! time it passes `<name>` (no destructors, no commit: as abrupt as SIGKILL). Unset, each check
//! is one relaxed atomic load. Names: `after-db-commit` (rows committed, offsets not stored).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

struct Armed {
    name: String,
    at: u64,
    seen: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let spec = std::env::var("TWEETPIPE_FAILPOINT").ok()?;
            let (name, at) = spec.split_once('@').unwrap_or((spec.as_str(), "1"));
            Some(Armed { name: name.to_owned(), at: at.parse().unwrap_or(1), seen: AtomicU64::new(0) })
        })
        .as_ref()
}

/// Aborts here if this failpoint is armed and its count is reached.
pub fn hit(name: &str) {
    if let Some(a) = armed() {
        if a.name == name && a.seen.fetch_add(1, Ordering::Relaxed) + 1 == a.at {
            eprintln!("failpoint {name}@{}: aborting", a.at);
            std::process::abort();
        }
    }
}
