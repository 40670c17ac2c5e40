//! `faultline serve` as a user runs it: Kitex TTHeader and TTHeader + Framed calls (built
//! with faultline's frame encoder over a plain socket) get their echo back from the real
//! binary; `--zone` is accepted; `--metrics` serves the calls as Prometheus series; SIGTERM shuts it down with exit code 0; an address it
//! cannot listen on exits 2.

mod serve_support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;

use faultline_core::echo::{EchoArgs, EchoResult, METHOD};
use faultline_core::frame::{decode_frame, encode_frame, frame_len, Header, IntKey, Transport};
use faultline_core::protocol::{
    Binary, Compact, DecodeLimits, Message, MessageHeader, MessageType, ProtocolId,
};
use serve_support::Served;

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
    let mut stream = TcpStream::connect(addr).expect("connect");
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
    let status = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = served.child.wait().expect("faultline serve exits");
    assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
}

#[test]
fn an_address_in_use_exits_2() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["serve", "--listen", &addr])
        .output()
        .expect("faultline runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot listen on"), "{stderr}");
}

/// `GET /metrics` on `addr`: the response body.
fn scrape(addr: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect to metrics");
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
