//! A thin HTTP client for the X API: base URL, app-only auth, deadlines on every request,
//! bounded bodies, redacted error bodies and rate-limit headers.
//!
//! Deadlines: connecting and the response headers each within `--x-response-timeout`; a body
//! (search page, rules answer, error body) must keep arriving, no gap between bytes longer than
//! that timeout, and finish within [`BODY_DEADLINE_FACTOR`] times it. The stream's body has its
//! own rule (`--stream-timeout` between complete lines, in [`super::stream`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret as _, SecretString};
use tweetpipe_common::exit::Classified;

use super::backoff::Failure;
use super::{bump, XCounters, XSettings};

/// Bytes of an error body read (the rest is never downloaded): enough for X's problem JSON.
pub const ERROR_BODY_LIMIT: usize = 4 * 1024;
/// Characters of an error body put into a log line or an error message.
const ERROR_BODY_SHOWN: usize = 500;
/// A body may take this many response timeouts in all, however steadily it trickles.
pub const BODY_DEADLINE_FACTOR: u32 = 4;

pub struct XClient {
    http: reqwest::Client,
    base: String,
    /// Sent as `Authorization: Bearer …`; never logged (reqwest errors carry the URL only).
    token: SecretString,
    /// Deadline for connecting, for the response headers, and between body bytes.
    pub response_timeout: Duration,
}

/// Why a body was not read whole.
#[derive(Debug)]
pub enum BodyError {
    /// Longer than the limit: the rest was not downloaded.
    TooLarge(usize),
    /// No byte within the response timeout, or the whole body not within its deadline.
    Stalled,
    /// The connection broke mid-body (a reset, a cut chunked encoding).
    Broken(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge(limit) => write!(f, "body larger than the limit of {limit} bytes"),
            Self::Stalled => write!(f, "body stalled past its deadline"),
            Self::Broken(e) => write!(f, "body cut: {e}"),
        }
    }
}

impl XClient {
    pub fn new(args: &XSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(args.response_timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("tweetpipe/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            http,
            base: args.api_base_url.trim_end_matches('/').to_owned(),
            token: args.token().map_err(|e| Classified::config(format!("{e:#}")))?,
            response_timeout: args.response_timeout,
        })
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(self.token.expose_secret())
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.base)).bearer_auth(self.token.expose_secret())
    }

    /// Sends `req` and waits for the response headers, at most the response timeout. The error
    /// is a printable reason that holds no secret.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, String> {
        match tokio::time::timeout(self.response_timeout, req.send()).await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(self.redact(&format!("{e}"))),
            Err(_) => Err(format!("no response headers within {:?}", self.response_timeout)),
        }
    }

    /// Reads a body of at most `limit` bytes under the client's deadlines.
    pub async fn body(&self, resp: &mut reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
        read_capped(resp, limit, self.response_timeout, self.response_timeout * BODY_DEADLINE_FACTOR).await
    }

    /// The first bytes of an error body, redacted, for a log line or an error message.
    pub async fn error_body(&self, mut resp: reqwest::Response) -> String {
        let bytes = match self.body(&mut resp, ERROR_BODY_LIMIT).await {
            Ok(b) => b,
            Err(e) => return format!("({e})"),
        };
        shown(&self.redact(&String::from_utf8_lossy(&bytes)))
    }

    /// `text` without the token and without any `Bearer …` credential (a proxy that echoes the
    /// request headers back).
    pub fn redact(&self, text: &str) -> String {
        let token = self.token.expose_secret();
        let text = if token.is_empty() { text.to_owned() } else { text.replace(token, "***") };
        redact_bearer(&text)
    }
}

/// Reads `resp` to its end, refusing more than `limit` bytes, a gap longer than `stall`, and a
/// body longer than `total` in time.
pub async fn read_capped(
    resp: &mut reqwest::Response,
    limit: usize,
    stall: Duration,
    total: Duration,
) -> Result<Vec<u8>, BodyError> {
    let deadline = tokio::time::Instant::now() + total;
    let mut out = Vec::new();
    loop {
        let next = (tokio::time::Instant::now() + stall).min(deadline);
        match tokio::time::timeout_at(next, resp.chunk()).await {
            Err(_) => return Err(BodyError::Stalled),
            Ok(Err(e)) => return Err(BodyError::Broken(redact_bearer(&e.to_string()))),
            Ok(Ok(None)) => return Ok(out),
            Ok(Ok(Some(chunk))) => {
                if out.len() + chunk.len() > limit {
                    return Err(BodyError::TooLarge(limit));
                }
                out.extend_from_slice(&chunk);
            }
        }
    }
}

