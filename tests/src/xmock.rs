//! A scripted stand-in for the X API on loopback: records every request and answers each with
//! what the test's handler says (a JSON document, or a stream of lines with pauses, closes and
//! silences).

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
}

#[derive(Debug, Clone)]
pub enum Reply {
    Json { status: u16, headers: Vec<(String, String)>, body: String },
    Stream(Vec<Step>),
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
}

impl MockX {
    /// Serves until the test ends. The handler gets the request and every request before it.
    pub async fn start(handler: impl Fn(&Request, &[Request]) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let log = requests.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (log, handler) = (log.clone(), handler.clone());
                tokio::spawn(async move {
                    let _ = serve(socket, log, handler).await;
                });
            }
        });
        Self { base_url, requests }
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
        Reply::Stream(steps) => {
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n")
                .await?;
            for step in steps {
                match step {
                    Step::Bytes(b) => {
                        socket.write_all(format!("{:x}\r\n", b.len()).as_bytes()).await?;
                        socket.write_all(&b).await?;
                        socket.write_all(b"\r\n").await?;
                        socket.flush().await?;
                    }
                    Step::Pause(d) => tokio::time::sleep(d).await,
                    Step::Close => {
                        socket.write_all(b"0\r\n\r\n").await?;
                        break;
                    }
                    Step::Silence => {
                        // Wait for the client to give up; reading returns 0 when it hangs up.
                        let _ = tokio::time::timeout(Duration::from_secs(120), socket.read(&mut chunk)).await;
                        break;
                    }
                }
            }
        }
    }
    socket.shutdown().await
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
