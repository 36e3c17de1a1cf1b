//! The reader: a task of its own that polls batches ([`Intake`]) and starts preparing each on a
//! blocking thread, up to [`READ_AHEAD`] batches ahead of the writes. Polling, parsing and
//! writing then overlap: under a backlog no stage waits for another to hand over.

use std::collections::BTreeMap;
use std::sync::Arc;

use rdkafka::message::OwnedMessage;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tweetpipe_model::filter::Filters;
use tweetpipe_model::pseudonym::Pseudonymizer;

use crate::db::offsets::Span;
use crate::group::Assignment;
use crate::intake::{Intake, Polled};
use crate::prepare::{self, Prepared, Shaping};

/// Batches read but not yet being written, at most.
pub const READ_AHEAD: usize = 1;

/// A batch of messages, prepared, with the assignment as it was when its first message arrived
/// and each partition's span.
pub struct Batch {
    pub messages: Vec<OwnedMessage>,
    pub before: Assignment,
    pub spans: BTreeMap<i32, Span>,
    pub prepared: Prepared,
}

/// What the reader hands the loop, in the order it read.
pub enum Read {
    /// A batch being prepared; `full` when it hit `--batch-size` (a backlog, more to come).
    Batch { prepared: JoinHandle<Batch>, full: bool },
    /// A poll found nothing: the loop is caught up.
    Idle,
    /// The topic no longer holds where the database says to resume: the consumer stops.
    Failed(anyhow::Error),
}

/// What shapes rows, shared with the preparing threads.
#[derive(Clone)]
pub struct Shapers {
    pub filters: Arc<Filters>,
    pub pseudonyms: Option<Arc<Pseudonymizer>>,
}

/// Starts the reader. It ends after the poll in which shutdown begins, or when the loop stops
/// listening. While a write is stalled on the database it holds the partitions
/// ([`Intake::hold_while_stalled`]) between polls.
pub fn spawn(
    mut intake: Intake,
    shapers: Shapers,
    mut stalled: watch::Receiver<usize>,
) -> (mpsc::Receiver<Read>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    let task = tokio::spawn(async move {
        loop {
            intake.hold_while_stalled(&mut stalled).await;
            let polled = match intake.poll_batch().await {
                Ok(polled) => polled,
                Err(e) => {
                    let _ = tx.send(Read::Failed(e)).await;
                    return;
                }
            };
            let stopping = intake.shutdown.is_cancelled();
            if polled.messages.is_empty() {
                if stopping {
                    return;
                }
                // Only worth saying when the loop has nothing else to do.
                let _ = tx.try_send(Read::Idle);
                continue;
            }
            let full = polled.messages.len() >= intake.batch_size;
            let permit = loop {
                tokio::select! {
                    permit = tx.reserve() => break permit,
                    true = async { stalled.wait_for(|n| *n > 0).await.is_ok() } => {
                        intake.hold_while_stalled(&mut stalled).await;
                    }
                }
            };
            let Ok(permit) = permit else { return };
            let shapers = shapers.clone();
            permit.send(Read::Batch {
                prepared: tokio::task::spawn_blocking(move || prepare_batch(polled, &shapers)),
                full,
            });
            if stopping {
                return;
            }
        }
    });
    (rx, task)
}

/// Parses and shapes polled messages (see [`prepare::prepare`]); runs on any thread.
fn prepare_batch(polled: Polled, shapers: &Shapers) -> Batch {
    let Polled { messages, before, spans } = polled;
    let prepared = prepare::prepare(
        &messages,
        &Shaping { filters: &shapers.filters, pseudonyms: shapers.pseudonyms.as_deref() },
    );
    Batch { messages, before, spans, prepared }
}
