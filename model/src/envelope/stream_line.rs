//! The fast path for a v2 stream line, by far the most common input: one pass over the bytes
//! that checks the whole line is JSON and picks out `data.id`, without building anything.
//!
//! It is the producer's hottest loop (serde_json with ignored fields took a quarter of its CPU),
//! so it is hand-written. It may only be stricter than the general path, never looser: every
//! doubt (an escaped key, a lone surrogate, a number out of range, deep nesting, `statuses`)
//! answers `None`, and the general path decides. The tests hold it to a serde_json reading of the same shape.

use bytes::Bytes;

use super::{Item, TweetMessage};
use crate::Format;

/// A well-formed v2 stream line, produced byte for byte; `None` sends the line down the general
/// path, which gives the same answer for these lines and a precise one for everything else
/// (duplicate keys, odd ids, a missing text, notices, pages).
pub(super) fn stream_line(raw: &[u8]) -> Option<Item> {
    let id = stream_line_id(raw)?;
    Some(Item::Tweet(TweetMessage { id, format: Format::V2, payload: Bytes::copy_from_slice(raw) }))
}

/// The tweet id of a line this fast path recognises: a JSON object whose `data` is an object
/// with a string `id` (a valid tweet id, unescaped) and a string `text`, each key at most once,
/// and with no `statuses`. Such a line is its own message.
pub fn stream_line_id(raw: &[u8]) -> Option<i64> {
    let (end, id) = line(raw)?;
    if ws(raw, end) != raw.len() {
        return None;
    }
    // The scan checked every string's UTF-8, and outside strings only ASCII passes the grammar.
    let id = std::str::from_utf8(id).ok()?;
    crate::id::parse_id_str(id).ok()
}

// The scan: each step takes the line and a position and returns the position after what it
// read, so the position stays in a register.

/// The general path's serde_json refuses nesting deeper than 128; stop well before it.
const MAX_DEPTH: u32 = 100;

/// The top-level object: where it ends, and the id of its `data`.
fn line(b: &[u8]) -> Option<(usize, &[u8])> {
    let mut id = None;
    let end = members(b, ws(b, 0), 0, |key, escaped, at| match key {
        _ if escaped => None,
        b"data" if id.is_none() => {
            let (end, tweet_id) = tweet(b, at)?;
            id = Some(tweet_id);
            Some(end)
        }
        b"data" | b"statuses" => None,
        _ => value(b, at, 1),
    })?;
    Some((end, id?))
}

/// `data`: an object with one unescaped string `id` and one string `text`.
fn tweet(b: &[u8], at: usize) -> Option<(usize, &[u8])> {
    let (mut id, mut text) = (None, false);
    let end = members(b, at, 1, |key, escaped, at| match key {
        _ if escaped => None,
        b"id" if id.is_none() => {
            let (end, escaped) = string(b, at)?;
            id = Some(b.get(at + 1..end - 1)?).filter(|_| !escaped);
            id.map(|_| end)
        }
        b"text" if !text => {
            text = true;
            string(b, at).map(|(end, _)| end)
        }
        b"id" | b"text" => None,
        _ => value(b, at, 2),
    })?;
    Some((end, id.filter(|_| text)?))
}

#[inline(always)]
fn ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// `{ "key": value, … }` at `i` (no whitespace before it), at nesting `depth`. After each key's
/// colon and whitespace, `member` gets the raw key, whether it has escapes (which field an
/// escaped key names would need unescaping), and the value's position; it returns where the
/// value ends.
fn members(
    b: &[u8],
    i: usize,
    depth: u32,
    mut member: impl FnMut(&[u8], bool, usize) -> Option<usize>,
) -> Option<usize> {
    if depth >= MAX_DEPTH || b.get(i) != Some(&b'{') {
        return None;
    }
    let mut i = ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return Some(i + 1);
    }
    loop {
        let (end, escaped) = string(b, i)?;
        let key = b.get(i + 1..end - 1)?;
        i = ws(b, end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = ws(b, member(key, escaped, ws(b, i + 1))?);
        match b.get(i)? {
            b',' => i = ws(b, i + 1),
            b'}' => return Some(i + 1),
            _ => return None,
        }
    }
}

