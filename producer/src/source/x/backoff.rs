//! Reconnect delays, as X asks of filtered-stream clients:
//! - network errors (connection refused or reset, a stalled stream): linear, +250 ms per attempt,
//!   up to 16 s;
//! - HTTP errors: exponential from 5 s, up to 320 s;
//! - HTTP 429: exponential from 60 s (and never before `x-rate-limit-reset`);
//! - all counters reset once a connection has been healthy.

use std::time::Duration;

use tweetpipe_common::backoff::Backoff;

/// Why the last connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// TCP-level trouble or a stream that went silent.
    Network,
    /// An HTTP error status other than 429.
    Http,
    /// HTTP 429 Too Many Requests.
    RateLimited,
}

/// The reconnect schedule: one common [`Backoff`] per cause, with X's exact numbers (no jitter:
/// X prescribes them, and one app has one connection). `scale` shrinks every delay (tests use
/// it to run the real schedule quickly); production uses 1.0.
#[derive(Debug, Clone)]
pub struct XBackoff {
    network: Backoff,
    http: Backoff,
    rate_limited: Backoff,
}

impl XBackoff {
    pub fn new(scale: f64) -> Self {
        let scale = scale.clamp(0.0, 1.0);
        let schedule = |first: u64, cap: u64| {
            Backoff::new(
                Duration::from_millis(first).mul_f64(scale),
                Duration::from_millis(cap).mul_f64(scale),
            )
            .without_jitter()
        };
        Self {
            network: schedule(250, 16_000).linear(),
            http: schedule(5_000, 320_000),
            // X gives no cap for 429s; 15 minutes is the longest rate-limit window.
            rate_limited: schedule(60_000, 900_000),
        }
    }

    /// The wait before the next attempt after `failure`.
    pub fn next(&mut self, failure: Failure) -> Duration {
        match failure {
            Failure::Network => self.network.next_delay(),
            Failure::Http => self.http.next_delay(),
            Failure::RateLimited => self.rate_limited.next_delay(),
        }
    }

    /// A connection was healthy: start every schedule from the beginning again.
    pub fn reset(&mut self) {
        self.network.reset();
        self.http.reset();
        self.rate_limited.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(ds: &[Duration]) -> Vec<f64> {
        ds.iter().map(|d| d.as_secs_f64()).collect()
    }

    #[test]
    fn the_documented_schedules() {
        let mut b = XBackoff::new(1.0);
        let net: Vec<_> = (0..70).map(|_| b.next(Failure::Network)).collect();
        assert_eq!(secs(&net[..4]), [0.25, 0.5, 0.75, 1.0]);
        assert_eq!(net[63], Duration::from_secs(16));
        assert_eq!(net[69], Duration::from_secs(16), "capped at 16 s");

        let mut b = XBackoff::new(1.0);
        let http: Vec<_> = (0..9).map(|_| b.next(Failure::Http)).collect();
        assert_eq!(secs(&http), [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 320.0, 320.0]);

        let mut b = XBackoff::new(1.0);
        let limited: Vec<_> = (0..3).map(|_| b.next(Failure::RateLimited)).collect();
        assert_eq!(secs(&limited), [60.0, 120.0, 240.0]);
    }

    #[test]
    fn reset_after_a_healthy_connection_and_scaling() {
        let mut b = XBackoff::new(1.0);
        b.next(Failure::Http);
        b.next(Failure::Http);
        b.reset();
        assert_eq!(b.next(Failure::Http), Duration::from_secs(5));
        let mut fast = XBackoff::new(0.01);
        assert_eq!(fast.next(Failure::Http), Duration::from_millis(50));
    }
}
