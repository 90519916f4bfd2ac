"""The Python side of the benchmark: d2l's PyTorch code, timed on this
machine, so that the Rust numbers can be compared with it in one run.

Trains, with d2l's settings (the first 10,000 characters, batch 32 x 35
steps, 256 hidden units, SGD with lr 1, clipping at 1, sequential
minibatches), for 2 warm-up and 5 measured epochs each:

- d2l's GRU and LSTM from scratch (`RNNModelScratch` with `gru` and
  `lstm`, written with PyTorch tensors and autograd, as d2l writes them);
- `nn.GRU`, `nn.LSTM` and a 2-layer `nn.LSTM` (d2l's `RNNModel`).

Prints a JSON report, and with --markdown writes a table for the book.

    python scripts/pytorch-baseline.py [--threads N] [--json F] [--markdown F]
"""

import argparse
import json
import math
import re
import statistics
import time

import torch
from torch import nn
from torch.nn import functional as F

BATCH, STEPS, HIDDENS, MAX_TOKENS = 32, 35, 256, 10_000


def corpus():
    with open("data/timemachine.txt", encoding="utf-8") as f:
        lines = [re.sub("[^A-Za-z]+", " ", l).strip().lower() for l in f]
    text = "".join(lines)
    chars = sorted(set(text))
    idx = {c: i + 1 for i, c in enumerate(chars)}  # 0 is <unk>
    return [idx[c] for c in text][:MAX_TOKENS], len(chars) + 1


def batches(tokens, generator):
    offset = int(torch.randint(0, STEPS, (1,), generator=generator))
    n = (len(tokens) - offset - 1) // BATCH * BATCH
    xs = torch.tensor(tokens[offset : offset + n]).reshape(BATCH, -1)
    ys = torch.tensor(tokens[offset + 1 : offset + 1 + n]).reshape(BATCH, -1)
    for i in range(0, xs.shape[1] // STEPS * STEPS, STEPS):
        yield xs[:, i : i + STEPS], ys[:, i : i + STEPS]


# d2l's from-scratch models (chapter "Modern RNNs", sections GRU and LSTM).
def normal(shape):
    return torch.randn(size=shape) * 0.01


def three(vocab):
    return (normal((vocab, HIDDENS)), normal((HIDDENS, HIDDENS)),
            torch.zeros(HIDDENS))


def gru_params(vocab):
    w_xz, w_hz, b_z = three(vocab)
    w_xr, w_hr, b_r = three(vocab)
    w_xh, w_hh, b_h = three(vocab)
    w_hq, b_q = normal((HIDDENS, vocab)), torch.zeros(vocab)
    params = [w_xz, w_hz, b_z, w_xr, w_hr, b_r, w_xh, w_hh, b_h, w_hq, b_q]
    for p in params:
        p.requires_grad_(True)
    return params


def gru(inputs, state, params):
    w_xz, w_hz, b_z, w_xr, w_hr, b_r, w_xh, w_hh, b_h, w_hq, b_q = params
    (h,) = state
    outputs = []
    for x in inputs:
        z = torch.sigmoid((x @ w_xz) + (h @ w_hz) + b_z)
        r = torch.sigmoid((x @ w_xr) + (h @ w_hr) + b_r)
        h_tilde = torch.tanh((x @ w_xh) + ((r * h) @ w_hh) + b_h)
        h = z * h + (1 - z) * h_tilde
        outputs.append(h @ w_hq + b_q)
    return torch.cat(outputs, dim=0), (h,)


def lstm_params(vocab):
    w_xi, w_hi, b_i = three(vocab)
    w_xf, w_hf, b_f = three(vocab)
    w_xo, w_ho, b_o = three(vocab)
    w_xc, w_hc, b_c = three(vocab)
    w_hq, b_q = normal((HIDDENS, vocab)), torch.zeros(vocab)
    params = [w_xi, w_hi, b_i, w_xf, w_hf, b_f, w_xo, w_ho, b_o, w_xc, w_hc,
              b_c, w_hq, b_q]
    for p in params:
        p.requires_grad_(True)
    return params


def lstm(inputs, state, params):
    (w_xi, w_hi, b_i, w_xf, w_hf, b_f, w_xo, w_ho, b_o, w_xc, w_hc, b_c,
     w_hq, b_q) = params
    h, c = state
    outputs = []
    for x in inputs:
        i = torch.sigmoid((x @ w_xi) + (h @ w_hi) + b_i)
        f = torch.sigmoid((x @ w_xf) + (h @ w_hf) + b_f)
        o = torch.sigmoid((x @ w_xo) + (h @ w_ho) + b_o)
        c_tilde = torch.tanh((x @ w_xc) + (h @ w_hc) + b_c)
        c = f * c + i * c_tilde
        h = o * torch.tanh(c)
        outputs.append(h @ w_hq + b_q)
    return torch.cat(outputs, dim=0), (h, c)


class Scratch:
    """d2l's RNNModelScratch."""

    def __init__(self, vocab, params, forward, states):
        self.vocab, self.params, self.forward = vocab, params, forward
        self.states = states

    def __call__(self, x, state):
        x = F.one_hot(x.T, self.vocab).type(torch.float32)
        return self.forward(x, state, self.params)

    def begin_state(self):
        return tuple(torch.zeros((BATCH, HIDDENS)) for _ in range(self.states))

    def parameters(self):
        return self.params


class Concise(nn.Module):
    """d2l's RNNModel around nn.GRU / nn.LSTM."""

    def __init__(self, rnn, vocab):
        super().__init__()
        self.rnn, self.vocab = rnn, vocab
        self.linear = nn.Linear(HIDDENS, vocab)

    def forward(self, x, state):
        x = F.one_hot(x.T.long(), self.vocab).type(torch.float32)
        y, state = self.rnn(x, state)
        return self.linear(y.reshape((-1, y.shape[-1]))), state

    def begin_state(self):
        layers = self.rnn.num_layers
        zeros = torch.zeros((layers, BATCH, HIDDENS))
        if isinstance(self.rnn, nn.LSTM):
            return (zeros, zeros.clone())
        return zeros


def detach(state):
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def clip(params, theta=1.0):
    params = [p for p in params if p.requires_grad]
    norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in params))
    if norm > theta:
        for p in params:
            p.grad[:] *= theta / norm


