//! Every series tweetpipe exports, with its HELP text, in one list. [`crate::observe::serve`]
//! calls [`register`] once the metrics recorder is installed, before it serves the first
//! scrape: every series gets its description, `tweetpipe_build_info` is set,
//! and the process's own counters start at zero. Starting at zero matters: `increase()` cannot
//! see the first event of a series that appears with it, and an alert on "no tweets" needs a
//! series that says zero rather than nothing.
//!
//! Names carry their unit (`_seconds`, `_total` for counters); counts of messages have none.

use metrics::Unit;

/// Which process is registering its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Producer,
    Consumer,
    /// `tweetpipe-producer topic exporter`.
    Exporter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One exported series: name, type, unit, HELP text.
#[derive(Debug, Clone, Copy)]
pub struct Series {
    pub name: &'static str,
    pub kind: Kind,
    pub unit: Option<Unit>,
    pub help: &'static str,
}

const fn counter(name: &'static str, help: &'static str) -> Series {
    Series { name, kind: Kind::Counter, unit: Some(Unit::Count), help }
}
const fn gauge(name: &'static str, unit: Option<Unit>, help: &'static str) -> Series {
    Series { name, kind: Kind::Gauge, unit, help }
}
const fn histogram(name: &'static str, unit: Unit, help: &'static str) -> Series {
    Series { name, kind: Kind::Histogram, unit: Some(unit), help }
}

/// Why the X stream reconnected: the `reason` label of `tweetpipe_x_reconnects_total`.
pub const RECONNECT_REASONS: &[&str] = &["disconnect", "closed", "http", "network", "stall"];
/// The `kind` label of `tweetpipe_db_retries_total`.
pub const DB_RETRY_KINDS: &[&str] = &["transient"];

pub const CATALOG: &[Series] = &[
    gauge("tweetpipe_build_info", None, "Always 1; the version label says which tweetpipe build runs."),
    // Producer.
    counter("tweetpipe_produced_total", "Tweets the producer sent and Kafka acknowledged."),
    counter("tweetpipe_delivery_failures_total", "Producer sends Kafka never acknowledged (the producer exits non-zero)."),
    counter("tweetpipe_dead_lettered_total", "Records sent to the dead-letter topic, by stage (producer or consumer) and class."),
    gauge("tweetpipe_producer_queue_depth", Some(Unit::Count), "Records waiting between the sources and Kafka."),
    counter("tweetpipe_x_connections_total", "Connections opened to the X filtered stream."),
    counter("tweetpipe_x_reconnects_total", "X stream reconnects, by reason: disconnect (X said so), closed, http (error status), network, stall (silent past --stream-timeout)."),
    counter("tweetpipe_x_keep_alives_total", "Keep-alive lines received on the X stream."),
    counter("tweetpipe_x_tweets_total", "Tweets received from the X API."),
    counter("tweetpipe_x_tweets_by_rule_total", "Tweets received from the X filtered stream, by matching rule tag."),
    counter("tweetpipe_x_rate_limit_waits_total", "Waits for the X rate-limit window to reset."),
    counter("tweetpipe_x_auth_failures_total", "X API answers 401 or 403."),
    counter("tweetpipe_x_truncated_lines_total", "X stream lines cut by a dropped connection (dead-lettered)."),
    counter("tweetpipe_x_search_pages_total", "Pages read from X recent search."),
    counter("tweetpipe_x_oversized_lines_total", "X stream lines longer than --max-line-bytes, cut and dead-lettered as oversized."),
    counter("tweetpipe_x_search_repeated_tokens_total", "X search polls ended by a next_token seen before in the same poll."),
    counter("tweetpipe_x_search_bad_pages_total", "X search pages that could not be read (HTML, cut, too large, an error status, no answer)."),
    counter("tweetpipe_x_search_polls_abandoned_total", "X search polls given up after repeated bad pages; the checkpoint did not move."),
    counter("tweetpipe_x_search_since_id_refused_total", "X search polls restarted from the start of the window because X refused since_id as too old."),
    // Consumer.
    counter("tweetpipe_consumed_total", "Messages the consumer read and handled (stored, dropped or dead-lettered)."),
    counter("tweetpipe_upserted_total", "Rows inserted or updated."),
    counter("tweetpipe_inserted_total", "New rows stored."),
    counter("tweetpipe_duplicates_total", "Messages that were copies of tweets already stored."),
    counter("tweetpipe_filter_dropped_total", "Tweets dropped by the filter rules (music by default)."),
    counter("tweetpipe_filtered_total", "Tweets matched by each filter rule (dropped or flagged)."),
    counter("tweetpipe_deleted_total", "Rows deleted on a deletion notice."),
    counter("tweetpipe_content_duplicates_total", "New rows linked to an earlier tweet with the same text (--dedup content)."),
    histogram("tweetpipe_batch_size", Unit::Count, "Messages per batch."),
    histogram("tweetpipe_batch_seconds", Unit::Seconds, "Time to handle one batch, read to offsets stored."),
    histogram("tweetpipe_record_age_seconds", Unit::Seconds, "Age of each record when its row is committed (Kafka timestamp to commit)."),
    histogram("tweetpipe_db_commit_seconds", Unit::Seconds, "Time from the start of a batch's database write to its last transaction committed, retries included."),
    counter("tweetpipe_db_retries_total", "Failed database writes retried with the partitions paused, by kind (transient: errors about the data are isolated and dead-lettered, never retried)."),
    counter("tweetpipe_invalid_metrics_total", "Metric values the input carried but that were unusable (negative, fractional, strings, out of range), stored as NULL."),
    counter("tweetpipe_already_applied_total", "Messages read again (after a rebalance, a crash, a zombie) that the database had already applied: skipped, not counted twice (the group's offsets in PostgreSQL say so)."),
    counter("tweetpipe_dead_letters_lost_total", "Dead letters the broker refused for good: logged with their coordinates and skipped (see README, Delivery guarantees)."),
    gauge("tweetpipe_consumer_paused", None, "1 while this consumer's partitions are paused because the database is unreachable."),
    gauge("tweetpipe_consumer_lag", Some(Unit::Count), "Messages behind the end, per owned partition, as this consumer sees it (librdkafka statistics)."),
    counter("tweetpipe_rebalances_total", "Consumer group rebalances this member took part in."),
    // Exporter.
    gauge("tweetpipe_group_lag", Some(Unit::Count), "Messages a consumer group has yet to commit, per partition, read from the brokers (visible with no consumer running)."),
    gauge("tweetpipe_group_committed_offset", Some(Unit::Count), "The group's committed offset per partition (absent before its first commit)."),
    gauge("tweetpipe_topic_end_offset", Some(Unit::Count), "The partition's high watermark: the offset the next message gets."),
    counter("tweetpipe_exporter_polls_total", "Rounds of reading offsets from the brokers, by result (ok, error)."),
    gauge("tweetpipe_exporter_last_success_timestamp_seconds", Some(Unit::Seconds), "Unix time of the exporter's last successful round (0: none yet)."),
];

