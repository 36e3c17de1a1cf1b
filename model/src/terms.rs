//! The term matcher: a text matches when, NFKC-normalised and case-folded, it contains one of
//! the configured terms as a whole run of alphanumeric characters. The music rule and the
//! consumer's word filters are built on it.
//!
//! With the term `music`, `#music`, `MUSIC!`, `music's`, `music_monday` and `ｍｕｓｉｃ` match;
//! `musical`, `#musicvideo`, `@musicnews` and `musicians` do not. A term of several words
//! (`"rock music"`) matches those words as consecutive runs.

use unicode_normalization::UnicodeNormalization;

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
        if self.terms.is_empty() {
            return false;
        }
        let folded = fold(text);
        if self.single {
            return runs(&folded).any(|r| self.terms.iter().any(|t| t[0] == r));
        }
        let words: Vec<&str> = runs(&folded).collect();
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
    let nfkc: String = text.nfkc().collect();
    let folded = caseless::default_case_fold_str(&nfkc);
    folded.nfkc().collect()
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
