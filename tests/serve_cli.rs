//! `faultline serve` as a user runs it: Kitex TTHeader and TTHeader + Framed calls (built
//! with faultline's frame encoder over a plain socket) get their echo back from the real
//! binary; `--zone` is accepted; `--metrics` serves the calls as Prometheus series; SIGTERM
//! shuts it down with exit code 0, answering a call in flight first, or cancelling a hung
//! one at the drain deadline (`--drain-timeout`); an address it cannot listen on exits 2.
//! Every socket read is bounded by `BOUND`.

#[path = "support/bounded.rs"]
mod bounded;

mod serve_support;

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use faultline_core::echo::{EchoArgs, EchoResult, METHOD};
use faultline_core::frame::{decode_frame, encode_frame, frame_len, Header, IntKey, Transport};
use faultline_core::protocol::{
    ApplicationException, Binary, Compact, DecodeLimits, Message, MessageHeader, MessageType,
    ProtocolId, Value,
};
use serve_support::{Served, BOUND};

/// A connection whose reads fail after `BOUND` instead of blocking forever.
fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(BOUND)).expect("read timeout");
    stream
}

/// Sends one echo call in `transport`/`protocol` and returns the reply's message and its
/// header's `MsgType`.
fn call(addr: &str, transport: Transport, protocol: ProtocolId, message: &str) -> (String, String) {
    let mut header = Header::new(protocol, 3);
    header.metadata.set_int(IntKey::ToMethod, METHOD);
    let call = Message {
        header: MessageHeader {
            name: METHOD,
            kind: MessageType::Call,
            seq_id: 3,
        },
        body: EchoArgs::new(message),
    };
    let frame = match protocol {
        ProtocolId::Binary => encode_frame::<Binary, _>(transport, Some(&header), &call),
        ProtocolId::Compact => encode_frame::<Compact, _>(transport, Some(&header), &call),
    }
    .expect("encode");
    let mut stream = connect(addr);
    stream.write_all(&frame).expect("send");
    let limits = DecodeLimits::default();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let len = loop {
        if let Some(len) = frame_len(&buf, None, None, &limits).expect("a reply frame") {
            if buf.len() >= len {
                break len;
            }
        }
        let n = stream.read(&mut chunk).expect("read");
        assert!(n > 0, "the server closed the connection before replying");
        buf.extend_from_slice(&chunk[..n]);
    };
    let reply = decode_frame(&buf[..len], None, None, &limits).expect("decode");
    assert_eq!(reply.transport, transport);
    let header = reply.header.clone().expect("a reply header");
    assert_eq!(header.seq_id, 3);
    let result = reply
        .decode_message::<EchoResult>(limits)
        .expect("an echo result");
    assert_eq!(result.header.seq_id, 3);
    assert_eq!(result.header.kind, MessageType::Reply);
    let msg_type = header
        .metadata
        .int_str(IntKey::MsgType)
        .unwrap_or("")
        .to_owned();
    (result.body.success.expect("success").message, msg_type)
}

#[test]
fn kitex_ttheader_calls_get_their_echo_back() {
    let served = Served::start(&["--zone", "az-1"]);
    for transport in [Transport::TTHeader, Transport::TTHeaderFramed] {
        for protocol in [ProtocolId::Binary, ProtocolId::Compact] {
            let what = format!("{transport}/{}", protocol.name());
            let (message, msg_type) = call(&served.addr, transport, protocol, &what);
            assert_eq!(message, what);
            assert_eq!(msg_type, "2", "{what}: MsgType reply as ASCII digits");
        }
    }
}

#[cfg(unix)]
#[test]
fn sigterm_shuts_down_with_exit_code_0() {
    let mut served = Served::start(&[]);
    let (message, _) = call(
        &served.addr,
        Transport::TTHeader,
        ProtocolId::Binary,
        "before",
    );
    assert_eq!(message, "before");
    served.terminate();
    let exit = served.wait();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
}

/// A `ServerConfig` file allowing one call in flight, named after the test.
fn one_in_flight(test: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "faultline-serve-cli-{}-{test}.yaml",
        std::process::id()
    ));
    fs::write(&path, "maxInFlight: 1\n").expect("write the config");
    path
}

/// A TTHeader + Binary echo call frame.
fn echo_frame(seq_id: i32, message: &str) -> Vec<u8> {
    let mut header = Header::new(ProtocolId::Binary, seq_id);
    header.metadata.set_int(IntKey::ToMethod, METHOD);
    let call = Message {
        header: MessageHeader {
            name: METHOD,
            kind: MessageType::Call,
            seq_id,
        },
        body: EchoArgs::new(message),
    };
    encode_frame::<Binary, _>(Transport::TTHeader, Some(&header), &call)
        .expect("encode")
        .to_vec()
}

