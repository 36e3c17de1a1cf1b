//! Durations on the command line: `humantime` strings (`200ms`, `20s`, `5m`). A bare number is
//! still read in the unit the flag used before durations had units (seconds, or milliseconds
//! for `--batch-linger-ms`), so existing command lines and environments keep working for one
//! release.

use std::time::Duration;

/// A duration whose bare numbers mean seconds (`--drain-timeout 20` = `20s`).
pub fn secs(s: &str) -> Result<Duration, String> {
    parse(s, Duration::from_secs)
}

/// A duration whose bare numbers mean milliseconds (`--batch-linger-ms 200` = `200ms`).
pub fn millis(s: &str) -> Result<Duration, String> {
    parse(s, Duration::from_millis)
}

/// A duration as people write it, for messages: `3s`, `250ms`, `1m 30s`, never
/// `2.999774631s`. A measured time is rounded to the second from a second up, else to the
/// millisecond, which is all a reader of a message wants.
pub fn human(d: Duration) -> String {
    let rounded = if d >= Duration::from_secs(1) {
        Duration::from_secs(d.as_secs() + u64::from(d.subsec_millis() >= 500))
    } else {
        Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    };
    humantime::format_duration(rounded).to_string()
}

fn parse(s: &str, bare: fn(u64) -> Duration) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Ok(bare(n));
    }
    humantime::parse_duration(s).map_err(|e| format!("{e}: expected a duration such as 200ms, 20s or 5m"))
}

#[cfg(test)]
mod tests;
