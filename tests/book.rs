//! Guards for the book: mdBook silently renders an empty block for a
//! misspelled anchor and a broken link for a missing page, so these tests
//! fail instead.

use std::path::{Path, PathBuf};

fn book_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("book")
}

fn pages() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![book_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every `{{#include …}}` and `{{#rustdoc_include …}}` argument in `text`,
/// except escaped ones (`\\{{#include …}}`).
fn includes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for directive in ["{{#include ", "{{#rustdoc_include "] {
        let mut rest = text;
        while let Some(start) = rest.find(directive) {
            // mdBook leaves `\{{#include …}}` alone: text, not an include.
            let escaped = rest[..start].ends_with('\\');
            rest = &rest[start + directive.len()..];
            let end = rest.find("}}").expect("unclosed include");
            if !escaped {
                out.push(rest[..end].trim().to_string());
            }
            rest = &rest[end..];
        }
    }
    out
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, or None when
/// the anchor is missing.
fn anchor_body(source: &str, name: &str) -> Option<String> {
    let mut body = None::<Vec<&str>>;
    for line in source.lines() {
        let marker = line.trim_start().trim_start_matches("//").trim();
        match (&mut body, marker.split_once(':')) {
            (None, Some(("ANCHOR", n))) if n.trim() == name => {
                body = Some(Vec::new())
            }
            (Some(lines), Some(("ANCHOR_END", n))) if n.trim() == name => {
                return Some(lines.join("\n"))
            }
            (Some(lines), _) if !marker.starts_with("ANCHOR") => {
                lines.push(line)
            }
            _ => {}
        }
    }
    None
}

#[test]
fn every_include_resolves_to_a_non_empty_named_anchor() {
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for arg in includes(&text) {
            let where_ = format!("{}: {{{{#include {arg}}}}}", page.display());
            let (file, anchor) = match arg.split_once(':') {
                Some((f, a)) => (f, Some(a)),
                None => (arg.as_str(), None),
            };
            let path = page.parent().unwrap().join(file);
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{where_}: cannot read: {e}"));
            match anchor {
                None => assert!(!source.trim().is_empty(), "{where_}: empty"),
                Some(a) => {
                    let is_range = a.is_empty()
                        || a.chars().all(|c| c.is_ascii_digit() || c == ':');
                    assert!(!is_range, "{where_}: use a named anchor");
                    let body = anchor_body(&source, a).unwrap_or_else(|| {
                        panic!(
                            "{where_}: no anchor `{a}` in {}",
                            path.display()
                        )
                    });
                    assert!(!body.trim().is_empty(), "{where_}: empty anchor");
                }
            }
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "no include found: is the book where it should be?"
    );
}

/// Every relative link target `](target)` in `text`.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let end = rest.find(')').unwrap_or(rest.len());
        let target = rest[..end].split_whitespace().next().unwrap_or("");
        let target = target.split('#').next().unwrap();
        let external = target.contains("://") || target.starts_with("mailto:");
        if !target.is_empty() && !external {
            out.push(target.to_string());
        }
    }
    out
}

#[test]
fn every_page_and_image_link_points_at_a_file() {
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for target in links(&text) {
            let path = page.parent().unwrap().join(&target);
            assert!(
                path.is_file(),
                "{} links to missing {target}",
                page.display()
            );
        }
    }
}

#[test]
fn anchor_parser_finds_bodies_and_misses() {
    let src = "a\n// ANCHOR: x\nlet y = 1;\n// ANCHOR_END: x\n// ANCHOR: e\n\
               // ANCHOR_END: e\n";
    assert_eq!(anchor_body(src, "x").unwrap(), "let y = 1;");
    assert_eq!(anchor_body(src, "e").unwrap(), "");
    assert!(anchor_body(src, "z").is_none());
    assert_eq!(
        includes("{{#include a.rs:x}} {{#include b.md}}"),
        ["a.rs:x", "b.md"]
    );
    assert!(includes("`\\{{#include a.rs:x}}`").is_empty());
    assert_eq!(
        links("[p](gru.md#x) ![f](figures/a.svg) [w](https://x)"),
        ["gru.md", "figures/a.svg"]
    );
}

/// `NAME=value` from scripts/book-tools.sh, the one place the book's tool
/// versions are pinned.
fn pinned(name: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script =
        std::fs::read_to_string(root.join("scripts/book-tools.sh")).unwrap();
    let prefix = format!("{name}=");
    script
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name} in scripts/book-tools.sh"))
        .trim()
        .to_string()
}

/// Every version quoted as `cargo install --locked CRATE --version V`.
fn quoted_versions(text: &str, krate: &str) -> Vec<String> {
    let needle = format!("cargo install --locked {krate} --version ");
    text.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &text[i + needle.len()..];
            rest.split_whitespace().next().unwrap_or("").to_string()
        })
        .collect()
}

