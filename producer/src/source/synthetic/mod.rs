//! A seeded generator of realistic X API v2 stream lines, for the demo, tests and benchmarks.
//!
//! Each item says what it is (new or re-sent, music or not), so a test knows the expected table
//! without re-implementing the consumer's rules. Ids start above 2^53, as real ones do.

use std::collections::VecDeque;

use serde_json::json;

use anyhow::Context as _;

use crate::cli::{GenerateArgs, SyntheticArgs};

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

const USERS: &[(&str, Option<&str>)] = &[
    ("beliebers_unite", Some("Stratford, Ontario")),
    ("jb_daily", None),
    ("popwatch", Some("Los Angeles, CA")),
    ("kidrauhl_fan", Some("Manila")),
    ("purpose_tour", None),
    ("newsbot_42", Some("London")),
    ("ana.s", Some("São Paulo")),
    ("tomasz", Some("Kraków")),
    ("yuki_t", Some("東京")),
    ("quiet_reader", None),
];
const WORDS: &[&str] = &[
    "tonight",
    "new",
    "video",
    "tour",
    "dates",
    "just",
    "announced",
    "can't",
    "wait",
    "love",
    "this",
    "so",
    "proud",
    "of",
    "him",
    "interview",
    "was",
    "great",
    "photos",
    "from",
    "the",
    "show",
    "who",
    "else",
    "is",
    "watching",
    "tickets",
    "sold",
    "out",
    "again",
    "throwback",
    "to",
    "2015",
];
const HASHTAGS: &[&str] = &["justinbieber", "Beliebers", "JustinBieber", "Purpose", "Justice", "tour"];
/// Forms of the word the music rule must catch.
const MUSIC_FORMS: &[&str] =
    &["#music", "MUSIC!", "new music friday", "music's", "ｍｕｓｉｃ", "#Music", "music_monday"];
/// Near misses the rule must let through.
const DECOYS: &[&str] = &["musical", "#musicvideo", "#MusicMonday", "@musicnews", "musicians"];
const LANGS: &[&str] = &["en", "en", "en", "es", "pt", "ja", "pl"];

/// How many recent tweets a re-send may pick from.
const RECENT: usize = 4096;
/// The first id: above 2^53, so nothing on the way may pass ids through an f64.
const FIRST_ID: i64 = 1_600_000_000_000_000_000;

