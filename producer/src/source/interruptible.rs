//! An input that ends on shutdown even while its read is blocked (stdin left open by whatever
//! feeds it): a thread of its own does the blocking reads, and the reader here waits on them
//! only until shutdown. Without it the line reader could not return on SIGTERM, and the run's
//! summary lost every count the reader held (`lines: 0` beside `tweets: 2`).

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::time::Duration;

use tweetpipe_common::shutdown::Shutdown;

/// How much one blocking read asks for.
const CHUNK: usize = 256 * 1024;
/// How often a reader waiting for input looks at the shutdown token.
const POLL: Duration = Duration::from_millis(20);

/// `inner`, read on a thread of its own; reads as the end of the input once `shutdown` is
/// cancelled.
pub struct Interruptible {
    chunks: Receiver<io::Result<Vec<u8>>>,
    pending: Vec<u8>,
    at: usize,
    shutdown: Shutdown,
    ended: bool,
}

impl Interruptible {
    pub fn new<R: Read + Send + 'static>(mut inner: R, shutdown: Shutdown) -> io::Result<Self> {
        // Two chunks ahead at most: the input is not read much faster than it is classified.
        let (tx, chunks) = sync_channel(2);
        std::thread::Builder::new().name("input-reader".into()).spawn(move || loop {
            let mut buf = vec![0; CHUNK];
            let read = inner.read(&mut buf).map(|n| {
                buf.truncate(n);
                buf
            });
            // Stops at the end of the input, on an error, or once nobody listens.
            let last = !matches!(&read, Ok(b) if !b.is_empty());
            if tx.send(read).is_err() || last {
                return;
            }
        })?;
        Ok(Self { chunks, pending: Vec::new(), at: 0, shutdown, ended: false })
    }
}

impl Read for Interruptible {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.pending.len() {
            if self.ended || self.shutdown.is_cancelled() {
                return Ok(0);
            }
            match self.chunks.recv_timeout(POLL) {
                Ok(Ok(chunk)) if chunk.is_empty() => self.ended = true,
                Ok(Ok(chunk)) => (self.pending, self.at) = (chunk, 0),
                Ok(Err(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => self.ended = true,
            }
        }
        let n = out.len().min(self.pending.len() - self.at);
        out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipe whose writer never closes it: the first read returns a line, the next one blocks.
    struct OpenPipe(bool);

    impl Read for OpenPipe {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if std::mem::replace(&mut self.0, true) {
                std::thread::park();
            }
            let line = b"line\n";
            out[..line.len()].copy_from_slice(line);
            Ok(line.len())
        }
    }

    #[test]
    fn a_blocked_input_ends_on_shutdown() {
        let shutdown = Shutdown::new();
        let mut input = Interruptible::new(OpenPipe(false), shutdown.clone()).expect("thread");
        let mut buf = [0; 16];
        assert_eq!(input.read(&mut buf).expect("read"), 5);
        shutdown.cancel();
        assert_eq!(input.read(&mut buf).expect("read"), 0, "the end of the input");
    }

    #[test]
    fn everything_is_read_in_order() {
        let data: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        let mut input = Interruptible::new(io::Cursor::new(data.clone()), Shutdown::new()).expect("thread");
        let mut got = Vec::new();
        input.read_to_end(&mut got).expect("read");
        assert_eq!(got, data);
    }
}
