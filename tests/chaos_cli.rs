//! `faultline chaos validate|plan|crd` and `--config` files, the real binary on real files:
//! errors name file, line and column and set the exit code; plans print the timeline or
//! exactly the objects `kubectl apply -f -` would get; `call` and `serve` read YAML configs.

#[path = "support/bounded.rs"]
mod bounded;

mod serve_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use faultline_chaos::spec::located::parse_documents;
use serve_support::Served;

fn faultline(args: &[&str]) -> Output {
    bounded::output_within(Command::new(env!("CARGO_BIN_EXE_faultline")).args(args))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("manifests/examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A file in a fresh temporary directory, removed when the value is dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("faultline-chaos-cli-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, contents).expect("temp file");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0.parent().expect("parent"));
    }
}

#[test]
fn validate_accepts_every_example() {
    let files: Vec<String> = [
        "zone-failover.yaml",
        "instance-crash.yaml",
        "zone-partition.yaml",
        "packet-loss.yaml",
        "retry-storm.yaml",
    ]
    .into_iter()
    .map(example)
    .collect();
    let mut args = vec!["chaos", "validate"];
    args.extend(files.iter().map(String::as_str));
    let out = faultline(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "5 file(s), 5 document(s): valid\n");
}

#[test]
fn validate_prints_every_error_of_every_file_with_its_position() {
    let original = std::fs::read_to_string(example("instance-crash.yaml")).expect("example");
    let broken = original
        .replace("workload: { rate: 500,", "workload: { rat: 500,")
        .replace("mode: one", "mode: fixed");
    assert_ne!(broken, original);
    let file = TempFile::new("broken.yaml", &broken);
    let other = TempFile::new(
        "other.yaml",
        "apiVersion: faultline.dev/v1alpha1\nkind: Experimentt\n",
    );
    let out = faultline(&["chaos", "validate", file.path(), other.path()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("{}:21:15: ", file.path())),
        "{stderr}"
    );
    assert!(lines[0].contains("did you mean \"rate\""), "{stderr}");
    assert!(
        lines[1].starts_with(&format!("{}:2:1: ", other.path())),
        "{stderr}"
    );
    assert!(stderr.contains("unknown kind \"Experimentt\""), "{stderr}");
    assert_eq!(lines[2], "2 error(s)");

    // Once the file reads, its rule errors show (here Chaos Mesh's: fixed needs a value).
    let fixed = TempFile::new("fixed.yaml", &broken.replace("{ rat: 500,", "{ rate: 500,"));
    let stderr = text(&faultline(&["chaos", "validate", fixed.path()]).stderr);
    assert!(
        stderr.starts_with(&format!(
            "{}:27:7: spec.faults[0].spec.value: mode fixed needs value",
            fixed.path()
        )),
        "{stderr}"
    );

    // serde stops at the first error of a section; the other sections still report theirs.
    let two_sections = original
        .replace("workload: { rate: 500,", "workload: { rat: 500,")
        .replace("timeout: 200ms", "timeout: 200");
    let two = TempFile::new("two.yaml", &two_sections);
    let stderr = text(&faultline(&["chaos", "validate", two.path()]).stderr);
    assert!(
        stderr.contains("spec.workload.rat") && stderr.contains("spec.client.timeout"),
        "{stderr}"
    );
}

