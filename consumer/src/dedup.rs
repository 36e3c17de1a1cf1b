//! A bounded cache of recently stored ids and the newest metrics stored for each, so that hot
//! duplicates (retweet storms, re-sent pages) skip the database. Only committed data goes in,
//! so a hit always means "the table already has this copy, or a newer one".

use std::collections::{HashMap, VecDeque};

/// The metrics that decide whether a copy is newer: retweets, likes, replies, quotes (-1 when
/// absent).
pub type Metrics = [i64; 4];

/// Insertion-ordered, evicts the oldest id when full.
#[derive(Debug)]
pub struct RecentIds {
    /// Id -> the newest metrics stored for it.
    newest: HashMap<i64, Metrics>,
    /// Ids in insertion order, for eviction.
    order: VecDeque<i64>,
    capacity: usize,
}

impl RecentIds {
    pub fn new(capacity: usize) -> Self {
        Self { newest: HashMap::with_capacity(capacity.min(1 << 20)), order: VecDeque::new(), capacity }
    }

    /// Whether a copy with `metrics` would change nothing in the table.
    pub fn is_stale(&self, id: i64, metrics: &Metrics) -> bool {
        self.newest.get(&id).is_some_and(|known| metrics.iter().zip(known).all(|(m, k)| m <= k))
    }

    /// Records a committed copy.
    pub fn remember(&mut self, id: i64, metrics: Metrics) {
        if self.capacity == 0 {
            return;
        }
        match self.newest.get_mut(&id) {
            Some(known) => {
                for (k, m) in known.iter_mut().zip(metrics) {
                    *k = (*k).max(m);
                }
            }
            None => {
                if self.order.len() >= self.capacity {
                    if let Some(old) = self.order.pop_front() {
                        self.newest.remove(&old);
                    }
                }
                self.order.push_back(id);
                self.newest.insert(id, metrics);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.newest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.newest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_copies_hit_newer_ones_miss_and_the_size_is_bounded() {
        let mut cache = RecentIds::new(2);
        cache.remember(1, [5, 1, -1, -1]);
        assert!(cache.is_stale(1, &[5, 1, -1, -1]));
        assert!(cache.is_stale(1, &[4, 0, -1, -1]));
        assert!(!cache.is_stale(1, &[6, 1, -1, -1]), "more retweets is newer data");
        assert!(!cache.is_stale(2, &[0, 0, 0, 0]), "unknown ids are never stale");
        cache.remember(2, [0; 4]);
        cache.remember(3, [0; 4]);
        assert_eq!(cache.len(), 2);
        assert!(!cache.is_stale(1, &[0, 0, -1, -1]), "the oldest id was evicted");
    }
}
