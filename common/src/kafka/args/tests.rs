//! The flags, parsed into settings: which password wins, and errors that never echo a secret.

use clap::Parser as _;
use secrecy::ExposeSecret as _;

use super::*;

#[derive(clap::Parser)]
struct Flags {
    #[command(flatten)]
    kafka: KafkaArgs,
}

fn settings(flags: &[&str]) -> KafkaSettings {
    Flags::try_parse_from(["x"].iter().chain(flags)).expect("valid flags").kafka.settings()
}

fn password(settings: &KafkaSettings) -> Option<&str> {
    settings.sasl_password.as_ref().map(|p| p.expose_secret())
}

/// A password file with `content`, removed when dropped.
struct PasswordFile(std::path::PathBuf);

impl PasswordFile {
    fn new(name: &str, content: &str) -> Self {
        let path = std::env::temp_dir().join(format!("tweetpipe-{name}-{}", std::process::id()));
        std::fs::write(&path, content).expect("write");
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8")
    }
}

impl Drop for PasswordFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn every_flag_lands_in_its_setting() {
    let file = PasswordFile::new("pw-both", "s3cret-file\n");
    let flags = [
        "--brokers=k1:9093,k2:9093",
        "--security-protocol=SASL_SSL",
        "--sasl-mechanism=SCRAM-SHA-512",
        "--sasl-username=app",
        "--sasl-password=s3cret-flag",
        "--sasl-password-file",
        file.path(),
        "--ssl-ca-location=/ca.pem",
        "-X",
        "linger.ms=5",
        "-X",
        "client.id=a=b",
    ];
    let parsed = Flags::try_parse_from(["x"].iter().chain(&flags)).expect("valid flags").kafka;
    let settings = parsed.settings();
    assert_eq!(settings.brokers, "k1:9093,k2:9093");
    assert_eq!(settings.security_protocol.as_deref(), Some("SASL_SSL"));
    assert_eq!(settings.sasl_mechanism.as_deref(), Some("SCRAM-SHA-512"));
    assert_eq!(settings.sasl_username.as_deref(), Some("app"));
    assert_eq!(password(&settings), Some("s3cret-flag"), "the variable (or flag) wins over the file");
    assert_eq!(settings.ssl_ca_location.as_deref(), Some("/ca.pem"));
    let props: Vec<(&str, &str)> =
        settings.properties.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(props, [("linger.ms", "5"), ("client.id", "a=b")]);
    for shown in [format!("{parsed:?}"), format!("{settings:?}")] {
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}

#[test]
fn the_password_file_is_read_when_no_password_is_given() {
    if std::env::var_os("KAFKA_SASL_PASSWORD").is_some() {
        return; // it would win over the file
    }
    let file = PasswordFile::new("pw-file", "s3cret\r\n");
    let from_file = settings(&["--brokers=b:9092", "--sasl-password-file", file.path()]);
    assert_eq!(password(&from_file), Some("s3cret"), "without its line ending");
    assert_eq!(password(&settings(&["--brokers=b:9092"])), None);
}

#[test]
fn password_files_lose_their_newline_and_errors_name_the_file() {
    let file = PasswordFile::new("pw", "s3cret\n");
    assert_eq!(read_secret_file(file.path()).expect("readable").expose_secret(), "s3cret");
    let err = read_secret_file("/nonexistent/pw").expect_err("missing");
    assert!(err.contains("/nonexistent/pw"), "{err}");
}

#[test]
fn property_errors_do_not_echo_the_value() {
    let err = parse_property("sasl.passwordhunter2").expect_err("no '='");
    assert!(!err.contains("hunter2"));
    assert_eq!(parse_property("a=b=c"), Ok(("a".into(), "b=c".into())));
}
