//! A seeded generator of realistic X API v2 stream lines, for the demo, tests and benchmarks.
//!
//! Each item says what it is (new or re-sent, music or not), so a test knows the expected table
//! without re-implementing the consumer's rules. Ids start above 2^53, as real ones do.

mod vocabulary;

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::json;
use tokio::sync::mpsc::Sender;
use tweetpipe_common::shutdown::Shutdown;
use tweetpipe_model::envelope::{Item, TweetMessage};
use tweetpipe_model::Format;

use self::vocabulary::*;
use super::ReadStats;
use crate::record::{Msg, Record};

/// What to generate. The same settings give the same tweets.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticSettings {
    /// Messages to emit, re-sent duplicates included.
    pub count: u64,
    /// Messages per second; 0 means as fast as Kafka takes them.
    pub rate: f64,
    /// Share of messages that re-send an earlier tweet (often with newer metrics).
    pub duplicate_share: f64,
    /// Share of new tweets that mention music.
    pub music_share: f64,
    pub seed: u64,
    /// Stamp `created_at` with the moment of generation (end-to-end latency measurements).
    pub wall_clock: bool,
}

impl SyntheticSettings {
    /// `count` messages from `seed`, with the command line's default shares (10% re-sends, 5%
    /// music), as fast as possible.
    pub fn new(count: u64, seed: u64) -> Self {
        Self { count, rate: 0.0, duplicate_share: 0.1, music_share: 0.05, seed, wall_clock: false }
    }

    pub fn duplicate_share(self, duplicate_share: f64) -> Self {
        Self { duplicate_share, ..self }
    }

    pub fn music_share(self, music_share: f64) -> Self {
        Self { music_share, ..self }
    }

    /// The producer flags that make `--source synthetic` generate exactly these tweets.
    pub fn to_flags(&self) -> Vec<String> {
        let mut flags: Vec<String> = [
            ("--source", "synthetic".to_owned()),
            ("--count", self.count.to_string()),
            ("--duplicate-share", self.duplicate_share.to_string()),
            ("--music-share", self.music_share.to_string()),
            ("--seed", self.seed.to_string()),
        ]
        .into_iter()
        .flat_map(|(k, v)| [k.to_owned(), v])
        .collect();
        if self.rate > 0.0 {
            flags.extend(["--rate".to_owned(), self.rate.to_string()]);
        }
        if self.wall_clock {
            flags.push("--wall-clock".to_owned());
        }
        flags
    }
}

/// One generated message.
#[derive(Debug, Clone)]
pub struct SyntheticTweet {
    pub id: i64,
    /// Whether the text mentions music (in one of the forms the rule must catch).
    pub music: bool,
    /// Whether this re-sends a tweet emitted earlier.
    pub duplicate: bool,
    /// The retweet count this copy carries; re-sends never carry less than earlier copies.
    pub retweet_count: i64,
    pub username: String,
    pub text: String,
    /// The v2 stream line.
    pub payload: Vec<u8>,
}

/// The parts of a tweet that a re-send repeats.
#[derive(Debug, Clone)]
struct Core {
    id: i64,
    user: usize,
    /// Milliseconds since the epoch.
    created_at: i64,
    /// Extra parts real stream lines carry (annotations, a mention, media, a quoted tweet), so
    /// sizes spread over 1–3 KB as with `tweet.fields`/`expansions` set.
    extras: Extras,
    text: String,
    hashtags: Vec<&'static str>,
    lang: &'static str,
    music: bool,
    retweet_count: i64,
    like_count: i64,
}

#[derive(Debug, Clone, Copy)]
struct Extras {
    annotations: usize,
    mention: Option<usize>,
    media: bool,
    /// Quotes the tweet with this id (carried in `includes.tweets`).
    quoted: Option<i64>,
}

/// How many recent tweets a re-send may pick from.
const RECENT: usize = 4096;
/// The first id: above 2^53, so nothing on the way may pass ids through an f64.
const FIRST_ID: i64 = 1_600_000_000_000_000_000;

/// The generator; an iterator of [`SyntheticTweet`].
pub struct Generator {
    rng: SplitMix64,
    remaining: u64,
    duplicate_share: f64,
    music_share: f64,
    next_id: i64,
    /// Milliseconds since the epoch of the next new tweet.
    clock: i64,
    /// `created_at` is the moment of generation (end-to-end latency measurements).
    wall_clock: bool,
    recent: VecDeque<Core>,
}

