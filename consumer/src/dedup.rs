//! A bounded cache of recently stored ids and what the table holds for each at least, so that
//! hot duplicates (retweet storms, re-sent pages) skip the database. Only committed rows go in,
//! and a copy is skipped only when the merge rule says it cannot change the row
//! ([`Seen::covers`]).
//!
//! Its memory is fixed once it is full: the entries live in a ring allocated for `capacity`
//! (the oldest overwritten), and the index into it is sized up front for the tombstones that
//! evictions leave, so it never doubles hours into a run.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use crate::db::row::{Refused, Row};
use crate::merge::Seen;

/// Insertion-ordered, evicts the oldest id when full.
#[derive(Debug)]
pub struct RecentIds {
    /// Id -> its entry in `ring`.
    slots: HashMap<i64, usize, RandomState>,
    /// (id, the join of the copies committed for it), filled in order, then overwritten oldest
    /// first.
    ring: Vec<(i64, Seen)>,
    /// The oldest entry, once the ring is full.
    oldest: usize,
    capacity: usize,
}

/// Removals leave tombstones in a hash table, and a table over half full of live entries
/// grows to twice its size when it next clears them: sized so that it never has to.
const SLACK: usize = 2;

impl RecentIds {
    pub fn new(capacity: usize) -> Self {
        let reserved = capacity.min(1 << 22);
        Self {
            slots: HashMap::with_capacity_and_hasher(reserved * SLACK, RandomState::default()),
            ring: Vec::with_capacity(reserved),
            oldest: 0,
            capacity,
        }
    }

    /// Whether writing `copy` would change nothing in the table.
    pub(crate) fn is_stale(&self, copy: &Row) -> bool {
        self.slots.get(&copy.tweet.id).is_some_and(|&at| self.ring[at].1.covers(&Seen::of(copy)))
    }

    /// Records the rows of a committed write, but for those with a refused copy (the table holds
    /// less than their join).
    pub fn remember_committed(&mut self, rows: &[Row], refused: &[Refused]) {
        let refused: std::collections::HashSet<(i32, i64), RandomState> =
            refused.iter().map(|r| (r.partition, r.offset)).collect();
        for row in rows {
            let whole = refused.is_empty()
                || (!refused.contains(&(row.partition, row.offset))
                    && row.copies.iter().all(|c| !refused.contains(&(c.partition, c.offset))));
            if whole {
                self.remember(row);
            }
        }
    }

    /// Records a committed row.
    pub(crate) fn remember(&mut self, row: &Row) {
        if self.capacity == 0 {
            return;
        }
        let id = row.tweet.id;
        if let Some(&at) = self.slots.get(&id) {
            self.ring[at].1.absorb(Seen::of(row));
            return;
        }
        let entry = (id, Seen::of(row));
        let at = if self.ring.len() < self.capacity {
            self.ring.push(entry);
            self.ring.len() - 1
        } else {
            let at = self.oldest;
            self.slots.remove(&self.ring[at].0);
            self.ring[at] = entry;
            self.oldest = (at + 1) % self.capacity;
            at
        };
        self.slots.insert(id, at);
    }

    /// How many ids it holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests;
