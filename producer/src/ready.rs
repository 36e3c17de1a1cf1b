//! When the producer may start reading: once librdkafka holds a producer id. Until then an
//! idempotent producer sends nothing, and if its first look for a broker comes too early it
//! waits out a 500 ms timer: the first half second of a stream used to arrive that late.
//! librdkafka tells the id's state only in its statistics, so those are on (every 100 ms, a
//! few kilobytes of JSON) and read here until the id is assigned, then ignored.

use std::time::Duration;

use tokio::sync::watch;
use tweetpipe_common::shutdown::Shutdown;

/// librdkafka's statistics interval: how late after the id the reading may start.
pub const STATISTICS_INTERVAL_MS: &str = "100";

/// Whether the producer id is assigned, fed from librdkafka's statistics thread.
pub struct ProducerId {
    assigned: watch::Sender<bool>,
}

impl Default for ProducerId {
    fn default() -> Self {
        Self { assigned: watch::Sender::new(false) }
    }
}

impl ProducerId {
    /// Reads one statistics report (JSON), cheaply: a key lookup, not a parse.
    pub fn observe(&self, statistics: &[u8]) {
        if !*self.assigned.borrow() && idemp_state(statistics) == Some(&b"Assigned"[..]) {
            self.assigned.send_replace(true);
        }
    }

    /// Waits for the id, at most `limit`; a broker that is slow to give one is not an error
    /// (records queue meanwhile, as they always could).
    pub async fn assigned(&self, limit: Duration, shutdown: &Shutdown) {
        let mut assigned = self.assigned.subscribe();
        tokio::select! {
            waited = tokio::time::timeout(limit, assigned.wait_for(|a| *a)) => if waited.is_err() {
                tracing::warn!(waited_s = limit.as_secs(), "no producer id from Kafka yet; reading anyway");
            },
            () = shutdown.cancelled() => {}
        }
    }
}

/// The value of `"idemp_state"` in librdkafka's statistics (a plain string, no escapes).
fn idemp_state(statistics: &[u8]) -> Option<&[u8]> {
    const KEY: &[u8] = br#""idemp_state""#;
    let at = statistics.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let rest = statistics[at..].trim_ascii_start().strip_prefix(b":")?.trim_ascii_start();
    let value = rest.strip_prefix(b"\"")?;
    Some(&value[..value.iter().position(|&c| c == b'"')?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_id_counts_once_librdkafka_reports_it_assigned() {
        let id = ProducerId::default();
        id.observe(br#"{"name":"p","eos":{"idemp_state":"WaitPID","idemp_stateage":3}}"#);
        id.observe(br#"{"name":"p", "eos": {}}"#);
        assert!(!*id.assigned.borrow());
        id.observe(b"{\"name\":\"p\", \"eos\": { \"idemp_state\": \"Assigned\", \"idemp_stateage\":0}}");
        let shutdown = Shutdown::default();
        tokio::time::timeout(Duration::from_secs(5), id.assigned(Duration::from_secs(60), &shutdown))
            .await
            .expect("returns at once when assigned");
    }
}
