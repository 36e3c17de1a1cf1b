//! The replay plan's arithmetic.

use super::*;

#[test]
fn reread_counts_only_what_was_read_before() {
    let s = Step { partition: 0, committed: Some(100), low: 0, high: 120, target: 40 };
    assert_eq!(s.reread(), 60);
    assert_eq!(Step { committed: None, ..s.clone() }.reread(), 0);
    assert_eq!(Step { target: 110, ..s }.reread(), 0, "moving forward re-reads nothing");
}
