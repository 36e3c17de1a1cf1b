//! Durations read from flags, and printed in messages.

use super::*;

#[test]
fn units_or_the_old_bare_unit() {
    assert_eq!(secs("20s"), Ok(Duration::from_secs(20)));
    assert_eq!(secs("20"), Ok(Duration::from_secs(20)));
    assert_eq!(secs("1m 30s"), Ok(Duration::from_secs(90)));
    assert_eq!(millis("200"), Ok(Duration::from_millis(200)));
    assert_eq!(millis("200ms"), Ok(Duration::from_millis(200)));
    assert_eq!(millis("1s"), Ok(Duration::from_secs(1)));
    assert!(secs("soon").is_err_and(|e| e.contains("20s")));
    assert!(secs("-1").is_err());
}

#[test]
fn durations_print_as_people_write_them() {
    assert_eq!(human(Duration::from_nanos(2_999_774_631)), "3s");
    assert_eq!(human(Duration::from_secs(90)), "1m 30s");
    assert_eq!(human(Duration::from_micros(250_400)), "250ms");
    assert_eq!(human(Duration::ZERO), "0s");
}
