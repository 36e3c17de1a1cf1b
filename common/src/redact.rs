//! Keeping secrets out of logs, errors and `--help`.
//!
//! Two layers. What tweetpipe prints itself never holds a secret (Debug masks them, errors name
//! settings, not values). But librdkafka echoes property values in its own log and error lines
//! (`Invalid value "…" for configuration property …`), and its errors reach ours: so every
//! secret value handed to a Kafka client is [`remember`]ed, and [`scrub`] masks those values
//! in every log line ([`crate::telemetry`]) and every `check` line.

use std::borrow::Cow;
use std::sync::RwLock;

/// What a remembered secret is replaced with.
pub const MASK: &str = "***";

/// Whether a librdkafka property carries a secret (its name holds `password`, `secret`,
/// `token` or `key`), and so its value must never be printed.
pub fn is_secret_property(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "secret", "token", "key"].iter().any(|word| k.contains(word))
}

/// Secret values seen in this process, longest first (so that one holding another is masked
/// whole), each also as it appears inside a JSON string.
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers a secret value, so that [`scrub`] masks it wherever it shows up.
pub fn remember(secret: &str) {
    if secret.is_empty() {
        return;
    }
    let escaped = secret.replace('\\', "\\\\").replace('"', "\\\"");
    let mut secrets = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    for form in [secret.to_owned(), escaped] {
        if !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every remembered secret replaced by [`MASK`].
pub fn scrub(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|p| p.into_inner());
    let mut out = Cow::Borrowed(text);
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), MASK));
        }
    }
    out
}

/// A database URL with its passwords (userinfo, and `password=` or `sslpassword=` parameters)
/// replaced by `***`, fit for a log line.
pub fn redact_url(url: &str) -> String {
    // The userinfo first: a raw '?' inside a password must not be taken for the query.
    let masked = redact_userinfo(url);
    let (base, query) = match masked.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (masked.as_str(), None),
    };
    let mut shown = base.to_owned();
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((k, _)) if k.to_ascii_lowercase().contains("password") => format!("{k}=***"),
                _ => param.to_owned(),
            })
            .collect();
        shown.push('?');
        shown.push_str(&params.join("&"));
    }
    shown
}

fn redact_userinfo(url: &str) -> String {
    // scheme://user:password@host...; only the part between the first ':' after "//" and the
    // last '@' before the host is secret.
    let Some(scheme_end) = url.find("://") else {
        return "***".to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') { format!("{user}:***") } else { user.to_owned() };
            format!("{}://{}@{}", &url[..scheme_end], masked, &rest[at + 1..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            redact_url("postgres://tweetpipe:s3cr%40t@db:5432/tweetpipe?sslmode=require"),
            "postgres://tweetpipe:***@db:5432/tweetpipe?sslmode=require"
        );
        assert_eq!(redact_url("postgres://db/x"), "postgres://db/x");
        assert_eq!(redact_url("postgres://u@db/x"), "postgres://u@db/x");
        assert_eq!(
            redact_url("postgres://u@db/x?sslmode=verify-full&password=hunter2&sslpassword=k3y"),
            "postgres://u@db/x?sslmode=verify-full&password=***&sslpassword=***"
        );
        assert_eq!(redact_url("postgres://u:p?w@db/x?password"), "postgres://u:***@db/x?password");
        assert!(is_secret_property("sasl.password"));
        assert!(is_secret_property("ssl.key.password"));
        assert!(is_secret_property("sasl.oauthbearer.client.secret"));
        assert!(!is_secret_property("security.protocol"));
        assert!(
            is_secret_property("ssl.key.pem") && is_secret_property("sasl.oauthbearer.token.endpoint.url")
        );
    }

    #[test]
    fn remembered_secrets_are_masked_in_any_line() {
        remember("hun\"ter2");
        remember("zq9");
        let line = r#"Invalid value "hun"ter2" for sasl.password; {"msg":"hun\"ter2"} zq9"#;
        assert_eq!(scrub(line), r#"Invalid value "***" for sasl.password; {"msg":"***"} ***"#);
        assert!(matches!(scrub("nothing here"), Cow::Borrowed(_)));
    }
}
