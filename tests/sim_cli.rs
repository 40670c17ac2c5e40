//! `faultline sim` as a user runs it, on a small experiment: `run` writes the report and
//! prints the replay command; `replay --check-determinism` finds the same trace twice;
//! a sweep cut into shards merges into the sweep run whole; `shrink` writes a smaller
//! experiment that still fails; bad arguments and files exit 2 with a message.

#[path = "support/bounded.rs"]
mod bounded;

use std::path::{Path, PathBuf};
use std::process::Command;

use bounded::output_within;

fn faultline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
}

fn tiny() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sim/tiny-crash.yaml")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faultline-sim-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn run_writes_the_report_and_prints_how_to_replay() {
    let dir = scratch("run");
    let trace = dir.join("trace.jsonl");
    let out = output_within(faultline().args(["sim", "run"]).arg(tiny()).args([
        "--seed".as_ref(),
        "3".as_ref(),
        "--report-dir".as_ref(),
        dir.as_os_str(),
        "--trace".as_ref(),
        trace.as_os_str(),
    ]));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.starts_with("PASSED: tiny-crash on sim (seed 3)"),
        "{stdout}"
    );
    assert!(stdout.contains("replay: faultline sim replay"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["verdict"], "passed");
    assert_eq!(report["seed"], 3);
    assert!(
        !dir.join("report.html").exists(),
        "report.html: false in the file"
    );
    let lines = std::fs::read_to_string(&trace).unwrap();
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert!(
        first["t"].is_string() && first["kind"]["type"].is_string(),
        "{first}"
    );
}

#[test]
fn replay_checks_determinism() {
    let dir = scratch("replay");
    let out = output_within(faultline().args(["sim", "replay"]).arg(tiny()).args([
        "--seed".as_ref(),
        "5".as_ref(),
        "--check-determinism".as_ref(),
        "--report-dir".as_ref(),
        dir.as_os_str(),
    ]));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("deterministic: the same trace"), "{stdout}");
}

#[test]
fn shards_merge_into_the_whole_sweep() {
    let dir = scratch("sweep");
    let sweep = |extra: &[&str], out: &Path| {
        let result = output_within(
            faultline()
                .current_dir(&dir)
                .args(["sim", "sweep"])
                .arg(tiny())
                .args(["--seeds", "10..14", "--jobs", "2", "--out"])
                .arg(out)
                .args(extra),
        );
        assert!(result.status.success(), "{}", text(&result.stderr));
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(out).unwrap()).unwrap()
    };
    let whole = sweep(&[], &dir.join("whole.json"));
    sweep(&["--shard", "0/2"], &dir.join("a.json"));
    sweep(&["--shard", "1/2"], &dir.join("b.json"));
    let merged = output_within(
        faultline()
            .args(["sim", "merge"])
            .arg(dir.join("b.json"))
            .arg(dir.join("a.json"))
            .arg("--out")
            .arg(dir.join("merged.json")),
    );
    assert!(merged.status.success(), "{}", text(&merged.stderr));
    assert!(text(&merged.stdout).contains("4 seeds from 2 file(s), 0 failed"));
    let merged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("merged.json")).unwrap()).unwrap();
    assert_eq!(merged, whole, "sharding changes nothing of the results");
    let again = output_within(
        faultline()
            .args(["sim", "merge"])
            .arg(dir.join("a.json"))
            .arg(dir.join("a.json")),
    );
    assert_eq!(again.status.code(), Some(2), "a seed twice is refused");
}

#[test]
fn shrink_writes_a_smaller_experiment_that_still_fails() {
    let dir = scratch("shrink");
    // The instance breaker off: the breakerOpens clause cannot hold.
    let broken = std::fs::read_to_string(tiny()).unwrap().replace(
        "instanceBreaker: { minSamples: 10, errorRate: 0.5, bucket: 100ms, buckets: 10 }",
        "instanceBreaker: { enabled: false }",
    );
    let file = dir.join("broken.yaml");
    std::fs::write(&file, broken).unwrap();
    let shrunk = dir.join("small.yaml");
    let out = output_within(
        faultline()
            .args(["sim", "shrink"])
            .arg(&file)
            .args(["--seed", "1", "-o"])
            .arg(&shrunk),
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("still fails: "), "{stdout}");
    let small = std::fs::read_to_string(&shrunk).unwrap();
    assert!(small.contains("rate:"), "{small}");
    let run = output_within(
        faultline()
            .args(["sim", "run"])
            .arg(&shrunk)
            .arg("--report-dir")
            .arg(dir.join("report")),
    );
    assert_eq!(
        run.status.code(),
        Some(1),
        "the minimal experiment fails too"
    );
}

#[test]
fn bad_arguments_and_files_exit_2_with_a_message() {
    let cases: [(&[&str], &str); 3] = [
        (&["--seeds", "9..3"], "empty"),
        (&["--seeds", "1..3", "--shard", "2/2"], "below the count"),
        (&["--seeds", "1..3", "--time-scale", "1000"], "1..=100"),
    ];
    for (args, message) in cases {
        let out = output_within(faultline().args(["sim", "sweep"]).arg(tiny()).args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(message),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let dir = scratch("bad");
    let file = dir.join("bad.yaml");
    std::fs::write(&file, "apiVersion: faultline.dev/v1alpha1\nkind: Experiment\nmetadata: {name: x}\nspec:\n  workload: {rate: fast}\n").unwrap();
    let out = output_within(faultline().args(["sim", "run"]).arg(&file));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bad.yaml:5:"),
        "{}",
        text(&out.stderr)
    );
}

/// One seed, one trace across processes too: nothing in a run depends on the process's
/// randomness (hash keys, tokio's select order) or on the wall clock.
#[test]
fn two_processes_with_one_seed_print_one_trace_hash() {
    let dir = scratch("processes");
    let trace_of = |seed: &str| {
        let out = output_within(
            faultline()
                .args(["sim", "run"])
                .arg(tiny())
                .args(["--seed", seed, "--report-dir"])
                .arg(&dir),
        );
        let stdout = text(&out.stdout);
        let hash = stdout
            .split_once(" events, trace ")
            .and_then(|(_, rest)| rest.split(';').next())
            .unwrap_or_else(|| panic!("no trace hash in {stdout}"))
            .to_owned();
        hash
    };
    let first = trace_of("21");
    assert_eq!(first.len(), 16, "{first}");
    assert_eq!(first, trace_of("21"));
    assert_ne!(first, trace_of("22"));
}
