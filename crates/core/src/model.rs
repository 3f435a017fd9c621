//! The identity of a detection model as manifests, reports and track files record it.

use serde::{Deserialize, Serialize};

/// A model pinned by hash: its registry name and the sha256 of its weights. The one type
/// for a used model everywhere (detectors report it, track files, reports and sealed
/// manifests record it); serialized as `{"name": ..., "sha256": ...}`, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelId {
    /// Registry name (`yolox_nano_416`).
    pub name: String,
    /// SHA-256 of the model file, lower-case hex.
    pub sha256: String,
}

impl ModelId {
    /// A model identity from its name and hex sha256.
    pub fn new(name: impl Into<String>, sha256: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            sha256: sha256.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_name_and_sha256_only() {
        let m = ModelId::new("yolox_nano_416", "ab12");
        let j = serde_json::to_string(&m).unwrap();
        assert_eq!(j, r#"{"name":"yolox_nano_416","sha256":"ab12"}"#);
        assert_eq!(serde_json::from_str::<ModelId>(&j).unwrap(), m);
        assert!(serde_json::from_str::<ModelId>(r#"{"name":"a","sha256":"b","x":1}"#).is_err());
        assert!(serde_json::from_str::<ModelId>(r#"{"name":"a"}"#).is_err());
    }
}
