//! Data: downloading with a hash check, text preprocessing, the vocabulary
//! and minibatch iterators (d2l's `download`, `read_time_machine`,
//! `tokenize`, `Vocab`, `load_corpus_time_machine` and the sequence
//! iterators).

mod download;
mod iter;
mod text;

pub use download::{
    default_base_url, default_cache_dir, download, sha1_file, DownloadError,
    Downloader, DATA_HUB, DATA_URL,
};
pub use iter::{
    seq_data_iter_random, seq_data_iter_sequential, sequential_from, Batch,
    Sampling, SeqDataLoader,
};
pub use text::{
    load_book_splits, load_corpus_time_machine, load_splits_time_machine,
    normalize_line, read_time_machine, tokenize, SplitOffsets, Splits,
    TokenKind, Vocab,
};

use std::path::PathBuf;
use thiserror::Error;

/// Errors from loading and batching the corpus.
#[derive(Debug, Error)]
pub enum DataError {
    #[error(transparent)]
    Download(#[from] DownloadError),
    #[error("could not read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unknown token kind `{0}`: use `char` or `word`")]
    UnknownTokenKind(String),
    #[error(
        "batch size ({batch_size}) and number of steps ({num_steps}) must \
         both be at least 1"
    )]
    ZeroSize { batch_size: usize, num_steps: usize },
    #[error(
        "a corpus of {len} tokens is too short for batches of {batch_size} \
         sequences × {num_steps} steps: {sampling:?} sampling needs at least \
         {needed} tokens. Use a smaller --batch-size or --num-steps, or a \
         larger --max-tokens"
    )]
    CorpusTooShort {
        len: usize,
        batch_size: usize,
        num_steps: usize,
        needed: usize,
        sampling: Sampling,
    },
    #[error(
        "cannot take {train} training and {valid} validation tokens from a \
         corpus of {available}: lower --max-tokens or --valid-tokens"
    )]
    SplitTooLarge {
        train: usize,
        valid: usize,
        available: usize,
    },
}