/// The series a process starts at zero, with their labels.
fn zeroes(component: Component) -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let plain = |names: &[&'static str]| names.iter().map(|n| (*n, Vec::new())).collect::<Vec<_>>();
    match component {
        Component::Producer => {
            let mut v = plain(&["tweetpipe_produced_total", "tweetpipe_delivery_failures_total"]);
            v.push(("tweetpipe_dead_lettered_total", vec![("stage", "producer")]));
            v.extend(
                RECONNECT_REASONS.iter().map(|r| ("tweetpipe_x_reconnects_total", vec![("reason", *r)])),
            );
            v
        }
        Component::Consumer => {
            let mut v = plain(&[
                "tweetpipe_consumed_total",
                "tweetpipe_upserted_total",
                "tweetpipe_inserted_total",
                "tweetpipe_duplicates_total",
                "tweetpipe_filter_dropped_total",
                "tweetpipe_rebalances_total",
            ]);
            v.push(("tweetpipe_dead_lettered_total", vec![("stage", "consumer")]));
            v.extend(DB_RETRY_KINDS.iter().map(|k| ("tweetpipe_db_retries_total", vec![("kind", *k)])));
            v
        }
        Component::Exporter => {
            ["ok", "error"].iter().map(|r| ("tweetpipe_exporter_polls_total", vec![("result", *r)])).collect()
        }
    }
}

/// Describes every series, sets `tweetpipe_build_info{version}` to 1 and starts `component`'s
/// counters at zero. Call once the recorder is installed; before that it is a no-op.
pub fn register(component: Component) {
    for s in CATALOG {
        match (s.kind, s.unit) {
            (Kind::Counter, Some(u)) => metrics::describe_counter!(s.name, u, s.help),
            (Kind::Counter, None) => metrics::describe_counter!(s.name, s.help),
            (Kind::Gauge, Some(u)) => metrics::describe_gauge!(s.name, u, s.help),
            (Kind::Gauge, None) => metrics::describe_gauge!(s.name, s.help),
            (Kind::Histogram, Some(u)) => metrics::describe_histogram!(s.name, u, s.help),
            (Kind::Histogram, None) => metrics::describe_histogram!(s.name, s.help),
        }
    }
    metrics::gauge!("tweetpipe_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    for (name, labels) in zeroes(component) {
        let labels: Vec<metrics::Label> =
            labels.into_iter().map(|(k, v)| metrics::Label::new(k, v)).collect();
        metrics::counter!(name, labels).increment(0);
    }
    if component == Component::Consumer {
        metrics::gauge!("tweetpipe_consumer_paused").set(0.0);
    }
    if component == Component::Exporter {
        metrics::gauge!("tweetpipe_exporter_last_success_timestamp_seconds").set(0.0);
    }
}

#[cfg(test)]
mod tests;
