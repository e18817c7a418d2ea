//! A minimal HTTP/1.1 client for the daemons' REST APIs on 127.0.0.1 (syncthing's GUI
//! API, rclone's remote control): one request per connection, JSON in and out. The
//! harness has no HTTP client dependency and needs no more than this: both servers are Go's
//! `net/http`, which answers with a `Content-Length` or a chunked body.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A REST call answers at once; a daemon that hangs longer is reported, not waited for.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{method} {path}: {source}")]
    Io { method: &'static str, path: String, source: std::io::Error },
    #[error("{method} {path}: malformed response: {why}")]
    Malformed { method: &'static str, path: String, why: String },
    #[error("{method} {path}: HTTP {status}: {body}")]
    Status { method: &'static str, path: String, status: u16, body: String },
}

/// One daemon's API on a loopback port, with the headers every call carries (an API key).
#[derive(Clone, Debug)]
pub struct Api {
    port: u16,
    headers: Vec<(String, String)>,
}

impl Api {
    pub fn new(port: u16, headers: Vec<(String, String)>) -> Api {
        Api { port, headers }
    }

    /// `GET path`, the body as JSON (`null` when empty).
    pub fn get(&self, path: &str) -> Result<Value, HttpError> {
        self.call("GET", path, None)
    }

    /// `POST path` with a JSON body, the answer as JSON (`null` when empty).
    pub fn post(&self, path: &str, body: &Value) -> Result<Value, HttpError> {
        self.call("POST", path, Some(body.to_string().into_bytes()))
    }

    fn call(&self, method: &'static str, path: &str, body: Option<Vec<u8>>) -> Result<Value, HttpError> {
        let io = |source| HttpError::Io { method, path: path.to_string(), source };
        let malformed = |why: String| HttpError::Malformed { method, path: path.to_string(), why };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(io)?;
        stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(io)?;
        stream.set_write_timeout(Some(IO_TIMEOUT)).map_err(io)?;
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n", self.port);
        for (k, v) in &self.headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = body.unwrap_or_default();
        if method == "POST" {
            request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).map_err(io)?;
        stream.write_all(&body).map_err(io)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(io)?;
        let (status, body) = parse_response(&raw).map_err(malformed)?;
        let text = String::from_utf8_lossy(&body).trim().to_string();
        if !(200..300).contains(&status) {
            return Err(HttpError::Status { method, path: path.to_string(), status, body: text });
        }
        if text.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| malformed(format!("not JSON ({e}): {}", text.chars().take(200).collect::<String>())))
    }
}

/// The status code and the (de-chunked) body of a whole response.
fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let body = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    Ok((status, if chunked { dechunk(body)? } else { body.to_vec() }))
}

/// A chunked body's data (RFC 9112 §7.1; chunk extensions and trailers ignored).
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = rest.windows(2).position(|w| w == b"\r\n").ok_or("chunk size without end of line")?;
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| format!("bad chunk size {size_hex:?}"))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest.get(..size).ok_or("chunk shorter than its size")?;
        out.extend_from_slice(chunk);
        rest = rest.get(size + 2..).ok_or("chunk without its end of line")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_chunked_bodies() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"a\": true}";
        assert_eq!(parse_response(plain).unwrap(), (200, b"{\"a\": true}".to_vec()));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n7;x=1\r\n: true}\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap(), (200, b"{\"a\": true}".to_vec()));
        let error = b"HTTP/1.1 403 Forbidden\r\n\r\nCSRF Error\n";
        assert_eq!(parse_response(error).unwrap().0, 403);
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(dechunk(b"zz\r\n").is_err());
    }

    #[test]
    fn a_call_sends_the_headers_and_reads_the_json_answer() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap();
            let request = String::from_utf8_lossy(&buf[..n]).into_owned();
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n{\"ping\":\"pong\"}").unwrap();
            request
        });
        let api = Api::new(port, vec![("X-API-Key".into(), "k1".into())]);
        assert_eq!(api.get("/rest/system/ping").unwrap()["ping"], "pong");
        let request = server.join().unwrap();
        assert!(request.starts_with("GET /rest/system/ping HTTP/1.1\r\n"), "{request}");
        assert!(request.contains("X-API-Key: k1\r\n"), "{request}");
    }
}
