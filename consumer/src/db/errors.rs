//! The one place that decides what a database error means (as Vector's
//! `PostgresRetryLogic::is_retriable_error` does for its sink).
//!
//! A write that fails is either **about the data** ([`is_about_the_data`]: the SQLSTATE classes
//! listed there, and values our encoder cannot send) — the writer isolates the record and
//! dead-letters it — or it is **an outage**: everything else, read-only transactions after a
//! failover (25006), missing privileges (42501), connections and operator intervention (08, 57),
//! resources (53), serialisation and deadlocks (40), system errors (58, XX), a missing table.
//! An outage pauses the partitions and is retried until the database accepts writes again; it is
//! never dead-lettered and no offset moves past it. At connect time, [`config_problem`] and
//! [`is_transient`] tell a configuration error from a server that is not there yet.

/// SQLSTATE classes that say "this record cannot be stored, however often it is tried":
/// 22 data exception (bad encoding, out-of-range values, invalid JSON for jsonb), 23 integrity
/// constraint violation, 54 program limit exceeded (an index row or array too large, nesting
/// too deep).
pub const DATA_CLASSES: [&str; 3] = ["22", "23", "54"];

/// Whether a failed write is about the record, not the database.
pub fn is_about_the_data(e: &sqlx::Error) -> bool {
    match e {
        // A field too large for binary COPY (our encoder's refusal).
        sqlx::Error::Encode(_) => true,
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| DATA_CLASSES.iter().any(|c| code.starts_with(c)))
        }
        _ => false,
    }
}

/// The SQLSTATE of a database error.
pub fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

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
    fn only_the_listed_classes_are_about_the_data() {
        use std::borrow::Cow;
        #[derive(Debug)]
        struct Db(&'static str);
        impl std::fmt::Display for Db {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for Db {}
        impl sqlx::error::DatabaseError for Db {
            fn message(&self) -> &str {
                self.0
            }
            fn code(&self) -> Option<Cow<'_, str>> {
                Some(Cow::Borrowed(self.0))
            }
            fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
                self
            }
            fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
                self
            }
            fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
                self
            }
            fn kind(&self) -> sqlx::error::ErrorKind {
                sqlx::error::ErrorKind::Other
            }
        }
        let data = |code: &'static str| is_about_the_data(&sqlx::Error::Database(Box::new(Db(code))));
        for code in ["22021", "22P02", "22P05", "22003", "23502", "54000", "54001"] {
            assert!(data(code), "{code} is about the data");
        }
        for code in [
            "25006", "42501", "08006", "57P01", "53100", "53300", "40001", "40P01", "58030", "XX000", "42P01",
        ] {
            assert!(!data(code), "{code} is an outage");
        }
        assert!(!is_about_the_data(&sqlx::Error::PoolTimedOut));
    }

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
