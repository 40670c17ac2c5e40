//! Test support for the `serve_*` tests: `faultline serve` as a child process on a free
//! loopback port, killed when the test is done. Every wait on it is bounded by [`BOUND`],
//! so a server that never prints or never exits fails the test instead of hanging it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The longest any one wait on the server may take.
pub const BOUND: Duration = Duration::from_secs(10);

/// A running `faultline serve --listen 127.0.0.1:0`.
pub struct Served {
    pub child: Child,
    /// The address it printed (`127.0.0.1:PORT`).
    pub addr: String,
    /// Its stdout, line by line, from a reader thread (so a wait can time out).
    lines: mpsc::Receiver<String>,
}

impl Served {
    /// Starts the real binary with `extra` arguments and waits for its `listening on` line.
    pub fn start(extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("faultline serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let sent = line.map(|line| tx.send(line));
                if !matches!(sent, Ok(Ok(()))) {
                    return;
                }
            }
        });
        let first = lines.recv_timeout(BOUND);
        let addr = first
            .as_deref()
            .ok()
            .and_then(|line| line.trim().strip_prefix("listening on "))
            .map(str::to_owned);
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`listening on ADDR` expected within {BOUND:?}, got {first:?}");
        };
        Self { child, addr, lines }
    }

    /// The next line it prints, within [`BOUND`].
    pub fn line(&mut self) -> String {
        match self.lines.recv_timeout(BOUND) {
            Ok(line) => line.trim().to_owned(),
            Err(err) => panic!("no line from faultline serve within {BOUND:?}: {err}"),
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> &str {
        self.addr.rsplit(':').next().expect("host:port")
    }

    /// Sends it SIGTERM.
    #[cfg(unix)]
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Its exit status, once it has exited; fails if it is still running after [`BOUND`].
    /// (std cannot wait for a child with a timeout, so this polls every 10 ms.)
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "faultline serve still running {BOUND:?} later"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // Already gone when a test stopped it itself.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
