//! Control notices (keep-alives aside) and deletions: recognised, counted, never produced as
//! tweets. A deletion needs a usable id; without one it is rejected, never dropped silently.

use serde_json::{Map, Value};

use super::{has_text, Item, Reject};
use crate::dead_letter::Class;
use crate::id::{v1_id, v2_id};

/// v1.1 stream notices that are not tweets.
const V1_NOTICES: &[(&str, &str)] = &[
    ("limit", "limit"),
    ("scrub_geo", "scrub_geo"),
    ("status_withheld", "status_withheld"),
    ("user_withheld", "user_withheld"),
    ("disconnect", "disconnect"),
    ("warning", "warning"),
    ("friends", "friends"),
    ("event", "event"),
];

/// The item a notice or deletion stands for; `None` when `obj` is neither.
pub(super) fn classify_notice(obj: &Map<String, Value>) -> Option<Item> {
    let no_text = !obj.contains_key("text") && !obj.contains_key("full_text");
    if let Some(delete) = obj.get("delete").filter(|_| !has_text(obj)) {
        let status = delete.get("status").and_then(Value::as_object);
        if status.is_some() || no_text {
            return Some(match status.map(v1_id) {
                Some(Ok(id)) => Item::Delete(id),
                Some(Err(e)) => invalid_delete(format!("delete notice: {e}")),
                None => invalid_delete("delete notice without a status object".to_owned()),
            });
        }
    }
    for (key, kind) in V1_NOTICES {
        if obj.contains_key(*key) && no_text {
            return Some(Item::Control(kind));
        }
    }
    if obj.get("action").is_some_and(Value::is_string) && !has_text(obj) {
        if obj.get("action").and_then(Value::as_str) == Some("delete") {
            return Some(match v2_id(obj) {
                Ok(id) => Item::Delete(id),
                Err(e) => invalid_delete(format!("compliance delete event: {e}")),
            });
        }
        return Some(Item::Control("compliance"));
    }
    if obj.contains_key("errors") && !has_text(obj) {
        return Some(Item::Control(stream_error_kind(obj)));
    }
    if obj.get("meta").is_some() && !has_text(obj) {
        return Some(Item::Control("empty_page"));
    }
    None
}

/// A deletion whose tweet cannot be named: dead-lettered, so nobody mistakes it for honoured.
fn invalid_delete(message: String) -> Item {
    Item::Reject(Reject::new(Class::InvalidDelete, message))
}

/// Names an `errors`-only line: `operational_disconnect` and friends, or plain `errors`.
fn stream_error_kind(obj: &Map<String, Value>) -> &'static str {
    let first_type = obj
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|errs| errs.first())
        .and_then(|e| e.get("type").or_else(|| e.get("title")))
        .and_then(Value::as_str)
        .unwrap_or("");
    if first_type.contains("operational-disconnect") || first_type.contains("Operational Disconnect") {
        "operational_disconnect"
    } else if first_type.contains("ConnectionException") || first_type.contains("disconnect") {
        "disconnect"
    } else {
        "errors"
    }
}
