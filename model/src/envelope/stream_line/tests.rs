//! The hand-written stream-line scan against serde_json reading the same shape: never looser on
//! any input, and the same answer on well-formed lines.

use super::stream_line_id;
use crate::object::Object;
use proptest::prelude::*;

/// The shape, as serde_json reads it (the fast path before it was hand-written), of a document
/// the general path takes: serde_json reads all of it (numbers within an `f64`, no lone
/// surrogate, in skipped fields too) and PostgreSQL can store it.
fn oracle(raw: &[u8]) -> Option<i64> {
    serde_json::from_slice::<serde_json::Value>(raw).ok()?;
    crate::json_limits::check(raw).ok()?;
    shape(raw)
}

fn shape(raw: &[u8]) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Line<'a> {
        #[serde(borrow)]
        data: Option<Object<Tweet<'a>>>,
        statuses: Option<serde::de::IgnoredAny>,
    }
    #[derive(serde::Deserialize)]
    struct Tweet<'a> {
        id: Option<&'a str>,
        text: Option<String>,
    }
    let text = std::str::from_utf8(raw).ok()?;
    let Object(line): Object<Line<'_>> = serde_json::from_str(text).ok()?;
    let tweet = line.data?;
    if line.statuses.is_some() || tweet.text.is_none() {
        return None;
    }
    crate::id::parse_id_str(tweet.id?).ok()
}

/// A JSON value written out by hand, so keys may repeat and whitespace may vary.
#[derive(Debug, Clone)]
enum Json {
    Lit(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn write(&self, out: &mut String, gap: &str) {
        match self {
            Json::Lit(s) => out.push_str(s),
            Json::Array(items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(gap);
                    item.write(out, gap);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (n, (key, value)) in members.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(gap);
                    if key == LONE_KEY {
                        out.push_str(r#""\udc00""#);
                    } else {
                        out.push_str(&quoted(key));
                    }
                    out.push(':');
                    out.push_str(gap);
                    value.write(out, gap);
                }
                out.push('}');
            }
        }
    }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn literal() -> impl Strategy<Value = Json> {
    prop_oneof![
        3 => any::<String>().prop_map(|s| quoted(&s)),
        3 => "[a-z #@\"\\\\\n\u{e9}\u{1F600}]{0,12}".prop_map(|s| quoted(&s)),
        3 => any::<i64>().prop_map(|n| n.to_string()),
        3 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:e}")),
        3 => prop::sample::select(&["-0.5E+3", "true", "false", "null"][..]).prop_map(str::to_owned),
        // What an f64 or PostgreSQL cannot hold, and strings that are no characters: refused
        // by the general path wherever they are.
        1 => prop::sample::select(&["1e400", "-1e309", "1e-20000", "0.0e-16383", "1e1000000"][..])
            .prop_map(str::to_owned),
        1 => prop::sample::select(&[r#""\ud800""#, r#""x\udc00""#, r#""\ud83c\u0041""#][..])
            .prop_map(str::to_owned),
    ]
    .prop_map(Json::Lit)
}

/// Any value; keys deep down may be anything, including escaped ones.
fn value() -> impl Strategy<Value = Json> {
    literal().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::vec((any_key(), inner), 0..6).prop_map(Json::Object),
        ]
    })
}

/// Any key, now and then one with a lone surrogate (written raw, unquoted by `quoted`).
fn any_key() -> impl Strategy<Value = String> {
    prop_oneof![20 => any::<String>(), 1 => Just(LONE_KEY.to_owned())]
}

/// Stands for the key `"\udc00"`, which no Rust string holds: [`Json::write`] writes it raw.
const LONE_KEY: &str = "\u{fffe}lone";

/// A key of the top two levels: the fields the scan looks for, or plain unknown ones.
fn key(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![1 => prop::sample::select(names).prop_map(str::to_owned), 6 => "[a-z_]{0,8}"]
}

/// Mostly a valid tweet id; sometimes not one, escaped, or a number.
fn id() -> impl Strategy<Value = Json> {
    prop_oneof![
        6 => (1..i64::MAX).prop_map(|n| quoted(&n.to_string())),
        1 => "[0-9]{0,21}".prop_map(|s| quoted(&s)),
        1 => Just(r#""1\u0032""#.to_owned()),
        1 => Just("12".to_owned()),
    ]
    .prop_map(Json::Lit)
}

/// Mostly a string text; sometimes another value.
fn text() -> impl Strategy<Value = Json> {
    prop_oneof![5 => any::<String>().prop_map(|s| Json::Lit(quoted(&s))), 1 => literal()]
}

/// Unknown members, then (each usually there) an id and a text, and now and then a second
/// one of either; in any order.
fn members(
    names: &'static [&'static str],
    wanted: Vec<BoxedStrategy<(String, Json)>>,
) -> impl Strategy<Value = Vec<(String, Json)>> {
    let unknown = prop::collection::vec((key(names), value()), 0..4);
    let wanted: Vec<_> = wanted.into_iter().map(|w| prop::option::weighted(0.9, w)).collect();
    let extra = prop::option::weighted(0.15, (key(names), value()));
    (unknown, wanted, extra).prop_flat_map(|(mut all, wanted, extra)| {
        all.extend(wanted.into_iter().flatten());
        all.extend(extra);
        Just(all).prop_shuffle()
    })
}

fn tweet() -> impl Strategy<Value = Json> {
    let wanted = vec![
        id().prop_map(|v| ("id".to_owned(), v)).boxed(),
        text().prop_map(|v| ("text".to_owned(), v)).boxed(),
    ];
    members(&["id", "text"], wanted).prop_map(Json::Object)
}

