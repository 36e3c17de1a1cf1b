//! What the table must hold after a synthetic run, and what it does hold.

use std::collections::HashMap;

use tweetpipe_producer::source::synthetic::{Generator, SyntheticSettings};

use crate::TestContext;

/// What the table must hold for a synthetic run: id -> (username, text, newest retweet count).
pub fn expected_rows(args: &SyntheticSettings) -> HashMap<i64, (String, String, i64)> {
    let mut rows = HashMap::new();
    for t in Generator::new(args).filter(|t| !t.music) {
        let e = rows.entry(t.id).or_insert((t.username.clone(), t.text.clone(), t.retweet_count));
        e.2 = e.2.max(t.retweet_count);
    }
    rows
}

/// The table as `id -> (username, text, retweet_count)`; an unknown (NULL) count reads as -1.
pub async fn table(ctx: &TestContext) -> HashMap<i64, (String, String, i64)> {
    let rows: Vec<(i64, Option<String>, String, i64)> =
        sqlx::query_as("SELECT id, username, text, COALESCE(retweet_count, -1) FROM tweets")
            .fetch_all(&ctx.pool)
            .await
            .expect("query");
    rows.into_iter().map(|(id, u, t, r)| (id, (u.unwrap_or_default(), t, r))).collect()
}
