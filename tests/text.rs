//! Text preprocessing and the vocabulary.

use d2l::data::{
    load_book_splits, load_corpus_time_machine, load_splits_time_machine,
    normalize_line, read_time_machine, tokenize, DataError, TokenKind, Vocab,
};

fn lines(text: &[&str]) -> Vec<String> {
    text.iter().map(|s| s.to_string()).collect()
}

#[test]
fn normalize_keeps_letters_lowercases_and_collapses_the_rest() {
    assert_eq!(
        normalize_line("  The Time-Machine, 1895!  "),
        "the time machine"
    );
    assert_eq!(normalize_line("I.--THE"), "i the");
    assert_eq!(normalize_line("123 ..."), "");
    assert_eq!(normalize_line("café"), "caf");
}

#[test]
fn tokenize_by_char_and_word() {
    let l = lines(&["ab c", ""]);
    let chars = tokenize(&l, TokenKind::Char);
    assert_eq!(chars[0], ["a", "b", " ", "c"]);
    assert!(chars[1].is_empty());
    let words = tokenize(&l, TokenKind::Word);
    assert_eq!(words[0], ["ab", "c"]);
}

#[test]
fn unknown_token_kind_is_an_error() {
    let err = "byte".parse::<TokenKind>().unwrap_err();
    assert!(matches!(err, DataError::UnknownTokenKind(_)));
    assert!(err.to_string().contains("char"));
    assert_eq!("word".parse::<TokenKind>().unwrap(), TokenKind::Word);
}

#[test]
fn vocab_orders_by_frequency_then_first_appearance() {
    let toks = tokenize(&lines(&["bbbaac", "dcc"]), TokenKind::Char);
    let v = Vocab::new(&toks, 0, &[]);
    // b: 3, c: 3, a: 2, d: 1; b was seen before c.
    assert_eq!(v.idx_to_token(), ["<unk>", "b", "c", "a", "d"]);
    assert_eq!(v.token_freqs()[0], ("b".to_string(), 3));
}

#[test]
fn unknown_tokens_map_to_unk_zero() {
    let v = Vocab::new(&tokenize(&lines(&["ab"]), TokenKind::Char), 0, &[]);
    assert_eq!(Vocab::UNK, 0);
    assert_eq!(v.index("z"), 0);
    assert_eq!(v.to_token(0), "<unk>");
}

#[test]
fn reserved_tokens_follow_unk_and_min_freq_drops_rare_ones() {
    let toks = tokenize(&lines(&["a a a b b c"]), TokenKind::Word);
    let v = Vocab::new(&toks, 2, &["<pad>", "<bos>"]);
    assert_eq!(v.idx_to_token(), ["<unk>", "<pad>", "<bos>", "a", "b"]);
    assert_eq!(v.index("c"), Vocab::UNK);
}

#[test]
fn tokens_to_ids_to_tokens_round_trip() {
    let text = lines(&["the time traveller", "was expounding"]);
    let toks = tokenize(&text, TokenKind::Char);
    let v = Vocab::new(&toks, 0, &[]);
    for line in &toks {
        let ids = v.indices(line);
        assert_eq!(v.to_tokens(&ids), *line);
    }
    let rebuilt = Vocab::from_tokens(v.idx_to_token().to_vec());
    assert_eq!(rebuilt.indices(&toks[0]), v.indices(&toks[0]));
}

#[test]
fn time_machine_corpus_matches_d2l() {
    // d2l: 3221 lines; 170580 characters, 28 tokens; first line
    // "the time machine by h g wells".
    let lines = read_time_machine().unwrap();
    assert_eq!(lines.len(), 3221);
    assert_eq!(lines[0], "the time machine by h g wells");
    let (corpus, vocab) = load_corpus_time_machine(None).unwrap();
    assert_eq!((corpus.len(), vocab.len()), (170580, 28));
    assert_eq!(&vocab.idx_to_token()[..5], ["<unk>", " ", "e", "t", "a"]);
    let (first, _) = load_corpus_time_machine(Some(10_000)).unwrap();
    assert_eq!(first.len(), 10_000);
    assert_eq!(first[..], corpus[..10_000]);
}

#[test]
fn validation_split_follows_the_training_text() {
    let (corpus, _) = load_corpus_time_machine(None).unwrap();
    let s = load_splits_time_machine(Some(10_000), 5_000).unwrap();
    assert_eq!(s.train[..], corpus[..10_000]);
    assert_eq!(s.valid[..], corpus[10_000..15_000]);
    let all = load_splits_time_machine(None, 5_000).unwrap();
    assert_eq!(all.train.len() + all.valid.len(), corpus.len());
    let err = load_splits_time_machine(Some(170_000), 5_000).unwrap_err();
    assert!(matches!(err, DataError::SplitTooLarge { .. }), "{err}");
}

/// The whole-book split: three contiguous parts that cover the corpus
/// once, 80/10/10, each what its recorded offsets say; d2l's split records
/// its own offsets and has no test part.
#[test]
fn book_split_is_three_contiguous_parts() {
    let (corpus, _) = load_corpus_time_machine(None).unwrap();
    let s = load_book_splits().unwrap();
    let o = &s.offsets;
    let test = o.test.clone().unwrap();
    assert_eq!(o.name, "book");
    assert_eq!((o.train.start, o.train.end), (0, o.valid.start));
    assert_eq!(
        (o.valid.end, test.start, test.end),
        (test.start, test.start, corpus.len())
    );
    assert_eq!(s.train[..], corpus[o.train.clone()]);
    assert_eq!(s.valid[..], corpus[o.valid.clone()]);
    assert_eq!(s.test[..], corpus[test]);
    let n = corpus.len();
    assert_eq!(s.train.len(), n * 8 / 10);
    assert_eq!(s.valid.len(), n * 9 / 10 - n * 8 / 10);
    let d2l = load_splits_time_machine(Some(10_000), 5_000).unwrap();
    assert_eq!(d2l.offsets.valid, 10_000..15_000);
    assert!(d2l.test.is_empty() && d2l.offsets.test.is_none());
}
