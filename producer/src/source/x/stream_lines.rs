//! Splits the filtered stream's body into `\r\n`-terminated lines, in linear time and bounded
//! memory: each byte is examined once, and a line longer than `--max-line-bytes` is cut as soon
//! as it passes the limit (its first bytes kept for the dead letter), the rest of it skipped
//! until the next `\r\n`, where the stream is in step again.

/// What a chunk of the body yields.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// One complete line, without its `\r\n`.
    Line(Vec<u8>),
    /// A line that passed the limit: its first bytes (at most [`OVERSIZED_KEEP`]).
    Oversized(Vec<u8>),
}

/// Bytes of an oversized line kept in its dead letter.
pub const OVERSIZED_KEEP: usize = 64 * 1024;

pub struct Splitter {
    max: usize,
    /// The line so far; never longer than `max` + 1 (a trailing `\r` waiting for its `\n`).
    buf: Vec<u8>,
    /// Inside an oversized line, skipping to its end.
    skipping: bool,
    /// While skipping: the last byte seen was `\r`.
    cr_pending: bool,
}

impl Splitter {
    pub fn new(max: usize) -> Self {
        Self { max: max.max(1), buf: Vec::new(), skipping: false, cr_pending: false }
    }

    /// The unfinished line, if any (for the dead letter of a connection that ends mid-line).
    pub fn rest(&self) -> &[u8] {
        if self.skipping {
            &[]
        } else {
            &self.buf
        }
    }

    /// Feeds one chunk; the complete pieces go to `out`, in order.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<Piece>) {
        while !chunk.is_empty() {
            if self.skipping {
                if self.cr_pending && chunk[0] == b'\n' {
                    chunk = &chunk[1..];
                    self.skipping = false;
                    continue;
                }
                match memchr::memmem::find(chunk, b"\r\n") {
                    Some(i) => {
                        chunk = &chunk[i + 2..];
                        self.skipping = false;
                    }
                    None => {
                        self.cr_pending = chunk.last() == Some(&b'\r');
                        return;
                    }
                }
                continue;
            }
            // A `\r` ended the last chunk and this one starts with `\n`.
            if self.buf.last() == Some(&b'\r') && chunk[0] == b'\n' {
                self.buf.pop();
                out.push(Piece::Line(std::mem::take(&mut self.buf)));
                chunk = &chunk[1..];
                continue;
            }
            match memchr::memmem::find(chunk, b"\r\n") {
                Some(i) => {
                    if self.buf.len() + i > self.max {
                        out.push(self.cut(&chunk[..i]));
                    } else {
                        self.buf.extend_from_slice(&chunk[..i]);
                        out.push(Piece::Line(std::mem::take(&mut self.buf)));
                    }
                    chunk = &chunk[i + 2..];
                }
                None => {
                    let trailing_cr = usize::from(chunk.last() == Some(&b'\r'));
                    if self.buf.len() + chunk.len() - trailing_cr > self.max {
                        out.push(self.cut(chunk));
                        self.skipping = true;
                        self.cr_pending = trailing_cr == 1;
                    } else {
                        self.buf.extend_from_slice(chunk);
                    }
                    return;
                }
            }
        }
    }

    /// The dead-letter piece of the line in `buf` followed by `more`; empties `buf`.
    fn cut(&mut self, more: &[u8]) -> Piece {
        let mut head = std::mem::take(&mut self.buf);
        head.truncate(OVERSIZED_KEEP);
        let room = OVERSIZED_KEEP - head.len();
        head.extend_from_slice(&more[..more.len().min(room)]);
        Piece::Oversized(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(max: usize, chunks: &[&[u8]]) -> (Vec<Piece>, Vec<u8>) {
        let mut s = Splitter::new(max);
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, &mut out);
        }
        let rest = s.rest().to_vec();
        (out, rest)
    }

    fn line(s: &str) -> Piece {
        Piece::Line(s.as_bytes().to_vec())
    }

    #[test]
    fn lines_across_chunk_boundaries_including_a_split_crlf() {
        let (out, rest) = split(100, &[b"ab\r", b"\ncd\r\n\r\nef\ngh", b"\r", b"\nij"]);
        assert_eq!(out, [line("ab"), line("cd"), line(""), line("ef\ngh")]);
        assert_eq!(rest, b"ij");
    }

    #[test]
    fn an_oversized_line_is_cut_once_and_the_stream_resyncs_at_the_next_line_break() {
        let (out, rest) = split(5, &[b"123", b"4567", b"89", b"\r", b"\nok\r\n", b"toolongline\r\nfine\r\n"]);
        assert_eq!(
            out,
            [
                Piece::Oversized(b"1234567".to_vec()),
                line("ok"),
                Piece::Oversized(b"toolongline".to_vec()),
                line("fine")
            ]
        );
        assert!(rest.is_empty());
        let (out, _) = split(5, &[b"12345\r\n"]);
        assert_eq!(out, [line("12345")], "a line of exactly the limit is kept");
    }

    #[test]
    fn an_endless_line_holds_no_more_than_the_limit() {
        let mut s = Splitter::new(1000);
        let mut out = Vec::new();
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..100 {
            s.push(&chunk, &mut out);
            assert!(s.buf.capacity() <= 128 * 1024);
        }
        assert_eq!(out.len(), 1, "one dead letter for the whole line");
        s.push(b"\r\nnext\r\n", &mut out);
        assert_eq!(out[1], line("next"));
    }
}
