//! Checkpoints: round trip, and every kind of damage.

use d2l::io::checkpoint::{save_checkpoint, Checkpoint, CheckpointError};
use ndarray::{Array, Array2, IxDyn};
use std::collections::BTreeMap;

fn write_sample(path: &std::path::Path) -> Array2<f32> {
    let w = Array::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f32 * 0.5);
    let b = Array::from_vec(vec![1.0f32, -2.0]);
    let mut meta = BTreeMap::new();
    meta.insert("model".to_string(), "bigram".to_string());
    save_checkpoint(
        path,
        &[("w", w.view().into_dyn()), ("b", b.view().into_dyn())],
        &meta,
    )
    .unwrap();
    w
}

#[test]
fn round_trip_keeps_values_shapes_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let w = write_sample(&path);
    let ck = Checkpoint::load(&path).unwrap();
    assert_eq!(ck.tensor("w", &[3, 4]).unwrap(), w.into_dyn());
    assert_eq!(
        ck.tensor("b", &[2]).unwrap().as_slice().unwrap(),
        [1.0, -2.0]
    );
    assert_eq!(ck.meta("model").unwrap(), "bigram");
    assert_eq!(ck.names().collect::<Vec<_>>(), ["b", "w"]);
    // Only the checkpoint itself is left in the folder: no temp files.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn truncated_file_is_reported_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    write_sample(&path);
    let bytes = std::fs::read(&path).unwrap();
    for cut in [0, 4, 12, bytes.len() - 3] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let err = Checkpoint::load(&path).unwrap_err();
        assert!(matches!(err, CheckpointError::Damaged { .. }), "{err:?}");
        assert!(err.to_string().contains("damaged"), "{err}");
    }
}

#[test]
fn garbage_header_is_reported_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    write_sample(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    for b in &mut bytes[8..20] {
        *b = b'#';
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = Checkpoint::load(&path).unwrap_err();
    assert!(matches!(err, CheckpointError::Damaged { .. }), "{err:?}");
}

#[test]
fn missing_tensor_wrong_shape_and_missing_file_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    write_sample(&path);
    let ck = Checkpoint::load(&path).unwrap();
    let err = ck.tensor("w_xz", &[3, 4]).unwrap_err();
    assert!(matches!(err, CheckpointError::MissingTensor { .. }));
    assert!(err.to_string().contains("b, w"), "{err}");
    let err = ck.tensor("w", &[4, 3]).unwrap_err();
    assert!(matches!(err, CheckpointError::WrongShape { .. }));
    assert!(err.to_string().contains("[3, 4]"), "{err}");
    assert!(matches!(
        ck.meta("vocab").unwrap_err(),
        CheckpointError::MissingMetadata { .. }
    ));
    let err = Checkpoint::load(&dir.path().join("nope")).unwrap_err();
    assert!(matches!(err, CheckpointError::Io { .. }));
}

#[test]
fn failed_atomic_write_leaves_target_and_folder_clean() {
    let dir = tempfile::tempdir().unwrap();
    // The target is a non-empty folder, so the final rename must fail.
    let target = dir.path().join("model.safetensors");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"x").unwrap();
    let w = ndarray::ArrayD::<f32>::zeros(IxDyn(&[2, 2]));
    let err = save_checkpoint(&target, &[("w", w.view())], &BTreeMap::new())
        .unwrap_err();
    assert!(matches!(err, CheckpointError::Write { .. }), "{err:?}");
    assert!(target.join("keep").is_file());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["model.safetensors"], "a temporary file was left");
}

#[test]
fn the_same_tensors_and_metadata_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let w = Array::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f32);
    let b = Array::from_vec(vec![1.0f32, -2.0]);
    let meta: BTreeMap<String, String> = (0..20)
        .map(|i| (format!("key{i}"), format!("value {i}")))
        .collect();
    let save = |name: &str, order: bool| {
        let path = dir.path().join(name);
        let (w, b) = (("w", w.view().into_dyn()), ("b", b.view().into_dyn()));
        let tensors = if order { [w, b] } else { [b, w] };
        save_checkpoint(&path, &tensors, &meta).unwrap();
        std::fs::read(path).unwrap()
    };
    let first = save("a", true);
    for i in 0..5 {
        assert!(save(&format!("b{i}"), i % 2 == 0) == first, "save {i}");
    }
    // And safetensors itself reads what we wrote.
    let ck = Checkpoint::load(&dir.path().join("a")).unwrap();
    assert_eq!(ck.meta("key7").unwrap(), "value 7");
}

#[test]
fn a_header_longer_than_the_file_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge-header.safetensors");
    let mut bytes = (1u64 << 40).to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{}");
    std::fs::write(&path, bytes).unwrap();
    let err = Checkpoint::load(&path).unwrap_err();
    assert!(err.to_string().contains("header claims"), "{err}");
    let err = Checkpoint::load(std::path::Path::new("/dev/zero")).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[test]
fn non_finite_weights_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.safetensors");
    let w = Array::from_vec(vec![1.0f32, f32::INFINITY]);
    save_checkpoint(&path, &[("w", w.view().into_dyn())], &BTreeMap::new())
        .unwrap();
    let err = Checkpoint::load(&path).unwrap_err();
    assert!(err.to_string().contains("holds inf at position 1"), "{err}");
}
