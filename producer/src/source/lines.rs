//! Reading JSON lines, or whole JSON documents spread over many lines, from any byte stream.
//!
//! Lines are read as bytes, so invalid UTF-8 becomes a dead letter rather than an I/O error. A
//! line that is the start of a longer document (a pretty-printed REST response) is joined with
//! the following lines until the document is complete; if it never completes, the first line is
//! rejected on its own and the lines after it are read again one by one, so a truncated line
//! never swallows the good lines behind it.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use tokio::sync::mpsc::Sender;
use tweetpipe_model::envelope::{
    classify_general, classify_value, stream_line_id, trim_ascii, trimmed_range, unparsable, Item, Reject,
    TweetMessage,
};
use tweetpipe_model::Format;

use super::{Msg, ReadStats, Record, StopFlag};

/// How much of an oversized line a dead letter keeps.
const OVERSIZED_KEEP: usize = 64 * 1024;

/// Opens a file, decompressing it when it starts with the gzip magic bytes.
pub fn open_file(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let mut reader = BufReader::with_capacity(256 * 1024, File::open(path)?);
    let gz = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::with_capacity(256 * 1024, flate2::bufread::MultiGzDecoder::new(reader)))
    } else {
        Box::new(reader)
    })
}

/// One physical line: its 1-based number, its bytes (possibly cut at the limit), its full length.
struct Line {
    number: u64,
    bytes: Vec<u8>,
    len: usize,
}

struct Lines<R> {
    reader: R,
    next_number: u64,
    max: usize,
    /// Lines read ahead while trying to complete a document, to be read again.
    replay: VecDeque<Line>,
}

impl<R: BufRead> Lines<R> {
    fn next(&mut self) -> io::Result<Option<Line>> {
        if let Some(line) = self.replay.pop_front() {
            return Ok(Some(line));
        }
        let mut bytes = Vec::new();
        let mut len = 0usize;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let (chunk, done) = match memchr::memchr(b'\n', buf) {
                Some(i) => (&buf[..=i], true),
                None => (buf, false),
            };
            let room = self.max.saturating_sub(bytes.len());
            bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            len += chunk.len();
            let used = chunk.len();
            self.reader.consume(used);
            if done {
                break;
            }
        }
        if len == 0 {
            return Ok(None);
        }
        self.next_number += 1;
        Ok(Some(Line { number: self.next_number, bytes, len }))
    }
}

/// Reads `reader` to the end (or until stopped), sending one record per classified item.
pub fn read<R: Read + BufRead>(
    reader: R,
    origin: Arc<str>,
    max_line_bytes: usize,
    tx: &Sender<Msg>,
    stop: &StopFlag,
    progress: &indicatif::ProgressBar,
) -> io::Result<ReadStats> {
    let mut lines = Lines { reader, next_number: 0, max: max_line_bytes, replay: VecDeque::new() };
    let mut stats = ReadStats::default();
    let send = |line: u64, item: Item| {
        tx.blocking_send(Msg::Record(Record { origin: origin.clone(), line, item })).is_ok()
    };

    while let Some(line) = lines.next()? {
        if stop.is_stopped() {
            break;
        }
        stats.lines += 1;
        stats.bytes += line.len as u64;
        // For gzip input this counts uncompressed bytes against the compressed size: a guide only.
        progress.inc(line.len as u64);
        if line.len > max_line_bytes {
            let reject = Reject {
                payload: Some(line.bytes[..line.bytes.len().min(OVERSIZED_KEEP)].to_vec()),
                ..Reject::new(
                    "oversized",
                    format!("line of {} bytes exceeds the limit of {max_line_bytes}", line.len),
                )
            };
            if !send(line.number, Item::Reject(with_size(reject, line.len))) {
                break;
            }
            continue;
        }
        let trimmed = trim_ascii(&line.bytes);
        if trimmed.is_empty() {
            if !send(line.number, Item::Control("keep_alive")) {
                break;
            }
            continue;
        }
        // The common case: one stream line, which becomes its message without a copy.
        if let Some(id) = stream_line_id(trimmed) {
            let range = trimmed_range(&line.bytes);
            let mut payload = line.bytes;
            payload.truncate(range.end);
            payload.drain(..range.start);
            if !send(line.number, Item::Tweet(TweetMessage { id, format: Format::V2, payload })) {
                break;
            }
            continue;
        }
        let items = match classify_general(trimmed) {
            Ok(items) => items,
            Err(e) if e.is_eof() && matches!(trimmed.first(), Some(b'{' | b'[')) => {
                match complete_document(&mut lines, &line, max_line_bytes, &mut stats)? {
                    Some(items) => items,
                    None => vec![Item::Reject(unparsable(trimmed, &e))],
                }
            }
            Err(e) => vec![Item::Reject(unparsable(trimmed, &e))],
        };
        for item in items {
            let item = match item {
                // A reject of the whole line carries the line itself.
                Item::Reject(mut r) if r.payload.is_none() => {
                    r.payload = Some(trimmed.to_vec());
                    Item::Reject(r)
                }
                other => other,
            };
            if !send(line.number, item) {
                return Ok(stats);
            }
        }
    }
    Ok(stats)
}

