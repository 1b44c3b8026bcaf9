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
    kind: str = "model"          # "model": a training step; "op": the fixed cost of one op


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
    tanh-approximated GELU (exact GELU needs erf, which numpy lacks: minigrad evaluates a
    rational approximation of it, a dozen passes over memory; see the 'gpt-light exact GELU'
    row)."""
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


def make_gpt(activation="gelu_tanh", sizes=None):
    sizes = sizes or {}

    def make_steps():
        return {"minigrad": gpt_step(minigrad, activation=activation, **sizes),
                "torch": gpt_step(torch, activation=activation, **sizes)}
    return make_steps


# --------------------------------------------------------------------------- capstone GPT
def capstone_step(lib, seed=0, vocab=95, micro_batches=2, batch=8):
    """One iteration of the capstone chapter's training loop (``minigrad.course.gpt``, in
    nanoGPT's idioms) on either library, from the same weights: ``micro_batches`` batches of
    ``batch`` windows of 64 characters, each loss divided by their number before
    ``backward()`` (gradient accumulation), ``clip_grad_norm_(…, 1.0)``, then the AdamW step of
    ``configure_optimizers`` (a decayed and a non-decayed group)."""
    from minigrad.course import gpt

    config = gpt.GPTConfig(vocab_size=vocab)
    torch.manual_seed(seed)                      # the weights both libraries start from
    reference = gpt.build(torch).GPT(config)
    model = gpt.build(lib).GPT(config)
    model.load_state_dict(reference.state_dict())
    opt = model.configure_optimizers(0.1, 3e-3, (0.9, 0.99))
    rng = np.random.default_rng(seed)
    windows = [rng.integers(0, vocab, (batch, config.block_size + 1))
               for _ in range(micro_batches)]
    batches = [(lib.tensor(w[:, :-1].copy()), lib.tensor(w[:, 1:].copy())) for w in windows]

    def step():
        for x, y in batches:
            _, loss = model(x, y)
            (loss / micro_batches).backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss
    return step


def make_capstone():
    def make_steps():
        return {"minigrad": capstone_step(minigrad), "torch": capstone_step(torch)}
    return make_steps


# --------------------------------------------------------------------------- makemore MLP
def makemore_step(lib, vocab=27, context=3, d_emb=10, d_hidden=200, batch=32, lr=0.1, seed=0):
    """One step of the character-level MLP language model learners write in lectures: an
    embedding table indexed by a batch of contexts, tanh hidden layer, cross-entropy, and the
    lecture's update ``p.data += -lr * p.grad`` — the same code on either library, from the same
    weights."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    arrays = [rng.standard_normal((vocab, d_emb)).astype(f32),
              (rng.standard_normal((context * d_emb, d_hidden)) * 0.1).astype(f32),
              np.zeros(d_hidden, f32),
              (rng.standard_normal((d_hidden, vocab)) * 0.01).astype(f32),
              np.zeros(vocab, f32)]
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    C, W1, b1, W2, b2 = params
    X = lib.tensor(rng.integers(0, vocab, (batch, context)))
    Y = lib.tensor(rng.integers(0, vocab, batch))

    def step():
        emb = C[X]
        h = lib.tanh(emb.view(emb.shape[0], -1) @ W1 + b1)
        logits = h @ W2 + b2
        loss = lib.nn.functional.cross_entropy(logits, Y)
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data += -lr * p.grad
        return loss
    return step


def makemore_numpy_step(vocab=27, context=3, d_emb=10, d_hidden=200, batch=32, lr=0.1, seed=0):
    """The same step by hand, the backward written out as the lecture does it."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    C = rng.standard_normal((vocab, d_emb)).astype(f32)
    W1 = (rng.standard_normal((context * d_emb, d_hidden)) * 0.1).astype(f32)
    b1 = np.zeros(d_hidden, f32)
    W2 = (rng.standard_normal((d_hidden, vocab)) * 0.01).astype(f32)
    b2 = np.zeros(vocab, f32)
    X = rng.integers(0, vocab, (batch, context))
    Y = rng.integers(0, vocab, batch)
    rows = np.arange(batch)

    def step():
        e = C[X].reshape(batch, -1)             # embedding, concatenated
        h = np.tanh(e @ W1 + b1)
        z = h @ W2 + b2
        z_max = z.max(axis=1, keepdims=True)
        ez = np.exp(z - z_max)
        s = ez.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(s[:, 0]) + z_max[:, 0] - z[rows, Y])
        dz = ez / s                             # (softmax − onehot) / N
        dz[rows, Y] -= 1
        dz /= batch
        dW2, db2 = h.T @ dz, dz.sum(axis=0)
        dpre = (dz @ W2.T) * (1 - h * h)        # tanh' = 1 − tanh²
        dW1, db1 = e.T @ dpre, dpre.sum(axis=0)
        dC = np.zeros_like(C)
        np.add.at(dC, X, (dpre @ W1.T).reshape(batch, context, -1))   # rows used twice add up
        for p, g in ((C, dC), (W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):
            p -= lr * g
        return loss
    return step


def make_makemore():
    def make_steps():
        return {"minigrad": makemore_step(minigrad), "torch": makemore_step(torch),
                "numpy": makemore_numpy_step()}
    return make_steps


# --------------------------------------------------------------------------- one op, one node
def op_step(lib, backward):
    """The fixed cost of the graph: one recorded ``a + b`` on (32, 10) float32 tensors, or one
    small forward and backward, ``(a * b).sum().backward()``."""
    rng = np.random.default_rng(0)
    a, b = (lib.tensor(rng.standard_normal((32, 10)).astype(np.float32), requires_grad=True)
            for _ in range(2))
    if backward:
        def step():
            a.grad = b.grad = None
            (a * b).sum().backward()
    else:
        def step():
            return a + b
    return step


def make_op(backward):
    def make_steps():
        return {"minigrad": op_step(minigrad, backward), "torch": op_step(torch, backward)}
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
    Benchmark("tiny GPT (8×16, d32, 2h, 2L)",
              "nanoGPT-style size: vocab 65, context 16, d_model 32, 2 heads, 2 blocks, "
              "batch 8, AdamW", make_gpt(sizes=dict(vocab=65, context=16, d_model=32,
                                                     n_heads=2, n_layers=2, batch=8)),
              n_steps=50),
    Benchmark("capstone GPT (2×8×64, d64, 4h, 2L)",
              "chapter 12's iteration: vocab 95, context 64, d_model 64, 4 heads, 2 blocks, two "
              "micro-batches of 8, clip_grad_norm_, AdamW with two groups",
              make_capstone(), n_steps=10),
    Benchmark("makemore MLP (32×3, 10→200→27)",
              "embedding 10, context 3, 200 tanh, vocab 27, batch 32, p.data += -lr * p.grad",
              make_makemore(), n_steps=200),
    Benchmark("one recorded a + b (32×10)", "a + b, both requiring grad, float32",
              make_op(backward=False), n_steps=2000, kind="op"),
    Benchmark("(a * b).sum().backward()", "one product, one sum, the backward walk (32×10)",
              make_op(backward=True), n_steps=500, kind="op"),
]
