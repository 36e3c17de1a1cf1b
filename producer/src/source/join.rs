//! Joining a JSON document spread over many lines (a pretty-printed REST response), in linear
//! time on any input.
//!
//! A line that is an unfinished JSON prefix (`{`, `[` …) may start a document. Each line's
//! bracket shape is scanned once when it arrives ([`Shape`]): JSON strings cannot hold a raw
//! newline, so every line starts outside a string and its shape does not depend on the lines
//! before it. The open starts form a stack of bracket levels; a line whose lowest level reaches
//! a start's level ends that start's document. Only then is the document parsed, once; a start
//! whose document fails to parse marks its lines, and no later document containing a marked line
//! is parsed (its start is rejected on its own instead). So every line is scanned once, parsed
//! alone at most twice, and as part of a document at most once: work is linear in the input.
//!
//! Nothing is lost: a start whose document never completes — the input ends, a line holds an
//! unterminated string or was cut at the size limit, or the document would exceed
//! [`Limits`] — is rejected on its own, and the lines after it are read as if it was not there.

use std::collections::VecDeque;

use bytes::Bytes;
use tweetpipe_model::dead_letter::Class;

use tweetpipe_model::envelope::{
    classify_general, classify_value, stream_line_id, trim_ascii, unparsable, Item, Reject, TweetMessage,
};
use tweetpipe_model::Format;

/// How much of an oversized line a dead letter keeps.
const OVERSIZED_KEEP: usize = 64 * 1024;

/// One physical line: its 1-based number, its bytes (possibly cut at the limit), its full length.
///
/// The bytes are a slice of the read buffer, shared rather than copied: a stream line goes on
/// to the sink as it is, and the buffer is freed once the last of its lines is produced.
pub struct Line {
    pub number: u64,
    pub bytes: Bytes,
    pub len: usize,
}

impl Line {
    /// The dead letter of a line longer than the limit: its first bytes and why.
    pub fn oversized(&self, max_line_bytes: usize) -> Reject {
        let kept = self.bytes.len().min(OVERSIZED_KEEP);
        Reject {
            payload: Some(self.bytes[..kept].to_vec()),
            ..Reject::new(
                Class::Oversized,
                format!(
                    "line of {} bytes exceeds the limit of {max_line_bytes} (kept the first {kept} bytes)",
                    self.len
                ),
            )
        }
    }
}

/// How large a joined document may grow before its first line is given up on.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_lines: usize,
}

/// The bracket shape of one line, brackets inside strings ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Net change of the nesting level.
    pub delta: i64,
    /// The lowest level reached, relative to the line's start (0 or below).
    pub low: i64,
    /// The line ends inside a string: it cannot be part of any multi-line document.
    pub open_string: bool,
}

pub fn shape(bytes: &[u8]) -> Shape {
    let (mut level, mut low, mut in_string, mut escaped) = (0i64, 0i64, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => level += 1,
            b'}' | b']' => {
                level -= 1;
                low = low.min(level);
            }
            _ => {}
        }
    }
    Shape { delta: level, low, open_string: in_string }
}

/// What a line is on its own, decided when it arrives.
enum Kind {
    /// Complete, hopeless, blank or oversized: classified alone when its turn comes.
    Alone,
    /// An unfinished JSON prefix: the start of a document, ending at buffer index `end` once
    /// known. `dead` once something made completion impossible. `reject` is its fate alone.
    Start { reject: Reject, end: Option<u64>, dead: bool },
}

struct Buffered {
    line: Line,
    kind: Kind,
    /// Part of a document that failed to parse.
    failed: bool,
}

/// The lines held while a document may be open, and the open starts' bracket levels.
pub struct Joiner {
    limits: Limits,
    buffer: VecDeque<Buffered>,
    /// The absolute index of `buffer[0]`.
    base: u64,
    /// Open starts, oldest first: (absolute index, level before the line).
    open: VecDeque<(u64, i64)>,
    level: i64,
    bytes: usize,
    /// Bytes handed to the scanner and the JSON parser: the work done, for the linear-time test.
    pub examined: u64,
}

