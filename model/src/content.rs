//! Content fingerprints: the same words make the same fingerprint, however they were retweeted,
//! linked, mentioned or spaced. Folded like the term matcher; a leading `RT @user:`, URLs and
//! @mentions are removed and white space collapsed before hashing.

use sha2::{Digest as _, Sha256};

use crate::terms::fold;

/// The normalised text a fingerprint is made of.
pub fn normalise(text: &str) -> String {
    let folded = fold(text);
    words(&folded).collect::<Vec<_>>().join(" ")
}

/// The words of folded text that count: white space collapsed, a leading "RT @user:", URLs and
/// @mentions gone.
fn words(folded: &str) -> impl Iterator<Item = &str> {
    let mut all = folded.split_whitespace().peekable();
    // "RT @user: ..." -> "..."
    let mut rest = folded.split_whitespace().skip(1);
    if all.peek() == Some(&"rt") && rest.next().is_some_and(|w| w.starts_with('@')) {
        all.next();
        all.next();
    }
    all.filter(|w| !(w.starts_with("http://") || w.starts_with("https://") || w.starts_with('@')))
}

/// A 63-bit fingerprint of the normalised text (the first bytes of its SHA-256), stored as BIGINT.
/// The words are hashed as they are found, with the spaces [`normalise`] joins them with: the
/// same digest, without building the string.
pub fn fingerprint(text: &str) -> i64 {
    fingerprint_folded(&fold(text))
}

/// [`fingerprint`] of text already [`fold`]ed (the filter folds it too: once is enough).
pub fn fingerprint_folded(folded: &str) -> i64 {
    let mut hasher = Sha256::new();
    for (i, word) in words(folded).enumerate() {
        if i > 0 {
            hasher.update(b" ");
        }
        hasher.update(word.as_bytes());
    }
    let digest = hasher.finalize();
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

    /// The normalisation every stored `content_hash` was made with: fingerprints must not move.
    fn reference_normalise(text: &str) -> String {
        let folded = fold(text);
        let mut words: Vec<&str> = folded.split_whitespace().collect();
        if words.len() >= 2 && words[0] == "rt" && words[1].starts_with('@') {
            words.drain(..2);
        }
        words
            .into_iter()
            .filter(|w| !(w.starts_with("http://") || w.starts_with("https://") || w.starts_with('@')))
            .collect::<Vec<_>>()
            .join(" ")
    }

    proptest::proptest! {
        /// Hashing the words as they come is hashing the normalised text, as it always was.
        #[test]
        fn the_fingerprint_is_the_hash_of_the_normalised_text(
            text in "(RT @[a-z]{1,4}:? |@[a-z]{1,3} |https?://t\\.co/[a-z]{1,3} |[A-Za-zÀ-ÿＡ-Ｚ0-9,!]{1,6}|[ \t\n]{1,3})*"
        ) {
            let digest = Sha256::digest(reference_normalise(&text).as_bytes());
            let mut first = [0u8; 8];
            first.copy_from_slice(&digest[..8]);
            proptest::prop_assert_eq!(fingerprint(&text), (u64::from_be_bytes(first) >> 1) as i64);
            proptest::prop_assert_eq!(normalise(&text), reference_normalise(&text));
        }
    }
}
