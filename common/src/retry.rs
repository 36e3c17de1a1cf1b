//! Start-up patience: a pod may start before its broker or database. Steps that need them are
//! retried on the common [`Backoff`] with a clear log line, up to a deadline, and given up at
//! once on shutdown — during an attempt as well as between attempts (an attempt against an
//! unreachable broker can take its full operation timeout).

use std::future::Future;
use std::time::{Duration, Instant};

use crate::backoff::Backoff;
use crate::shutdown::Shutdown;

/// How long start-up keeps trying before giving up.
pub const STARTUP_PATIENCE: Duration = Duration::from_secs(300);

/// Runs `step` until it succeeds, [`STARTUP_PATIENCE`] has passed, or `shutdown` fires (also
/// in the middle of a step: a step waiting on an unreachable server is dropped).
pub async fn retry_startup<T, F, Fut>(what: &str, shutdown: &Shutdown, mut step: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let deadline = Instant::now() + STARTUP_PATIENCE;
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
    loop {
        let attempt = tokio::select! {
            attempt = step() => attempt,
            () = shutdown.cancelled() => anyhow::bail!("{what}: interrupted by shutdown"),
        };
        let e = match attempt {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        // A wrong setting does not fix itself: no point waiting for it.
        if crate::exit::class_of(&e) == Some(crate::exit::Class::Config) {
            return Err(e);
        }
        if Instant::now() >= deadline {
            return Err(crate::exit::Classified::unavailable(format!(
                "{what}: gave up after {STARTUP_PATIENCE:?}: {e:#}"
            )));
        }
        tracing::warn!(error = %format!("{e:#}"), attempt = backoff.attempts() + 1, "{what}: not possible yet");
        if !backoff.wait(shutdown).await {
            return Err(e.context(format!("{what}: interrupted by shutdown")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_ends_an_attempt_that_hangs() {
        let shutdown = Shutdown::new();
        let cancel = shutdown.clone();
        tokio::spawn(async move { cancel.cancel() });
        let result: anyhow::Result<()> =
            retry_startup("hanging", &shutdown, std::future::pending::<anyhow::Result<()>>).await;
        let message = format!("{:#}", result.expect_err("interrupted"));
        assert!(message.contains("interrupted by shutdown"), "{message}");
    }
}