impl Generator {
    pub fn new(args: &SyntheticSettings) -> Self {
        let mut rng = SplitMix64(args.seed);
        let next_id = FIRST_ID + (rng.next() % 1_000_000_000) as i64 * 1_000;
        Self {
            rng,
            remaining: args.count,
            duplicate_share: args.duplicate_share.clamp(0.0, 1.0),
            music_share: args.music_share.clamp(0.0, 1.0),
            next_id,
            clock: 1_790_000_000_000,
            wall_clock: args.wall_clock,
            recent: VecDeque::with_capacity(RECENT),
        }
    }

    fn new_core(&mut self) -> Core {
        self.next_id += 1 + (self.rng.next() % 997) as i64;
        self.clock += (self.rng.next() % 3000) as i64;
        let created_at = if self.wall_clock { chrono::Utc::now().timestamp_millis() } else { self.clock };
        let music = self.rng.chance(self.music_share);
        let n_words = 6 + (self.rng.next() % 14) as usize;
        let mut words: Vec<String> = (0..n_words).map(|_| self.rng.pick(WORDS).to_string()).collect();
        if music {
            let at = (self.rng.next() as usize) % (words.len() + 1);
            words.insert(at, self.rng.pick(MUSIC_FORMS).to_string());
        } else if self.rng.chance(0.1) {
            let at = (self.rng.next() as usize) % (words.len() + 1);
            words.insert(at, self.rng.pick(DECOYS).to_string());
        }
        let n_tags = (self.rng.next() % 3) as usize;
        let hashtags: Vec<&'static str> = (0..n_tags).map(|_| self.rng.pick(HASHTAGS)).collect();
        let mut text = words.join(" ");
        for tag in &hashtags {
            text.push_str(" #");
            text.push_str(tag);
        }
        let extras = Extras {
            annotations: 1 + (self.rng.next() % 5) as usize,
            mention: self.rng.chance(0.3).then(|| (self.rng.next() as usize) % USERS.len()),
            media: self.rng.chance(0.25),
            quoted: match self.rng.chance(0.15) {
                true => self.recent.back().map(|c| c.id),
                false => None,
            },
        };
        Core {
            id: self.next_id,
            user: (self.rng.next() as usize) % USERS.len(),
            created_at,
            extras,
            text,
            hashtags,
            lang: self.rng.pick(LANGS),
            music,
            retweet_count: (self.rng.next() % 50) as i64,
            like_count: (self.rng.next() % 500) as i64,
        }
    }

    fn render(core: &Core, duplicate: bool) -> SyntheticTweet {
        let (username, _) = USERS[core.user];
        let id = core.id.to_string();
        let created = chrono::DateTime::from_timestamp_millis(core.created_at)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .unwrap_or_default();
        let hashtags: Vec<serde_json::Value> = core
            .hashtags
            .iter()
            .filter_map(|tag| {
                let needle = format!("#{tag}");
                let start = core.text.find(&needle)?;
                let start = core.text[..start].chars().count();
                Some(json!({"start": start, "end": start + needle.chars().count(), "tag": tag}))
            })
            .collect();
        let x = core.extras;
        let annotations: Vec<serde_json::Value> = (0..x.annotations)
            .map(|i| {
                let (did, dname, eid, ename) = ANNOTATIONS[(core.id as usize + i) % ANNOTATIONS.len()];
                json!({
                    "domain": {"id": did, "name": dname, "description": format!("Named {dname} entities, as X classifies them")},
                    "entity": {"id": eid, "name": ename}
                })
            })
            .collect();
        let mut users = vec![user_object(core.user)];
        let mut entities = json!({"hashtags": hashtags});
        if let Some(m) = x.mention.filter(|m| *m != core.user) {
            entities["mentions"] =
                json!([{"start": 0, "end": 0, "username": USERS[m].0, "id": author_id(m)}]);
            users.push(user_object(m));
        }
        let mut data = json!({
            "id": id,
            "text": core.text,
            "author_id": author_id(core.user),
            "conversation_id": id,
            "created_at": created,
            "lang": core.lang,
            "possibly_sensitive": false,
            "reply_settings": "everyone",
            "edit_history_tweet_ids": [id],
            "edit_controls": {"edits_remaining": 5, "is_edit_eligible": true, "editable_until": created},
            "public_metrics": {
                "retweet_count": core.retweet_count,
                "reply_count": core.retweet_count / 3,
                "like_count": core.like_count,
                "quote_count": core.retweet_count / 7,
                "bookmark_count": core.like_count / 11,
                "impression_count": core.like_count * 37
            },
            "entities": entities,
            "context_annotations": annotations
        });
        let mut includes = json!({"users": users});
        if x.media {
            let key = format!("3_{}", core.id);
            data["attachments"] = json!({"media_keys": [key]});
            includes["media"] = json!([{
                "media_key": key, "type": "photo", "width": 1080, "height": 1350,
                "url": format!("https://pbs.twimg.com/media/F{}.jpg", core.id % 1_000_000_007)
            }]);
        }
        if let Some(q) = x.quoted {
            data["referenced_tweets"] = json!([{"type": "quoted", "id": q.to_string()}]);
            includes["tweets"] = json!([{
                "id": q.to_string(), "text": "the tour dates are out, who else is going", "author_id": author_id(0),
                "created_at": created, "lang": "en", "edit_history_tweet_ids": [q.to_string()],
                "public_metrics": {"retweet_count": 120, "reply_count": 14, "like_count": 980, "quote_count": 9}
            }]);
        }
        let line = json!({
            "data": data,
            "includes": includes,
            "matching_rules": [{"id": "1800000000000000001", "tag": "justinbieber"}]
        });
        SyntheticTweet {
            id: core.id,
            music: core.music,
            duplicate,
            retweet_count: core.retweet_count,
            username: username.to_owned(),
            text: core.text.clone(),
            payload: serde_json::to_vec(&line).unwrap_or_default(),
        }
    }
}

