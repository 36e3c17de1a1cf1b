//! Content fingerprints: the same words make the same fingerprint, however they were retweeted,
//! linked, mentioned or spaced. Folded like the term matcher; a leading `RT @user:`, URLs and
//! @mentions are removed and white space collapsed before hashing.

use sha2::{Digest as _, Sha256};

use crate::terms::fold;

/// The normalised text a fingerprint is made of.
pub fn normalise(text: &str) -> String {
    let folded = fold(text);
    let mut words: Vec<&str> = folded.split_whitespace().collect();
    // "RT @user: ..." -> "..."
    if words.len() >= 2 && words[0] == "rt" && words[1].starts_with('@') {
        words.drain(..2);
    }
    words
        .into_iter()
        .filter(|w| !(w.starts_with("http://") || w.starts_with("https://") || w.starts_with('@')))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A 63-bit fingerprint of the normalised text (the first bytes of its SHA-256), stored as BIGINT.
pub fn fingerprint(text: &str) -> i64 {
    let digest = Sha256::digest(normalise(text).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) >> 1) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retweets_links_mentions_case_and_spacing_do_not_matter() {
        let original = fingerprint("Hello World, this is BIG news");
        for copy in [
            "RT @someone: Hello World, this is BIG news",
            "hello   world, this is big news https://t.co/abc",
            "@friend Hello World, this is BIG news",
            "ＨＥＬＬＯ World, this is BIG news",
        ] {
            assert_eq!(fingerprint(copy), original, "{copy}");
        }
        assert_ne!(fingerprint("Hello World, this is small news"), original);
        assert_ne!(fingerprint("Hello World this is BIG news"), original, "punctuation is content");
        assert!(fingerprint("x") >= 0);
    }
}
