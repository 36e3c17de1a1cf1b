//! The one shutdown token. `main` creates it from SIGTERM / Ctrl-C ([`on_signal`]) and passes
//! it down; every loop that waits (reading input, retrying, polling) selects on
//! [`Shutdown::cancelled`], so a signal ends every state. Tests cancel it by hand, as SIGTERM
//! would.

use std::future::Future;
use std::time::Duration;

/// Cancelled once, observed everywhere; clones share the state.
pub type Shutdown = tokio_util::sync::CancellationToken;

/// Sleeps `delay`, or less if `shutdown` fires first. Returns `false` when it was interrupted,
/// so a loop that waits between rounds ends on SIGTERM instead of finishing its sleep.
pub async fn sleep(shutdown: &Shutdown, delay: Duration) -> bool {
    sleep_until(shutdown, tokio::time::Instant::now() + delay).await
}

/// [`sleep`] up to a point in time (a paced loop's next due moment).
pub async fn sleep_until(shutdown: &Shutdown, due: tokio::time::Instant) -> bool {
    tokio::select! {
        () = tokio::time::sleep_until(due) => true,
        () = shutdown.cancelled() => false,
    }
}

/// Registers for Ctrl-C and SIGTERM (what Kubernetes sends before the grace period runs out)
/// right away and returns a token cancelled on the first of them. Call it first thing in
/// `main`: a signal that arrives before registration kills the process the default way.
pub fn on_signal() -> Shutdown {
    let token = Shutdown::new();
    let signal = shutdown_signal();
    let cancel = token.clone();
    tokio::spawn(async move {
        signal.await;
        cancel.cancel();
    });
    token
}

/// The signal itself, as a future: registered when called, completes on the first signal.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            let (mut term, mut int) = match (term, int) {
                (Ok(t), Ok(i)) => (t, i),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM / Ctrl-C");
                    return std::future::pending().await;
                }
            };
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM received, shutting down"),
                _ = int.recv() => tracing::info!("Ctrl-C received, shutting down"),
            }
        }
    }
    #[cfg(not(unix))]
    async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C received, shutting down");
        }
    }
}
