//! The replay plan's arithmetic.

use super::*;

#[test]
fn reread_counts_only_what_was_read_before() {
    let s = Step { partition: 0, committed: Some(100), database: None, low: 0, high: 120, target: 40 };
    assert_eq!(s.reread(), 60);
    assert_eq!(Step { committed: None, ..s.clone() }.reread(), 0);
    assert_eq!(Step { target: 110, ..s.clone() }.reread(), 0, "moving forward re-reads nothing");
    let behind = Step { database: Some(80), ..s };
    assert_eq!(behind.resumes(), Some(80), "the database's offset is where members resume");
    assert_eq!(behind.reread(), 40);
}
