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

fn parse(s: &str, bare: fn(u64) -> Duration) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Ok(bare(n));
    }
    humantime::parse_duration(s).map_err(|e| format!("{e}: expected a duration such as 200ms, 20s or 5m"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_or_the_old_bare_unit() {
        assert_eq!(secs("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(secs("20"), Ok(Duration::from_secs(20)));
        assert_eq!(secs("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(millis("200"), Ok(Duration::from_millis(200)));
        assert_eq!(millis("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(millis("1s"), Ok(Duration::from_secs(1)));
        assert!(secs("soon").is_err_and(|e| e.contains("20s")));
        assert!(secs("-1").is_err());
    }
}
