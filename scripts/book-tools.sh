#!/usr/bin/env bash
# The book's tools, pinned here and nowhere else: .ci/run sources this
# file, and a test (tests/book.rs) checks that every version the README
# and the book quote is this one.
#
#   scripts/book-tools.sh      installs both with `cargo install --locked`,
#                              unless the pinned version is already there
MDBOOK_VERSION=0.5.4
MDBOOK_KATEX_VERSION=0.10.0

# Installs a crate's binary at an exact version unless it is already there.
ensure_tool() {
  local bin=$1 crate=$2 version=$3
  if "$bin" --version 2>/dev/null | grep -q "$version"; then
    echo "$bin $version already installed"
  else
    cargo install --locked "$crate" --version "$version"
  fi
}

ensure_book_tools() {
  ensure_tool mdbook mdbook "$MDBOOK_VERSION"
  ensure_tool mdbook-katex mdbook-katex "$MDBOOK_KATEX_VERSION"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ensure_book_tools
fi
