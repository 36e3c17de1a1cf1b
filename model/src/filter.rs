//! Filter rules: named terms and hashtags that drop a tweet (mode `drop`) or mark it (mode
//! `flag`). Each rule is a word or phrase matched by the [`TermMatcher`] (whole runs of letters
//! and digits after NFKC and case folding), or a `#hashtag`, matched only in hashtag form.

use crate::terms::{fold, runs, EmptyTerm, TermMatcher};

/// What happens to a tweet a rule matches. Parsed from `drop` / `flag` ([`std::str::FromStr`]),
/// so a command line can take it without this crate knowing about command lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FilterMode {
    /// Not stored; counted per rule.
    #[default]
    Drop,
    /// Stored, with the rule's name in `matched_rule`.
    Flag,
}

impl FilterMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FilterMode::Drop => "drop",
            FilterMode::Flag => "flag",
        }
    }
}

impl std::fmt::Display for FilterMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FilterMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "drop" => Ok(FilterMode::Drop),
            "flag" => Ok(FilterMode::Flag),
            _ => Err(format!("unknown filter mode {s:?}: use drop or flag")),
        }
    }
}

#[derive(Debug, Clone)]
enum Matcher {
    Words(TermMatcher),
    Hashtag(String),
}

/// One named rule.
#[derive(Debug, Clone)]
pub struct FilterRule {
    /// The name in counters and in `matched_rule` (the term as configured).
    pub name: String,
    matcher: Matcher,
}

/// The configured rules, checked in order.
#[derive(Debug, Clone)]
pub struct Filters {
    pub rules: Vec<FilterRule>,
    pub mode: FilterMode,
}

impl Filters {
    /// Rules from terms (`music`, `rock music`, `#kpop`) and optional file contents (one term a
    /// line; blank lines and lines starting with `# ` or `//` are comments).
    pub fn new(terms: &[String], file: Option<&str>, mode: FilterMode) -> Result<Self, EmptyTerm> {
        let mut all: Vec<String> =
            terms.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
        if let Some(text) = file {
            all.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && *l != "#" && !l.starts_with("# ") && !l.starts_with("//"))
                    .map(str::to_owned),
            );
        }
        let mut rules = Vec::new();
        for term in all {
            let matcher = match term.strip_prefix('#') {
                Some(tag) => {
                    let folded = fold(tag);
                    if runs(&folded).count() != 1 || runs(&folded).next() != Some(folded.as_str()) {
                        return Err(EmptyTerm(term));
                    }
                    Matcher::Hashtag(folded)
                }
                None => Matcher::Words(TermMatcher::new([term.as_str()])?),
            };
            rules.push(FilterRule { name: term, matcher });
        }
        Ok(Self { rules, mode })
    }

    /// The first rule `text` matches.
    pub fn first_match(&self, text: &str) -> Option<&str> {
        if self.rules.is_empty() {
            return None;
        }
        self.first_match_folded(&fold(text))
    }

    /// The first rule text already [`fold`]ed matches: folded once for every rule.
    pub fn first_match_folded(&self, folded: &str) -> Option<&str> {
        for rule in &self.rules {
            let hit = match &rule.matcher {
                Matcher::Words(m) => m.matches_folded(folded),
                Matcher::Hashtag(tag) => has_hashtag(folded, tag),
            };
            if hit {
                return Some(&rule.name);
            }
        }
        None
    }
}

/// Whether folded `text` holds `#tag` as a whole hashtag.
fn has_hashtag(text: &str, tag: &str) -> bool {
    let needle = format!("#{tag}");
    text.match_indices(&needle).any(|(i, _)| {
        let after = text[i + needle.len()..].chars().next();
        !after.is_some_and(char::is_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_hashtags_with_names() {
        let f =
            Filters::new(&["music".into(), "#KPop".into()], Some("# comment\nrock band\n"), FilterMode::Flag)
                .expect("rules");
        assert_eq!(f.first_match("new MUSIC friday"), Some("music"));
        assert_eq!(f.first_match("I love #kpop!"), Some("#KPop"));
        assert_eq!(f.first_match("kpop is great"), None, "a hashtag rule wants the hashtag");
        assert_eq!(f.first_match("#kpopfan"), None);
        assert_eq!(f.first_match("my Rock   Band rules"), Some("rock band"));
        assert_eq!(f.rules.len(), 3);
        assert!(Filters::new(&["#".into(), "#a b".into()], None, FilterMode::Drop).is_err());
    }

    #[test]
    fn modes_parse_from_their_names() {
        assert_eq!("drop".parse(), Ok(FilterMode::Drop));
        assert_eq!("Flag".parse(), Ok(FilterMode::Flag));
        assert_eq!(FilterMode::Flag.to_string().parse(), Ok(FilterMode::Flag));
        assert!("keep".parse::<FilterMode>().is_err());
    }
}
