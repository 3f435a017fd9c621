//! ONNX Runtime sessions: options, creation from the model store, running one input.

use std::collections::HashMap;

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;

use crate::models::ModelStore;
use crate::{Error, ModelId, runtime};

/// Graph optimisation level of a session (ONNX Runtime's levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptimizationLevel {
    /// No graph optimisation.
    Disable,
    /// Constant folding and redundant-node elimination.
    Basic,
    /// Basic plus node fusions.
    Extended,
    /// Everything, including layout optimisations (the default).
    #[default]
    All,
}

/// Options of an inference session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Intra-op threads; 0 lets ONNX Runtime choose (one per core).
    pub intra_threads: usize,
    /// Graph optimisation level.
    pub graph_optimization_level: OptimizationLevel,
    /// Let idle intra-op threads spin waiting for work (false): spinning shortens each call
    /// slightly but burns the cores the decoder and encoder need (measured in BENCHMARKS.md).
    pub spinning: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            intra_threads: 0,
            graph_optimization_level: OptimizationLevel::All,
            spinning: false,
        }
    }
}

/// A model loaded once into a session that is reused for every call.
pub struct OnnxModel {
    session: Session,
    info: ModelId,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl OnnxModel {
    /// Loads registry model `name` from `store` (sha256 verified) with `config`. Initialises
    /// the runtime with [`runtime::init`]`(None)` if nothing did before.
    pub fn load(store: &ModelStore, name: &str, config: &SessionConfig) -> Result<Self, Error> {
        Self::load_freeing(store, name, config, &[])
    }

    /// [`OnnxModel::load`], with the listed dims of named inputs and outputs made symbolic in
    /// the session's copy of the model (see [`crate::onnx_shape`]); the file stays as pinned.
    pub(crate) fn load_freeing(
        store: &ModelStore,
        name: &str,
        config: &SessionConfig,
        free: &[(&str, &[usize])],
    ) -> Result<Self, Error> {
        let entry = store.entry(name)?;
        let mut bytes = store.read(name)?;
        let fail = |e: String| Error::Model {
            name: name.into(),
            reason: format!("{}: {e}", entry.file),
        };
        if !free.is_empty() {
            bytes = crate::onnx_shape::free_dims(&bytes, free).map_err(fail)?;
        }
        let env = runtime::environment()?;
        let level = match config.graph_optimization_level {
            OptimizationLevel::Disable => GraphOptimizationLevel::Disable,
            OptimizationLevel::Basic => GraphOptimizationLevel::Level1,
            OptimizationLevel::Extended => GraphOptimizationLevel::Level2,
            OptimizationLevel::All => GraphOptimizationLevel::Level3,
        };
        let mut builder = Session::builder(&env).map_err(|e| fail(e.to_string()))?;
        builder = builder
            .with_optimization_level(level)
            .map_err(|e| fail(e.to_string()))?;
        builder = builder
            .with_intra_op_spinning(config.spinning)
            .map_err(|e| fail(e.to_string()))?;
        if config.intra_threads > 0 {
            builder = builder
                .with_intra_threads(config.intra_threads)
                .map_err(|e| fail(e.to_string()))?;
        }
        let session = builder
            .commit_from_memory(&bytes)
            .map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            session,
            info: ModelId {
                name: name.into(),
                sha256: entry.sha256.clone(),
            },
        })
    }

    /// Name and sha256 of the model.
    pub fn info(&self) -> &ModelId {
        &self.info
    }

    /// Runs the model on one f32 input `data` of `shape` and returns the named outputs as
    /// flat vectors.
    pub fn run(
        &mut self,
        input: &str,
        shape: [usize; 4],
        data: &[f32],
        outputs: &[String],
    ) -> Result<HashMap<String, Vec<f32>>, Error> {
        let fail = |e: String| Error::Inference {
            model: self.info.name.clone(),
            reason: e,
        };
        let view = ndarray::ArrayView4::from_shape(shape, data).map_err(|e| fail(e.to_string()))?;
        let tensor = TensorRef::from_array_view(view).map_err(|e| fail(e.to_string()))?;
        let name = self.info.name.clone();
        let result = self
            .session
            .run(ort::inputs![input => tensor])
            .map_err(|e| Error::Inference {
                model: name.clone(),
                reason: e.to_string(),
            })?;
        let mut map = HashMap::with_capacity(outputs.len());
        for o in outputs {
            let v = result.get(o).ok_or_else(|| Error::Inference {
                model: name.clone(),
                reason: format!("no output named {o}"),
            })?;
            let (_, vals) = v
                .try_extract_tensor::<f32>()
                .map_err(|e| Error::Inference {
                    model: name.clone(),
                    reason: e.to_string(),
                })?;
            map.insert(o.clone(), vals.to_vec());
        }
        Ok(map)
    }
}
