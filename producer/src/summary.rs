//! What a producer run did.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Counters of one run, printed as one `key=value` line at the end.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Input lines read (synthetic: messages generated).
    pub lines: u64,
    /// Input bytes read.
    pub bytes_read: u64,
    /// Tweets acknowledged by Kafka.
    pub tweets: u64,
    /// Payload bytes of those tweets.
    pub tweet_bytes: u64,
    /// Dead letters acknowledged by Kafka.
    pub dead_lettered: u64,
    /// Control messages seen, by kind (`keep_alive`, `delete`, `operational_disconnect`, …).
    pub control: BTreeMap<&'static str, u64>,
    /// Messages Kafka did not acknowledge (the run exits non-zero when this is not 0).
    pub failed: u64,
    pub elapsed: Duration,
    /// Counters of the X sources.
    pub x: BTreeMap<String, u64>,
    /// Deletions sent as tombstones.
    pub deletes: u64,
}

impl Summary {
    pub fn control_total(&self) -> u64 {
        self.control.values().sum()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        let rate = if secs > 0.0 { self.tweets as f64 / secs } else { 0.0 };
        let kinds: Vec<String> = self.control.iter().map(|(k, n)| format!("{k}:{n}")).collect();
        write!(
            f,
            "producer summary: lines={} tweets={} deletes={} dead_lettered={} control={} failed={} bytes={} \
             elapsed_s={secs:.2} rate_per_s={rate:.0} control_kinds={}",
            self.lines,
            self.tweets,
            self.deletes,
            self.dead_lettered,
            self.control_total(),
            self.failed,
            self.tweet_bytes,
            if kinds.is_empty() { "-".to_owned() } else { kinds.join(",") },
        )?;
        for (k, v) in &self.x {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}