/// Where a line goes: its number and what it became.
pub type Emit<'a> = dyn FnMut(u64, Item) -> bool + 'a;

impl Joiner {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buffer: VecDeque::new(),
            base: 0,
            open: VecDeque::new(),
            level: 0,
            bytes: 0,
            examined: 0,
        }
    }

    /// No document is open: a line can be handled on its own at once.
    pub fn is_idle(&self) -> bool {
        self.buffer.is_empty()
    }

    /// A line that is complete on its own, or not at all: `Ok(items)`; an unfinished prefix
    /// that may start a document: `Err(reject)`, its fate if no document forms.
    pub fn alone(&mut self, line: &Line, max_line_bytes: usize) -> Result<Vec<Item>, Reject> {
        if line.len > max_line_bytes {
            return Ok(vec![Item::Reject(line.oversized(max_line_bytes))]);
        }
        let trimmed = trim_ascii(&line.bytes);
        if trimmed.is_empty() {
            return Ok(vec![Item::Control("keep_alive")]);
        }
        self.examined += trimmed.len() as u64;
        if let Some(id) = stream_line_id(trimmed) {
            return Ok(vec![Item::Tweet(TweetMessage {
                id,
                format: Format::V2,
                payload: line.bytes.slice_ref(trimmed),
            })]);
        }
        self.general(trimmed)
    }

    /// [`Joiner::alone`] past the stream-line fast path. Rejects carry the line.
    pub fn general(&mut self, trimmed: &[u8]) -> Result<Vec<Item>, Reject> {
        self.examined += trimmed.len() as u64;
        let with_line = |mut r: Reject| {
            r.payload.get_or_insert_with(|| trimmed.to_vec());
            r
        };
        match classify_general(trimmed) {
            Ok(items) => Ok(items
                .into_iter()
                .map(|item| match item {
                    Item::Reject(r) => Item::Reject(with_line(r)),
                    other => other,
                })
                .collect()),
            Err(e) => {
                let reject = with_line(unparsable(trimmed, &e));
                let prefix = e.is_eof() && matches!(trimmed.first(), Some(b'{' | b'['));
                if prefix && !self.scan(trimmed).open_string {
                    Err(reject)
                } else {
                    Ok(vec![Item::Reject(reject)])
                }
            }
        }
    }

    fn scan(&mut self, bytes: &[u8]) -> Shape {
        self.examined += bytes.len() as u64;
        shape(bytes)
    }

    /// Holds a line that starts a document (`reject` is its fate alone) or arrives while one
    /// is open, then hands on whatever is decided.
    pub fn push(
        &mut self,
        line: Line,
        start: Option<Reject>,
        max_line_bytes: usize,
        emit: &mut Emit<'_>,
    ) -> bool {
        let index = self.base + self.buffer.len() as u64;
        let (mut kind, shape) = match start {
            Some(reject) => {
                let shape = self.scan(trim_ascii(&line.bytes));
                (Kind::Start { reject, end: None, dead: false }, shape)
            }
            None => match self.alone(&line, max_line_bytes) {
                Err(reject) => {
                    let shape = self.scan(trim_ascii(&line.bytes));
                    (Kind::Start { reject, end: None, dead: false }, shape)
                }
                Ok(_) if line.len > max_line_bytes => {
                    (Kind::Alone, Shape { delta: 0, low: 0, open_string: true })
                }
                Ok(_) => (Kind::Alone, self.scan(trim_ascii(&line.bytes))),
            },
        };
        if self.buffer.is_empty() {
            self.level = 0;
        }
        if shape.open_string {
            // No document can run through this line.
            for (start, _) in std::mem::take(&mut self.open) {
                if let Kind::Start { dead, .. } = &mut self.buffer[(start - self.base) as usize].kind {
                    *dead = true;
                }
            }
        } else {
            let low = self.level + shape.low;
            while let Some(&(start, level)) = self.open.back() {
                if level < low {
                    break;
                }
                self.open.pop_back();
                if let Kind::Start { end, .. } = &mut self.buffer[(start - self.base) as usize].kind {
                    *end = Some(index);
                }
            }
        }
        match &mut kind {
            Kind::Start { dead, .. } if shape.open_string => *dead = true,
            Kind::Start { .. } => self.open.push_back((index, self.level)),
            Kind::Alone => {}
        }
        self.level += shape.delta;
        self.bytes += line.bytes.len();
        self.buffer.push_back(Buffered { line, kind, failed: false });
        self.settle(false, max_line_bytes, emit)
    }

    /// The input ended: every open start is given up on, everything held is handed on.
    pub fn finish(&mut self, max_line_bytes: usize, emit: &mut Emit<'_>) -> bool {
        self.settle(true, max_line_bytes, emit)
    }

    /// Hands on every line at the front whose fate is decided. False once `emit` refuses.
    fn settle(&mut self, at_end: bool, max_line_bytes: usize, emit: &mut Emit<'_>) -> bool {
        while let Some(front) = self.buffer.front() {
            let number = front.line.number;
            match &front.kind {
                Kind::Alone => {
                    let front = self.pop_front();
                    let items =
                        self.alone(&front.line, max_line_bytes).unwrap_or_else(|r| vec![Item::Reject(r)]);
                    if !emit_all(emit, number, items) {
                        return false;
                    }
                }
                Kind::Start { end: Some(end), .. } => {
                    let last = (*end - self.base) as usize;
                    match self.parse(last) {
                        Some(items) => {
                            for _ in 0..=last {
                                self.pop_front();
                            }
                            if !emit_all(emit, number, items) {
                                return false;
                            }
                        }
                        None => {
                            if !self.give_up_front(emit) {
                                return false;
                            }
                        }
                    }
                }
                Kind::Start { end: None, dead, .. } => {
                    let too_big =
                        self.bytes > self.limits.max_bytes || self.buffer.len() > self.limits.max_lines;
                    if !(*dead || at_end || too_big) {
                        return true;
                    }
                    if self.open.front().is_some_and(|(start, _)| *start == self.base) {
                        self.open.pop_front();
                    }
                    if !self.give_up_front(emit) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// The document from the front line to `buffer[last]`, if it parses and no line of it was
    /// in a document that failed before. A failure marks its lines.
    fn parse(&mut self, last: usize) -> Option<Vec<Item>> {
        if self.buffer.iter().take(last + 1).any(|b| b.failed) {
            return None;
        }
        let mut doc = Vec::with_capacity(self.buffer.iter().take(last + 1).map(|b| b.line.bytes.len()).sum());
        for b in self.buffer.iter().take(last + 1) {
            doc.extend_from_slice(&b.line.bytes);
        }
        let mut trimmed = trim_ascii(&doc);
        // An element of a pretty-printed array ends with `},`: a document of its own without it.
        if let Some(element) = trimmed.strip_suffix(b",") {
            trimmed = trim_ascii(element);
        }
        self.examined += trimmed.len() as u64;
        match serde_json::from_slice(trimmed) {
            Ok(value) => Some(classify_value(value, Some(trimmed))),
            Err(_) => {
                for b in self.buffer.iter_mut().take(last + 1) {
                    b.failed = true;
                }
                None
            }
        }
    }

    /// Rejects the front start on its own; the lines after it are read as if it was not there.
    fn give_up_front(&mut self, emit: &mut Emit<'_>) -> bool {
        let front = self.pop_front();
        match front.kind {
            Kind::Start { reject, .. } => emit(front.line.number, Item::Reject(reject)),
            Kind::Alone => true,
        }
    }

    fn pop_front(&mut self) -> Buffered {
        let front = self.buffer.pop_front().expect("settle only pops a line it looked at");
        self.base += 1;
        self.bytes -= front.line.bytes.len();
        front
    }
}

fn emit_all(emit: &mut Emit<'_>, number: u64, items: Vec<Item>) -> bool {
    items.into_iter().all(|item| emit(number, item))
}

#[cfg(test)]
mod tests;