/// The next reply on `stream`: its sequence id and the echoed message or the exception's
/// message; `None` when the server closed the connection instead.
fn next_reply(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(i32, Result<String, String>)> {
    let limits = DecodeLimits::default();
    let mut chunk = [0u8; 4096];
    let len = loop {
        if let Some(len) = frame_len(buf, None, None, &limits).expect("a reply frame") {
            if buf.len() >= len {
                break len;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => return None,
            Err(err) => panic!("read a reply within {BOUND:?}: {err}"),
        }
    };
    let frame = decode_frame(&buf[..len], None, None, &limits).expect("decode");
    let probe = frame.decode_message::<Value>(limits).expect("a message");
    let reply = match probe.header.kind {
        MessageType::Reply => {
            let reply = frame
                .decode_message::<EchoResult>(limits)
                .expect("a result");
            let message = reply.body.success.expect("success").message;
            (reply.header.seq_id, Ok(message))
        }
        MessageType::Exception => {
            let exception = frame
                .decode_message::<ApplicationException>(limits)
                .expect("an exception");
            (exception.header.seq_id, Err(exception.body.message))
        }
        other => panic!("a reply or an exception expected, got {other:?}"),
    };
    buf.drain(..len);
    Some(reply)
}

/// Starts `faultline serve` with one call allowed in flight and `extra` flags, and puts
/// an echo call in flight: a second call pipelined behind it on the same connection is
/// shed with "overloaded", which shows the first one is being served.
fn with_a_call_in_flight(test: &str, extra: &[&str]) -> (Served, TcpStream, Vec<u8>) {
    let config = one_in_flight(test);
    let config = config.to_str().expect("a UTF-8 temp path");
    let mut args = vec!["--config", config];
    args.extend_from_slice(extra);
    let served = Served::start(&args);
    let mut stream = connect(&served.addr);
    let mut calls = echo_frame(1, "in flight");
    calls.extend(echo_frame(2, "shed"));
    stream.write_all(&calls).expect("send");
    let mut buf = Vec::new();
    let (seq_id, shed) = next_reply(&mut stream, &mut buf).expect("the shed call's reply");
    assert_eq!(seq_id, 2);
    let message = shed.expect_err("the second call is shed");
    assert!(message.contains("overloaded"), "{message}");
    (served, stream, buf)
}

#[cfg(unix)]
#[test]
fn sigterm_answers_the_call_in_flight_then_exits_0() {
    let (mut served, mut stream, mut buf) =
        with_a_call_in_flight("answered", &["--echo-delay", "1s"]);
    served.terminate();
    let reply = next_reply(&mut stream, &mut buf).expect("the call in flight is answered");
    assert_eq!(reply, (1, Ok("in flight".to_owned())));
    assert_eq!(
        next_reply(&mut stream, &mut buf),
        None,
        "then the connection closes"
    );
    let exit = served.wait();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
}

#[cfg(unix)]
#[test]
fn sigterm_with_a_hung_call_exits_at_the_drain_deadline() {
    let (mut served, mut stream, mut buf) =
        with_a_call_in_flight("hung", &["--echo-delay", "1h", "--drain-timeout", "300ms"]);
    let asked = Instant::now();
    served.terminate();
    assert_eq!(
        next_reply(&mut stream, &mut buf),
        None,
        "the hung call is cancelled: closed without a reply"
    );
    let exit = served.wait();
    let waited = asked.elapsed();
    assert!(
        exit.success(),
        "exits 0 after the drain deadline, got {exit}"
    );
    assert!(
        waited >= Duration::from_millis(300),
        "not before the drain deadline: {waited:?}"
    );
}

#[test]
fn invalid_timeouts_exit_2_naming_the_flag_or_field() {
    let out = bounded::output_within(Command::new(env!("CARGO_BIN_EXE_faultline")).args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--read-timeout",
        "0s",
    ]));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("readTimeout"), "{stderr}");
    let out = bounded::output_within(Command::new(env!("CARGO_BIN_EXE_faultline")).args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--idle-timeout",
        "5",
    ]));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing unit"), "{stderr}");
}

#[test]
fn an_address_in_use_exits_2() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = bounded::output_within(
        Command::new(env!("CARGO_BIN_EXE_faultline")).args(["serve", "--listen", &addr]),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot listen on"), "{stderr}");
}

/// `GET /metrics` on `addr`: the response body.
fn scrape(addr: &str) -> String {
    let mut stream = connect(addr);
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

#[test]
fn metrics_count_the_calls_served() {
    let mut served = Served::start(&["--metrics", "127.0.0.1:0"]);
    let line = served.line();
    let metrics = line
        .strip_prefix("metrics on ")
        .unwrap_or_else(|| panic!("`metrics on ADDR` expected, got {line:?}"))
        .to_owned();
    let (message, _) = call(
        &served.addr,
        Transport::TTHeader,
        ProtocolId::Binary,
        "count me",
    );
    assert_eq!(message, "count me");
    // Events are recorded by a task of the server process: scrape until the call shows
    // (each scrape is a round trip to that process), within a bound.
    let series = r#"rpc_server_requests_total{rpc_system="apache_thrift",rpc_service="Echo",rpc_method="echo",status="ok"} 1"#;
    let found = (0..200).any(|_| scrape(&metrics).contains(series));
    assert!(found, "{series} missing from:\n{}", scrape(&metrics));
}
