//! f9: a hostile topic. Mutated real and synthetic tweets written straight into the topic, two
//! for every good one, between good ones: the consumer drains to the end, accounts for every
//! message exactly once, and stores every good tweet.

use std::time::Instant;

use tweetpipe_producer::source::synthetic::Generator;
use tweetpipe_tests::expect::table;
use tweetpipe_tests::faults::serial;
use tweetpipe_tests::{read_topic, run, summary, RawRecord, TestContext};

use crate::{Scenario, LIMIT};

/// Real tweets as the producer sends them: the corpus through the producer into a scratch topic,
/// read back (empty when `$TWEETPIPE_CORPUS` is not set).
fn corpus_messages(ctx: &TestContext) -> Vec<(String, Vec<u8>)> {
    let Some(dir) = tweetpipe_tests::corpus_dir() else { return Vec::new() };
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for p in std::fs::read_dir(&d).into_iter().flatten().flatten().map(|e| e.path()) {
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "jsonl")) {
                files.push(p);
            }
        }
    }
    let scratch = format!("{}_corpus", ctx.topic);
    let mut producer = ctx.producer();
    producer.env("TWEETPIPE_TOPIC", &scratch);
    for f in &files {
        producer.arg("--source").arg(format!("file:{}", f.display()));
    }
    summary(&run(&mut producer, LIMIT));
    read_topic(&scratch)
        .expect("read")
        .into_iter()
        .filter(|m| !m.value.is_empty())
        .filter_map(|m| Some((m.key?, m.value)))
        .collect()
}

/// A hostile upstream's mutations of one good message (`n` picks which).
fn mutate(n: usize, key: &str, value: &[u8]) -> RawRecord {
    let text = String::from_utf8_lossy(value).into_owned();
    let keyed = |v: Vec<u8>| RawRecord::keyed(key, v);
    let in_data = |extra: &str| {
        keyed(text.replacen(r#"{"data":{"#, &format!(r#"{{"data":{{{extra},"#), 1).into_bytes())
    };
    match n % 14 {
        0 => keyed(value[..value.len() / 2].to_vec()),
        // Parseable: under an id of its own, so it does not stand in for the good copy.
        1 => {
            let id = 9_000_000_000_000_000_000u64 + n as u64;
            let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
            RawRecord::keyed(
                &id.to_string(),
                format!(r#"{{"data":{{"id":"{id}","text":"deep","skipped":{deep}}}}}"#),
            )
        }
        2 => keyed(vec![b'x'; 1_500_000 / 2]),
        3 => keyed((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()),
        4 => keyed(text.replacen(r#""text":""#, r#""text":7,"was":""#, 1).into_bytes()),
        5 => RawRecord::keyed("not-an-id", value.to_vec()),
        6 => RawRecord { value: Some(value.to_vec()), ..RawRecord::default() },
        7 => {
            let mut r = keyed(b"{\"spoofed\": true".to_vec());
            r.headers = vec![("tweetpipe.errors.class".into(), b"fake".to_vec())];
            r
        }
        8 => keyed(text.replacen(r#""text":""#, r#""text":"NUL \u0000 "#, 1).into_bytes()),
        9 => keyed(text.replacen(r#""text":""#, r#""text":"lone \ud800 "#, 1).into_bytes()),
        10 => in_data(&format!(
            r#""author_id":"1"}},"includes":{{"users":[{{"id":"1","username":"{}"}}]}},"ignored":{{"x":0"#,
            (0..6000).map(|i| char::from(b'a' + ((i * 7919) % 26) as u8)).collect::<String>()
        )),
        11 => RawRecord { key: Some(b"\xff\xfe".to_vec()), ..RawRecord::default() },
        12 => {
            RawRecord { key: Some(key.as_bytes().to_vec()), value: Some(Vec::new()), ..RawRecord::default() }
        }
        _ => keyed(b"[1, 2, 3]".to_vec()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn f9_hostile_topic() {
    let _serial = serial().await;
    let s = Scenario::new("hostile", 1000, 0.1, 30).await;
    let mut good: Vec<(String, Vec<u8>)> = corpus_messages(&s.ctx);
    let from_corpus = good.len();
    good.extend(Generator::new(&s.args).map(|t| (t.id.to_string(), t.payload)));
    tweetpipe_tests::create_topic(&s.ctx.topic, 3, &[]).await.expect("topic");
    let mut records = Vec::new();
    for (n, (key, value)) in good.iter().enumerate() {
        records.push(RawRecord::keyed(key, value.clone()));
        // Two hostile messages for every good one, between good ones.
        for m in [2 * n, 2 * n + 1] {
            records.push(mutate(m, key, value));
        }
    }
    tweetpipe_tests::produce_records(&s.ctx.topic, &records).await.expect("produce");

    let started = Instant::now();
    let drained = s.drain();
    let took = started.elapsed();
    assert_eq!(drained.outcome(), "drained");
    assert_eq!(drained.count("consumed"), records.len() as u64, "every message read once");
    assert!(
        drained.balances(),
        "consumed = stored + duplicates + filtered + dead-lettered + deleted: {}",
        drained.0
    );
    for (p, (committed, end)) in
        tweetpipe_tests::committed_and_ends(&s.ctx.topic, &s.ctx.group).expect("offsets")
    {
        assert_eq!(committed, end, "partition {p} committed to its end");
    }
    // Every good synthetic tweet is there, with its newest data, however hostile its neighbours.
    let got = table(&s.ctx).await;
    let missing = s.expected().iter().filter(|(id, row)| got.get(id) != Some(row)).count();
    assert_eq!(missing, 0, "good synthetic tweets missing or stale");
    s.report(&format!(
        "{} messages ({from_corpus} real tweets, {} hostile): {} stored, {} duplicates, {} filtered, {} dead-lettered {}, {} deleted, {} lost; drained in {:.1}s",
        records.len(),
        records.len() - good.len(),
        drained.count("inserted"),
        drained.count("duplicates"),
        drained.count("filtered"),
        drained.count("dead_lettered"),
        drained.0["dead_lettered_by_class"],
        drained.count("deleted"),
        drained.count("dead_letters_lost"),
        took.as_secs_f64()
    ));
}
