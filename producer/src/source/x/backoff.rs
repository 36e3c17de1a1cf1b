//! Reconnect delays, as X asks of filtered-stream clients. The schedules themselves, with X's
//! numbers, are named beside tweetpipe's others in [`tweetpipe_common::backoff`]:
//! [`Backoff::x_network`] for network errors (connection refused or reset, a stalled stream),
//! [`Backoff::x_http`] for HTTP errors, [`Backoff::x_rate_limited`] for HTTP 429 (and never
//! before `x-rate-limit-reset`). This module decides which one applies, and when they restart:
//! - all counters reset only on real progress: a tweet delivered, or a connection that stayed
//!   up longer than [`STABLE_CONNECTION`]. Keep-alives and disconnect notices are not progress:
//!   a server that answers every connect with a notice and a close is reconnected to on the
//!   growing network schedule, not in a tight loop;
//! - a rate-limit wait never exceeds [`MAX_RATE_LIMIT_WAIT`] (X's longest window), whatever
//!   `x-rate-limit-reset` says.

use std::time::Duration;

use tweetpipe_common::backoff::Backoff;

/// A connection open this long counts as healthy even if it delivered nothing (a quiet rule set).
pub const STABLE_CONNECTION: Duration = Duration::from_secs(30);

/// The longest rate-limit wait: X's rate-limit windows are 15 minutes, so a later reset is a
/// broken header or a wrong clock, not a reason to stop for years.
pub const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(15 * 60);

/// Attempts at one search page (a failed request or an unreadable body) before the poll is
/// abandoned, and at each rules request before start-up gives up (exit 69).
pub const ATTEMPTS: u32 = 4;

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

/// The reconnect schedule: X's named [`Backoff`] per cause. `scale` shrinks every delay (tests
/// use it to run the real schedule quickly); production uses 1.0.
#[derive(Debug, Clone)]
pub struct XBackoff {
    scale: f64,
    network: Backoff,
    http: Backoff,
    rate_limited: Backoff,
}

impl XBackoff {
    pub fn new(scale: f64) -> Self {
        let scale = scale.clamp(0.0, 1.0);
        Self {
            scale,
            network: Backoff::x_network().scaled(scale),
            http: Backoff::x_http().scaled(scale),
            rate_limited: Backoff::x_rate_limited().scaled(scale),
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

    /// The cap on a rate-limit wait, shrunk like every delay (tests run it in seconds).
    pub fn rate_limit_cap(&self) -> Duration {
        MAX_RATE_LIMIT_WAIT.mul_f64(self.scale)
    }

    /// The wait before the next attempt after `failure`, at least `floor` (a rate-limit reset),
    /// which is capped at [`XBackoff::rate_limit_cap`].
    pub fn next_at_least(&mut self, failure: Failure, floor: Option<Duration>) -> Duration {
        let floor = floor.unwrap_or_default();
        let cap = self.rate_limit_cap();
        if floor > cap {
            tracing::warn!(
                reset_in_s = floor.as_secs(),
                cap_s = cap.as_secs(),
                "x-rate-limit-reset is further away than any rate-limit window (clock or header wrong); waiting the cap"
            );
        }
        self.next(failure).max(floor.min(cap))
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

    #[test]
    fn a_rate_limit_reset_years_ahead_waits_fifteen_minutes_at_most() {
        let mut b = XBackoff::new(1.0);
        let ten_years = Duration::from_secs(10 * 365 * 24 * 3600);
        assert_eq!(b.next_at_least(Failure::RateLimited, Some(ten_years)), Duration::from_secs(900));
        assert_eq!(
            b.next_at_least(Failure::RateLimited, Some(Duration::from_secs(1))),
            Duration::from_secs(120)
        );
        let mut fast = XBackoff::new(0.001);
        assert_eq!(fast.next_at_least(Failure::RateLimited, Some(ten_years)), Duration::from_millis(900));
    }
}
