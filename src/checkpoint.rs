//! Checkpoints: named f32 tensors in the safetensors format, plus string
//! metadata (the vocabulary, the hyper-parameters), written atomically.

use crate::atomic::write_atomic;
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CheckpointError {
    #[error("could not read or write checkpoint {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a valid checkpoint ({reason}); it may be truncated \
         or damaged. Train again with --out to write a new one"
    )]
    Damaged { path: PathBuf, reason: String },
    #[error(
        "checkpoint {path} has no tensor `{name}` (it has: {available}); \
         was it written by another model?"
    )]
    MissingTensor {
        path: PathBuf,
        name: String,
        available: String,
    },
    #[error(
        "tensor `{name}` in {path} has shape {found:?}, but this model \
         expects {expected:?}; pass the hyper-parameters it was trained with"
    )]
    WrongShape {
        path: PathBuf,
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("tensor `{name}` in {path} is {found}, but f32 was expected")]
    WrongDtype {
        path: PathBuf,
        name: String,
        found: String,
    },
    #[error("checkpoint {path} lacks the metadata entry `{key}`")]
    MissingMetadata { path: PathBuf, key: String },
}

/// Saves `tensors` (name → array) and `metadata` to `path` atomically.
pub fn save_checkpoint(
    path: &Path,
    tensors: &[(&str, ArrayViewD<'_, f32>)],
    metadata: &BTreeMap<String, String>,
) -> Result<(), CheckpointError> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, a)| a.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, a), b)| {
            let view = TensorView::new(Dtype::F32, a.shape().to_vec(), b)
                .expect("shape matches data");
            (name.to_string(), view)
        })
        .collect::<Vec<_>>();
    let meta: HashMap<String, String> = metadata.clone().into_iter().collect();
    let data = safetensors::serialize(views, &Some(meta)).map_err(|e| {
        CheckpointError::Damaged {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    })?;
    write_atomic(path, &data).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A loaded checkpoint.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    path: PathBuf,
    tensors: BTreeMap<String, ArrayD<f32>>,
    metadata: BTreeMap<String, String>,
}

impl Checkpoint {
    /// Reads and validates a checkpoint file.
    pub fn load(path: &Path) -> Result<Self, CheckpointError> {
        let bytes =
            std::fs::read(path).map_err(|source| CheckpointError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        let damaged = |reason: String| CheckpointError::Damaged {
            path: path.to_path_buf(),
            reason,
        };
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| damaged(e.to_string()))?;
        let metadata = header
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| damaged(e.to_string()))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in st.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(CheckpointError::WrongDtype {
                    path: path.to_path_buf(),
                    name,
                    found: format!("{:?}", view.dtype()),
                });
            }
            let data: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            let array = ArrayD::from_shape_vec(IxDyn(view.shape()), data)
                .map_err(|e| damaged(e.to_string()))?;
            tensors.insert(name, array);
        }
        Ok(Self {
            path: path.to_path_buf(),
            tensors,
            metadata,
        })
    }

    /// The tensor `name`, which must have shape `shape`.
    pub fn tensor(
        &self,
        name: &str,
        shape: &[usize],
    ) -> Result<ArrayD<f32>, CheckpointError> {
        let t = self.tensors.get(name).ok_or_else(|| {
            CheckpointError::MissingTensor {
                path: self.path.clone(),
                name: name.to_string(),
                available: self
                    .tensors
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })?;
        if t.shape() != shape {
            return Err(CheckpointError::WrongShape {
                path: self.path.clone(),
                name: name.to_string(),
                expected: shape.to_vec(),
                found: t.shape().to_vec(),
            });
        }
        Ok(t.clone())
    }

    /// The metadata entry `key`.
    pub fn meta(&self, key: &str) -> Result<&str, CheckpointError> {
        self.metadata.get(key).map(String::as_str).ok_or_else(|| {
            CheckpointError::MissingMetadata {
                path: self.path.clone(),
                key: key.to_string(),
            }
        })
    }

    /// Every tensor name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }
}
