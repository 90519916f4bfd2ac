#!/usr/bin/env bash
# GPU readiness of the concise models, in two halves:
#
#   scripts/gpu-check.sh build       on this machine: builds the benchmark
#                                    with libtorch (PyTorch 2.11.0 from
#                                    PyPI) into target/gpu-check/bench,
#                                    stripped so that it travels light
#   scripts/gpu-check.sh run [OUT]   on the GPU machine (PyTorch 2.11.0 with
#                                    CUDA, no Rust needed): runs it with
#                                    LD_LIBRARY_PATH at that torch's lib and
#                                    writes OUT/gpu-check.json
#
# The run reports Cuda::is_available(), the largest CPU/CUDA difference of
# the loss and every gradient after one forward/backward from the same
# weights (f32; it fails above 1e-4), and tokens/s on CUDA for the GRU, the
# LSTM and the 2-layer LSTM. It exits non-zero if CUDA is missing or the
# two devices disagree.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=target/gpu-check/bench

case ${1:-} in
  build)
    source scripts/torch-env.sh
    ensure_torch
    cargo build --release -p bench --features torch
    mkdir -p target/gpu-check
    strip -o "$bin" target/release/bench
    ls -l "$bin"
    ;;
  run)
    out=${2:-${OUT:-target/gpu-check}}
    mkdir -p "$out"
    [ -x "$bin" ] || { echo "no $bin: run '$0 build' first" >&2; exit 1; }
    py=$(command -v python3 || command -v python)
    lib=$("$py" -W ignore -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
    echo "torch $("$py" -W ignore -c 'import torch; print(torch.__version__)') in $lib"
    command -v nvidia-smi >/dev/null && nvidia-smi -L || true
    LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      "$bin" --gpu-check --models gru,lstm,lstm2 --warmup 2 --epochs 5 \
      --json "$out/gpu-check.json"
    ;;
  *)
    echo "usage: $0 build | run [OUT]" >&2
    exit 2
    ;;
esac