#[test]
fn plan_prints_the_timeline_and_the_kube_objects() {
    let out = faultline(&[
        "chaos",
        "plan",
        &example("zone-failover.yaml"),
        "--backend",
        "sim",
        "--seed",
        "4",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("experiment zone-failover on sim (seed 4, run "),
        "{stdout}"
    );
    assert!(
        stdout.contains("     25s  inject slow-az2: NetworkChaos delay"),
        "{stdout}"
    );

    let out = faultline(&[
        "chaos",
        "plan",
        &example("zone-failover.yaml"),
        "--backend",
        "kube",
        "-o",
        "yaml",
        "--run-id",
        "r1",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let objects = parse_documents(&stdout, Path::new("stdout")).expect("a YAML stream");
    let names: Vec<&str> = objects
        .iter()
        .map(|o| o.value()["metadata"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["zone-failover-az1-down-r1", "zone-failover-slow-az2-r1"]
    );
    assert!(objects
        .iter()
        .all(|o| o.value()["spec"]["duration"].is_string()));
    assert!(
        !stdout.contains("inject"),
        "nothing but the objects: {stdout}"
    );
}

#[test]
fn plan_needs_an_experiment_and_crd_prints_the_definition() {
    let object = TempFile::new(
        "pod-kill.yaml",
        "apiVersion: chaos-mesh.org/v1alpha1\nkind: PodChaos\nmetadata: { name: k }\nspec: { action: pod-kill, mode: one, selector: { labelSelectors: { app: echo } } }\n",
    );
    assert!(faultline(&["chaos", "validate", object.path()])
        .status
        .success());
    let out = faultline(&["chaos", "plan", object.path()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no Experiment in the file"),
        "{}",
        text(&out.stderr)
    );

    let out = faultline(&["chaos", "crd"]);
    assert!(out.status.success());
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/crds/experiment.yaml"),
    )
    .expect("manifests/crds/experiment.yaml");
    assert_eq!(text(&out.stdout), shipped);
}

#[test]
fn call_reads_a_client_config_and_reports_its_errors_with_positions() {
    let served = Served::start(&[]);
    let config = TempFile::new(
        "client.yaml",
        "timeout: 3.5ms\npool: { mode: multiplexed }\nretry: { maxRetries: 0 }\n",
    );
    let out = faultline(&[
        "call",
        "--to",
        &served.addr,
        "--config",
        config.path(),
        "--message",
        "via config",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "via config\n");

    let refused = |name: &str, yaml: &str, expected: &str| {
        let file = TempFile::new(name, yaml);
        let out = faultline(&[
            "call",
            "--to",
            &served.addr,
            "--config",
            file.path(),
            "--message",
            "x",
        ]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        let expected = format!("{}:{expected}", file.path());
        assert!(stderr.contains(&expected), "{stderr}");
    };
    refused(
        "bad.yaml",
        "timeout: 1s\nserviceBreaker:\n  errorRate: 2\nretry: { maxRetrys: 1 }\n",
        "4:10: retry.maxRetrys: unknown field",
    );
    refused(
        "invalid.yaml",
        "serviceBreaker:\n  errorRate: 2\n",
        "2:3: serviceBreaker.errorRate: must be in (0, 1], got 2",
    );
}

#[test]
fn durations_on_the_command_line_use_the_chaos_mesh_syntax() {
    let served = Served::start(&[]);
    let out = faultline(&[
        "call",
        "--to",
        &served.addr,
        "--timeout",
        "1m30s",
        "--message",
        "ok",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = faultline(&[
        "call",
        "--to",
        &served.addr,
        "--timeout",
        "3.5",
        "--message",
        "ok",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("missing unit"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn serve_reads_a_server_config() {
    let bad = TempFile::new("server.yaml", "maxInFlight: 0\n");
    let out = faultline(&["serve", "--listen", "127.0.0.1:0", "--config", bad.path()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:1:1: maxInFlight: must be in 1 ..= 10000000, got 0",
            bad.path()
        )),
        "{stderr}"
    );
    let good = TempFile::new("server-ok.yaml", "zone: az9\nmaxInFlight: 10\n");
    let served = Served::start(&["--config", good.path()]);
    let out = faultline(&["call", "--to", &served.addr, "--message", "configured"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn run_on_kube_without_a_cluster_says_so_and_exits_3() {
    let home = TempFile::new("kube-home", "");
    let dir = Path::new(home.path()).parent().expect("its directory");
    let out = bounded::output_within(
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args([
                "chaos",
                "run",
                &example("zone-failover.yaml"),
                "--backend",
                "kube",
            ])
            .env("KUBECONFIG", dir.join("no-such-kubeconfig"))
            .env("HOME", dir)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("KUBERNETES_SERVICE_PORT"),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("cannot reach the cluster"), "{stderr}");
}
