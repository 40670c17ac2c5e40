//! The route table from files: YAML and JSON, errors that name file:line:column, explicit
//! reloads that swap only on change and keep the old table on a bad file, and the polling
//! watcher under tokio's paused clock (woken by the change notification, no sleeps).

use std::path::PathBuf;
use std::time::Duration;

use faultline_core::route::{Format, RouteConfig, RouteError, RouteTable};

/// A fresh path for one test's route file.
fn path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("route_table");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

const CANARY: &str = "\
metadata_key: x-color
routes:
  - tag: canary
    sticky: true
    targets:
      - { weight: 90, zone: zone-a }
      - { weight: 10, tags: { version: v2 } }
";

#[test]
fn yaml_and_json_give_the_same_table() {
    let yaml = RouteConfig::parse(CANARY, Format::Yaml, None).unwrap();
    let json = RouteConfig::parse(
        r#"{"metadata_key": "x-color", "routes": [{"tag": "canary", "sticky": true,
            "targets": [{"weight": 90, "zone": "zone-a"},
                        {"weight": 10, "tags": {"version": "v2"}}]}]}"#,
        Format::Json,
        None,
    )
    .unwrap();
    assert_eq!(yaml, json);
    assert_eq!(yaml.routes[0].targets[1].tags["version"], "v2");
    assert_eq!(Format::of("r.json".as_ref()), Format::Json);
    assert_eq!(Format::of("r.yml".as_ref()), Format::Yaml);
}

#[test]
fn errors_name_the_file_line_and_column() {
    let yaml = path("typo.yaml");
    // Line 4 misspells `targets`.
    std::fs::write(
        &yaml,
        "routes:\n  - tag: canary\n    sticky: true\n    tagrets: []\n",
    )
    .unwrap();
    let err = RouteTable::from_file(&yaml).unwrap_err();
    assert!(matches!(err, RouteError::Parse { .. }));
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("{}:4:", yaml.display())),
        "{message}"
    );
    assert!(message.contains("tagrets"), "{message}");

    let json = path("broken.json");
    std::fs::write(&json, "{\"routes\": [\n  {\"tag\": \"x\",, }\n]}").unwrap();
    let message = RouteTable::from_file(&json).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!("{}:2:", json.display())),
        "{message}"
    );

    let missing = RouteTable::from_file(path("missing.yaml")).unwrap_err();
    assert!(matches!(missing, RouteError::Io { .. }));
}

#[test]
fn a_table_that_cannot_route_is_refused() {
    let duplicate =
        "routes:\n  - {tag: a, targets: [{zone: z}]}\n  - {tag: a, targets: [{zone: y}]}\n";
    let err = RouteConfig::parse(duplicate, Format::Yaml, None).unwrap_err();
    assert!(err.to_string().contains("routed twice"), "{err}");
    let weightless = "routes:\n  - {tag: a, targets: [{zone: z, weight: 0}]}\n";
    let err = RouteConfig::parse(weightless, Format::Yaml, None).unwrap_err();
    assert!(matches!(err, RouteError::Invalid { .. }), "{err}");
}

#[test]
fn reload_swaps_on_change_only_and_keeps_the_table_on_a_bad_file() {
    let file = path("reload.yaml");
    std::fs::write(&file, CANARY).unwrap();
    let table = RouteTable::from_file(&file).unwrap();
    let changed = table.changed();
    let first = table.current();
    assert!(!table.reload().unwrap(), "same bytes, no swap");
    assert!(std::sync::Arc::ptr_eq(&first, &table.current()));

    std::fs::write(&file, CANARY.replace("canary", "blue")).unwrap();
    assert!(table.reload().unwrap());
    assert_eq!(table.current().routes[0].tag, "blue");
    assert_eq!(*changed.borrow(), 1);

    std::fs::write(&file, "routes: [").unwrap();
    assert!(table.reload().is_err());
    assert_eq!(table.current().routes[0].tag, "blue", "old table kept");
    assert_eq!(*changed.borrow(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_watcher_swaps_when_the_file_changes() {
    let file = path("watched.yaml");
    std::fs::write(&file, CANARY).unwrap();
    let table = RouteTable::from_file(&file).unwrap();
    let mut changed = table.changed();
    let start = tokio::time::Instant::now();
    let watcher = tokio::spawn(table.watch(Duration::from_secs(5)));
    // Let the watcher take its immediate first tick on the unchanged file.
    tokio::task::yield_now().await;
    assert_eq!(*changed.borrow(), 0);

    std::fs::write(&file, CANARY.replace("canary", "green")).unwrap();
    // The paused clock jumps to the watcher's next tick once everything else is idle.
    changed.changed().await.unwrap();
    assert_eq!(table.current().routes[0].tag, "green");
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    watcher.abort();
}
