//! Validation: every malformed database setting is a configuration error (exit 78) that names
//! the problem and never the password.

use tweetpipe_common::exit::{class_of, Class};

use super::*;

fn database(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: url.to_owned().into(),
        pool_size: 4,
        statement_timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(5),
    }
}

/// The configuration error for `url`, checked to hold no part of `password`.
fn refused(url: &str, password: &str) -> String {
    let e = database(url).validate().expect_err(url);
    assert_eq!(class_of(&e), Some(Class::Config), "{url}: {e:#}");
    let message = format!("{e:#}");
    assert!(!message.contains(password), "the password leaked: {message}");
    message
}

#[test]
fn malformed_urls_are_configuration_errors_without_the_password() {
    let port = refused("postgres://app:Pw-1x@db:99999/tweets", "Pw-1x");
    assert!(port.contains("invalid port"), "{port}");
    let ssl = refused("postgres://app:Pw-1x@db:5432/tweets?sslmode=bogus", "Pw-1x");
    assert!(ssl.contains("bogus"), "{ssl}");
    let scheme = refused("mysql://app:Pw-1x@db:3306/tweets", "Pw-1x");
    assert!(scheme.contains("must be a postgres:// URL, not mysql://***@db:3306/tweets"), "{scheme}");
    // An unencoded '/' ends the authority early: "se" would be read as a port, "cr@t…" as a path.
    let slash = refused("postgres://app:se/cr@t@db:5432/tweets", "cr@t");
    assert!(slash.contains("postgres://***@db:5432/tweets"), "{slash}");
    refused("not a url with pass:w0rd", "w0rd");
}

#[test]
fn a_valid_url_is_shown_without_its_password() {
    let db = database("postgresql://app:s3cr%2Ft@db.example:6432/tweets?sslmode=require")
        .validate()
        .expect("valid");
    assert_eq!(db.shown, "postgres://app@db.example:6432/tweets");
    let debug = format!("{:?}", database("postgres://app:s3cr%2Ft@db/tweets"));
    assert!(!debug.contains("s3cr"), "{debug}");
}

#[test]
fn a_zero_statement_timeout_means_none() {
    let off = DatabaseSettings { statement_timeout: Duration::ZERO, ..database("postgres://a@db/t") };
    let options = off.validate().expect("valid").options;
    assert!(
        options.get_options().is_some_and(|o| o.contains("statement_timeout=0")),
        "{:?}",
        options.get_options()
    );
}

#[test]
fn impossible_sizes_are_refused() {
    let none = DatabaseSettings { pool_size: 0, ..database("postgres://a@db/t") };
    assert_eq!(class_of(&none.validate().expect_err("no pool")), Some(Class::Config));
    let instant = DatabaseSettings { connect_timeout: Duration::ZERO, ..database("postgres://a@db/t") };
    assert_eq!(class_of(&instant.validate().expect_err("no time")), Some(Class::Config));
}
