//! Filtered-stream rules: what the configuration asks for, synced with X at start-up.
//!
//! The rules this producer manages are those whose tag starts with `--rule-tag-prefix`
//! (`tweetpipe:` by default): it adds its rules with that prefix on their tag and deletes only
//! such rules, so rules another tool set on the same app are left alone. The sync adds before it
//! deletes (a failed addition leaves the old set in place), validates additions with `dry_run`
//! first, and handles a rule whose tag alone changed (X refuses a second rule of the same value,
//! so that one rule is deleted just before its re-addition). Transient failures are retried on
//! X's schedule; still failing after [`ATTEMPTS`], start-up ends with exit 69; a rule X rejects
//! or a refused token ends it with exit 78.

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tweetpipe_common::exit::Classified;
use tweetpipe_common::shutdown::Shutdown;

use super::backoff::{Failure, XBackoff, ATTEMPTS};
use super::client::{until_reset, XClient};

const PATH: &str = "/2/tweets/search/stream/rules";
/// The longest rules answer read (X allows at most 1 000 rules of 1 024 characters).
const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// One rule: its value and optional tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

impl Rule {
    /// `VALUE`, or `TAG: VALUE`. Operators such as `is:retweet` have no space after the colon,
    /// so a leading word followed by `": "` is a tag.
    pub fn parse(s: &str) -> Self {
        let s = s.trim();
        if let Some((tag, value)) = s.split_once(": ") {
            let is_word = !tag.is_empty() && tag.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c));
            if is_word && !value.trim().is_empty() {
                return Self { value: value.trim().to_owned(), tag: Some(tag.to_owned()) };
            }
        }
        Self { value: s.to_owned(), tag: None }
    }

    /// The rule as this producer sets it on X: its tag behind the managing prefix.
    fn managed(&self, prefix: &str) -> Self {
        Self {
            value: self.value.clone(),
            tag: Some(format!("{prefix}{}", self.tag.as_deref().unwrap_or(""))),
        }
    }
}

/// A matched rule's tag as counted and shown: without this producer's prefix.
pub fn shown_tag(tag: &str, prefix: &str) -> String {
    tag.strip_prefix(prefix).unwrap_or(tag).to_owned()
}

#[derive(Debug, Deserialize)]
struct Existing {
    id: String,
    value: String,
    tag: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ListResponse {
    #[serde(default)]
    data: Vec<Existing>,
}

/// What a sync changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub added: usize,
    pub deleted: usize,
    pub kept: usize,
    /// Wanted rules already set by another tool (same value, another tag): left as they are.
    pub foreign: usize,
}

/// One sync against X.
pub struct Sync<'a> {
    pub client: &'a XClient,
    pub prefix: &'a str,
    pub backoff: &'a mut XBackoff,
}

