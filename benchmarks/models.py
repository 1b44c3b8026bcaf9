"""The benchmarked models. Each ``make_steps()`` returns {"minigrad": step, "torch": step,
"numpy": step}: zero-argument functions that each run one full training step."""
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

import minigrad

LR = 0.01


@dataclass
class Benchmark:
    name: str
    description: str
    make_steps: Callable
    n_steps: int = 50
    repeats: int = 7


# --------------------------------------------------------------------------- MLP
def mlp_step(lib, sizes, batch, seed=0):
    """One training step of Linear→ReLU→Linear with cross-entropy and SGD, written once and
    run on either library (``lib`` is minigrad or torch)."""
    nn, F = lib.nn, lib.nn.functional
    lib.manual_seed(seed)
    d_in, d_hidden, d_out = sizes
    model = nn.Sequential(nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Linear(d_hidden, d_out))
    opt = lib.optim.SGD(model.parameters(), lr=LR)
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.standard_normal((batch, d_in)).astype(np.float32))
    y = lib.tensor(rng.integers(0, d_out, batch))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def mlp_numpy_step(sizes, batch, seed=0):
    """The same step by hand: forward, then the notes' VJPs in reverse order, then SGD."""
    d_in, d_hidden, d_out = sizes
    rng = np.random.default_rng(seed)
    f32 = np.float32
    W1 = (rng.uniform(-1, 1, (d_hidden, d_in)) / math.sqrt(d_in)).astype(f32)
    b1 = np.zeros(d_hidden, f32)
    W2 = (rng.uniform(-1, 1, (d_out, d_hidden)) / math.sqrt(d_hidden)).astype(f32)
    b2 = np.zeros(d_out, f32)
    x = rng.standard_normal((batch, d_in)).astype(f32)
    y = rng.integers(0, d_out, batch)
    rows = np.arange(batch)

    def step():
        h = x @ W1.T + b1                       # Linear 1
        a = np.maximum(h, 0)                    # ReLU
        z = a @ W2.T + b2                       # Linear 2
        z_max = z.max(axis=1, keepdims=True)    # cross-entropy, stable
        e = np.exp(z - z_max)
        s = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(s[:, 0]) + z_max[:, 0] - z[rows, y])
        dz = e / s                              # ∂L/∂z = (softmax − onehot) / N
        dz[rows, y] -= 1
        dz /= batch
        dW2 = dz.T @ a                          # W̄ = Ȳᵀ·X
        db2 = dz.sum(axis=0)                    # b̄ = Σ_batch Ȳ
        da = dz @ W2                            # X̄ = Ȳ·W
        da *= h > 0                             # ReLU: 1[x > 0]
        dW1 = da.T @ x
        db1 = da.sum(axis=0)
        for p, g in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):
            p -= LR * g                         # SGD
        return loss
    return step


def make_mlp(sizes, batch):
    def make_steps():
        return {"minigrad": mlp_step(minigrad, sizes, batch),
                "torch": mlp_step(torch, sizes, batch),
                "numpy": mlp_numpy_step(sizes, batch)}
    return make_steps


# --------------------------------------------------------------------------- GPT-light
def gpt_step(lib, seed=0, vocab=64, context=32, d_model=64, n_heads=4, n_layers=2, batch=16,
             activation="gelu_tanh"):
    """One AdamW training step of the notes' GPT-light, the same code on either library:
    the model class is built on ``lib.nn`` by minigrad's ``make_blocks`` (torch gets the
    identical architecture), and both start from the same weights. The FFN uses GPT-2's
    tanh-approximated GELU (exact GELU needs erf, which numpy lacks and scipy computes
    element by element: see the 'gpt-light exact GELU' row)."""
    arch = (vocab, context, d_model, n_heads, n_layers)
    lib.manual_seed(seed)
    model = minigrad.nn.make_blocks(lib.nn).GPT(*arch, activation=activation)
    minigrad.manual_seed(seed)                  # the weights both libraries start from
    reference = minigrad.nn.GPT(*arch, activation=activation)
    model.load_state_dict({k: lib.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    opt = lib.optim.AdamW(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    idx = lib.tensor(rng.integers(0, vocab, (batch, context)))
    targets = lib.tensor(np.roll(idx.numpy(), -1, axis=1))

    def step():
        opt.zero_grad()
        _, loss = model(idx, targets)
        loss.backward()
        opt.step()
        return loss
    return step


def make_gpt(activation="gelu_tanh"):
    def make_steps():
        return {"minigrad": gpt_step(minigrad, activation=activation),
                "torch": gpt_step(torch, activation=activation)}
    return make_steps


BENCHMARKS = [
    Benchmark("mlp-small (32, 64→128→10)", "batch 32, 64→128→10, cross-entropy, SGD",
              make_mlp((64, 128, 10), 32), n_steps=200),
    Benchmark("mlp-large (256, 512→1024→512)", "batch 256, 512→1024→512, cross-entropy, SGD",
              make_mlp((512, 1024, 512), 256), n_steps=20),
    Benchmark("gpt-light (16×32, d64, 4h, 2L)",
              "vocab 64, context 32, d_model 64, 4 heads, 2 blocks, batch 16, AdamW",
              make_gpt(), n_steps=10),
    Benchmark("gpt-light exact GELU", "the same with exact (erf) GELU",
              make_gpt("gelu"), n_steps=10),
]
