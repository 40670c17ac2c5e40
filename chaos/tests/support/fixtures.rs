//! Chaos Mesh's example objects in tests/fixtures/chaos-mesh, as JSON values.

use serde_json::Value;
use std::path::PathBuf;

/// Every document of every fixture file, named `file#index`, in file-name order.
pub fn chaos_mesh_examples() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chaos-mesh");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .map(|entry| entry.expect("fixture entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut documents = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("fixture text");
        let name = file
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        for (i, value) in yaml_documents(&text).into_iter().enumerate() {
            documents.push((format!("{name}#{i}"), value));
        }
    }
    assert!(documents.len() >= 15, "fixtures missing from {dir:?}");
    documents
}

/// The non-empty documents of a (possibly multi-document) YAML text, as JSON values, read
/// by faultline's own loader.
pub fn yaml_documents(text: &str) -> Vec<Value> {
    faultline_chaos::spec::located::parse_documents(text, std::path::Path::new("fixture.yaml"))
        .expect("YAML documents")
        .iter()
        .map(|document| document.value().clone())
        .collect()
}