impl Sync<'_> {
    /// Makes the managed rules exactly `wanted`. `Ok(None)` when shutdown interrupted it.
    pub async fn run(mut self, wanted: &[Rule], shutdown: &Shutdown) -> anyhow::Result<Option<SyncReport>> {
        let Some(body) = self.request("listing stream rules", None, shutdown).await? else { return Ok(None) };
        let existing: ListResponse = serde_json::from_slice(&body)
            .map_err(|e| Classified::unavailable(format!("X's stream rules list is not valid JSON: {e}")))?;
        let managed = |e: &Existing| e.tag.as_deref().is_some_and(|t| t.starts_with(self.prefix));
        let want: Vec<Rule> = wanted.iter().map(|r| r.managed(self.prefix)).collect();
        let same = |e: &Existing, r: &Rule| e.value == r.value && e.tag == r.tag;
        let mut report = SyncReport::default();
        let mut missing: Vec<&Rule> = Vec::new();
        for r in &want {
            if existing.data.iter().any(|e| same(e, r)) {
                report.kept += 1;
            } else if existing.data.iter().any(|e| !managed(e) && e.value == r.value) {
                // X refuses two rules of one value; the other tool's rule delivers the tweets.
                tracing::warn!(value = %r.value, "a rule of this value is already set by another tool; leaving it");
                report.foreign += 1;
            } else {
                missing.push(r);
            }
        }
        let stale: Vec<&Existing> =
            existing.data.iter().filter(|e| managed(e) && !want.iter().any(|r| same(e, r))).collect();
        // A tag-only change: the old rule must go before the new one can be added.
        let (retagged, rest): (Vec<&Existing>, Vec<&Existing>) =
            stale.into_iter().partition(|e| missing.iter().any(|r| r.value == e.value));
        report.added = missing.len();
        report.deleted = retagged.len() + rest.len();

        if !missing.is_empty() {
            let add = json!({ "add": missing });
            let Some(_) = self.post("validating stream rules", "?dry_run=true", &add, shutdown).await? else {
                return Ok(None);
            };
            if !retagged.is_empty()
                && self.delete("deleting re-tagged stream rules", &retagged, shutdown).await?.is_none()
            {
                return Ok(None);
            }
            if self.post("adding stream rules", "", &add, shutdown).await?.is_none() {
                return Ok(None);
            }
        }
        if !rest.is_empty() && self.delete("deleting stale stream rules", &rest, shutdown).await?.is_none() {
            return Ok(None);
        }
        // The stream's first connection starts its own schedule from the beginning.
        self.backoff.reset();
        tracing::info!(
            added = report.added,
            deleted = report.deleted,
            kept = report.kept,
            foreign = report.foreign,
            "stream rules synced"
        );
        Ok(Some(report))
    }

    async fn delete(
        &mut self,
        what: &str,
        rules: &[&Existing],
        shutdown: &Shutdown,
    ) -> anyhow::Result<Option<()>> {
        let ids: Vec<&str> = rules.iter().map(|e| e.id.as_str()).collect();
        self.post(what, "", &json!({ "delete": { "ids": ids } }), shutdown).await
    }

    /// POSTs to the rules endpoint; a rule X rejects is a configuration error naming it.
    async fn post(
        &mut self,
        what: &str,
        query: &str,
        body: &serde_json::Value,
        shutdown: &Shutdown,
    ) -> anyhow::Result<Option<()>> {
        let Some(answer) = self.request(what, Some((query, body)), shutdown).await? else { return Ok(None) };
        let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
        let errors = answer.get("errors").and_then(|e| e.as_array()).cloned().unwrap_or_default();
        if errors.is_empty() {
            return Ok(Some(()));
        }
        let reasons: Vec<String> = errors
            .iter()
            .map(|e| {
                let value = e.get("value").and_then(|v| v.as_str()).unwrap_or("");
                let title = e.get("title").and_then(|v| v.as_str()).unwrap_or("rejected");
                let details = e.get("details").map(|d| d.to_string()).unwrap_or_default();
                format!("rule {value:?}: {title} {details}")
            })
            .collect();
        let reasons = self.client.redact(&reasons.join("; "));
        Err(Classified::config(format!("{what}: X refused: {reasons}")))
    }

    /// One rules request, retried on network trouble, 429 and 5xx up to [`ATTEMPTS`] times; the
    /// successful body, or a classified error.
    async fn request(
        &mut self,
        what: &str,
        post: Option<(&str, &serde_json::Value)>,
        shutdown: &Shutdown,
    ) -> anyhow::Result<Option<Vec<u8>>> {
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            let req = match post {
                Some((query, body)) => self.client.post(&format!("{PATH}{query}")).json(body),
                None => self.client.get(PATH),
            };
            let sent = tokio::select! {
                r = self.client.send(req) => r,
                () = shutdown.cancelled() => return Ok(None),
            };
            let (failure, floor) = match sent {
                Err(e) => {
                    last = e;
                    (Failure::Network, None)
                }
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    match status {
                        200..=299 => match self.client.body(&mut resp, BODY_LIMIT).await {
                            Ok(body) => return Ok(Some(body)),
                            Err(e) => {
                                last = e.to_string();
                                (Failure::Network, None)
                            }
                        },
                        401 | 403 => {
                            let body = self.client.error_body(resp).await;
                            return Err(Classified::config(format!(
                                "{what}: X refused the bearer token (HTTP {status}): check X_BEARER_TOKEN or \
                                 --bearer-token-file and the app's access level. X said: {body}"
                            )));
                        }
                        429 => {
                            last = "HTTP 429".to_owned();
                            (Failure::RateLimited, until_reset(resp.headers()))
                        }
                        400..=499 => {
                            let body = self.client.error_body(resp).await;
                            return Err(Classified::config(format!(
                                "{what}: X answered HTTP {status}: {body}"
                            )));
                        }
                        _ => {
                            last = format!("HTTP {status}: {}", self.client.error_body(resp).await);
                            (Failure::Http, None)
                        }
                    }
                }
            };
            if attempt == ATTEMPTS {
                break;
            }
            let wait = self.backoff.next_at_least(failure, floor);
            tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %last, "{what} failed; retrying");
            if !tweetpipe_common::shutdown::sleep(shutdown, wait).await {
                return Ok(None);
            }
        }
        Err(Classified::unavailable(format!("{what}: X still failing after {ATTEMPTS} attempts: {last}")))
            .context("syncing the stream rules")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_syntax() {
        assert_eq!(
            Rule::parse("#justinbieber -is:retweet"),
            Rule { value: "#justinbieber -is:retweet".into(), tag: None }
        );
        assert_eq!(
            Rule::parse("jb: #justinbieber -is:retweet"),
            Rule { value: "#justinbieber -is:retweet".into(), tag: Some("jb".into()) }
        );
        assert_eq!(Rule::parse("from:x has:media"), Rule { value: "from:x has:media".into(), tag: None });
        assert_eq!(Rule::parse("a b: c"), Rule { value: "a b: c".into(), tag: None }, "a tag is one word");
    }

    #[test]
    fn managed_tags_carry_the_prefix_and_are_shown_without_it() {
        let r = Rule::parse("jb: bieber").managed("tweetpipe:");
        assert_eq!(r.tag.as_deref(), Some("tweetpipe:jb"));
        assert_eq!(shown_tag("tweetpipe:jb", "tweetpipe:"), "jb");
        assert_eq!(shown_tag("other", "tweetpipe:"), "other");
    }
}
