//! Dead letters: their headers, and values cut to fit.

use rdkafka::message::Headers as _;

use super::*;

fn pairs(h: &OwnedHeaders) -> Vec<(String, String)> {
    h.iter()
        .map(|h| (h.key.to_owned(), String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned()))
        .collect()
}

#[test]
fn consumer_headers_say_where_and_why() {
    let dl = DeadLetter::new(
        Class::DbRejected,
        "54000: index row size exceeds maximum",
        Origin::Kafka { topic: "tweets".into(), partition: 3, offset: 42 },
    );
    let got = pairs(&dl.to_headers(None, None));
    assert!(got.contains(&("tweetpipe.errors.stage".into(), "consumer".into())));
    assert!(got.contains(&("tweetpipe.errors.class".into(), "db_rejected".into())));
    assert!(got.contains(&("tweetpipe.errors.partition".into(), "3".into())));
    assert!(got.contains(&("tweetpipe.errors.offset".into(), "42".into())));
}

#[test]
fn incoming_error_headers_are_renamed_not_trusted() {
    let spoofed = OwnedHeaders::new()
        .insert(Header { key: "tweetpipe.errors.class", value: Some("fake") })
        .insert(Header { key: "tweetpipe.format", value: Some("v2") });
    let dl = DeadLetter::new(
        Class::InvalidJson,
        "bad",
        Origin::Kafka { topic: "t".into(), partition: 0, offset: 1 },
    );
    let got = pairs(&dl.to_headers(Some(&spoofed), None));
    let classes: Vec<_> = got.iter().filter(|(k, _)| k == "tweetpipe.errors.class").collect();
    assert_eq!(classes, [&("tweetpipe.errors.class".to_owned(), "invalid_json".to_owned())]);
    assert!(got.contains(&("tweetpipe.errors.original.class".into(), "fake".into())));
    assert!(got.contains(&("tweetpipe.format".into(), "v2".into())));
}

#[test]
fn values_and_headers_are_cut_to_fit() {
    let big = vec![b'x'; MAX_VALUE_BYTES * 3];
    let (value, size) = DeadLetter::fit(&big);
    assert_eq!((value.len(), size), (MAX_VALUE_BYTES, Some(MAX_VALUE_BYTES * 3)));
    let small = b"{}".to_vec();
    assert_eq!(DeadLetter::fit(&small), (&small[..], None));

    let huge_header = OwnedHeaders::new().insert(Header { key: "x", value: Some(&big[..]) });
    let dl = DeadLetter::new(
        Class::Oversized,
        "m".repeat(100_000),
        Origin::Input { source: "stdin".into(), line: 1 },
    );
    let headers = dl.to_headers(Some(&huge_header), Some(big.len()));
    assert!(headers.iter().all(|h| h.value.map_or(0, <[u8]>::len) <= MAX_HEADER_BYTES));
}
