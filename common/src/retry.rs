//! Start-up patience: a pod may start before its broker or database. Steps that need them are
//! retried with capped exponential backoff and a clear log line, up to a deadline.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long start-up keeps trying before giving up.
pub const STARTUP_PATIENCE: Duration = Duration::from_secs(300);

/// Runs `step` until it succeeds or [`STARTUP_PATIENCE`] has passed.
pub async fn retry_startup<T, F, Fut>(what: &str, mut step: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let deadline = Instant::now() + STARTUP_PATIENCE;
    let mut delay = Duration::from_millis(500);
    loop {
        match step().await {
            Ok(v) => return Ok(v),
            // A wrong setting does not fix itself: no point waiting for it.
            Err(e) if crate::exit::class_of(&e) == Some(crate::exit::Class::Config) => return Err(e),
            Err(e) if Instant::now() + delay < deadline => {
                tracing::warn!(error = %format!("{e:#}"), retry_in_ms = delay.as_millis() as u64, "{what}: not possible yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            Err(e) => {
                return Err(crate::exit::Classified::unavailable(format!(
                    "{what}: gave up after {STARTUP_PATIENCE:?}: {e:#}"
                )))
            }
        }
    }
}