/// Context annotations (domain, entity) as X attaches them; most of a real line's bulk.
const ANNOTATIONS: &[(&str, &str, &str, &str)] = &[
    ("54", "Musician", "10040395078", "Justin Bieber"),
    ("10", "Person", "10040395078", "Justin Bieber"),
    ("3", "TV Shows", "10000283837", "The Tonight Show Starring Jimmy Fallon"),
    ("46", "Business Taxonomy", "1557696940178935808", "Gaming Business"),
    ("131", "Unified Twitter Taxonomy", "847900493514891265", "Pop music"),
    ("65", "Interests and Hobbies Vertical", "847894353708068864", "Entertainment"),
];
const BIOS: &[&str] = &[
    "Belieber since 2009. Purpose world tour x3. Fan account, not affiliated.",
    "News, photos and tour dates, every day. DMs open for tips.",
    "coffee, concerts and long threads about pop culture (she/her)",
    "Daily updates. Turn on notifications!",
];

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
    pub fn new(args: &SyntheticArgs) -> Self {
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

/// `tweetpipe-producer generate`: the generator's lines, one per line, to a file or stdout.
pub fn write_lines(args: &GenerateArgs) -> anyhow::Result<()> {
    use std::io::Write as _;
    let out: Box<dyn std::io::Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        let file =
            std::fs::File::create(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
        Box::new(file)
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    for tweet in Generator::new(&args.synthetic) {
        out.write_all(&tweet.payload)?;
        out.write_all(b"\n")?;
    }
    out.flush().with_context(|| format!("writing {}", args.out.display()))?;
    Ok(())
}

fn author_id(user: usize) -> String {
    (1_000_000 + user as i64).to_string()
}

/// The author as `user.fields=created_at,description,location,profile_image_url,public_metrics,
/// url,verified` returns it.
fn user_object(user: usize) -> serde_json::Value {
    let (username, location) = USERS[user];
    let n = user as i64;
    let mut u = json!({
        "id": author_id(user),
        "name": username.replace(['_', '.'], " "),
        "username": username,
        "created_at": "2012-03-14T18:22:05.000Z",
        "description": BIOS[user % BIOS.len()],
        "profile_image_url": format!("https://pbs.twimg.com/profile_images/{}/avatar_normal.jpg", 1_400_000_000 + n),
        "url": "",
        "verified": false,
        "verified_type": "none",
        "protected": false,
        "public_metrics": {
            "followers_count": 1200 + n * 317, "following_count": 300 + n * 7,
            "tweet_count": 45_000 + n * 1009, "listed_count": 12 + n, "like_count": 88_000 + n * 13
        }
    });
    if let Some(loc) = location {
        u["location"] = json!(loc);
    }
    u
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
mod tests {
    use super::*;
    use std::collections::HashMap;
    use tweetpipe_common::music::MusicRule;

    fn args(count: u64) -> SyntheticArgs {
        SyntheticArgs { count, rate: 0.0, duplicate_share: 0.2, music_share: 0.1, seed: 7, wall_clock: false }
    }

    #[test]
    fn same_seed_same_tweets_and_shares_roughly_as_asked() {
        let a: Vec<_> = Generator::new(&args(5000)).map(|t| t.payload).collect();
        let b: Vec<_> = Generator::new(&args(5000)).map(|t| t.payload).collect();
        assert_eq!(a, b);
        let all: Vec<_> = Generator::new(&args(5000)).collect();
        let dups = all.iter().filter(|t| t.duplicate).count();
        let new: Vec<_> = all.iter().filter(|t| !t.duplicate).collect();
        let music = new.iter().filter(|t| t.music).count();
        assert!((800..1200).contains(&dups), "duplicates {dups}");
        assert!((250..550).contains(&music), "music {music} of {}", new.len());
    }

    #[test]
    fn lines_are_as_large_as_real_stream_lines_with_expansions() {
        let sizes: Vec<usize> = Generator::new(&args(2000)).map(|t| t.payload.len()).collect();
        let (min, max) = (sizes.iter().min().copied(), sizes.iter().max().copied());
        assert!(min >= Some(1000) && max <= Some(3500), "sizes {min:?}..{max:?}");
        let mean = sizes.iter().sum::<usize>() / sizes.len();
        assert!((1500..2500).contains(&mean), "mean {mean}");
    }

    #[test]
    fn wall_clock_stamps_created_at_with_the_moment_of_generation() {
        let before = chrono::Utc::now() - chrono::Duration::milliseconds(1);
        let tweets: Vec<_> = Generator::new(&SyntheticArgs { wall_clock: true, ..args(50) }).collect();
        let after = chrono::Utc::now() + chrono::Duration::milliseconds(1);
        for t in tweets.iter().filter(|t| !t.duplicate) {
            let parsed = tweetpipe_model::tweet::parse(&t.payload).expect("parses");
            let at = parsed.created_at.expect("created_at");
            assert!(before <= at && at <= after, "{at} outside {before}..{after}");
        }
    }

    #[test]
    fn labels_agree_with_the_payloads() {
        let rule = MusicRule::default();
        let mut newest: HashMap<i64, i64> = HashMap::new();
        for t in Generator::new(&args(3000)) {
            let parsed = tweetpipe_model::tweet::parse(&t.payload).expect("generator output parses");
            assert_eq!(parsed.id, t.id);
            assert!(parsed.id > 1 << 53);
            assert_eq!(rule.matches(&parsed.text), t.music, "{}", parsed.text);
            assert_eq!(parsed.username.as_deref(), Some(t.username.as_str()));
            let prev = newest.insert(t.id, t.retweet_count);
            assert_eq!(prev.is_some(), t.duplicate);
            assert!(prev.unwrap_or(0) <= t.retweet_count, "metrics never go backwards");
        }
    }
}
