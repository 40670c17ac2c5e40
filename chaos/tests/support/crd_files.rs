//! Chaos Mesh's CRDs from `<workspace>/../shared/chaos-mesh/crds`, read at test time (never
//! copied into the repository); tests that need them skip with a notice when they are absent.

use std::path::PathBuf;

use serde_json::Value;

/// Chaos Mesh's ten CRDs as JSON, or `None` (after printing a notice) when they are absent.
pub fn chaos_mesh_crds() -> Option<Vec<Value>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/chaos-mesh/crds");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        let notice = format!("SKIPPED: Chaos Mesh CRDs not found at {}", dir.display());
        println!("{notice}");
        eprintln!("{notice}");
        return None;
    };
    let mut crds = Vec::new();
    for entry in entries {
        let path = entry.expect("CRD entry").path();
        let text = std::fs::read_to_string(&path).expect("CRD text");
        let documents =
            faultline_chaos::spec::located::parse_documents(&text, &path).expect("CRD YAML");
        crds.push(documents[0].value().clone());
    }
    assert_eq!(
        crds.len(),
        10,
        "expected the ten Chaos Mesh CRDs in {dir:?}"
    );
    Some(crds)
}