/// A stream-line-like document, free of the cases the scan leaves to the general path on
/// purpose (escaped keys up top, lone surrogates, `"statuses": null`).
fn line() -> impl Strategy<Value = String> {
    let data = prop_oneof![5 => tweet(), 1 => value()].prop_map(|t| ("data".to_owned(), t)).boxed();
    let gap = prop::sample::select(&["", " ", "\n\t "][..]);
    (members(&["data", "statuses", "includes"], vec![data]), gap)
        .prop_filter("statuses: null", |(members, _)| {
            !members.iter().any(|(k, v)| k == "statuses" && matches!(v, Json::Lit(l) if l == "null"))
        })
        .prop_map(|(members, gap)| {
            let mut out = String::new();
            Json::Object(members).write(&mut out, gap);
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn well_formed_lines_get_the_oracles_answer(line in line()) {
        prop_assert_eq!(stream_line_id(line.as_bytes()), oracle(line.as_bytes()), "{}", line);
    }

    #[test]
    fn numbers_fit_as_serde_json_and_postgresql_read_them(
        int in "-?(0|[1-9][0-9]{0,3}|[1-9][0-9]{300,320})",
        frac in prop::option::of("[0-9]{1,4}|0{16378,16384}"),
        exp in prop::option::of((prop::sample::select(&["e", "E"][..]), prop::sample::select(&["", "+", "-"][..]),
            "[0-9]{1,6}|0*1073741823|1073741824|[1-9][0-9]{10,20}")),
    ) {
        let lit = format!("{int}{}{}", frac.as_ref().map(|f| format!(".{f}")).unwrap_or_default(),
            exp.as_ref().map(|(e, sign, digits)| format!("{e}{sign}{digits}")).unwrap_or_default());
        let exponent: i128 = exp.as_ref().map_or(0, |(_, sign, digits)| {
            let magnitude = digits.trim_start_matches('0').parse::<i128>().unwrap_or(if digits.trim_start_matches('0').is_empty() { 0 } else { i128::MAX / 4 });
            if *sign == "-" { -magnitude } else { magnitude }
        });
        let scale = frac.as_ref().map_or(0, |f| f.len() as i128) - exponent;
        let postgresql = scale <= 16_383 && exponent.abs() <= 1_073_741_823;
        let f64 = serde_json::from_str::<serde_json::Value>(&lit).is_ok();
        prop_assert_eq!(crate::json_limits::number_fits(lit.as_bytes()), f64 && postgresql, "{}", lit);
    }

    #[test]
    fn damaged_lines_are_never_taken_where_the_oracle_refuses(
        line in line(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, prop::sample::select(
            &b"\"\\{}[],:0159eE.-+ \x00\x1f\x7f\x80\xc3\xff\ntu/"[..])), 1..4),
    ) {
        let mut bytes = line.into_bytes();
        for (at, how, byte) in edits {
            let at = at.index(bytes.len() + 1);
            match how {
                0 => bytes.insert(at, byte),
                1 if at < bytes.len() => bytes[at] = byte,
                _ if at < bytes.len() => { bytes.remove(at); }
                _ => bytes.push(byte),
            }
        }
        let fast = stream_line_id(&bytes);
        prop_assert!(fast.is_none() || fast == oracle(&bytes), "{:?}", String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn what_the_scan_leaves_to_the_general_path() {
    let cases = [
        r#"{"data":{"id":"7","text":"\ud800"}}"#,
        r#"{"data":{"id":"1601","text":"x","y":1e400}}"#,
        r#"{"data":{"id":"1601","text":"x"},"junk":1e-20000}"#,
        r#"{"data":{"id":"1601","text":"x"},"m":{"\udc00":1}}"#,
        r#"{"data":{"id":"122","text":"x"},"statuses":[]}"#,
        r#"{"data":{"id":"7","text":"t","x":"\udc00\ud800"}}"#,
        r#"{"d\u0061ta":{"id":"7","text":"t"}}"#,
        r#"{"data":{"id":"7","text":"t"},"statuses":null}"#,
    ];
    for line in cases {
        assert_eq!(stream_line_id(line.as_bytes()), None, "{line}");
    }
    let deep = format!(r#"{{"data":{{"id":"7","text":"t"}},"x":{}{}}}"#, "[".repeat(150), "]".repeat(150));
    // serde_json skips ignored values without a depth limit, but the general path reads a
    // `Value`, which refuses this: the line is dead-lettered either way.
    assert_eq!(stream_line_id(deep.as_bytes()), None);
    assert!(serde_json::from_str::<serde_json::Value>(&deep).is_err());
    let paired = r#"{"data":{"id":"7","text":"\ud83d\ude00 \u00e9\n"},"x":[1.5e-3,-0,true,{}]}"#;
    assert_eq!(stream_line_id(paired.as_bytes()), Some(7));
}

#[test]
fn non_ascii_text_is_checked_as_utf8_in_runs() {
    let line = |text: &[u8]| [&br#"{"data":{"id":"7","text":""#[..], text, br#""}}"#].concat();
    let good = ["東京 🎤 café".as_bytes(), "😀😀".as_bytes(), "é".as_bytes()];
    for text in good {
        assert_eq!(stream_line_id(&line(text)), Some(7), "{}", String::from_utf8_lossy(text));
    }
    // A character cut short before ASCII or the closing quote, a stray continuation byte, an
    // overlong form, a surrogate encoded directly.
    let bad: [&[u8]; 5] = [b"\xe6\x9d a", b"ok \xe6\x9d", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80"];
    for text in bad {
        assert_eq!((stream_line_id(&line(text)), oracle(&line(text))), (None, None), "{text:?}");
    }
}
