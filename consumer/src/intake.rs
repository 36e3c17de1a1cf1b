//! Reading from Kafka: polling a batch (each message admitted by the [`Cursors`], so a batch
//! starts each partition where the database says), and holding the partitions (paused, still
//! polling, so the consumer stays in its group) while the database is away.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt as _;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Message as _, OwnedMessage};
use rdkafka::TopicPartitionList;
use tokio::sync::watch;
use tweetpipe_common::shutdown::Shutdown;

use crate::cursors::{Admit, Cursors, Spans};
use crate::db::offsets::Span;
use crate::group::{snapshot, Assignment, GroupContext, SharedAssignment};

/// How long one poll waits for the first message of a batch before checking the end condition.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Messages polled together, with the assignment as it was when the first one arrived (the
/// reference for deciding later which partitions kept their owner through the batch), and each
/// partition's span.
pub struct Polled {
    pub messages: Vec<OwnedMessage>,
    pub before: Assignment,
    pub spans: BTreeMap<i32, Span>,
}

/// A batch being gathered.
#[derive(Default)]
struct Gathering {
    messages: Vec<OwnedMessage>,
    spans: Spans,
}

pub struct Intake {
    pub consumer: Arc<StreamConsumer<GroupContext>>,
    pub assignment: SharedAssignment,
    pub topic: String,
    pub batch_size: usize,
    pub linger: Duration,
    /// SIGTERM / Ctrl-C: stop filling batches.
    pub shutdown: Shutdown,
    /// Messages that arrived while partitions were held, with the partition's epoch when they
    /// arrived; they open the next batch.
    carry: Vec<(u64, OwnedMessage)>,
    /// Partitions are paused by [`Intake::hold_while_stalled`].
    held: bool,
    /// Where each partition is read from.
    pub(crate) cursors: Cursors,
}

impl Intake {
    pub fn new(
        consumer: Arc<StreamConsumer<GroupContext>>,
        assignment: SharedAssignment,
        topic: String,
        batch_size: usize,
        linger: Duration,
        shutdown: Shutdown,
        cursors: Cursors,
    ) -> Self {
        Self {
            consumer,
            assignment,
            topic,
            batch_size,
            linger,
            shutdown,
            carry: Vec::new(),
            held: false,
            cursors,
        }
    }

    /// Admits a message into the batch (or drops it, see [`Cursors::admit`]).
    async fn admit(&mut self, batch: &mut Gathering, m: OwnedMessage) -> anyhow::Result<()> {
        let a = snapshot(&self.assignment);
        let Admit::Take { epoch, start } = self.cursors.admit(&a, &m).await? else { return Ok(()) };
        let p = m.partition();
        if !batch.spans.add(p, m.offset(), epoch, start) {
            // The partition was sought since the batch began it: what was read before goes.
            batch.messages.retain(|old| old.partition() != p);
        }
        batch.messages.push(m);
        Ok(())
    }

    /// Waits up to [`IDLE_POLL`] for a first message, then gathers messages for the linger time
    /// and takes what is already waiting after it, until the batch is full, nothing more is
    /// waiting, or shutdown begins. Empty when nothing arrived. `Err`: the topic no longer holds
    /// where the database says to resume.
    pub async fn poll_batch(&mut self) -> anyhow::Result<Polled> {
        let mut before = snapshot(&self.assignment);
        self.cursors.resolve_pending(&before).await?;
        let mut batch = Gathering::default();
        // Carried messages of partitions that changed hands since are dropped: their new owner
        // reads them from the committed offset, which never passed them.
        let carried: Vec<OwnedMessage> = std::mem::take(&mut self.carry)
            .into_iter()
            .filter(|(epoch, m)| {
                before.partitions.contains(&m.partition()) && before.epochs.get(&m.partition()) == Some(epoch)
            })
            .map(|(_, m)| m)
            .collect();
        if !carried.is_empty() {
            for m in carried {
                self.admit(&mut batch, m).await?;
            }
            return Ok(batch.done(before));
        }
        let first = tokio::select! {
            m = self.consumer.recv() => Some(m),
            () = tokio::time::sleep(IDLE_POLL) => None,
            () = self.shutdown.cancelled() => None,
        };
        match first {
            None => return Ok(batch.done(before)),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "Kafka consumer error");
                return Ok(batch.done(before));
            }
            Some(Ok(m)) => {
                // A rebalance happens inside the poll that returns the first message.
                before = snapshot(&self.assignment);
                self.admit(&mut batch, m.detach()).await?;
            }
        }
        // After the linger, a batch closes as soon as nothing more is waiting: under a backlog
        // the queue always has the next message, so batches still fill; at a trickle no row
        // waits for messages that are not there.
        let gathered = tokio::time::Instant::now() + self.linger;
        while batch.messages.len() < self.batch_size && !self.shutdown.is_cancelled() {
            let next = match self.consumer.recv().now_or_never() {
                Some(m) => m,
                None if tokio::time::Instant::now() >= gathered => break,
                None => tokio::select! {
                    m = self.consumer.recv() => m,
                    () = tokio::time::sleep_until(gathered) => continue,
                    () = self.shutdown.cancelled() => break,
                },
            };
            match next {
                Ok(m) => {
                    let m = m.detach();
                    self.admit(&mut batch, m).await?;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Kafka consumer error");
                    break;
                }
            }
        }
        Ok(batch.done(before))
    }

    fn owned(&self, a: &Assignment) -> TopicPartitionList {
        let mut tpl = TopicPartitionList::new();
        for p in &a.partitions {
            tpl.add_partition(&self.topic, *p);
        }
        tpl
    }
}

impl Gathering {
    fn done(self, before: Assignment) -> Polled {
        Polled { messages: self.messages, before, spans: self.spans.into_spans() }
    }
}

impl Intake {
    /// While some write waits out a database problem (`stalled` above zero): pauses every
    /// assigned partition and keeps polling, keeping what arrives (it opens the next batch), so
    /// the consumer stays in its group. Returns, resumed, once no write is stalled; at once when
    /// none is.
    pub async fn hold_while_stalled(&mut self, stalled: &mut watch::Receiver<usize>) {
        if *stalled.borrow_and_update() == 0 {
            return;
        }
        self.held = true;
        metrics::gauge!("tweetpipe_consumer_paused").set(1.0);
        loop {
            // Re-pause each round: a rebalance may have assigned new, unpaused partitions.
            let a = snapshot(&self.assignment);
            if let Err(e) = self.consumer.pause(&self.owned(&a)) {
                tracing::debug!(error = %e, "pause failed");
            }
            tokio::select! {
                m = self.consumer.recv() => match m {
                    Ok(m) => {
                        let epoch = snapshot(&self.assignment).epochs.get(&m.partition()).copied().unwrap_or(0);
                        self.carry.push((epoch, m.detach()));
                    }
                    Err(e) => tracing::debug!(error = %e, "consumer error while paused"),
                },
                changed = stalled.changed() => {
                    if changed.is_err() || *stalled.borrow_and_update() == 0 {
                        break;
                    }
                }
            }
        }
        self.release();
    }

    /// Resumes consumption after a hold (nothing when not holding).
    fn release(&mut self) {
        if !std::mem::take(&mut self.held) {
            return;
        }
        let a = snapshot(&self.assignment);
        if let Err(e) = self.consumer.resume(&self.owned(&a)) {
            tracing::warn!(error = %e, "resume failed");
        }
        metrics::gauge!("tweetpipe_consumer_paused").set(0.0);
        tracing::info!("database reachable again; partitions resumed");
    }
}
