//! `faultline decode` as a user runs it: the real binary on the shipped samples, on stdin,
//! on several frames back to back, and on bad input (exit codes and the JSON error).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value as Json;

fn faultline(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("faultline runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("faultline exits")
}

fn json(output: &Output) -> Json {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("samples/frames")
        .join(name)
}

#[test]
fn decodes_the_readme_sample() {
    let out = faultline(
        &["decode", "--hex", "samples/frames/echo-ttheader.hex"],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    let frame = &doc["frames"][0];
    assert_eq!(frame["transport"], "ttheader");
    assert_eq!(frame["protocol"], "binary");
    assert_eq!(frame["header"]["int"]["ToMethod(9)"], "echo");
    assert_eq!(frame["header"]["int"]["RPCTimeout(12)"], "1000");
    assert_eq!(frame["header"]["strings"]["isn"], "Echo");
    assert_eq!(frame["message"]["name"], "echo");
    assert_eq!(frame["message"]["type"], "call");
    assert_eq!(
        frame["body"]["struct"][0]["struct"][0]["string"],
        "hello, kitex"
    );
    assert!(doc.get("error").is_none());
}

#[test]
fn every_sample_decodes_with_auto_detection() {
    for (name, transport, protocol) in [
        ("echo-ttheader-framed.hex", "ttheader_framed", "binary"),
        ("echo-theader-compact.hex", "theader", "compact"),
        ("echo-framed-binary.hex", "framed", "binary"),
        ("echo-buffered-compact.hex", "buffered", "compact"),
    ] {
        let path = sample(name);
        let out = faultline(&["decode", "--hex", path.to_str().unwrap()], b"");
        assert!(out.status.success(), "{name}");
        let doc = json(&out);
        assert_eq!(doc["frames"][0]["transport"], transport, "{name}");
        assert_eq!(doc["frames"][0]["protocol"], protocol, "{name}");
    }
}

/// Old non-strict Binary as Apache's Python library writes it with `strict_write=False`
/// (the committed vectors of core/tests/interop, made by thrift 0.25.0 through
/// `core/tests/interop/python/regen.py`): `--frame auto` detects it, Buffered and Framed,
/// also back to back on stdin.
#[test]
fn old_non_strict_binary_from_python_is_auto_detected() {
    let vectors = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("core/tests/interop/vectors");
    let mut both = String::new();
    for (name, transport, method, kind) in [
        (
            "containers_call.binary-nonstrict.hex",
            "buffered",
            "containers",
            "call",
        ),
        (
            "exception_message.binary-nonstrict.framed.hex",
            "framed",
            "fail",
            "exception",
        ),
        (
            "uuid_oneway.binary-nonstrict.hex",
            "buffered",
            "fire",
            "oneway",
        ),
    ] {
        let path = vectors.join(name);
        let out = faultline(&["decode", "--hex", path.to_str().unwrap()], b"");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let frame = &json(&out)["frames"][0];
        assert_eq!(frame["transport"], transport, "{name}");
        assert_eq!(frame["protocol"], "binary", "{name}");
        assert_eq!(frame["message"]["name"], method, "{name}");
        assert_eq!(frame["message"]["type"], kind, "{name}");
        both.push_str(&std::fs::read_to_string(&path).unwrap());
    }
    let out = faultline(&["decode", "--hex", "-"], both.as_bytes());
    assert!(out.status.success());
    let transports: Vec<_> = json(&out)["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["transport"].clone())
        .collect();
    assert_eq!(transports, ["buffered", "framed", "buffered"]);
}

#[test]
fn reads_raw_bytes_from_stdin_and_decodes_back_to_back_frames() {
    let one = std::fs::read_to_string(sample("echo-framed-binary.hex")).unwrap();
    let hex = format!("{one}{one}");
    let out = faultline(&["decode", "--hex", "-"], hex.as_bytes());
    assert!(out.status.success());
    let doc = json(&out);
    let frames = doc["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1]["offset"], frames[0]["length"]);
}

#[test]
fn a_named_transport_that_does_not_match_is_an_error() {
    let path = sample("echo-ttheader.hex");
    let out = faultline(
        &[
            "decode",
            "--hex",
            "--frame",
            "theader",
            path.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["kind"], "bad_magic");
}

#[test]
fn truncated_frame_reports_kind_and_offset() {
    let out = faultline(
        &["decode", "--hex", "samples/frames/truncated-ttheader.hex"],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["frames"].as_array().unwrap().len(), 0);
    assert_eq!(doc["error"]["kind"], "unexpected_eof");
    assert_eq!(doc["error"]["offset"], 4);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at byte 4"), "{stderr}");
}

#[test]
fn error_after_a_good_frame_keeps_the_good_frame_and_absolute_offset() {
    let good = std::fs::read_to_string(sample("echo-framed-binary.hex")).unwrap();
    // A second frame whose field-1 list header claims 1,000 i64 with no bytes left.
    let bad = "00 00 00 14 80 01 00 01 00 00 00 00 00 00 00 00 0f 00 01 0a 00 00 03 e8";
    let out = faultline(&["decode", "--hex", "-"], format!("{good}{bad}").as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["frames"].as_array().unwrap().len(), 1);
    let first_len = doc["frames"][0]["length"].as_u64().unwrap();
    assert_eq!(doc["error"]["kind"], "container_exceeds_input");
    // The list header starts 4 (length) + 12 (envelope) + 3 (field header) bytes in.
    assert_eq!(doc["error"]["offset"].as_u64().unwrap(), first_len + 19);
}

#[test]
fn empty_input_is_a_decode_error() {
    let out = faultline(&["decode", "-"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["kind"], "unexpected_eof");
}

#[test]
fn unreadable_input_exits_2() {
    let out = faultline(&["decode", "no/such/file"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file"));
    let out = faultline(&["decode", "--hex", "-"], b"zz");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1:1"));
}
