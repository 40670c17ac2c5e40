//! `faultline call`, the real binary, against `faultline serve`, the real binary: one call
//! on every transport prints the echoed message; a rate run prints its summary and exits
//! 0; calls to a closed port fail with exit code 1 and their error kind in the summary;
//! `--connect-timeout` reaches the pool's config (validated like the file's).

#[path = "support/bounded.rs"]
mod bounded;

mod serve_support;

use std::process::{Command, Output};

use serve_support::Served;

fn call(args: &[&str]) -> Output {
    bounded::output_within(
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .arg("call")
            .args(args),
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn one_call_prints_the_echoed_message_on_every_transport() {
    let served = Served::start(&[]);
    for transport in [
        "ttheader",
        "ttheader-framed",
        "theader",
        "framed",
        "buffered",
    ] {
        for protocol in ["binary", "compact"] {
            let out = call(&[
                "--to",
                &served.addr,
                "--transport",
                transport,
                "--protocol",
                protocol,
                "--message",
                "hi there",
            ]);
            assert!(out.status.success(), "{transport} {protocol}: {out:?}");
            assert_eq!(stdout(&out), "hi there\n", "{transport} {protocol}");
        }
    }
}

#[test]
fn a_rate_run_over_two_servers_prints_a_summary() {
    let a = Served::start(&["--zone", "a"]);
    let b = Served::start(&["--zone", "b"]);
    let to = format!("{}@a,{}@b", a.addr, b.addr);
    let out = call(&[
        "--to",
        &to,
        "--zone",
        "a",
        "--message",
        "load",
        "--qps",
        "100",
        "--duration",
        "1s",
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let first = text.lines().next().unwrap_or_default();
    assert_eq!(
        first, "calls 100  ok 100  errors 0  fallbacks 0  dropped 0",
        "{text}"
    );
    let latency = text.lines().nth(1).unwrap_or_default();
    for part in ["latency p50 ", " p90 ", " p99 ", " max "] {
        assert!(latency.contains(part), "{text}");
    }
}

#[test]
fn failed_calls_exit_1_with_their_kind_in_the_summary() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let out = call(&["--to", &addr, "--message", "x"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("connect to"),
        "{out:?}"
    );
    let out = call(&[
        "--to",
        &addr,
        "--message",
        "x",
        "--qps",
        "20",
        "--duration",
        "1s",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = stdout(&out);
    assert!(text.starts_with("calls 20  ok 0  errors 20"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("error ")), "{text}");
}

#[test]
fn bad_usage_exits_2() {
    let out = call(&["--to", "127.0.0.1:1", "--message", "x", "--qps", "5"]);
    assert_eq!(out.status.code(), Some(2), "--qps needs --duration");
    let out = call(&[
        "--to",
        "127.0.0.1:1",
        "--message",
        "x",
        "--protocol",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn connect_timeout_is_the_pools_and_validated() {
    let served = Served::start(&[]);
    let out = call(&[
        "--to",
        &served.addr,
        "--connect-timeout",
        "2s",
        "--message",
        "hi",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "hi\n");
    let out = call(&[
        "--to",
        &served.addr,
        "--connect-timeout",
        "0s",
        "--message",
        "hi",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pool.connectTimeout"),
        "{out:?}"
    );
}
