//! Interop: `faultline call`, the real binary, calls an Apache Thrift Python server
//! (`thrift` 0.25.0, `tests/python/echo_server.py`, a hand-written processor, no codegen)
//! over Framed and Buffered (Binary and Compact) and THeader (Binary and Compact), once and
//! in a short rate run.
//!
//! Needs `python3` with `thrift` importable; without it the tests print a skip notice,
//! unless `CI` is set, where they fail.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn server_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/echo_server.py")
}

/// True when `thrift` 0.25.0 imports; otherwise a skip notice, or a panic when `CI` is set.
fn python_available() -> bool {
    let why = match Command::new(python())
        .arg(server_script())
        .arg("--check")
        .output()
    {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            assert_eq!(version, "0.25.0", "pip install thrift==0.25.0");
            return true;
        }
        Ok(out) => format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(err) => format!("cannot run {}: {err}", python()),
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but the Python server cannot run ({why}); pip install thrift==0.25.0"
    );
    eprintln!("skipped: pip install thrift==0.25.0 ({})", why.trim());
    false
}

/// The Python server, killed on drop.
struct PythonServer {
    child: Child,
    addr: String,
}

impl PythonServer {
    fn start(transport: &str, protocol: &str) -> Self {
        let mut child = Command::new(python())
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
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("call")
        .args(args)
        .output()
        .expect("faultline call runs")
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
    if !python_available() {
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
    if !python_available() {
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
