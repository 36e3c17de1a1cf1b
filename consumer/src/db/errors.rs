//! The one place that decides whether a database error is worth retrying (as Vector's
//! `PostgresRetryLogic::is_retriable_error` does for its sink).
//!
//! The rule: connection-level failures and the documented transient SQLSTATEs pause the
//! consumer and are retried; **every other error is about the data**, and the writer isolates
//! the record that causes it ([`crate::db::writer`]).

/// Transient: the same statement may succeed later (connection trouble, serialisation failure,
/// deadlock, shutdown, too many connections, pool timeout, statement timeout). Anything else is
/// a property of the data (22xxx, 23xxx, 54xxx program limits such as an index row too large or
/// nesting too deep, …), and retrying it would only stall the partition.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
            true
        }
        sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| is_transient_sqlstate(&code)),
        _ => false,
    }
}

/// Why a failed connection attempt is a configuration error (wrong password, unknown CA, a
/// server refusing TLS or plaintext, a missing certificate file), or `None` for an outage.
/// Checked before [`is_transient`] at connect time: retrying these would only stall start-up.
pub fn config_problem(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Tls(tls) => Some(format!("TLS failed: {tls}")),
        sqlx::Error::Io(io)
            if io.kind() == std::io::ErrorKind::InvalidData && io.to_string().contains("certificate") =>
        {
            Some(format!(
                "TLS certificate verify failed: {io} (check sslrootcert and the server's certificate)"
            ))
        }
        sqlx::Error::Io(io)
            if matches!(io.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied) =>
        {
            Some(format!("cannot read a certificate or key file: {io}"))
        }
        sqlx::Error::Configuration(c) => Some(format!("invalid connection settings: {c}")),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") => Some(format!("authentication failed: {}", db.message())),
            // No pg_hba.conf line matches: typically plaintext against a TLS-only server.
            Some("28000") => Some(format!(
                "the server refused this connection: {} (a TLS-only server needs sslmode=verify-full)",
                db.message()
            )),
            Some("3D000") => Some(db.message().to_owned()),
            _ => None,
        },
        _ => None,
    }
}

/// SQLSTATE classes and codes that say "try again".
pub fn is_transient_sqlstate(code: &str) -> bool {
    code.starts_with("08") // connection exception
        || code.starts_with("53") // insufficient resources (53300 too many connections)
        || code.starts_with("57P") // operator intervention: admin shutdown, crash shutdown, cannot connect now
        // 57014: statement_timeout fired (a lock held too long, a stalled server).
        || matches!(code, "40001" | "40P01" | "55P03" | "57014" | "58000" | "58030")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates() {
        for code in ["08006", "08001", "40001", "40P01", "57P01", "53300", "57014"] {
            assert!(is_transient_sqlstate(code), "{code}");
        }
        for code in ["22021", "22P05", "23505", "42P01", "54000", "54001"] {
            assert!(!is_transient_sqlstate(code), "{code}");
        }
    }
}
