//! The one retry driver. A pod may start before its broker or database: steps that need them
//! are retried on a [`Backoff`] with a clear log line, up to a deadline, and given up at once
//! on shutdown — during an attempt as well as between attempts (an attempt against an
//! unreachable server can take its full operation timeout). An error that retrying cannot fix
//! (the caller's "permanent?" predicate: a wrong setting, a refused password) ends it at once.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::duration::human;
use crate::exit::{class_of, Class, Classified};
use crate::shutdown::Shutdown;

/// How long start-up keeps trying before giving up.
pub const STARTUP_PATIENCE: Duration = Duration::from_secs(300);

/// What a retried step is, and how long and how often it is tried.
pub struct Patience<'a> {
    /// Names the step in log lines and errors (`connecting to postgres://…`).
    pub what: &'a str,
    /// The whole time allowed, attempts included: an attempt still running then is dropped.
    pub deadline: Duration,
    pub backoff: Backoff,
}

impl<'a> Patience<'a> {
    /// Start-up's: [`STARTUP_PATIENCE`] on [`Backoff::startup`].
    pub fn startup(what: &'a str) -> Self {
        Self { what, deadline: STARTUP_PATIENCE, backoff: Backoff::startup() }
    }
}

/// Runs `step` until it succeeds, fails for good (`permanent`), the deadline passes, or
/// `shutdown` fires. Giving up at the deadline is an outage ([`Class::Unavailable`]) whose
/// message names the last failure's cause, not the timer.
pub async fn retry<T, F, Fut, P>(
    patience: Patience<'_>,
    shutdown: &Shutdown,
    permanent: P,
    mut step: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
    P: Fn(&anyhow::Error) -> bool,
{
    let Patience { what, deadline: allowed, mut backoff } = patience;
    let deadline = Instant::now() + allowed;
    let gave_up = |last: Option<anyhow::Error>| match last {
        Some(e) => Classified::unavailable(format!("{what}: gave up after {}: {e:#}", human(allowed))),
        None => Classified::unavailable(format!("{what}: no answer within {}", human(allowed))),
    };
    let mut last = None;
    loop {
        let attempt = tokio::select! {
            attempt = step() => attempt,
            () = tokio::time::sleep_until(deadline) => return Err(gave_up(last)),
            () = shutdown.cancelled() => anyhow::bail!("{what}: interrupted by shutdown"),
        };
        let e = match attempt {
            Ok(v) => return Ok(v),
            Err(e) if permanent(&e) => return Err(e),
            Err(e) => e,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(gave_up(Some(e)));
        }
        tracing::warn!(error = %format!("{e:#}"), attempt = backoff.attempts() + 1, "{what}: not possible yet");
        if !crate::shutdown::sleep(shutdown, backoff.next_delay().min(left)).await {
            return Err(e.context(format!("{what}: interrupted by shutdown")));
        }
        last = Some(e);
    }
}

/// [`retry`] with start-up's patience, giving up at once on a configuration error (a wrong
/// setting does not fix itself).
pub async fn retry_startup<T, F, Fut>(what: &str, shutdown: &Shutdown, step: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    retry(Patience::startup(what), shutdown, is_config, step).await
}

/// The "permanent?" predicate of start-up steps: a configuration error.
pub fn is_config(e: &anyhow::Error) -> bool {
    class_of(e) == Some(Class::Config)
}

#[cfg(test)]
mod tests;
