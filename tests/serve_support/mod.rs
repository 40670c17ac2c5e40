//! Test support for the `serve_*` tests: `faultline serve` as a child process on a free
//! loopback port, killed when the test is done.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

/// A running `faultline serve --listen 127.0.0.1:0`.
pub struct Served {
    pub child: Child,
    /// The address it printed (`127.0.0.1:PORT`).
    pub addr: String,
    stdout: BufReader<ChildStdout>,
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
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read the first line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("`listening on ADDR` expected, got {line:?}"))
            .to_owned();
        Self {
            child,
            addr,
            stdout,
        }
    }

    /// The next line it prints.
    pub fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read a line");
        line.trim().to_owned()
    }

    /// The port it listens on.
    pub fn port(&self) -> &str {
        self.addr.rsplit(':').next().expect("host:port")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // Already gone when a test stopped it itself.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
