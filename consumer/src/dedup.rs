//! A bounded cache of recently stored ids and what the table holds for each at least, so that
//! hot duplicates (retweet storms, re-sent pages) skip the database. Only committed rows go in,
//! and a copy is skipped only when the merge rule says it cannot change the row
//! ([`Seen::covers`]).

use std::collections::{HashMap, VecDeque};

use crate::db::row::{Refused, Row};
use crate::merge::Seen;

/// Insertion-ordered, evicts the oldest id when full.
#[derive(Debug)]
pub struct RecentIds {
    /// Id -> the join of the copies committed for it.
    seen: HashMap<i64, Seen>,
    /// Ids in insertion order, for eviction.
    order: VecDeque<i64>,
    capacity: usize,
}

impl RecentIds {
    pub fn new(capacity: usize) -> Self {
        Self { seen: HashMap::with_capacity(capacity.min(1 << 20)), order: VecDeque::new(), capacity }
    }

    /// Whether writing `copy` would change nothing in the table.
    pub(crate) fn is_stale(&self, copy: &Row) -> bool {
        self.seen.get(&copy.tweet.id).is_some_and(|seen| seen.covers(&Seen::of(copy)))
    }

    /// Records the rows of a committed write, but for those with a refused copy (the table holds
    /// less than their join).
    pub fn remember_committed(&mut self, rows: &[Row], refused: &[Refused]) {
        let refused: std::collections::HashSet<(i32, i64)> =
            refused.iter().map(|r| (r.partition, r.offset)).collect();
        for row in rows {
            let whole = !refused.contains(&(row.partition, row.offset))
                && row.copies.iter().all(|c| !refused.contains(&(c.partition, c.offset)));
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
        match self.seen.get_mut(&id) {
            Some(seen) => seen.absorb(Seen::of(row)),
            None => {
                if self.order.len() >= self.capacity {
                    if let Some(old) = self.order.pop_front() {
                        self.seen.remove(&old);
                    }
                }
                self.order.push_back(id);
                self.seen.insert(id, Seen::of(row));
            }
        }
    }
}
