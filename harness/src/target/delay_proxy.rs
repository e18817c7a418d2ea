//! A loopback TCP proxy that delays each direction by a fixed time: the stand-in for
//! `tc netem delay` (not available here) between sshfs and sshd.
//!
//! Per accepted connection it connects upstream and runs two pumps, one per direction.
//! A pump is a reader thread and a writer thread joined by a bounded queue: the reader
//! stamps each chunk it reads with `now + delay`, the writer sleeps until that instant
//! and forwards it. Chunks keep their order, and bandwidth is not limited (several chunks
//! are in flight at once), as with netem's delay. The queue holds at most
//! `QUEUE_CHUNKS` chunks, so a slow receiver stops the reader (TCP back-pressure) rather
//! than growing memory. End of stream is forwarded as a half-close after the data.
//!
//! Dropping the proxy stops accepting, shuts every socket down (which wakes blocked
//! reads and writes) and joins all threads.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Largest chunk read at once.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight per direction.
const QUEUE_CHUNKS: usize = 256;
/// How often the accept loop looks at the stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(10);

/// A running proxy on `127.0.0.1:port()` forwarding to `upstream`.
pub struct DelayProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    /// Every socket of every connection, to shut down on drop.
    sockets: Arc<Mutex<Vec<TcpStream>>>,
    /// Accept thread first, then the pump threads it started.
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: Option<JoinHandle<()>>,
}

enum Item {
    Data(Instant, Vec<u8>),
    /// Reader saw end of stream (or an error) at this instant.
    End(Instant),
}

impl DelayProxy {
    /// Listens on a free loopback port and forwards to `upstream`, each direction held
    /// back by `delay`.
    pub fn start(upstream: SocketAddr, delay: Duration) -> std::io::Result<DelayProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let sockets: Arc<Mutex<Vec<TcpStream>>> = Arc::new(Mutex::new(Vec::new()));
        let threads: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let (stop, sockets, threads) = (stop.clone(), sockets.clone(), threads.clone());
            std::thread::Builder::new()
                .name(format!("delay-proxy-{port}"))
                .spawn(move || accept_loop(listener, upstream, delay, &stop, &sockets, &threads))?
        };
        Ok(DelayProxy { port, stop, sockets, threads, accept: Some(accept) })
    }

    /// The loopback port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
        for s in lock(&self.sockets).iter() {
            let _ = s.shutdown(Shutdown::Both);
        }
        let threads = std::mem::take(&mut *lock(&self.threads));
        for t in threads {
            let _ = t.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    delay: Duration,
    stop: &AtomicBool,
    sockets: &Mutex<Vec<TcpStream>>,
    threads: &Mutex<Vec<JoinHandle<()>>>,
) {
    while !stop.load(Ordering::SeqCst) {
        let client = match listener.accept() {
            Ok((c, _)) => c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(ACCEPT_POLL);
                continue;
            }
            Err(_) => {
                std::thread::sleep(ACCEPT_POLL);
                continue;
            }
        };
        // A refused upstream closes the client, as a dropped route would.
        let Ok(server) = TcpStream::connect(upstream) else { continue };
        if let Err(e) = start_pumps(client, server, delay, sockets, threads) {
            eprintln!("delay proxy: connection dropped: {e}");
        }
    }
}

fn start_pumps(
    client: TcpStream,
    server: TcpStream,
    delay: Duration,
    sockets: &Mutex<Vec<TcpStream>>,
    threads: &Mutex<Vec<JoinHandle<()>>>,
) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    // No Nagle: the delay must be the only added latency.
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    {
        let mut s = lock(sockets);
        s.push(client.try_clone()?);
        s.push(server.try_clone()?);
    }
    let mut handles = Vec::with_capacity(4);
    for (from, to) in [(client.try_clone()?, server.try_clone()?), (server, client)] {
        let (tx, rx) = sync_channel::<Item>(QUEUE_CHUNKS);
        handles.push(
            std::thread::Builder::new().name("delay-proxy-read".into()).spawn(move || read_side(from, tx, delay))?,
        );
        handles.push(std::thread::Builder::new().name("delay-proxy-write".into()).spawn(move || write_side(to, rx))?);
    }
    lock(threads).extend(handles);
    Ok(())
}

fn read_side(mut from: TcpStream, tx: SyncSender<Item>, delay: Duration) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = tx.send(Item::End(Instant::now() + delay));
                return;
            }
            Ok(n) => {
                if tx.send(Item::Data(Instant::now() + delay, buf[..n].to_vec())).is_err() {
                    // The writer is gone (its peer failed): stop reading too.
                    let _ = from.shutdown(Shutdown::Read);
                    return;
                }
            }
        }
    }
}

fn write_side(mut to: TcpStream, rx: Receiver<Item>) {
    while let Ok(item) = rx.recv() {
        let due = match &item {
            Item::Data(d, _) | Item::End(d) => *d,
        };
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        match item {
            Item::Data(_, bytes) => {
                if to.write_all(&bytes).is_err() {
                    let _ = to.shutdown(Shutdown::Both);
                    return;
                }
            }
            Item::End(_) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server through the proxy: one round trip takes about 2 × delay, the
    /// bytes arrive intact, and after drop the port refuses connections.
    #[test]
    fn delays_both_directions_and_stops() {
        let echo = TcpListener::bind("127.0.0.1:0").unwrap();
        let echo_addr = echo.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = echo.accept() {
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        });
        let proxy = DelayProxy::start(echo_addr, Duration::from_millis(30)).unwrap();
        let port = proxy.port();
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_nodelay(true).unwrap();
        let mut rtts = Vec::new();
        for i in 0..5u8 {
            let t = Instant::now();
            c.write_all(&[i; 100]).unwrap();
            let mut got = [0u8; 100];
            c.read_exact(&mut got).unwrap();
            rtts.push(t.elapsed());
            assert_eq!(got, [i; 100]);
        }
        let min = rtts.iter().min().unwrap();
        assert!(*min >= Duration::from_millis(60), "round trip {min:?} < 2 × 30 ms");
        assert!(*min < Duration::from_millis(300), "round trip {min:?} far above 60 ms");
        drop(proxy);
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "proxy still accepting");
        let mut rest = [0u8; 1];
        assert_eq!(c.read(&mut rest).unwrap_or(0), 0, "client connection not closed");
    }
}
