//! Log formats by name: the names the command line offers, and nothing else.

use super::*;

#[test]
fn every_format_parses_back_from_its_name() {
    for format in LogFormat::ALL {
        assert_eq!(format.name().parse::<LogFormat>(), Ok(format));
        assert_eq!(format.to_string(), format.name());
    }
    assert_eq!(LogFormat::default().name(), "text");
}

#[test]
fn other_names_are_refused() {
    for name in ["", "JSON", "Text", "xml", " json"] {
        assert_eq!(name.parse::<LogFormat>(), Err(UnknownLogFormat(name.to_owned())));
    }
    assert_eq!(
        UnknownLogFormat("xml".to_owned()).to_string(),
        r#"unknown log format "xml" (expected one of: text, json)"#
    );
}
