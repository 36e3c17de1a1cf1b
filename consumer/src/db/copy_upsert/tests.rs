//! The binary `COPY` encoding, byte for byte.

use chrono::TimeZone as _;
use tweetpipe_model::tweet::Tweet;
use tweetpipe_model::Format;

use super::*;

fn row() -> Row {
    Row::new(
        Tweet {
            id: 1,
            format: Format::V2,
            author_id: None,
            username: Some("a".into()),
            created_at: Some(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 1).unwrap()),
            text: "hé".into(),
            retweet_count: None,
            like_count: Some(2),
            reply_count: None,
            quote_count: None,
            location: None,
            lang: Some("en".into()),
            hashtags: vec!["x".into(), "yz".into()],
            is_retweet: true,
            retweeted_text: None,
            invalid_metrics: 0,
        },
        "{}".into(),
        3,
        4,
        -1,
        None,
    )
}

#[test]
fn encodes_the_binary_copy_format_byte_for_byte() {
    let row = row();
    // An unknown count is NULL; a model that still says 0 sends 0.
    let retweets: &[u8] = match row.tweet.retweet_count {
        None => &[255, 255, 255, 255],
        Some(_) => &[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0],
    };
    let mut want: Vec<u8> = Vec::new();
    for part in [
        &b"PGCOPY\n\xff\r\n\0"[..],
        &[0, 0, 0, 0, 0, 0, 0, 0],                      // flags, header extension
        &[0, 20],                                       // fields in the tuple
        &[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1],          // id
        &[255, 255, 255, 255],                          // author_id NULL
        &[0, 0, 0, 1, b'a'],                            // username
        &[0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40], // created_at: 1 s after 2000-01-01
        &[0, 0, 0, 3, b'h', 0xc3, 0xa9],                // text, UTF-8
        retweets,
        &[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2], // like_count
        &[255, 255, 255, 255],                 // reply_count NULL
        &[255, 255, 255, 255],                 // quote_count NULL
        &[255, 255, 255, 255],                 // location NULL
        &[0, 0, 0, 2, b'e', b'n'],             // lang
        // hashtags: 31 bytes: 1 dimension, no NULLs, OID 25, 2 items from 1, "x", "yz"
        &[0, 0, 0, 31, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 25, 0, 0, 0, 2, 0, 0, 0, 1],
        &[0, 0, 0, 1, b'x', 0, 0, 0, 2, b'y', b'z'],
        &[0, 0, 0, 1, 1],                                      // is_retweet
        &[0, 0, 0, 2, b'v', b'2'],                             // format
        &[0, 0, 0, 3, 1, b'{', b'}'],                          // raw: jsonb version 1, then the text
        &[0, 0, 0, 4, 0, 0, 0, 3],                             // kafka_partition
        &[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 4],                 // kafka_offset
        &[0, 0, 0, 8, 255, 255, 255, 255, 255, 255, 255, 255], // content_hash -1
        &[255, 255, 255, 255],                                 // matched_rule NULL
        &[0, 0, 0, 40],                                        // copy_rank: 40 bytes
        &row.rank.0,
        &[255, 255], // trailer
    ] {
        want.extend_from_slice(part);
    }
    assert_eq!(encode([row].iter()).expect("encodes"), (want, 1));
}

#[test]
fn an_empty_array_has_no_dimensions() {
    let mut row = row();
    row.tweet.hashtags.clear();
    let (bytes, _) = encode([row].iter()).expect("encodes");
    let empty = [0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25, 0, 0, 0, 1, 1];
    assert!(bytes.windows(empty.len()).any(|w| w == empty), "no empty text[] followed by is_retweet");
}

#[test]
fn dates_before_2000_are_negative() {
    let mut row = row();
    row.tweet.created_at = Some(Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap());
    let (bytes, _) = encode([row].iter()).expect("encodes");
    let minus_one_second = [0, 0, 0, 8, 255, 255, 255, 255, 255, 0xf0, 0xbd, 0xc0];
    assert!(bytes.windows(12).any(|w| w == minus_one_second));
}