def epoch(model, tokens, generator, lr=1.0):
    state, n, start = None, 0, time.perf_counter()
    loss_fn = nn.CrossEntropyLoss()
    for x, y in batches(tokens, generator):
        state = model.begin_state() if state is None else detach(state)
        y_hat, state = model(x, state)
        loss = loss_fn(y_hat, y.T.reshape(-1).long())
        for p in model.parameters():
            p.grad = None
        loss.backward()
        clip(list(model.parameters()))
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        n += y.numel()
    return n / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: every core)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--json", default="target/bench/pytorch.json")
    parser.add_argument("--markdown", default=None)
    parser.add_argument("--bench", default=None,
                        help="the Rust harness's JSON report, to compare with")
    parser.add_argument("--targets", default=None,
                        help="write the performance targets, measured, here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    tokens, vocab = corpus()
    models = {
        "gru (d2l scratch)": lambda: Scratch(vocab, gru_params(vocab), gru, 1),
        "lstm (d2l scratch)":
            lambda: Scratch(vocab, lstm_params(vocab), lstm, 2),
        "gru (nn.GRU)": lambda: Concise(nn.GRU(vocab, HIDDENS), vocab),
        "lstm (nn.LSTM)": lambda: Concise(nn.LSTM(vocab, HIDDENS), vocab),
        "lstm2 (nn.LSTM, 2 layers)":
            lambda: Concise(nn.LSTM(vocab, HIDDENS, 2), vocab),
    }
    report = {"torch": torch.__version__, "threads": torch.get_num_threads(),
              "models": {}}
    for name, make in models.items():
        model, generator = make(), torch.Generator().manual_seed(0)
        speeds = [epoch(model, tokens, generator)
                  for _ in range(args.warmup + args.epochs)][args.warmup:]
        report["models"][name] = {
            "median": statistics.median(speeds), "min": min(speeds),
            "max": max(speeds), "per_epoch": speeds,
        }
        print(f"{name:>26}: {statistics.median(speeds):8.0f} tokens/s",
              flush=True)
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    if args.markdown:
        rows = ["| model (PyTorch " + torch.__version__ + ", "
                + str(report["threads"]) + " threads) | tokens/s (median) "
                "| spread (min–max) |", "|---|---|---|"]
        for name, r in report["models"].items():
            rows.append(f"| {name} | {r['median']:.0f} | "
                        f"{r['min']:.0f}–{r['max']:.0f} |")
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("\n".join(rows) + "\n")
    assert all(math.isfinite(r["median"]) for r in report["models"].values())
    if args.bench and args.targets:
        with open(args.bench, encoding="utf-8") as f:
            bench = json.load(f)
        with open(args.targets, "w", encoding="utf-8") as f:
            f.write(targets(bench, report))


def targets(bench, python):
    """The performance targets as a table: each ratio, its goal, met or not.
    Scratch means the fast path with the most threads the harness ran."""

    def rust(model, impl):
        runs = [m for m in bench["models"]
                if m["model"] == model and m["impl"] == impl
                and m.get("path") in (None, "fast")]
        if not runs:
            return None
        return max(runs, key=lambda m: m["threads"])["tokens_per_sec"]["median"]

    py = {k: v["median"] for k, v in python["models"].items()}
    rows = [
        ("scratch GRU ÷ libtorch GRU (Rust, tch)", rust("gru", "scratch"),
         rust("gru", "concise"), 1.5),
        ("scratch LSTM ÷ libtorch LSTM (Rust, tch)", rust("lstm", "scratch"),
         rust("lstm", "concise"), 1.0),
        ("scratch 2-layer LSTM ÷ libtorch 2-layer LSTM (Rust, tch)",
         rust("lstm2", "scratch"), rust("lstm2", "concise"), 1.0),
        ("scratch GRU ÷ d2l's scratch GRU (Python)", rust("gru", "scratch"),
         py["gru (d2l scratch)"], 2.5),
        ("scratch LSTM ÷ d2l's scratch LSTM (Python)",
         rust("lstm", "scratch"), py["lstm (d2l scratch)"], 2.5),
        ("concise GRU (Rust) ÷ nn.GRU (Python)", rust("gru", "concise"),
         py["gru (nn.GRU)"], 1.1),
        ("concise LSTM (Rust) ÷ nn.LSTM (Python)", rust("lstm", "concise"),
         py["lstm (nn.LSTM)"], 1.1),
        ("concise 2-layer LSTM (Rust) ÷ 2-layer nn.LSTM (Python)",
         rust("lstm2", "concise"), py["lstm2 (nn.LSTM, 2 layers)"], 1.1),
    ]
    out = ["| ratio of tokens/s | measured | target | met |",
           "|---|---|---|---|"]
    for name, a, b, goal in rows:
        if a is None or b is None:
            out.append(f"| {name} | not run | ≥ {goal} | – |")
            continue
        r = a / b
        out.append(f"| {name} | {r:.2f} | ≥ {goal} | "
                   f"{'yes' if r >= goal else 'no'} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
