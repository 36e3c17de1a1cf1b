//! Retention as people write it.

use super::*;

#[test]
fn retention_units() {
    assert_eq!(retention_ms("7d").ok().as_deref(), Some("604800000"));
    assert_eq!(retention_ms("90m").ok().as_deref(), Some("5400000"));
    assert_eq!(retention_ms("1500").ok().as_deref(), Some("1500"));
    assert_eq!(retention_ms("forever").ok().as_deref(), Some("-1"));
    assert!(retention_ms("3w").is_err());
}
