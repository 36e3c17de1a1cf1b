//! The words, users and annotations the generator draws from.

use serde_json::json;

pub(super) const USERS: &[(&str, Option<&str>)] = &[
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
pub(super) const WORDS: &[&str] = &[
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
pub(super) const HASHTAGS: &[&str] =
    &["justinbieber", "Beliebers", "JustinBieber", "Purpose", "Justice", "tour"];
/// Forms of the word the music rule must catch.
pub(super) const MUSIC_FORMS: &[&str] =
    &["#music", "MUSIC!", "new music friday", "music's", "ｍｕｓｉｃ", "#Music", "music_monday"];
/// Near misses the rule must let through.
pub(super) const DECOYS: &[&str] = &["musical", "#musicvideo", "#MusicMonday", "@musicnews", "musicians"];
pub(super) const LANGS: &[&str] = &["en", "en", "en", "es", "pt", "ja", "pl"];

/// Context annotations (domain, entity) as X attaches them; most of a real line's bulk.
pub(super) const ANNOTATIONS: &[(&str, &str, &str, &str)] = &[
    ("54", "Musician", "10040395078", "Justin Bieber"),
    ("10", "Person", "10040395078", "Justin Bieber"),
    ("3", "TV Shows", "10000283837", "The Tonight Show Starring Jimmy Fallon"),
    ("46", "Business Taxonomy", "1557696940178935808", "Gaming Business"),
    ("131", "Unified Twitter Taxonomy", "847900493514891265", "Pop music"),
    ("65", "Interests and Hobbies Vertical", "847894353708068864", "Entertainment"),
];
pub(super) const BIOS: &[&str] = &[
    "Belieber since 2009. Purpose world tour x3. Fan account, not affiliated.",
    "News, photos and tour dates, every day. DMs open for tips.",
    "coffee, concerts and long threads about pop culture (she/her)",
    "Daily updates. Turn on notifications!",
];

pub(super) fn author_id(user: usize) -> String {
    (1_000_000 + user as i64).to_string()
}

/// The author as `user.fields=created_at,description,location,profile_image_url,public_metrics,
/// url,verified` returns it.
pub(super) fn user_object(user: usize) -> serde_json::Value {
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
