//! Joining documents spread over lines: what is joined, what is rejected, and in linear time.

use super::*;

#[test]
fn shapes_ignore_brackets_in_strings() {
    assert_eq!(shape(br#"{"a": "[{\"}", "b": ["#), Shape { delta: 2, low: 0, open_string: false });
    assert_eq!(shape(b"  ]},"), Shape { delta: -2, low: -2, open_string: false });
    assert_eq!(shape(b"}{"), Shape { delta: 0, low: -1, open_string: false });
    assert_eq!(shape(br#"{"text": "cut \"here"#), Shape { delta: 1, low: 0, open_string: true });
}
