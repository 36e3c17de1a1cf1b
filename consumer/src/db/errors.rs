//! The one place that decides whether a database error is worth retrying.

/// Transient: the same statement may succeed later (connection trouble, serialisation failure,
/// deadlock, shutdown, too many connections, pool timeout). Anything else is a property of the
/// data or the schema, and retrying it would only stall the partition.
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

/// Permanent errors tied to one record's data (22xxx data exception, 23xxx integrity
/// violation): worth isolating the record rather than failing the batch.
pub fn is_record_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("22") || c.starts_with("23")),
        sqlx::Error::Encode(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates() {
        for code in ["08006", "08001", "40001", "40P01", "57P01", "53300", "57014"] {
            assert!(is_transient_sqlstate(code), "{code}");
        }
        for code in ["22021", "22P05", "23505", "42P01"] {
            assert!(!is_transient_sqlstate(code), "{code}");
        }
    }
}
