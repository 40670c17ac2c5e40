//! `--config FILE`: one YAML document read into a config type, with every error, from
//! parsing or from the type's `validate()`, printed as `file:line:column: message` (the
//! same loader the experiment language uses).

use std::path::Path;

use faultline_chaos::spec::located;
use faultline_core::config::Validate;
use serde::de::DeserializeOwned;

/// The config in `path`, or every error in it, one per line.
pub fn load<T: DeserializeOwned + Validate>(path: &Path) -> Result<T, String> {
    let bytes =
        std::fs::read(path).map_err(|err| format!("{}: cannot read: {err}", path.display()))?;
    let documents = located::parse_bytes(&bytes, path).map_err(|err| err.to_string())?;
    let [document] = documents.as_slice() else {
        return Err(format!(
            "{}: expected one YAML document, found {}",
            path.display(),
            documents.len()
        ));
    };
    let config: T = document.deserialize().map_err(|err| err.to_string())?;
    match config.validate() {
        Ok(()) => Ok(config),
        Err(errors) => Err(document
            .locate_errors(&errors)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")),
    }
}
