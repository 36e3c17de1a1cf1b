//! Topics made and written by hand: topic-level settings, and records straight into a topic, as
//! a hostile or buggy upstream would write them.

use crate::kafka_client;

/// Creates `topic` with `partitions` and topic-level `configs` (e.g. `max.message.bytes`).
pub async fn create_topic(topic: &str, partitions: i32, configs: &[(&str, &str)]) -> anyhow::Result<()> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = kafka_client().create()?;
    let mut new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    for (k, v) in configs {
        new = new.set(k, v);
    }
    for r in admin.create_topics(&[new], &AdminOptions::new()).await? {
        r.map_err(|(t, e)| anyhow::anyhow!("creating {t}: {e}"))?;
    }
    Ok(())
}

/// One message to write straight into a topic.
#[derive(Debug, Clone, Default)]
pub struct RawRecord {
    pub key: Option<Vec<u8>>,
    /// `None`: a tombstone.
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub partition: Option<i32>,
}

impl RawRecord {
    pub fn keyed(key: &str, value: impl Into<Vec<u8>>) -> Self {
        Self { key: Some(key.as_bytes().to_vec()), value: Some(value.into()), ..Self::default() }
    }
}

/// Writes records straight into a topic, bypassing the producer's checks; waits for every ack.
pub async fn produce_records(topic: &str, records: &[RawRecord]) -> anyhow::Result<()> {
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer =
        kafka_client().set("message.max.bytes", "10000000").set("linger.ms", "20").create()?;
    let mut pending = Vec::with_capacity(records.len());
    for r in records {
        let mut headers = OwnedHeaders::new();
        for (k, v) in &r.headers {
            headers = headers.insert(Header { key: k, value: Some(v) });
        }
        let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
        if let Some(k) = &r.key {
            rec = rec.key(k);
        }
        if let Some(v) = &r.value {
            rec = rec.payload(v);
        }
        if let Some(p) = r.partition {
            rec = rec.partition(p);
        }
        // Enqueued at once; the acknowledgements are awaited below.
        pending.push(producer.send_result(rec).map_err(|(e, _)| e)?);
    }
    for delivery in pending {
        delivery.await?.map_err(|(e, _)| e)?;
    }
    Ok(())
}

/// Deletes `topic`.
pub async fn delete_topic(topic: &str) -> anyhow::Result<()> {
    use rdkafka::admin::{AdminClient, AdminOptions};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = kafka_client().create()?;
    for r in admin.delete_topics(&[topic], &AdminOptions::new()).await? {
        r.map_err(|(t, e)| anyhow::anyhow!("deleting {t}: {e}"))?;
    }
    Ok(())
}
