//! A thin HTTP client for the X API: base URL, app-only auth, rate-limit headers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret as _, SecretString};

use super::backoff::Failure;
use super::{bump, XCounters, XSettings};

pub struct XClient {
    http: reqwest::Client,
    base: String,
    /// Sent as `Authorization: Bearer …`; never logged (reqwest errors carry the URL only).
    token: SecretString,
}

impl XClient {
    pub fn new(args: &XSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("tweetpipe/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        Ok(Self { http, base: args.api_base_url.trim_end_matches('/').to_owned(), token: args.token()? })
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(self.token.expose_secret())
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.base)).bearer_auth(self.token.expose_secret())
    }
}

/// How long until `x-rate-limit-reset` (epoch seconds), if the header is there.
pub fn until_reset(headers: &HeaderMap) -> Option<Duration> {
    let reset: u64 = headers.get("x-rate-limit-reset")?.to_str().ok()?.trim().parse().ok()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    Some(Duration::from_secs_f64((reset as f64 - now).max(0.0)))
}

/// `x-rate-limit-remaining`, if the header is there.
pub fn remaining(headers: &HeaderMap) -> Option<u64> {
    headers.get("x-rate-limit-remaining")?.to_str().ok()?.trim().parse().ok()
}

/// The first bytes of an error body, for a log line.
pub async fn snippet(resp: reqwest::Response) -> String {
    let text = resp.text().await.unwrap_or_default();
    text.chars().take(300).collect()
}

/// Auth failures in a row, and how many are tolerated.
pub struct AuthFailures {
    pub seen: u32,
    pub max: u32,
}

/// The one place deciding what an HTTP error status means: which backoff schedule, a floor on
/// the wait (`x-rate-limit-reset` for 429), or a final error (a token refused too often, a
/// request X calls malformed). `counter` names the counter other errors bump, if any.
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
                anyhow::bail!(
                    "X refused the bearer token {} times (HTTP {status}): check X_BEARER_TOKEN or \
                     --bearer-token-file and the app's access level. X said: {body}",
                    auth.seen
                );
            }
            tracing::error!(status, body, "request not authorised");
            Ok((Failure::Http, None))
        }
        429 => {
            bump(counters, "x_rate_limit_waits");
            tracing::warn!(status, "rate-limited");
            Ok((Failure::RateLimited, reset))
        }
        400 => anyhow::bail!("X rejected the request (HTTP 400): {body}"),
        _ => {
            if let Some(name) = counter {
                bump(counters, name);
            }
            tracing::warn!(status, body, "request failed");
            Ok((Failure::Http, None))
        }
    }
}