#[test]
fn the_readme_and_the_book_quote_the_pinned_tool_versions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = vec![(
        root.join("README.md"),
        std::fs::read_to_string(root.join("README.md")).unwrap(),
    )];
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        texts.push((page, text));
    }
    let mut quoted = 0;
    for (krate, var) in [
        ("mdbook", "MDBOOK_VERSION"),
        ("mdbook-katex", "MDBOOK_KATEX_VERSION"),
    ] {
        let want = pinned(var);
        for (path, text) in &texts {
            for got in quoted_versions(text, krate) {
                assert_eq!(
                    got,
                    want,
                    "{} quotes {krate} {got}; scripts/book-tools.sh pins \
                     {want}",
                    path.display()
                );
                quoted += 1;
            }
        }
    }
    assert!(quoted >= 2, "the README should quote both versions");
}

/// The exponents N of every 10^{-N} (LaTeX) or 10⁻ᴺ (superscript) in
/// `sentence`.
fn powers_of_ten(sentence: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for part in sentence.split("10^{-").skip(1) {
        let digits: String =
            part.chars().take_while(char::is_ascii_digit).collect();
        found.extend(digits.parse::<u32>().ok());
    }
    let superscript = |c: char| "⁰¹²³⁴⁵⁶⁷⁸⁹".chars().position(|d| d == c);
    for part in sentence.split("10⁻").skip(1) {
        let n = part
            .chars()
            .map_while(superscript)
            .fold(0u32, |n, d| n * 10 + d as u32);
        found.push(n);
    }
    found
}

/// The largest char boundary of `s` at or below `i`.
fn char_floor(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The topic of a power of ten that is a measurement or an estimate, not
/// a tolerance.
const MEASURED: &str = "a measurement";

/// What a quoted tolerance is about, read off the nearest of these words
/// before it, and the constant the tests assert for it.
fn tolerance_about(before: &str) -> Option<(&'static str, f64)> {
    use d2l::testkit::agreement::{
        AGREEMENT_TOL, F32_PATHS_GAP, GPU_TOL, PATHS_TOL,
    };
    let topics: [(&[&str], &str, f64); 5] = [
        (&["cuda", "gpu"], "GPU_TOL", GPU_TOL),
        (
            &["libtorch", "pytorch", "autograd", "same weights", "nn::"],
            "AGREEMENT_TOL",
            AGREEMENT_TOL,
        ),
        (
            &["thread", "teaching", "fast path", "two paths"],
            "PATHS_TOL",
            PATHS_TOL,
        ),
        (&["perplexit"], "F32_PATHS_GAP", F32_PATHS_GAP),
        // Not a tolerance: a measured gradient norm or ratio of them, or
        // the power of a gate's value that predicts one (the long-memory
        // page). " ratio", with its space, so that "generation" or
        // "operation" does not count.
        (
            &[" ratio", "‖∂l/∂", "underflow", "^{48}"],
            MEASURED,
            f64::NAN,
        ),
    ];
    let before = before.to_lowercase();
    let mut best: Option<(usize, &str, f64)> = None;
    for (words, name, tol) in topics {
        for word in words {
            if let Some(at) = before.rfind(word) {
                if best.map_or(true, |(b, _, _)| at > b) {
                    best = Some((at, name, tol));
                }
            }
        }
    }
    best.map(|(_, name, tol)| (name, tol))
}

/// Every tolerance the README and the pages quote (a power of ten) is the
/// one the tests assert for what the text is talking about: the words
/// before it say which (libtorch, threads and paths, perplexities, CUDA).
#[test]
fn tolerances_quoted_are_the_ones_the_tests_assert() {
    let exponent = |tol: f64| (-tol.log10()).round() as u32;
    assert_eq!(powers_of_ten("within $10^{-10}$ or 10⁻¹²"), [10, 12]);
    assert_eq!(
        tolerance_about("libtorch's; one thread's to").map(|t| t.0),
        Some("PATHS_TOL")
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![root.join("README.md")];
    paths.extend(pages());
    let mut quoted = 0;
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap().replace('\n', " ");
        let starts = text
            .match_indices("10^{-")
            .chain(text.match_indices("10⁻"))
            .map(|(at, _)| at);
        for at in starts {
            let n = powers_of_ten(&text[at..])[0];
            let context = &text[char_floor(&text, at.saturating_sub(400))..at];
            let tail = &context
                [char_floor(context, context.len().saturating_sub(80))..];
            let about = tolerance_about(context);
            if about.is_some_and(|(name, _)| name == MEASURED) {
                continue;
            }
            let (name, tol) = about.unwrap_or_else(|| {
                panic!(
                    "{}: 10^-{n} after \"…{tail}\": the text before it \
                     should say what it is about",
                    path.display()
                )
            });
            assert_eq!(
                n,
                exponent(tol),
                "{}: quotes 10^-{n} after \"…{tail}\", but the tests \
                 assert {name} = {tol:e} for it",
                path.display()
            );
            quoted += 1;
        }
    }
    assert!(
        quoted >= 10,
        "only {quoted} tolerances found: is the scan off?"
    );
}
