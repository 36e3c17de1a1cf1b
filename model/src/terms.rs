//! The term matcher: a text matches when, NFKC-normalised and case-folded, it contains one of
//! the configured terms as a whole run of alphanumeric characters. The music rule and the
//! consumer's word filters are built on it.
//!
//! With the term `music`, `#music`, `MUSIC!`, `music's`, `music_monday` and `ｍｕｓｉｃ` match;
//! `musical`, `#musicvideo`, `@musicnews` and `musicians` do not. A term of several words
//! (`"rock music"`) matches those words as consecutive runs.

use std::borrow::Cow;

use caseless::Caseless as _;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// The terms tweetpipe filters by default (the music rule).
pub const DEFAULT_TERMS: &[&str] = &["music"];

/// A compiled set of terms.
#[derive(Debug, Clone)]
pub struct TermMatcher {
    /// Each term as its folded runs; a tweet matches when any term's runs appear consecutively.
    terms: Vec<Vec<String>>,
    /// Every term is one run (the usual case): a text's runs need not be collected.
    single: bool,
}

/// A term that can never match, refused at start-up rather than silently ignored.
#[derive(Debug, thiserror::Error)]
#[error("filter term {0:?} has no letters or digits, so it could never match")]
pub struct EmptyTerm(pub String);

impl TermMatcher {
    /// Compiles terms, folding them the same way as tweet text.
    pub fn new<I, S>(terms: I) -> Result<Self, EmptyTerm>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut compiled = Vec::new();
        for term in terms {
            let folded = fold(term.as_ref());
            let runs: Vec<String> = runs(&folded).map(str::to_owned).collect();
            if runs.is_empty() {
                return Err(EmptyTerm(term.as_ref().to_owned()));
            }
            compiled.push(runs);
        }
        let single = compiled.iter().all(|t| t.len() == 1);
        Ok(Self { terms: compiled, single })
    }

    /// Whether `text` mentions any term.
    pub fn matches(&self, text: &str) -> bool {
        !self.terms.is_empty() && self.matches_folded(&fold(text))
    }

    /// Whether text already [`fold`]ed mentions any term (a text folded once serves every rule
    /// and the content fingerprint).
    pub fn matches_folded(&self, folded: &str) -> bool {
        if self.single {
            return runs(folded).any(|r| self.terms.iter().any(|t| t[0] == r));
        }
        let words: Vec<&str> = runs(folded).collect();
        self.terms
            .iter()
            .any(|term| words.windows(term.len()).any(|w| w.iter().zip(term).all(|(a, b)| *a == b.as_str())))
    }
}

/// NFKC, then full Unicode case folding, then NFKC again (folding can denormalise).
pub fn fold(text: &str) -> String {
    // ASCII is already NFKC, and folds to its lower case: the same result, many times faster.
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    // Most text is NFKC already (the quick check's "yes" is exact; "maybe" normalises): the
    // normalisations were most of the cost of real, non-ASCII tweets.
    let nfkc: Cow<'_, str> = match is_nfkc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        _ => Cow::Owned(text.nfkc().collect()),
    };
    let folded = case_fold(&nfkc);
    match is_nfkc_quick(folded.chars()) {
        IsNormalized::Yes => folded,
        _ => folded.nfkc().collect(),
    }
}

/// Full Unicode case folding, char by char (it maps each char on its own), ASCII without the
/// table lookup.
fn case_fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(std::iter::once(c).default_case_fold());
        }
    }
    out
}

/// Maximal runs of alphanumeric characters.
pub fn runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_word_music_in_every_dress() {
        let rule = TermMatcher::new(DEFAULT_TERMS).expect("the default terms");
        for text in [
            "#music",
            "I love MUSIC!",
            "this is music's finest hour",
            "happy music_monday all",
            "fullwidth ｍｕｓｉｃ here",
            "see https://music.example.com/x",
            "Music",
            "#MUSIC #pop",
            "ＭＵＳＩＣ",
        ] {
            assert!(rule.matches(text), "{text:?} should match");
        }
    }

    #[test]
    fn ascii_takes_the_short_way_to_the_same_fold() {
        for text in ["Hello WORLD #Music 123 _x_", "", "MiXeD-case@Example.COM"] {
            let nfkc: String = text.nfkc().collect();
            let full: String = caseless::default_case_fold_str(&nfkc).nfkc().collect();
            assert_eq!(fold(text), full);
        }
    }

    /// The fold every stored match and fingerprint was made with.
    fn reference_fold(text: &str) -> String {
        let nfkc: String = text.nfkc().collect();
        caseless::default_case_fold_str(&nfkc).nfkc().collect()
    }

    #[test]
    fn the_short_ways_fold_hard_cases_as_the_full_one() {
        // Composed and decomposed accents, compatibility forms, ß and ﬁ (one char to several),
        // the Kelvin and Ångström signs, Greek final sigma, Turkish dotted I, a combining mark
        // after a case fold that produces a base letter, emoji and Hangul.
        for text in [
            "Cafe\u{301} CAFÉ",
            "ＭＵＳＩＣ ①",
            "Straße ﬁne",
            "\u{212A}\u{212B}",
            "ΟΔΟΣ ὈΔΥΣΣΕΎΣ",
            "İstanbul",
            "\u{1E9E}\u{301}",
            "ǅ \u{345}\u{301}",
            "🎵 músic 한국어 ㈜",
            "\u{0345}",
            "A\u{0345}\u{0301}",
        ] {
            assert_eq!(fold(text), reference_fold(text), "{text:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        #[test]
        fn the_short_ways_fold_any_text_as_the_full_one(text in "(\\PC|[\u{300}-\u{36F}\u{345}ßſﬁK\u{212A}\u{1E9E}ΣσςİI])*") {
            proptest::prop_assert_eq!(fold(&text), reference_fold(&text));
        }
    }

    #[test]
    fn leaves_longer_words_alone() {
        let rule = TermMatcher::new(DEFAULT_TERMS).expect("the default terms");
        for text in [
            "a musical evening",
            "#musicvideo",
            "#MusicMonday",
            "@musicnews said",
            "musicians unite",
            "no mention at all",
            "",
            "mus ic",
        ] {
            assert!(!rule.matches(text), "{text:?} should not match");
        }
    }

    #[test]
    fn terms_are_configurable_and_folded() {
        let rule = TermMatcher::new(["Song", "rock music"]).expect("valid terms");
        assert!(rule.matches("best SONG ever"));
        assert!(rule.matches("I like Rock   Music a lot"));
        assert!(!rule.matches("music alone is not a configured term here"));
        assert!(!rule.matches("rock and music"));
        assert!(TermMatcher::new(["#!"]).is_err());
    }
}
