//! Reading JSON lines, or whole JSON documents spread over many lines, from any byte stream.
//!
//! Lines are read as bytes, so invalid UTF-8 becomes a dead letter rather than an I/O error. A
//! line that is the start of a longer document (a pretty-printed REST response) is joined with
//! the following lines until the document is complete ([`super::join`], linear in the input);
//! if it never completes, the first line is rejected on its own and the lines after it are read
//! as if it was not there, so a truncated line never swallows the good lines behind it.

use std::fs::File;
use std::io::{self, BufRead as _, BufReader, Read};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::Arc;

use bytes::{Buf as _, Bytes, BytesMut};
use tokio::sync::mpsc::Sender;
use tweetpipe_common::shutdown::Shutdown;
use tweetpipe_model::envelope::{stream_line_id, trim_ascii, trimmed_range, Item, TweetMessage};
use tweetpipe_model::Format;

use super::join::{Joiner, Limits, Line};
use super::ReadStats;
use crate::record::{Msg, Records};

/// The most lines one joined document may span.
pub const MAX_DOCUMENT_LINES: usize = 100_000;

/// How much is read from the input at a time.
const READ_BUFFER: usize = 256 * 1024;

/// The most lines, and records, handed from one thread to the next at once.
const BATCH: usize = 256;

/// The most line bytes handed to the classifier at once (beyond one line).
const BATCH_BYTES: usize = 1024 * 1024;

/// Opens a file, decompressing it when it starts with the gzip magic bytes.
pub fn open_file(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let mut reader = BufReader::with_capacity(64 * 1024, File::open(path)?);
    let gz = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz { Box::new(flate2::bufread::MultiGzDecoder::new(reader)) } else { Box::new(reader) })
}

/// Splits the input into lines over its own buffer, so that it knows when the next line needs
/// a read (which may block on a pipe) and the records read so far can be sent first.
struct Lines<R> {
    reader: R,
    /// Read and not yet handed out: it starts at the current line.
    buf: BytesMut,
    /// How much of `buf` is known to hold no line end.
    scanned: usize,
    next_number: u64,
    max: usize,
}

impl<R: Read> Lines<R> {
    fn new(reader: R, max: usize) -> Self {
        Self { reader, buf: BytesMut::with_capacity(READ_BUFFER), scanned: 0, next_number: 0, max }
    }

    /// The next line; `before_read` runs before every read from the input.
    fn next(&mut self, before_read: &mut dyn FnMut()) -> io::Result<Option<Line>> {
        // A line longer than the limit keeps its first `max` bytes; the rest is only counted.
        let mut head: Option<Bytes> = None;
        let mut dropped = 0usize;
        let end = loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.scanned..]) {
                break self.scanned + i + 1;
            }
            if head.is_none() && self.buf.len() > self.max {
                head = Some(self.buf.split_to(self.max).freeze());
            }
            if head.is_some() {
                dropped += self.buf.len();
                self.buf.clear();
            }
            self.scanned = self.buf.len();
            before_read();
            if self.fill()? == 0 {
                if self.buf.is_empty() && head.is_none() {
                    return Ok(None);
                }
                break self.buf.len();
            }
        };
        self.scanned = 0;
        let mut bytes = self.buf.split_to(end).freeze();
        let len = match head {
            Some(head) => {
                let len = head.len() + dropped + bytes.len();
                bytes = head;
                len
            }
            None => {
                let len = bytes.len();
                bytes.truncate(self.max);
                len
            }
        };
        self.next_number += 1;
        Ok(Some(Line { number: self.next_number, bytes, len }))
    }

    /// Reads more input after what `buf` holds; how much (0 at the end).
    fn fill(&mut self) -> io::Result<usize> {
        // Lines handed out still share the old buffer, so this usually starts a new one and
        // moves only the unfinished line into it: one allocation per buffer, not per line.
        if self.buf.capacity() - self.buf.len() < READ_BUFFER / 4 {
            self.buf.reserve(READ_BUFFER);
        }
        let start = self.buf.len();
        self.buf.resize(self.buf.capacity(), 0);
        let read = loop {
            match self.reader.read(&mut self.buf[start..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                read => break read,
            }
        };
        self.buf.truncate(start + *read.as_ref().unwrap_or(&0));
        read
    }
}

/// Records on their way to the sink, sent a batch at a time as one message (see
/// [`Records`]). Sent when full and before every read from the input, so nothing read is held
/// back while the reader waits for more.
struct Outbox<'a> {
    tx: &'a Sender<Msg>,
    origin: Arc<str>,
    pending: Vec<(u64, Item)>,
    /// False once the sink is gone.
    open: bool,
    progress: &'a indicatif::ProgressBar,
    unreported_bytes: u64,
}

impl Outbox<'_> {
    fn push(&mut self, line: u64, item: Item) -> bool {
        self.pending.push((line, item));
        if self.pending.len() >= BATCH {
            self.flush();
        }
        self.open
    }

    fn flush(&mut self) {
        self.progress.inc(std::mem::take(&mut self.unreported_bytes));
        if self.pending.is_empty() || !self.open {
            return;
        }
        let items = std::mem::replace(&mut self.pending, Vec::with_capacity(BATCH));
        let records = Msg::Records(Records { origin: self.origin.clone(), items });
        self.open = futures::executor::block_on(self.tx.send(records)).is_ok();
    }
}

