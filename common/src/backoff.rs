//! The one retry schedule: every loop in tweetpipe that waits and tries again (start-up,
//! database connect and writes, dead-letter sends, the X reconnect schedule) takes its delays
//! from a [`Backoff`], and waits through [`Backoff::wait`], which a shutdown interrupts.
//!
//! Delays grow exponentially from `first` to `cap` (or, with [`Backoff::linear`], by `first`
//! each attempt, as X prescribes for network errors). With jitter (the default) each delay is
//! drawn from [d/2, d], so that many pods retrying the same outage spread out instead of
//! arriving together.
//!
//! Every schedule is named here, with its numbers: tweetpipe's own ([`Backoff::startup`],
//! [`Backoff::database_write`], [`Backoff::dead_letter`], [`Backoff::queue_full`]) and the ones
//! X prescribes to its clients ([`Backoff::x_network`], [`Backoff::x_http`],
//! [`Backoff::x_rate_limited`]).

use std::hash::{BuildHasher as _, Hasher as _};
use std::time::Duration;

use crate::shutdown::Shutdown;

/// Start-up: a broker, a database or a topic that is not there yet.
const STARTUP: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(10));
/// A write the database did not take (an outage, a lock timeout, a dropped connection).
const DATABASE_WRITE: (Duration, Duration) = (Duration::from_millis(200), Duration::from_secs(30));
/// A dead letter the brokers did not acknowledge.
const DEAD_LETTER: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(10));
/// librdkafka's local queue is full: it empties as deliveries come back, within milliseconds.
const QUEUE_FULL: (Duration, Duration) = (Duration::from_millis(1), Duration::from_millis(50));
/// X, network errors: 250 ms more each attempt, up to 16 s.
const X_NETWORK: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(16));
/// X, HTTP errors: doubling from 5 s, up to 320 s.
const X_HTTP: (Duration, Duration) = (Duration::from_secs(5), Duration::from_secs(320));
/// X, HTTP 429: doubling from 60 s. X gives no cap; 15 minutes is its longest rate-limit window.
const X_RATE_LIMITED: (Duration, Duration) = (Duration::from_secs(60), Duration::from_secs(15 * 60));

/// A capped exponential schedule with optional jitter. Cheap to clone; each clone keeps its own
/// attempt count.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    factor: u32,
    linear: bool,
    jitter: bool,
    attempt: u32,
    rng: u64,
}

impl Backoff {
    /// Doubles from `first` up to `cap`, with jitter.
    pub fn new(first: Duration, cap: Duration) -> Self {
        Self { first, cap: cap.max(first), factor: 2, linear: false, jitter: true, attempt: 0, rng: seed() }
    }

    /// Start-up steps waiting for a server ([`crate::retry`]).
    pub fn startup() -> Self {
        Self::new(STARTUP.0, STARTUP.1)
    }

    /// A database write retried while the database is away or busy.
    pub fn database_write() -> Self {
        Self::new(DATABASE_WRITE.0, DATABASE_WRITE.1)
    }

    /// A dead letter retried until the brokers acknowledge it.
    pub fn dead_letter() -> Self {
        Self::new(DEAD_LETTER.0, DEAD_LETTER.1)
    }

    /// A message waiting for room in librdkafka's local queue.
    pub fn queue_full() -> Self {
        Self::new(QUEUE_FULL.0, QUEUE_FULL.1)
    }

    /// X's rule for network errors (connection refused or reset, a stalled stream): linear,
    /// 250 ms more each attempt, up to 16 s. Exact delays: X prescribes them, and one app has
    /// one connection, so there is no crowd to spread out.
    pub fn x_network() -> Self {
        Self::new(X_NETWORK.0, X_NETWORK.1).linear().without_jitter()
    }

    /// X's rule for HTTP errors other than 429: exponential from 5 s, up to 320 s, exact.
    pub fn x_http() -> Self {
        Self::new(X_HTTP.0, X_HTTP.1).without_jitter()
    }

    /// X's rule for HTTP 429: exponential from 60 s, exact. X names no cap: it stops at 15
    /// minutes, X's longest rate-limit window (the caller also waits for `x-rate-limit-reset`).
    pub fn x_rate_limited() -> Self {
        Self::new(X_RATE_LIMITED.0, X_RATE_LIMITED.1).without_jitter()
    }

    /// The same schedule with `first` and `cap` multiplied by `scale`, so that tests can run a
    /// real schedule in milliseconds. Panics, as [`Duration::mul_f64`] does, unless `scale` is
    /// finite and not negative.
    pub fn scaled(mut self, scale: f64) -> Self {
        self.first = self.first.mul_f64(scale);
        self.cap = self.cap.mul_f64(scale).max(self.first);
        self
    }

    /// A schedule that grows by `factor` instead of 2 (1 gives constant delays).
    pub fn factor(mut self, factor: u32) -> Self {
        self.factor = factor.max(1);
        self
    }

    /// A schedule that grows by `first` each attempt (first, 2·first, 3·first, …, cap).
    pub fn linear(mut self) -> Self {
        self.linear = true;
        self
    }

    /// Exact delays, no jitter (schedules a remote service prescribes, and tests).
    pub fn without_jitter(mut self) -> Self {
        self.jitter = false;
        self
    }

    /// How many delays were handed out since the last [`Backoff::reset`].
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The wait before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let growth = if self.linear {
            self.attempt.saturating_add(1)
        } else {
            self.factor.saturating_pow(self.attempt.min(30))
        };
        self.attempt = self.attempt.saturating_add(1);
        let full = self.first.saturating_mul(growth).min(self.cap);
        if !self.jitter {
            return full;
        }
        let fraction = 0.5 + 0.5 * (self.next_random() as f64 / u64::MAX as f64);
        full.mul_f64(fraction)
    }

    /// A success: the next failure starts the schedule from `first` again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Sleeps the next delay, or less if `shutdown` fires first. Returns `false` when it was
    /// interrupted, so retry loops end on SIGTERM instead of finishing their sleep.
    pub async fn wait(&mut self, shutdown: &Shutdown) -> bool {
        let delay = self.next_delay();
        crate::shutdown::sleep(shutdown, delay).await
    }

    // xorshift64*: jitter needs spread, not cryptographic quality.
    fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn seed() -> u64 {
    // RandomState is seeded per process by the OS: different pods draw different jitter.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x9E37_79B9_7F4A_7C15);
    h.finish() | 1
}

#[cfg(test)]
mod tests;
