//! What a producer run did: one `key=value` line for people, and one JSON object
//! (`--summary-json FILE`) for scripts and tests.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;

/// Counters of one run.
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
    /// Dead letters sent, by class (`invalid_json`, `invalid_delete`, …).
    pub dead_letter_classes: BTreeMap<&'static str, u64>,
    /// Control messages seen, by kind (`keep_alive`, `operational_disconnect`, …).
    pub control: BTreeMap<&'static str, u64>,
    /// Messages Kafka did not acknowledge (the run exits non-zero when this is not 0).
    pub failed: u64,
    pub elapsed: Duration,
    /// Counters of the X sources.
    pub x: BTreeMap<String, u64>,
    /// Deletions sent as tombstones.
    pub deletes: u64,
    /// Whether the run ended on SIGTERM / Ctrl-C rather than at the end of its input.
    pub interrupted: bool,
}

impl Summary {
    pub fn control_total(&self) -> u64 {
        self.control.values().sum()
    }

    fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.tweets as f64 / secs
        } else {
            0.0
        }
    }

    /// The summary as one JSON object; the keys are those of the summary line.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "lines": self.lines,
            "bytes_read": self.bytes_read,
            "tweets": self.tweets,
            "bytes": self.tweet_bytes,
            "deletes": self.deletes,
            "dead_lettered": self.dead_lettered,
            "dead_letter_classes": self.dead_letter_classes,
            "control": self.control_total(),
            "control_kinds": self.control,
            "failed": self.failed,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "rate_per_s": self.rate(),
            "interrupted": self.interrupted,
            "x": self.x,
        })
    }

    /// Prints the summary line and writes the JSON file when one is asked for.
    pub fn emit(&self, json: Option<&Path>) -> anyhow::Result<()> {
        println!("{self}");
        match json {
            Some(path) => self.write_json(path),
            None => Ok(()),
        }
    }

    /// Writes [`Summary::to_json`] to `path`, atomically (a reader never sees half of it).
    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_vec_pretty(&self.to_json())?;
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds: Vec<String> = self.control.iter().map(|(k, n)| format!("{k}:{n}")).collect();
        write!(
            f,
            "producer summary: lines={} tweets={} deletes={} dead_lettered={} control={} failed={} bytes={} \
             elapsed_s={:.2} rate_per_s={:.0} control_kinds={}",
            self.lines,
            self.tweets,
            self.deletes,
            self.dead_lettered,
            self.control_total(),
            self.failed,
            self.tweet_bytes,
            self.elapsed.as_secs_f64(),
            self.rate(),
            if kinds.is_empty() { "-".to_owned() } else { kinds.join(",") },
        )?;
        for (k, v) in &self.x {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_holds_what_the_line_says() {
        let mut s = Summary { lines: 5, tweets: 3, failed: 1, ..Summary::default() };
        s.control.insert("keep_alive", 2);
        s.dead_letter_classes.insert("invalid_delete", 1);
        s.x.insert("x_connections".into(), 4);
        let json = s.to_json();
        assert_eq!(json["tweets"], 3);
        assert_eq!(json["control"], 2);
        assert_eq!(json["control_kinds"]["keep_alive"], 2);
        assert_eq!(json["dead_letter_classes"]["invalid_delete"], 1);
        assert_eq!(json["x"]["x_connections"], 4);
        let line = s.to_string();
        assert!(line.contains("tweets=3") && line.contains("failed=1") && line.contains("x_connections=4"));
    }
}
