//! Filtered-stream rules: what the configuration asks for, synced with X at start-up.

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::client::{snippet, XClient};

const PATH: &str = "/2/tweets/search/stream/rules";

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
}

/// Makes the stream's rules exactly `wanted`: validates the missing ones with `dry_run`, adds
/// them, and deletes the stale ones. A rule X rejects is an error naming it and X's reason.
pub async fn sync(client: &XClient, wanted: &[Rule]) -> anyhow::Result<SyncReport> {
    let resp = client.get(PATH).send().await.context("listing stream rules")?;
    let status = resp.status();
    if !status.is_success() {
        anyhow::bail!("listing stream rules: HTTP {status}: {}", snippet(resp).await);
    }
    let existing: ListResponse = resp.json().await.context("reading stream rules")?;
    let matches = |e: &Existing, r: &Rule| e.value == r.value && e.tag == r.tag;
    let missing: Vec<&Rule> =
        wanted.iter().filter(|r| !existing.data.iter().any(|e| matches(e, r))).collect();
    let stale: Vec<&str> = existing
        .data
        .iter()
        .filter(|e| !wanted.iter().any(|r| matches(e, r)))
        .map(|e| e.id.as_str())
        .collect();
    let report =
        SyncReport { added: missing.len(), deleted: stale.len(), kept: existing.data.len() - stale.len() };

    if !missing.is_empty() {
        post(client, "?dry_run=true", json!({ "add": missing })).await.context("validating stream rules")?;
    }
    if !stale.is_empty() {
        post(client, "", json!({ "delete": { "ids": stale } }))
            .await
            .context("deleting stale stream rules")?;
    }
    if !missing.is_empty() {
        post(client, "", json!({ "add": missing })).await.context("adding stream rules")?;
    }
    tracing::info!(added = report.added, deleted = report.deleted, kept = report.kept, "stream rules synced");
    Ok(report)
}

async fn post(client: &XClient, query: &str, body: serde_json::Value) -> anyhow::Result<()> {
    let resp = client.post(&format!("{PATH}{query}")).json(&body).send().await?;
    let status = resp.status();
    let answer: serde_json::Value = resp.json().await.unwrap_or_default();
    let errors = answer.get("errors").and_then(|e| e.as_array()).cloned().unwrap_or_default();
    if !status.is_success() || !errors.is_empty() {
        let reasons: Vec<String> = errors
            .iter()
            .map(|e| {
                let value = e.get("value").and_then(|v| v.as_str()).unwrap_or("");
                let title = e.get("title").and_then(|v| v.as_str()).unwrap_or("rejected");
                let details = e.get("details").map(|d| d.to_string()).unwrap_or_default();
                format!("rule {value:?}: {title} {details}")
            })
            .collect();
        anyhow::bail!(
            "X refused (HTTP {status}): {}",
            if reasons.is_empty() { answer.to_string() } else { reasons.join("; ") }
        );
    }
    Ok(())
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
}