/// Reads `reader` to the end (or until shutdown), sending one record per classified item.
///
/// Two threads share the work: one reads and splits lines, this one classifies them (the JSON
/// check is most of the cost), so that a fast input keeps both cores busy.
pub fn read<R: Read + Send>(
    reader: R,
    origin: Arc<str>,
    max_line_bytes: usize,
    tx: &Sender<Msg>,
    shutdown: &Shutdown,
    progress: &indicatif::ProgressBar,
) -> io::Result<ReadStats> {
    let outbox =
        Outbox { tx, origin, pending: Vec::with_capacity(BATCH), open: true, progress, unreported_bytes: 0 };
    let (lines_tx, lines_rx) = mpsc::sync_channel(2);
    std::thread::scope(|scope| {
        scope.spawn(move || split(reader, max_line_bytes, &lines_tx));
        // The classifier owns the receiver: when it stops early, the splitter's next hand-over
        // fails and it stops too, so the scope can end.
        classify(lines_rx, outbox, max_line_bytes, shutdown)
    })
}

/// Reads lines and hands them over in batches: when a batch is full, and before every read
/// from the input, so that nothing read waits while the input is quiet. Stops at the end of the
/// input, on an error (handed over too), or once the classifier is gone.
fn split<R: Read>(reader: R, max_line_bytes: usize, out: &SyncSender<io::Result<Vec<Line>>>) {
    let mut lines = Lines::new(reader, max_line_bytes);
    let mut batch = Vec::with_capacity(BATCH);
    let mut batch_bytes = 0;
    let mut open = true;
    loop {
        let mut hand_over = |batch: &mut Vec<Line>, bytes: &mut usize| {
            if !batch.is_empty() {
                *bytes = 0;
                open &= out.send(Ok(std::mem::replace(batch, Vec::with_capacity(BATCH)))).is_ok();
            }
        };
        let next = lines.next(&mut || hand_over(&mut batch, &mut batch_bytes));
        match next {
            Ok(Some(line)) => {
                batch_bytes += line.bytes.len();
                batch.push(line);
                // The byte bound keeps a run of long lines from piling up between the threads.
                if batch.len() >= BATCH || batch_bytes >= BATCH_BYTES {
                    hand_over(&mut batch, &mut batch_bytes);
                }
            }
            Ok(None) => {
                hand_over(&mut batch, &mut batch_bytes);
                return;
            }
            Err(e) => {
                hand_over(&mut batch, &mut batch_bytes);
                let _ = out.send(Err(e));
                return;
            }
        }
        if !open {
            return;
        }
    }
}

/// Classifies the lines [`split`] hands over and sends the records to the sink.
fn classify(
    lines: Receiver<io::Result<Vec<Line>>>,
    mut outbox: Outbox<'_>,
    max_line_bytes: usize,
    shutdown: &Shutdown,
) -> io::Result<ReadStats> {
    let mut joiner = Joiner::new(Limits { max_bytes: max_line_bytes, max_lines: MAX_DOCUMENT_LINES });
    let mut stats = ReadStats::default();
    'input: loop {
        let batch = match lines.try_recv() {
            Ok(batch) => batch,
            Err(TryRecvError::Empty) => {
                // Nothing more read yet: send what is classified before waiting for it.
                outbox.flush();
                match lines.recv() {
                    Ok(batch) => batch,
                    Err(_) => break,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        }?;
        // Once a batch: a shutdown stops the reader within a few hundred lines.
        if shutdown.is_cancelled() {
            break;
        }
        for line in batch {
            stats.lines += 1;
            stats.bytes += line.len as u64;
            // For gzip input this counts uncompressed bytes against the compressed size: a guide.
            outbox.unreported_bytes += line.len as u64;
            let mut send = |line: u64, item: Item| outbox.push(line, item);
            let open = if joiner.is_idle() {
                alone(line, &mut joiner, max_line_bytes, &mut send)
            } else {
                joiner.push(line, None, max_line_bytes, &mut send)
            };
            if !open {
                break 'input;
            }
        }
    }
    if outbox.open && !shutdown.is_cancelled() {
        joiner.finish(max_line_bytes, &mut |line, item| outbox.push(line, item));
    }
    outbox.flush();
    stats.examined = joiner.examined;
    Ok(stats)
}

/// A line read while no document is open: the usual case.
fn alone(
    line: Line,
    joiner: &mut Joiner,
    max_line_bytes: usize,
    send: &mut dyn FnMut(u64, Item) -> bool,
) -> bool {
    if line.len > max_line_bytes {
        return send(line.number, Item::Reject(line.oversized(max_line_bytes)));
    }
    let trimmed = trim_ascii(&line.bytes);
    if trimmed.is_empty() {
        return send(line.number, Item::Control("keep_alive"));
    }
    joiner.examined += trimmed.len() as u64;
    // One stream line, which becomes its message without a copy.
    if let Some(id) = stream_line_id(trimmed) {
        let range = trimmed_range(&line.bytes);
        let mut payload = line.bytes;
        payload.truncate(range.end);
        payload.advance(range.start);
        return send(line.number, Item::Tweet(TweetMessage { id, format: Format::V2, payload }));
    }
    match joiner.general(trimmed) {
        Ok(items) => items.into_iter().all(|item| send(line.number, item)),
        Err(start) => joiner.push(line, Some(start), max_line_bytes, send),
    }
}

#[cfg(test)]
mod tests;
