//! Interop: Apache Thrift's Python library (`thrift` 0.25.0) calls `faultline serve`, the
//! real binary, through `tests/python/echo_client.py`: TFramedTransport + TBinaryProtocol
//! and THeaderTransport (Binary, Compact) as the issue asks, and also Framed Compact,
//! Buffered (TBufferedTransport) Binary and Compact, and old non-strict Binary
//! (`strictWrite=False`) Framed and Buffered. Each gets its message back; an
//! unknown method comes back as Python's own `TApplicationException(UNKNOWN_METHOD)`.
//!
//! Needs `python3` with `thrift` importable; without it the tests print a skip notice,
//! unless `CI` is set, where they fail.

#[path = "support/bounded.rs"]
mod bounded;

mod serve_support;

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value as Json};
use serve_support::Served;

#[path = "support/python_peer.rs"]
mod python_peer;

fn client_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/echo_client.py")
}

/// Runs one call through the Python client and returns its JSON answer.
fn python_call(
    served: &Served,
    transport: &str,
    protocol: &str,
    method: &str,
    message: &str,
) -> Json {
    let out = bounded::output_within(
        Command::new(python_peer::python())
            .arg(client_script())
            .args([
                "127.0.0.1",
                served.port(),
                transport,
                protocol,
                method,
                message,
            ]),
    );
    assert!(
        out.status.success(),
        "{transport}/{protocol}: the Python client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{transport}/{protocol}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn python_clients_get_their_echo_back() {
    if !python_peer::available(&client_script()) {
        return;
    }
    let served = Served::start(&[]);
    for (transport, protocol) in [
        ("framed", "binary"),
        ("header", "binary"),
        ("header", "compact"),
        ("framed", "compact"),
        ("buffered", "binary"),
        ("buffered", "compact"),
        ("framed", "binary-nonstrict"),
        ("buffered", "binary-nonstrict"),
    ] {
        let message = format!("héllo from Python over {transport}/{protocol}");
        let answer = python_call(&served, transport, protocol, "echo", &message);
        assert_eq!(
            answer,
            json!({"seqid": 7, "message": message}),
            "{transport}/{protocol}"
        );
    }
}

#[test]
fn python_sees_unknown_method_as_tapplicationexception() {
    if !python_peer::available(&client_script()) {
        return;
    }
    let served = Served::start(&[]);
    for transport in ["framed", "header"] {
        let answer = python_call(&served, transport, "binary", "shout", "x");
        assert_eq!(
            answer,
            json!({"seqid": 7, "exception": {"type": 1, "message": "unknown method shout"}}),
            "{transport}"
        );
    }
}
