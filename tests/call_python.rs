//! Interop: `faultline call`, the real binary, calls an Apache Thrift Python server
//! (`thrift` 0.25.0, `tests/python/echo_server.py`, a hand-written processor, no codegen)
//! over Framed and Buffered (Binary and Compact) and THeader (Binary and Compact), once and
//! in a short rate run.
//!
//! Needs `python3` with `thrift` importable; without it the tests print a skip notice,
//! unless `CI` is set, where they fail.

#[path = "support/bounded.rs"]
mod bounded;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

#[path = "support/python_peer.rs"]
mod python_peer;

fn server_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/echo_server.py")
}

/// The Python server, killed on drop.
struct PythonServer {
    child: Child,
    addr: String,
}

impl PythonServer {
    fn start(transport: &str, protocol: &str) -> Self {
        let mut child = Command::new(python_peer::python())
            .arg(server_script())
            .args([transport, protocol])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the first line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("`listening on ADDR` expected, got {line:?}"))
            .to_owned();
        Self { child, addr }
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn call(args: &[&str]) -> Output {
    bounded::output_within(
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .arg("call")
            .args(args),
    )
}

/// (server transport, `faultline call --transport`, protocol)
const CASES: [(&str, &str, &str); 6] = [
    ("framed", "framed", "binary"),
    ("framed", "framed", "compact"),
    ("buffered", "buffered", "binary"),
    ("buffered", "buffered", "compact"),
    ("header", "theader", "binary"),
    ("header", "theader", "compact"),
];

#[test]
fn faultline_call_gets_its_echo_from_a_python_server() {
    if !python_peer::available(&server_script()) {
        return;
    }
    for (server, transport, protocol) in CASES {
        let python = PythonServer::start(server, protocol);
        let message = format!("héllo Python over {transport}/{protocol}");
        let out = call(&[
            "--to",
            &python.addr,
            "--transport",
            transport,
            "--protocol",
            protocol,
            "--message",
            &message,
        ]);
        assert!(out.status.success(), "{transport}/{protocol}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{message}\n"),
            "{transport}/{protocol}"
        );
    }
}

#[test]
fn a_rate_run_against_a_python_server_succeeds() {
    if !python_peer::available(&server_script()) {
        return;
    }
    let python = PythonServer::start("framed", "binary");
    let out = call(&[
        "--to",
        &python.addr,
        "--transport",
        "framed",
        "--message",
        "load",
        "--qps",
        "50",
        "--duration",
        "1s",
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("calls 50  ok 50  errors 0  fallbacks 0  dropped 0\n"),
        "{text}"
    );
}
