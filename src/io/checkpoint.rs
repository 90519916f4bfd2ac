//! Checkpoints: named f32 tensors in the safetensors format, plus string
//! metadata (the vocabulary, the hyper-parameters), written atomically.

use crate::io::atomic::write_atomic;
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use safetensors::tensor::Dtype;
use safetensors::SafeTensors;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CheckpointError {
    #[error("could not read checkpoint {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not write checkpoint {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a valid checkpoint ({reason}); it may be truncated, \
         damaged or edited. Train again to write a new one"
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
        "tensor `{name}` in {path} has shape {found:?}, but its metadata \
         describes a model with shape {expected:?}: the file was edited or \
         damaged. Train again to write a new one"
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
    #[error(
        "{path} is a folder, not a checkpoint; the checkpoint a run writes \
         is {inside}"
    )]
    Folder { path: PathBuf, inside: PathBuf },
    #[error("checkpoint {path} lacks the metadata entry `{key}`")]
    MissingMetadata { path: PathBuf, key: String },
}

/// The largest checkpoint [`Checkpoint::load`] reads: far above any model
/// of this book (a 256-unit, 3-layer LSTM is under 6 MB), and a bound on
/// the memory a wrong file can claim.
pub const MAX_CHECKPOINT_BYTES: u64 = 1 << 31;

/// The largest weight a checkpoint may hold. Training stops a run whose
/// perplexity diverges long before its weights come near this; larger
/// values come from an edited or damaged file, and overflow the model's
/// scores to infinity.
pub const MAX_WEIGHT: f32 = 1e6;

/// The largest header a checkpoint may declare.
const MAX_HEADER_BYTES: u64 = 100 << 20;

/// Saves `tensors` (name → array) and `metadata` to `path` atomically.
pub fn save_checkpoint(
    path: &Path,
    tensors: &[(&str, ArrayViewD<'_, f32>)],
    metadata: &BTreeMap<String, String>,
) -> Result<(), CheckpointError> {
    write_atomic(path, &encode(tensors, metadata)).map_err(|source| {
        CheckpointError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

// ANCHOR: encode
/// A checkpoint's bytes in the safetensors format: an 8-byte little-endian
/// header length, a JSON header (each tensor's dtype, shape and byte range,
/// and `__metadata__`), padded with spaces to a multiple of 8, then the
/// tensors' f32 values back to back. Keys are sorted and tensors laid out
/// in name order, so the same weights and metadata always give the same
/// bytes.
pub fn encode(
    tensors: &[(&str, ArrayViewD<'_, f32>)],
    metadata: &BTreeMap<String, String>,
) -> Vec<u8> {
    let mut sorted: Vec<_> = tensors.iter().collect();
    sorted.sort_by_key(|(name, _)| *name);
    let mut header = BTreeMap::new();
    let mut data = Vec::new();
    for (name, array) in sorted {
        let start = data.len();
        data.extend(array.iter().flat_map(|v| v.to_le_bytes()));
        let entry = serde_json::json!({
            "dtype": "F32",
            "shape": array.shape(),
            "data_offsets": [start, data.len()],
        });
        let previous = header.insert(name.to_string(), entry);
        assert!(previous.is_none(), "encode: tensor `{name}` given twice");
    }
    header.insert("__metadata__".to_string(), serde_json::json!(metadata));
    let mut json = serde_json::to_vec(&header).expect("strings and numbers");
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend(json);
    bytes.extend(data);
    bytes
}
// ANCHOR_END: encode

/// A loaded checkpoint.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    path: PathBuf,
    tensors: BTreeMap<String, ArrayD<f32>>,
    metadata: BTreeMap<String, String>,
}

impl Checkpoint {
    /// Reads and validates a checkpoint file: a regular file of at most
    /// [`MAX_CHECKPOINT_BYTES`] whose header fits in it, holding f32
    /// tensors of finite values.
    pub fn load(path: &Path) -> Result<Self, CheckpointError> {
        let bytes = read_bounded(path)?;
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
            let bad = |v: &f32| !v.is_finite() || v.abs() > MAX_WEIGHT;
            if let Some(i) = array.iter().position(bad) {
                return Err(damaged(format!(
                    "tensor `{name}` holds {:e} at position {i}, where a \
                     trained model's weights are finite and below {:e}",
                    array.as_slice().map_or(f32::NAN, |s| s[i]),
                    MAX_WEIGHT
                )));
            }
            tensors.insert(name, array);
        }
        Ok(Self {
            path: path.to_path_buf(),
            tensors,
            metadata,
        })
    }

    /// A checkpoint in memory, of `arrays` and no metadata: weights kept
    /// while a run trains, read back as a file's would be.
    pub fn from_arrays(arrays: &[(String, ArrayD<f32>)]) -> Self {
        Self {
            path: PathBuf::from("(weights in memory)"),
            tensors: arrays.iter().cloned().collect(),
            metadata: BTreeMap::new(),
        }
    }

    /// The tensor `name`, which must have shape `shape`.
    pub fn tensor(
        &self,
        name: &str,
        shape: &[usize],
    ) -> Result<ArrayD<f32>, CheckpointError> {
        let t = self.tensors.get(name).ok_or_else(|| self.missing(name))?;
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

    /// The shape of the tensor `name`.
    pub fn shape(&self, name: &str) -> Result<Vec<usize>, CheckpointError> {
        match self.tensors.get(name) {
            Some(t) => Ok(t.shape().to_vec()),
            None => Err(self.missing(name)),
        }
    }

    fn missing(&self, name: &str) -> CheckpointError {
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

/// Reads a checkpoint after checking, from its first 8 bytes, that it can
/// be one: a device such as `/dev/zero` or a header longer than the file
/// is refused before anything large is read.
fn read_bounded(path: &Path) -> Result<Vec<u8>, CheckpointError> {
    let io = |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    };
    let damaged = |reason: String| CheckpointError::Damaged {
        path: path.to_path_buf(),
        reason,
    };
    // Look before opening: opening a FIFO would wait for a writer.
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(CheckpointError::Folder {
            path: path.to_path_buf(),
            inside: path.join("model.safetensors"),
        });
    }
    if !meta.is_file() {
        return Err(damaged("it is not a regular file".to_string()));
    }
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_CHECKPOINT_BYTES {
        return Err(damaged(format!(
            "{len} bytes, more than the {MAX_CHECKPOINT_BYTES} of the \
             largest checkpoint this book writes"
        )));
    }
    let mut head = [0u8; 8];
    file.read_exact(&mut head)
        .map_err(|_| damaged(format!("{len} bytes, too short for a header")))?;
    let header = u64::from_le_bytes(head);
    if header > MAX_HEADER_BYTES {
        return Err(damaged(format!(
            "its header claims {header} bytes, more than the \
             {MAX_HEADER_BYTES} a checkpoint's header may have"
        )));
    }
    if header > len - 8 {
        return Err(damaged(format!(
            "its header claims {header} bytes, but the file has {len}"
        )));
    }
    let mut bytes = head.to_vec();
    bytes.reserve_exact((len - 8) as usize);
    file.read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}
