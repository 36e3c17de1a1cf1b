//! The flags' value parsers: errors that never echo a secret.

use super::*;

#[test]
fn password_files_lose_their_newline_and_errors_name_the_file() {
    let path = std::env::temp_dir().join(format!("tweetpipe-pw-{}", std::process::id()));
    std::fs::write(&path, "s3cret\n").expect("write");
    let read = read_secret_file(path.to_str().expect("utf-8"));
    std::fs::remove_file(&path).expect("remove");
    use secrecy::ExposeSecret as _;
    assert_eq!(read.expect("readable").expose_secret(), "s3cret");
    let err = read_secret_file("/nonexistent/pw").expect_err("missing");
    assert!(err.contains("/nonexistent/pw"), "{err}");
}

#[test]
fn property_errors_do_not_echo_the_value() {
    let err = parse_property("sasl.passwordhunter2").expect_err("no '='");
    assert!(!err.contains("hunter2"));
    assert_eq!(parse_property("a=b=c"), Ok(("a".into(), "b=c".into())));
}