/// The first bytes of an error body, for `check` (bounded, `Bearer …` redacted).
pub async fn snippet(mut resp: reqwest::Response) -> String {
    let stall = Duration::from_secs(5);
    match read_capped(&mut resp, ERROR_BODY_LIMIT, stall, stall * BODY_DEADLINE_FACTOR).await {
        Ok(bytes) => shown(&redact_bearer(&String::from_utf8_lossy(&bytes))),
        Err(e) => format!("({e})"),
    }
}

fn shown(text: &str) -> String {
    text.chars().take(ERROR_BODY_SHOWN).collect()
}

/// Replaces the credential after every `Bearer` (any case) with `***`.
fn redact_bearer(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(found) = lower[at..].find("bearer") {
        let word_end = at + found + "bearer".len();
        out.push_str(&text[at..word_end]);
        let rest = &text[word_end..];
        let spaces = rest.len() - rest.trim_start_matches([' ', '\t', ':', '=']).len();
        let credential = rest[spaces..]
            .find(|c: char| c.is_whitespace() || "\"',;\\}]".contains(c))
            .unwrap_or(rest.len() - spaces);
        out.push_str(&rest[..spaces]);
        if credential > 0 {
            out.push_str("***");
        }
        at = word_end + spaces + credential;
    }
    out.push_str(&text[at..]);
    out
}

/// How long until `x-rate-limit-reset` (epoch seconds), if the header is there. Callers cap it
/// ([`super::backoff::XBackoff::next_at_least`]).
pub fn until_reset(headers: &HeaderMap) -> Option<Duration> {
    let reset: u64 = headers.get("x-rate-limit-reset")?.to_str().ok()?.trim().parse().ok()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    Some(Duration::from_secs_f64((reset as f64 - now).clamp(0.0, 1e9)))
}

/// `x-rate-limit-remaining`, if the header is there.
pub fn remaining(headers: &HeaderMap) -> Option<u64> {
    headers.get("x-rate-limit-remaining")?.to_str().ok()?.trim().parse().ok()
}

/// Auth failures in a row, and how many are tolerated.
pub struct AuthFailures {
    pub seen: u32,
    pub max: u32,
}

/// The one place deciding what an HTTP error status means: which backoff schedule, a floor on
/// the wait (`x-rate-limit-reset` for 429), or a final error: a token refused too often or a
/// request X calls malformed is a configuration error (exit 78). `counter` names the counter
/// other errors bump, if any. `body` is already redacted.
pub fn on_error_status(
    status: u16,
    reset: Option<Duration>,
    body: &str,
    auth: &mut AuthFailures,
    counters: &mut XCounters,
    counter: Option<&str>,
) -> anyhow::Result<(Failure, Option<Duration>)> {
    match status {
        401 | 403 => {
            auth.seen += 1;
            bump(counters, "x_auth_failures");
            if auth.seen >= auth.max {
                return Err(Classified::config(format!(
                    "X refused the bearer token {} times (HTTP {status}): check X_BEARER_TOKEN or \
                     --bearer-token-file and the app's access level. X said: {body}",
                    auth.seen
                )));
            }
            tracing::error!(status, body, "request not authorised");
            Ok((Failure::Http, None))
        }
        429 => {
            bump(counters, "x_rate_limit_waits");
            tracing::warn!(status, "rate-limited");
            Ok((Failure::RateLimited, reset))
        }
        400 => Err(Classified::config(format!("X rejected the request (HTTP 400): {body}"))),
        _ => {
            if let Some(name) = counter {
                bump(counters, name);
            }
            tracing::warn!(status, body, "request failed");
            Ok((Failure::Http, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_credentials_are_redacted_wherever_they_appear() {
        assert_eq!(redact_bearer("authorization: Bearer abc.DEF-12"), "authorization: Bearer ***");
        assert_eq!(
            redact_bearer(r#"{"headers":{"Authorization":"bearer s3cr3t"},"x":1}"#),
            r#"{"headers":{"Authorization":"bearer ***"},"x":1}"#
        );
        assert_eq!(redact_bearer("BEARER=tok; next"), "BEARER=***; next");
        assert_eq!(redact_bearer("no credential here"), "no credential here");
        assert_eq!(redact_bearer("ends with Bearer"), "ends with Bearer");
    }
}
