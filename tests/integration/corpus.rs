//! The real tweet files of `$TWEETPIPE_CORPUS` through the whole pipeline, checked against an
//! independent reading of the same files written here, without the project's parsers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tweetpipe_tests::{consumer_summary, corpus_dir, run, TestContext};

/// One copy of a tweet as the files have it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Copy {
    text: String,
    username: Option<String>,
}

#[derive(Default)]
struct Expected {
    /// The non-music copies of each id. Each message is judged on its own: an id whose copies
    /// differ (a text later replaced by a notice) is stored if any copy is not about music.
    copies: BTreeMap<i64, BTreeSet<Copy>>,
    /// Ids of which some copy is about music.
    music: BTreeSet<i64>,
    /// Every distinct id.
    ids: BTreeSet<i64>,
    /// Compliance `delete` events: ids X says were deleted.
    deleted: BTreeSet<i64>,
    records: u64,
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read corpus dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "jsonl")) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The simplest reading of the rule: lower-case, split on anything not a letter or digit.
fn mentions_music(text: &str) -> bool {
    text.to_lowercase().split(|c: char| !c.is_alphanumeric()).any(|w| w == "music")
}

fn s(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str().map(str::to_owned)
}

impl Expected {
    fn add(&mut self, id: &str, text: String, username: Option<String>, rule_text: String) {
        let id: i64 = id.parse().expect("corpus ids are decimal");
        self.records += 1;
        self.ids.insert(id);
        if mentions_music(&rule_text) {
            self.music.insert(id);
        } else {
            self.copies.entry(id).or_default().insert(Copy { text, username });
        }
    }

    fn v1(&mut self, status: &Value) {
        let text = s(status, &["extended_tweet", "full_text"])
            .or_else(|| s(status, &["full_text"]))
            .or_else(|| s(status, &["text"]))
            .expect("status text");
        let rt = status.get("retweeted_status").map(|rt| {
            s(rt, &["extended_tweet", "full_text"])
                .or_else(|| s(rt, &["full_text"]))
                .or_else(|| s(rt, &["text"]))
        });
        let rule = rt.flatten().unwrap_or_else(|| text.clone());
        let id = s(status, &["id_str"]).expect("id_str");
        self.add(&id, text, s(status, &["user", "screen_name"]), rule);
    }

    fn v2(&mut self, page: &Value) {
        // A page holds an array; a single-tweet lookup holds one object.
        let data: Vec<Value> = match page.get("data") {
            Some(Value::Array(items)) => items.clone(),
            Some(one @ Value::Object(_)) => vec![one.clone()],
            _ => return,
        };
        let empty = Vec::new();
        let users = page.pointer("/includes/users").and_then(Value::as_array).unwrap_or(&empty);
        let tweets = page.pointer("/includes/tweets").and_then(Value::as_array).unwrap_or(&empty);
        for t in &data {
            let text = s(t, &["note_tweet", "text"]).or_else(|| s(t, &["text"])).expect("text");
            let author = s(t, &["author_id"]);
            let username = users
                .iter()
                .find(|u| s(u, &["id"]) == author && author.is_some())
                .and_then(|u| s(u, &["username"]));
            let rt_id = t.get("referenced_tweets").and_then(Value::as_array).and_then(|refs| {
                refs.iter()
                    .find(|r| s(r, &["type"]).as_deref() == Some("retweeted"))
                    .and_then(|r| s(r, &["id"]))
            });
            let rule = rt_id
                .and_then(|rid| tweets.iter().find(|x| s(x, &["id"]).as_deref() == Some(rid.as_str())))
                .and_then(|x| s(x, &["note_tweet", "text"]).or_else(|| s(x, &["text"])))
                .unwrap_or_else(|| text.clone());
            self.add(&s(t, &["id"]).expect("id"), text, username, rule);
        }
    }

    fn read(files: &[PathBuf]) -> Self {
        let mut e = Expected::default();
        for f in files {
            let content = std::fs::read_to_string(f).expect("corpus file");
            let docs: Vec<Value> = if f.extension().and_then(|x| x.to_str()) == Some("jsonl") {
                content
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| serde_json::from_str(l).expect("json line"))
                    .collect()
            } else {
                vec![serde_json::from_str(&content).expect("json document")]
            };
            for doc in docs {
                if let Some(statuses) =
                    doc.as_array().or_else(|| doc.get("statuses").and_then(Value::as_array))
                {
                    statuses.iter().for_each(|st| e.v1(st));
                } else if doc.get("data").is_some() {
                    e.v2(&doc);
                } else if doc.get("id_str").is_some() {
                    e.v1(&doc);
                } else if doc.get("action").and_then(Value::as_str) == Some("delete") {
                    e.deleted.insert(s(&doc, &["id"]).and_then(|i| i.parse().ok()).expect("compliance id"));
                }
            }
        }
        e
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn real_tweet_files_through_the_whole_pipeline() {
    let Some(dir) = corpus_dir() else {
        println!("TWEETPIPE_CORPUS is not set: the real-file test has nothing to read");
        return;
    };
    let files = files(&dir);
    assert!(files.len() >= 30, "expected the corpus files under {}", dir.display());
    let expected = Expected::read(&files);

    let ctx = TestContext::new("corpus").await.expect("context");
    let mut producer = ctx.producer();
    for f in &files {
        producer.arg("--source").arg(format!("file:{}", f.display()));
    }
    let produced = tweetpipe_tests::producer::produce(&mut producer, Duration::from_secs(120));
    assert_eq!(produced.count("tweets"), expected.records, "one message per tweet record");
    assert_eq!(produced.count("dead_lettered"), 0, "real API output is never dead-lettered");
    let consumed = consumer_summary(&run(ctx.consumer().arg("--exit-at-end"), Duration::from_secs(180)));
    assert_eq!(produced.count("deletes"), expected.deleted.len() as u64, "compliance deletes as tombstones");
    assert_eq!(consumed.count("consumed"), expected.records + expected.deleted.len() as u64);

    let want: BTreeSet<i64> =
        expected.copies.keys().filter(|id| !expected.deleted.contains(id)).copied().collect();
    let rows: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT id, text, username FROM tweets").fetch_all(&ctx.pool).await.expect("q");
    let got: BTreeSet<i64> = rows.iter().map(|r| r.0).collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "ids missing from the table: {missing:?}; ids that should not be there: {extra:?}"
    );
    assert!(!expected.music.is_empty(), "the corpus has a few music tweets to drop");
    for (id, text, username) in rows {
        let copy = Copy { text, username };
        assert!(expected.copies[&id].contains(&copy), "row {id} is not a copy the files hold: {copy:?}");
    }
    // The tweet count agrees with the run: seen, unique, filtered (music), deleted.
    let (total, text) = tweetpipe_tests::stats_total(&ctx.database_url, "day");
    assert_eq!(total[0], consumed.count("consumed"), "seen: {text}");
    assert_eq!(total[1], got.len() as u64, "unique: {text}");
    assert_eq!(total[4], consumed.count("filtered"), "filtered: {text}");
    assert_eq!(total[6], expected.deleted.len() as u64, "deleted: {text}");
    println!(
        "corpus: {} files, {} records, {} distinct ids, {} music, {} rows",
        files.len(),
        expected.records,
        expected.ids.len(),
        expected.music.len(),
        got.len()
    );
    ctx.cleanup().await;
}
