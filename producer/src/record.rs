//! What travels from the sources to the sink, on one bounded channel. Shared by every source
//! and the sink, so none of them imports another.

use std::sync::Arc;

use tokio::sync::oneshot;
use tweetpipe_model::envelope::Item;

/// One classified piece of input, with where it came from.
#[derive(Debug)]
pub struct Record {
    /// The source label (`file:PATH`, `stdin`, `synthetic`, `x-stream`, `x-search`).
    pub origin: Arc<str>,
    /// The 1-based line (or, for the generator, message number; for search, page) it started on.
    pub line: u64,
    pub item: Item,
}

/// Records from one source, in order, sent as one message: the channel's slot and the origin
/// label's reference count, both touched by two threads, are then paid per batch, not per
/// record.
#[derive(Debug)]
pub struct Records {
    pub origin: Arc<str>,
    /// Each item with its line, as in [`Record`].
    pub items: Vec<(u64, Item)>,
}

/// A message on the channel.
#[derive(Debug)]
pub enum Msg {
    Record(Record),
    Records(Records),
    /// Wait until everything sent so far is acknowledged; answers whether all of it was.
    /// Recent search writes its checkpoint only after this.
    Flush(oneshot::Sender<bool>),
}
