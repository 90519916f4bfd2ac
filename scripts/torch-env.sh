# Sourced by .ci/run and scripts/: makes PyTorch's libtorch available to
# tch's build, installing torch from PyPI into a virtual environment the
# first time, and reusing it after.
#
#   D2L_TORCH_VENV  where the environment lives
#                   (default: ~/.cache/d2l-rnn/torch-<version>)

# The version tch 0.24 is built for.
TORCH_VERSION=2.11.0
TORCH_VENV=${D2L_TORCH_VENV:-$HOME/.cache/d2l-rnn/torch-$TORCH_VERSION}

ensure_torch() {
  if "$TORCH_VENV/bin/python" -c "import torch, sys; \
      sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" \
      2>/dev/null; then
    echo "torch $TORCH_VERSION already in $TORCH_VENV"
  else
    python3 -m venv "$TORCH_VENV"
    "$TORCH_VENV/bin/pip" install --progress-bar off "torch==$TORCH_VERSION"
  fi
  export PATH="$TORCH_VENV/bin:$PATH" LIBTORCH_USE_PYTORCH=1
}
