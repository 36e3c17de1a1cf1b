//! `tweetpipe-producer check`: what producing with the same flags and environment would need,
//! a line per step, within `--timeout`: the brokers, the credentials, the topic (or that a run
//! creates it), each source's input, and for the X sources the bearer token, tried on one cheap
//! request. Every step runs whatever failed before it, and the check exits with the worst
//! step's code ([`Outcome`]).

use std::time::Duration;

use anyhow::Context as _;
use tweetpipe_common::check::{self, failed, ok, Deadline, Outcome, TopicCheck};
use tweetpipe_common::exit::Classified;

use crate::source::x::client::{snippet, XClient};
use crate::source::x::XSettings;
use crate::source::SourceSpec;
use crate::Settings;

/// Runs every step, within `timeout`, and returns the worst failure.
pub async fn run(settings: Settings, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Deadline::after(timeout);
    let mut outcome = Outcome::default();
    let sink = settings.sink.clone();
    let created_with = settings.topics.map(|t| t.partitions);
    let kafka = tokio::task::spawn_blocking(move || {
        let topic = TopicCheck { topic: &sink.topic, created_with, group: None };
        check::kafka(&sink.kafka, &topic, deadline)
    })
    .await
    .context("the Kafka check panicked");
    outcome.record(kafka.and_then(|r| r));
    let mut x_checked = false;
    for spec in &settings.sources.specs {
        match spec {
            SourceSpec::File(path) => outcome.record(match std::fs::File::open(path) {
                Ok(_) => {
                    ok("source", format!("file:{} readable", path.display()));
                    Ok(())
                }
                Err(e) => {
                    let e = Classified::config(format!("file:{} cannot be read: {e}", path.display()));
                    Err(failed("source", e))
                }
            }),
            SourceSpec::Stdin => ok("source", "stdin"),
            SourceSpec::Synthetic => {
                let s = &settings.sources.synthetic;
                ok("source", format!("synthetic, {} messages, seed {} (invented tweets)", s.count, s.seed));
            }
            SourceSpec::XStream | SourceSpec::XSearch if !x_checked => {
                x_checked = true;
                outcome.record(x_token(&settings.sources.x, deadline).await);
            }
            SourceSpec::XStream | SourceSpec::XSearch => {}
        }
    }
    outcome.finish()
}

/// The token and rules as a run reads them, then `GET /2/tweets/search/stream/rules`: cheap,
/// and refused with 401/403 when the token is wrong.
async fn x_token(x: &XSettings, deadline: Deadline) -> anyhow::Result<()> {
    let client = XClient::new(x).map_err(|e| failed("x token", Classified::config(format!("{e:#}"))))?;
    let rules = x.wanted_rules().map_err(|e| failed("x rules", Classified::config(format!("{e:#}"))))?;
    ok("x rules", format!("{} configured", rules.len()));
    let sent = client.get("/2/tweets/search/stream/rules").timeout(deadline.left()).send().await;
    let resp = match sent {
        Ok(resp) => resp,
        Err(e) => {
            let e = Classified::unavailable(format!("the X API at {} did not answer: {e}", x.api_base_url));
            return Err(failed("x token", e));
        }
    };
    let status = resp.status().as_u16();
    match status {
        200..=299 => ok("x token", format!("accepted by {}", x.api_base_url)),
        // Rate limits are counted after authentication.
        429 => ok("x token", "accepted (rate-limited right now)"),
        401 | 403 => {
            let body = snippet(resp).await;
            let e = Classified::config(format!(
                "X refused the bearer token (HTTP {status}): check X_BEARER_TOKEN or --bearer-token-file \
                 and the app's access level. X said: {body}"
            ));
            return Err(failed("x token", e));
        }
        400..=499 => {
            let body = snippet(resp).await;
            return Err(failed("x token", Classified::config(format!("X answered HTTP {status}: {body}"))));
        }
        _ => {
            let e = Classified::unavailable(format!("X answered HTTP {status}: not ready"));
            return Err(failed("x token", e));
        }
    }
    Ok(())
}
