//! The retry driver: shutdown ends a hanging attempt, the deadline ends a hanging one with the
//! last cause, and a permanent error ends it at once.

use std::sync::atomic::{AtomicU32, Ordering};

use super::*;

fn quick(what: &str, deadline: Duration) -> Patience<'_> {
    Patience { what, deadline, backoff: Backoff::new(Duration::from_millis(1), Duration::from_millis(5)) }
}

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

#[tokio::test]
async fn the_deadline_names_the_last_cause_not_the_timer() {
    let tries = AtomicU32::new(0);
    let result: anyhow::Result<()> =
        retry(quick("connecting", Duration::from_millis(50)), &Shutdown::new(), is_config, || async {
            // The first attempt is refused, the next ones hang: the message keeps the refusal.
            match tries.fetch_add(1, Ordering::Relaxed) {
                0 => anyhow::bail!("Connection refused"),
                _ => std::future::pending().await,
            }
        })
        .await;
    let e = result.expect_err("gave up");
    assert_eq!(class_of(&e), Some(Class::Unavailable));
    assert_eq!(format!("{e:#}"), "connecting: gave up after 50ms: Connection refused");
}

#[tokio::test]
async fn a_permanent_error_is_not_retried() {
    let tries = AtomicU32::new(0);
    let result: anyhow::Result<()> =
        retry(quick("step", Duration::from_secs(60)), &Shutdown::new(), is_config, || async {
            tries.fetch_add(1, Ordering::Relaxed);
            Err(Classified::config("wrong password"))
        })
        .await;
    assert_eq!(format!("{:#}", result.expect_err("permanent")), "wrong password");
    assert_eq!(tries.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_passing_failure_is_retried_until_it_succeeds() {
    let tries = AtomicU32::new(0);
    let result = retry(quick("step", Duration::from_secs(60)), &Shutdown::new(), is_config, || async {
        match tries.fetch_add(1, Ordering::Relaxed) {
            0 | 1 => anyhow::bail!("not yet"),
            n => Ok(n),
        }
    })
    .await;
    assert_eq!(result.expect("third time"), 2);
}
