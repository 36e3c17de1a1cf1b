//! A scripted stand-in for the X API on loopback: records every request and answers each with
//! what the test's handler says (a JSON document, or a stream of lines with pauses, closes and
//! silences), including the ways a broken or hostile server misbehaves: never answering,
//! endless bodies, trickles, cut connections.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query string, percent-decoded.
    pub target: String,
    pub authorization: Option<String>,
    pub body: String,
    pub at: Instant,
}

/// One step of a streamed response.
#[derive(Debug, Clone)]
pub enum Step {
    /// Bytes written as they are (a line includes its `\r\n`).
    Bytes(Vec<u8>),
    Pause(Duration),
    /// End the response cleanly.
    Close,
    /// Stay connected and send nothing, until the client hangs up.
    Silence,
    /// Send these bytes again and again, as fast as the client reads, until it hangs up.
    Endless(Vec<u8>),
    /// Drop the connection without ending the body (a reset, a cut chunked encoding).
    Cut,
}

#[derive(Debug, Clone)]
pub enum Reply {
    Json {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// A 200 whose body is the steps, chunked.
    Stream(Vec<Step>),
    /// Any status and headers, the body chunked from the steps.
    Chunked {
        status: u16,
        headers: Vec<(String, String)>,
        steps: Vec<Step>,
    },
    /// Accept the request and never send the response headers.
    Hang,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Reply::Json { status, headers: Vec::new(), body: body.to_string() }
    }
}

type Handler = dyn Fn(&Request, &[Request]) -> Reply + Send + Sync;

pub struct MockX {
    pub base_url: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
    /// Body bytes written so far, over every response.
    pub sent: Arc<AtomicU64>,
}

impl MockX {
    /// Serves until the test ends. The handler gets the request and every request before it.
    pub async fn start(handler: impl Fn(&Request, &[Request]) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let log = requests.clone();
        let sent: Arc<AtomicU64> = Arc::default();
        let counter = sent.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (log, handler, counter) = (log.clone(), handler.clone(), counter.clone());
                tokio::spawn(async move {
                    let _ = serve(socket, log, handler, counter).await;
                });
            }
        });
        Self { base_url, requests, sent }
    }

    /// Body bytes written so far.
    pub fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// The requests so far whose target starts with `prefix`.
    pub fn seen(&self, prefix: &str) -> Vec<Request> {
        let all = self.requests.lock().map(|r| r.clone()).unwrap_or_default();
        all.into_iter().filter(|r| r.target.starts_with(prefix)).collect()
    }
}

async fn serve(
    mut socket: TcpStream,
    log: Arc<Mutex<Vec<Request>>>,
    handler: Arc<Handler>,
    sent: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let method = first.next().unwrap_or_default().to_owned();
    let target = decode(first.next().unwrap_or_default());
    let mut length = 0usize;
    let mut authorization = None;
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = v.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(v.trim().to_owned()),
                _ => {}
            }
        }
    }
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
    let request = Request { method, target, authorization, body, at: Instant::now() };
    let reply = {
        let mut all = log.lock().map_err(|_| std::io::Error::other("poisoned"))?;
        let reply = handler(&request, &all);
        all.push(request);
        reply
    };
    match reply {
        Reply::Json { status, headers, body } => {
            let mut out = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            socket.write_all(out.as_bytes()).await?;
        }
        Reply::Hang => {
            // Wait for the client to give up; reading returns 0 when it hangs up.
            let _ = tokio::time::timeout(Duration::from_secs(120), socket.read(&mut chunk)).await;
            return Ok(());
        }
        Reply::Stream(steps) => chunked(&mut socket, 200, &[], steps, &sent).await?,
        Reply::Chunked { status, headers, steps } => {
            chunked(&mut socket, status, &headers, steps, &sent).await?
        }
    }
    socket.shutdown().await
}

/// Writes a chunked response of `steps`.
async fn chunked(
    socket: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    steps: Vec<Step>,
    sent: &AtomicU64,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).await?;
    for step in steps {
        match step {
            Step::Bytes(b) => write_chunk(socket, &b, sent).await?,
            Step::Pause(d) => tokio::time::sleep(d).await,
            Step::Close => {
                socket.write_all(b"0\r\n\r\n").await?;
                break;
            }
            Step::Silence => {
                let mut buf = [0u8; 64];
                let _ = tokio::time::timeout(Duration::from_secs(120), socket.read(&mut buf)).await;
                break;
            }
            Step::Endless(b) => loop {
                // Ends with an error once the client hangs up.
                write_chunk(socket, &b, sent).await?;
            },
            // Returning drops the socket with the body unfinished.
            Step::Cut => return Err(std::io::Error::other("cut on purpose")),
        }
    }
    Ok(())
}

async fn write_chunk(socket: &mut TcpStream, b: &[u8], sent: &AtomicU64) -> std::io::Result<()> {
    socket.write_all(format!("{:x}\r\n", b.len()).as_bytes()).await?;
    socket.write_all(b).await?;
    socket.write_all(b"\r\n").await?;
    socket.flush().await?;
    sent.fetch_add(b.len() as u64, Ordering::Relaxed);
    Ok(())
}

/// Percent-decoding of a request target (`%23` -> `#`, `+` left alone).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
