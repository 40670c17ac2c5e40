//! The local backend end to end: real `faultline serve` processes behind fault proxies on
//! loopback, the real client stack, faults on the wall clock.
//!
//! - The examples pass as written and FAIL with the client broken the way a deployment
//!   could be (zone-aware balancing off, the instance breaker off).
//! - An abort condition stops the run and rolls its fault back; a steady state that does
//!   not hold stops the run before anything is injected.
//! - Through the command: exit codes, the report files, Ctrl-C, and nothing left behind
//!   when the controller itself is SIGKILLed.
//!
//! Each run loads both cores of a small machine, so the runs of this file take turns, and
//! zone-failover runs at 400 calls/s instead of the file's 1,000: its clauses leave
//! 0.3 ms between the cross-zone p99 (4.7 ms) and the 5 ms bar, which the run's own load
//! eats on a small machine. `chaos run` in the README runs the file as written.

#[path = "support/experiments.rs"]
mod experiments;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use experiments::{assert_fails_on, assert_passed, example, load, with_client, with_spec};
use faultline_chaos::local::run::{run, LocalOptions};
use faultline_chaos::local::supervisor::ServerCommand;
use faultline_chaos::report::{Report, Verdict};
use serde_json::json;

/// One run at a time.
static TURN: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

fn faultline() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_faultline"))
}

fn local(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/local")
        .join(format!("{name}.yaml"))
}

fn run_text(text: &[u8], path: &Path) -> Report {
    let (experiment, document) = load(text, path);
    let options = LocalOptions {
        seed: 1,
        kernel_loss: false,
        server: ServerCommand {
            program: faultline(),
            args: vec!["serve".to_owned()],
            service: experiment.spec.target.service.clone(),
        },
    };
    let _turn = turn();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(run(
            &experiment,
            &document,
            &options,
            std::future::pending(),
            |_| {},
        ))
        .unwrap()
}

fn run_file(path: &Path) -> Report {
    run_text(&std::fs::read(path).unwrap(), path)
}

#[test]
fn zone_failover_pulls_traffic_home_and_fails_without_zone_aware_balancing() {
    let lighter = json!({ "workload": { "rate": 400 } });
    let report = run_text(
        with_spec("zone-failover", lighter.clone()).as_bytes(),
        &example("zone-failover"),
    );
    assert_passed(&report);
    let mut broken = lighter;
    broken["client"] = json!({ "balancer": { "type": "roundRobin" } });
    let broken = with_spec("zone-failover", broken);
    let broken = run_text(broken.as_bytes(), Path::new("broken.yaml"));
    assert_fails_on(
        &broken,
        "errorRate below 1% (during az1-down)",
        Some("az1-down"),
    );
}

#[test]
fn instance_crash_trips_the_instance_breaker_and_fails_without_it() {
    let report = run_file(&example("instance-crash"));
    assert_passed(&report);
    let restarts = report
        .checks
        .iter()
        .find(|c| c.name == "instances-stay-up")
        .unwrap();
    assert_eq!(restarts.checked, 4, "three starts and one restart");
    let broken = with_client(
        "instance-crash",
        json!({"instanceBreaker": {"enabled": false}}),
    );
    let broken = run_text(broken.as_bytes(), Path::new("broken.yaml"));
    assert_fails_on(
        &broken,
        "breakerOpens (Instance) within 2s",
        Some("kill-one"),
    );
}

#[test]
fn an_abort_stops_the_run_and_rolls_the_partition_back() {
    let report = run_file(&local("partition-abort"));
    assert_eq!(report.verdict, Verdict::Aborted, "{report:#?}");
    let reason = report.aborted.as_deref().unwrap();
    assert!(reason.contains("errorRate"), "{reason}");
    assert!(
        report.measured < Duration::from_secs(8),
        "stopped early: {:?}",
        report.measured
    );
    assert!(report.faults[0].skipped.is_none(), "{:?}", report.faults);
}

#[test]
fn a_steady_state_that_does_not_hold_injects_nothing() {
    let report = run_file(&local("steady-state"));
    assert_eq!(report.verdict, Verdict::Failed, "{report:#?}");
    assert_eq!(report.measured, Duration::from_secs(2));
    let skipped = report.faults[0].skipped.as_deref().unwrap_or_default();
    assert!(skipped.contains("steady state"), "{skipped}");
    let stays_up = &report.checks[0];
    assert_eq!(stays_up.checked, 1, "the instance was never killed");
}

/// `faultline chaos run` with its output read line by line.
struct Controller {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Controller {
    fn start(file: &Path, report_dir: &Path) -> Self {
        let mut child = Command::new(faultline())
            .args(["chaos", "run"])
            .arg(file)
            .arg("--report-dir")
            .arg(report_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Controller {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first line containing `text` (within a minute).
    fn wait_for(&mut self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no line with {text:?}; seen {:#?}", self.seen),
            }
        }
    }

    /// The instances' pids and addresses (and their proxies') from the start lines.
    fn instances(&mut self, count: usize) -> Vec<(i32, SocketAddr, SocketAddr)> {
        (0..count)
            .map(|_| {
                let line = self.wait_for("through its fault proxy on");
                let words: Vec<&str> = line.split_whitespace().collect();
                let after = |word: &str| {
                    let at = words.iter().position(|w| *w == word).unwrap();
                    words[at + 1].trim_end_matches(',')
                };
                (
                    after("pid").parse().unwrap(),
                    after("on").parse().unwrap(),
                    words.last().unwrap().parse().unwrap(),
                )
            })
            .collect()
    }
}

fn alive(pid: i32) -> bool {
    // A zombie has exited: only its parent has not reaped it yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

/// Whether a socket listens on `addr`, from the kernel's table (`/proc/net/tcp`): a
/// connect would also succeed on the rare self-connection of a free loopback port.
fn listening(addr: SocketAddr) -> bool {
    const LISTEN: &str = "0A";
    let wanted = format!(":{:04X}", addr.port());
    std::fs::read_to_string("/proc/net/tcp").is_ok_and(|table| {
        table.lines().skip(1).any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 3 && fields[1].ends_with(&wanted) && fields[3] == LISTEN
        })
    })
}

/// Polls (for at most ten seconds) until `gone` holds.
fn eventually(what: &str, gone: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gone() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_rolls_back_and_still_writes_the_report() {
    let _turn = turn();
    let dir = tempdir("ctrl-c");
    let mut controller = Controller::start(&local("partition-abort"), &dir);
    let instances = controller.instances(2);
    let pid = nix::unistd::Pid::from_raw(controller.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = controller.child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "aborted");
    let text = std::fs::read_to_string(dir.join("report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["verdict"], "aborted");
    assert!(
        report["aborted"].as_str().unwrap().contains("SIGINT"),
        "{}",
        report["aborted"]
    );
    for (pid, addr, proxy) in instances {
        eventually("the instances exit", || !alive(pid));
        assert!(!listening(addr) && !listening(proxy));
    }
}

#[test]
fn nothing_outlives_a_killed_controller() {
    let _turn = turn();
    let dir = tempdir("sigkill");
    let mut controller = Controller::start(&local("partition-abort"), &dir);
    let instances = controller.instances(2);
    for (pid, addr, proxy) in &instances {
        assert!(alive(*pid) && listening(*addr) && listening(*proxy));
    }
    controller.child.kill().unwrap();
    controller.child.wait().unwrap();
    for (pid, addr, proxy) in instances {
        eventually("the instances exit with their controller", || !alive(pid));
        eventually(&format!("{addr} stops listening"), || !listening(addr));
        assert!(!listening(proxy), "{proxy} still listens");
    }
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faultline-local-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