/// `tweetpipe-producer generate`: the generator's lines, one per line, to a file or `-` (stdout).
pub fn write_lines(settings: &SyntheticSettings, out: &Path) -> anyhow::Result<()> {
    use std::io::Write as _;
    let sink: Box<dyn std::io::Write> = if out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?)
    };
    let mut sink = std::io::BufWriter::with_capacity(1 << 20, sink);
    for tweet in Generator::new(settings) {
        sink.write_all(&tweet.payload)?;
        sink.write_all(b"\n")?;
    }
    sink.flush().with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

/// `--source synthetic`: generates onto the channel until done, the sink is gone, or shutdown.
pub async fn run(
    settings: &SyntheticSettings,
    origin: Arc<str>,
    tx: &Sender<Msg>,
    shutdown: &Shutdown,
) -> ReadStats {
    let mut stats = ReadStats::default();
    let started = Instant::now();
    let mut tweets = Generator::new(settings);
    for n in 0u64.. {
        if shutdown.is_cancelled() {
            break;
        }
        // Wait first, then generate: a wall-clock `created_at` is then the moment of sending.
        if settings.rate > 0.0 {
            let due = started + Duration::from_secs_f64(n as f64 / settings.rate);
            if !tweetpipe_common::shutdown::sleep_until(shutdown, due.into()).await {
                break;
            }
        }
        let Some(tweet) = tweets.next() else { break };
        stats.lines += 1;
        stats.bytes += tweet.payload.len() as u64;
        let item =
            Item::Tweet(TweetMessage { id: tweet.id, format: Format::V2, payload: tweet.payload.into() });
        let record = Msg::Record(Record { origin: origin.clone(), line: n + 1, item });
        if tx.send(record).await.is_err() {
            break;
        }
    }
    stats
}

impl Iterator for Generator {
    type Item = SyntheticTweet;

    fn next(&mut self) -> Option<SyntheticTweet> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        if !self.recent.is_empty() && self.rng.chance(self.duplicate_share) {
            let idx = (self.rng.next() as usize) % self.recent.len();
            let bump = (self.rng.next() % 4) as i64;
            let core = &mut self.recent[idx];
            // Half the re-sends are newer snapshots (more retweets and likes), half exact copies.
            core.retweet_count += bump;
            core.like_count += bump * 3;
            return Some(Self::render(core, true));
        }
        let core = self.new_core();
        let tweet = Self::render(&core, false);
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(core);
        Some(tweet)
    }
}

/// SplitMix64: tiny, fast, and the same on every platform, which is all a seeded demo needs.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() as usize) % items.len()]
    }
}

#[cfg(test)]
mod tests;