/// Any JSON value at `i`, checked and skipped.
fn value(b: &[u8], i: usize, depth: u32) -> Option<usize> {
    match b.get(i)? {
        b'"' => string(b, i).map(|(end, _)| end),
        b'{' => members(b, i, depth, |_, _, at| value(b, at, depth + 1)),
        b'[' => array(b, i, depth),
        b't' => literal(b, i, b"true"),
        b'f' => literal(b, i, b"false"),
        b'n' => literal(b, i, b"null"),
        _ => number(b, i),
    }
}

fn array(b: &[u8], i: usize, depth: u32) -> Option<usize> {
    if depth >= MAX_DEPTH {
        return None;
    }
    let mut i = ws(b, i + 1);
    if b.get(i) == Some(&b']') {
        return Some(i + 1);
    }
    loop {
        i = ws(b, value(b, i, depth + 1)?);
        match b.get(i)? {
            b',' => i = ws(b, i + 1),
            b']' => return Some(i + 1),
            _ => return None,
        }
    }
}

fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    let end = i + word.len();
    (b.get(i..end)? == word).then_some(end)
}

fn digits(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, within what an `f64` and
/// PostgreSQL's `numeric` hold ([`crate::json_limits`]).
fn number(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    i = match b.get(i)? {
        b'0' => i + 1,
        b'1'..=b'9' => digits(b, i + 1),
        _ => return None,
    };
    if b.get(i) == Some(&b'.') {
        let end = digits(b, i + 1);
        (end > i + 1).then_some(())?;
        i = end;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let end = digits(b, i);
        (end > i).then_some(())?;
        i = end;
    }
    crate::json_limits::number_fits(b.get(start..i)?).then_some(i)
}

/// A string at `i`: where it ends (after the closing quote), and whether it has escapes.
#[inline(always)]
fn string(b: &[u8], i: usize) -> Option<(usize, bool)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut i = i + 1;
    let mut escaped = false;
    loop {
        i += plain_run(b.get(i..)?);
        match b.get(i)? {
            b'"' => return Some((i + 1, escaped)),
            b'\\' => {
                escaped = true;
                i = escape(b, i + 1)?;
            }
            0x80.. => i = utf8_char(b, i)?,
            _ => return None, // a control character
        }
    }
}

/// After a backslash: one of `"\/bfnrt`, or `\uXXXX` where a surrogate must be a proper pair
/// (serde_json refuses a lone one in a string it reads).
fn escape(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(i + 1),
        b'u' => match hex4(b, i + 1)? {
            0xD800..=0xDBFF => {
                let i = literal(b, i + 5, b"\\u")?;
                matches!(hex4(b, i)?, 0xDC00..=0xDFFF).then_some(i + 4)
            }
            0xDC00..=0xDFFF => None,
            _ => Some(i + 5),
        },
        _ => None,
    }
}

/// The end of the multi-byte UTF-8 character starting at `i`, if it is one.
fn utf8_char(b: &[u8], i: usize) -> Option<usize> {
    let len = match b.get(i)? {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    std::str::from_utf8(b.get(i..i + len)?).ok().map(|_| i + len)
}

fn hex4(b: &[u8], i: usize) -> Option<u32> {
    let hex = b.get(i..i + 4)?;
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

/// How many leading bytes need no attention inside a string: ASCII, and not `"`, `\` or a
/// control character. Eight at a time, as most string bytes are plain.
#[inline(always)]
fn plain_run(b: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut n = 0;
    for chunk in b.chunks_exact(8) {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
        let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let hits = zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | below_space
            | (w & HIGH);
        if hits != 0 {
            // The lowest flagged byte is exact; borrows only spoil the bytes above it.
            return n + (hits.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + b[n..].iter().take_while(|&&c| c != b'"' && c != b'\\' && (0x20..0x80).contains(&c)).count()
}

#[cfg(test)]
mod tests;
