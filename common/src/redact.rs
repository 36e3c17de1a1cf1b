//! Keeping secrets out of logs, errors and `--help`.

/// Whether a librdkafka property carries a secret, and so must never be printed.
pub fn is_secret_property(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("password") || k.contains("secret") || k.ends_with(".key.pem") || k.contains("token")
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
    }
}
