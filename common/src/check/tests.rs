//! Which step's failure decides the check's exit code.

use super::*;

#[test]
fn the_worst_step_decides_whatever_the_order() {
    let mut outcome = Outcome::default();
    outcome.record(Ok(()));
    outcome.record(Err(anyhow::anyhow!("odd")));
    outcome.record(Err(Classified::unavailable("kafka down")));
    outcome.record(Err(Classified::config("read-only session")));
    outcome.record(Err(Classified::unavailable("x down")));
    let worst = outcome.finish().expect_err("failed");
    assert_eq!(worst.to_string(), "read-only session");
    assert!(Outcome::default().finish().is_ok());
}
