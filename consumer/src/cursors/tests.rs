//! A batch's spans: one per partition, restarted when the partition was sought mid-batch.

use super::*;

#[test]
fn a_span_runs_from_where_the_database_said_to_the_last_message_read() {
    let mut spans = Spans::default();
    assert!(spans.add(0, 10, 1, 10));
    assert!(spans.add(0, 11, 1, 10));
    assert!(spans.add(3, 7, 1, 5), "a gap (compaction, control records) starts where the database said");
    let spans = spans.into_spans();
    assert_eq!(spans[&0], Span { partition: 0, start: 10, end: 12 });
    assert_eq!(spans[&3], Span { partition: 3, start: 5, end: 8 });
}

#[test]
fn a_partition_sought_mid_batch_restarts_its_span_and_drops_what_was_read_before() {
    let mut spans = Spans::default();
    assert!(spans.add(0, 10, 1, 10));
    assert!(!spans.add(0, 4, 2, 4), "a new epoch: the caller drops the partition's earlier messages");
    assert!(spans.add(0, 5, 2, 4));
    assert_eq!(spans.into_spans()[&0], Span { partition: 0, start: 4, end: 6 });
}