/// Tries to complete a document that starts on `first` with the lines after it. On failure the
/// lines read ahead are queued to be read again, one by one.
fn complete_document<R: BufRead>(
    lines: &mut Lines<R>,
    first: &Line,
    max: usize,
    stats: &mut ReadStats,
) -> io::Result<Option<Vec<Item>>> {
    let mut doc = first.bytes.clone();
    let mut ahead: Vec<Line> = Vec::new();
    while let Some(next) = lines.next()? {
        let closes = matches!(trim_ascii(&next.bytes).last(), Some(b'}' | b']'));
        let fits = next.len == next.bytes.len() && doc.len() + next.bytes.len() <= max;
        doc.extend_from_slice(&next.bytes);
        ahead.push(next);
        if !fits {
            break;
        }
        // A pretty-printed document can only end on a line that ends with a closing bracket;
        // parsing only there keeps long documents linear.
        if !closes {
            continue;
        }
        match serde_json::from_slice(trim_ascii(&doc)) {
            Ok(value) => {
                for line in &ahead {
                    stats.lines += 1;
                    stats.bytes += line.len as u64;
                }
                return Ok(Some(classify_value(value, Some(trim_ascii(&doc)))));
            }
            Err(e) if e.is_eof() => continue,
            Err(_) => break,
        }
    }
    for line in ahead.into_iter().rev() {
        lines.replay.push_front(line);
    }
    Ok(None)
}

fn with_size(mut reject: Reject, size: usize) -> Reject {
    reject.message.push_str(&format!(" (kept the first {} bytes)", OVERSIZED_KEEP.min(size)));
    reject
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], max: usize) -> (Vec<(u64, Item)>, ReadStats) {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let stats =
            read(input, "test".into(), max, &tx, &StopFlag::default(), &indicatif::ProgressBar::hidden())
                .expect("read");
        drop(tx);
        let mut out = Vec::new();
        while let Ok(Msg::Record(r)) = rx.try_recv() {
            out.push((r.line, r.item));
        }
        (out, stats)
    }

    fn classes(items: &[(u64, Item)]) -> Vec<(u64, String)> {
        items
            .iter()
            .map(|(n, i)| match i {
                Item::Tweet(t) => (*n, format!("tweet:{}", t.id)),
                Item::Control(k) => (*n, format!("control:{k}")),
                Item::Delete(id) => (*n, format!("delete:{id}")),
                Item::Reject(r) => (*n, format!("reject:{}", r.class)),
            })
            .collect()
    }

    #[test]
    fn json_lines_with_bad_lines_between_good_ones() {
        let input = b"{\"data\":{\"id\":\"1\",\"text\":\"a\"}}\r\n\
            {\"data\":{\"id\":\"2\",\"te\n\
            \r\n\
            {\"data\":{\"id\":\"3\",\"text\":\"c\"}}\n\
            \xff\xfe\n\
            {\"data\":{\"id\":\"4\",\"text\":\"d\"}}";
        let (items, stats) = read_all(input, 1 << 20);
        assert_eq!(
            classes(&items),
            [
                (1, "tweet:1".to_owned()),
                (2, "reject:invalid_json".to_owned()),
                (3, "control:keep_alive".to_owned()),
                (4, "tweet:3".to_owned()),
                (5, "reject:invalid_utf8".to_owned()),
                (6, "tweet:4".to_owned()),
            ]
        );
        assert_eq!(stats.lines, 6);
        match &items[1].1 {
            Item::Reject(r) => assert_eq!(r.payload.as_deref(), Some(&b"{\"data\":{\"id\":\"2\",\"te"[..])),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_pretty_printed_document_is_one_input() {
        let doc = serde_json::to_string_pretty(&serde_json::json!({
            "data": [{"id": "10", "text": "x"}, {"id": "11", "text": "y"}],
            "meta": {"result_count": 2}
        }))
        .expect("json");
        let (items, stats) = read_all(doc.as_bytes(), 1 << 20);
        assert_eq!(classes(&items), [(1, "tweet:10".to_owned()), (1, "tweet:11".to_owned())]);
        assert_eq!(stats.lines as usize, doc.lines().count());
    }

    #[test]
    fn oversized_lines_are_rejected_and_reading_goes_on() {
        let mut input = vec![b'{'; 5000];
        input.extend_from_slice(b"\n{\"data\":{\"id\":\"7\",\"text\":\"ok\"}}\n");
        let (items, _) = read_all(&input, 1000);
        assert_eq!(classes(&items), [(1, "reject:oversized".to_owned()), (2, "tweet:7".to_owned())]);
    }
}
