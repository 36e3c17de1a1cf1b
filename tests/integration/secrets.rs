//! Passwords never show in `--help`, logs or errors.

use std::process::Command;
use std::time::Duration;

use tweetpipe_tests::{bin, run};

const PASSWORD: &str = "Sup3rS3cretPassw0rd";

fn assert_hidden(out: &std::process::Output) {
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains(PASSWORD), "the password leaked:\n{all}");
}

#[test]
fn help_never_shows_secrets() {
    for (binary, args) in
        [("tweetpipe-consumer", vec!["run", "--help"]), ("tweetpipe-producer", vec!["--help"])]
    {
        let out = Command::new(bin(binary))
            .args(args)
            .env("DATABASE_URL", format!("postgres://tweetpipe:{PASSWORD}@localhost:5432/tweetpipe"))
            .env("KAFKA_SASL_PASSWORD", PASSWORD)
            .output()
            .expect("run");
        assert!(out.status.success());
        assert_hidden(&out);
    }
}

#[test]
fn database_errors_mask_the_password() {
    // Nothing listens on port 1: a connection error, retried until the 1 s deadline.
    let unreachable = run(
        Command::new(bin("tweetpipe-consumer"))
            .args(["migrate", "--db-connect-timeout", "1"])
            .env("DATABASE_URL", format!("postgres://tweetpipe:{PASSWORD}@127.0.0.1:1/tweetpipe")),
        Duration::from_secs(60),
    );
    assert!(!unreachable.status.success());
    assert_hidden(&unreachable);
    // Shown without its password, so the operator still sees which server it tried.
    assert!(
        String::from_utf8_lossy(&unreachable.stderr).contains("postgres://tweetpipe@127.0.0.1:1/tweetpipe")
    );

    // The real server, the wrong password: refused at once, not retried.
    let refused = run(
        Command::new(bin("tweetpipe-consumer"))
            .args(["migrate"])
            .env("DATABASE_URL", format!("postgres://tweetpipe:{PASSWORD}@localhost:5432/tweetpipe")),
        Duration::from_secs(60),
    );
    assert!(!refused.status.success());
    assert_hidden(&refused);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("password authentication failed"));
}
