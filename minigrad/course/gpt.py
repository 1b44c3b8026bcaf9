"""A character-level GPT in nanoGPT's idioms, written once for either library: the capstone
chapter's model, its data and its training loop.

Every piece takes the library as a parameter, ``lib`` (``minigrad`` or ``torch``), and uses
only the API the two share, so one cell trains a minigrad GPT and a PyTorch GPT alike::

    import minigrad, torch
    from minigrad.course import gpt

    text = gpt.course_text()                       # the course's own English prose
    vocab = gpt.CharVocab(text)
    train_data, val_data = gpt.split(vocab.encode(text))       # uint8 numpy arrays
    config = gpt.GPTConfig(vocab_size=len(vocab))
    torch.manual_seed(0)
    ref = gpt.build(torch).GPT(config)
    mine = gpt.build(minigrad).GPT(config)
    mine.load_state_dict(ref.state_dict())         # the same initial weights
    for lib, model in ((minigrad, mine), (torch, ref)):
        optimizer = model.configure_optimizers(0.1, 3e-3, (0.9, 0.99))
        history = gpt.train(lib, model, optimizer, train_data, val_data, gpt.TrainConfig())

What a reader of nanoGPT will recognise: ``CausalSelfAttention`` with one ``c_attn``
projection ``split`` into q, k, v and heads made with ``view``/``transpose``, either through
``F.scaled_dot_product_attention(is_causal=True)`` or by hand (a ``tril`` mask kept with
``register_buffer``, ``masked_fill(-inf)``, softmax, dropout); the token embedding tied to
the output layer; ``apply(_init_weights)``; ``configure_optimizers`` with a decayed and a
non-decayed group; ``get_batch`` from a uint8 array through ``from_numpy`` and ``randint``;
gradient accumulation, ``clip_grad_norm_`` and a cosine learning rate; ``estimate_loss``
under ``no_grad``; ``generate`` with temperature, ``topk`` and ``multinomial``.

One line differs from a plain training script, on purpose: the positions of the training
windows are drawn by *minigrad's* generator whichever library trains (``get_batch``), because
minigrad's random stream is not torch's, and the two runs must see the same batches to be
compared.
"""
import functools
import math
import pathlib
import re
import sys
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

import minigrad

from .lang import tr

__all__ = ["course_text", "CharVocab", "split", "GPTConfig", "TrainConfig", "build", "twins",
           "loss_and_grads", "get_batch", "get_lr", "estimate_loss", "train", "progress"]


# ------------------------------------------------------------------ the text
def course_text(root=None, before=12):
    """The English prose of the course's chapters numbered below ``before``: the markdown
    cells of ``chapters/en/NN_*.ipynb``, without code blocks and display formulas, and only
    the printable ASCII characters (and newlines) of it. ``root`` is the repository (by
    default the first folder above the working directory that has ``chapters/en``, else the
    clone the package was installed from)."""
    import nbformat

    root = pathlib.Path(root) if root is not None else _repository_root()
    parts = []
    for path in sorted((root / "chapters" / "en").glob("[0-9][0-9]_*.ipynb")):
        if int(path.name[:2]) >= before:
            continue
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                parts.append(cell.source)
    text = "\n\n".join(parts)
    text = re.sub(r"```.*?```|\$\$.*?\$\$", "", text, flags=re.DOTALL)
    return re.sub(r"[^\n\x20-\x7e]", "", text)


def _repository_root():
    here = pathlib.Path.cwd().resolve()
    package = pathlib.Path(__file__).resolve().parents[2]    # minigrad installed from a clone
    for folder in (here, *here.parents, package):
        if (folder / "chapters" / "en").is_dir():
            return folder
    raise FileNotFoundError("course_text: no chapters/en folder above the working directory or "
                            "beside the package; run from inside the course repository, or "
                            "pass root=")


class CharVocab:
    """Character-level tokens, as nanoGPT's shakespeare_char: every distinct character of
    the text is one token, numbered in sorted order (``stoi``, ``itos``)."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        if len(self.chars) > 256:
            raise ValueError(f"CharVocab: {len(self.chars)} distinct characters do not fit "
                             f"in uint8 tokens")
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}
        self.itos = dict(enumerate(self.chars))

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """The tokens of ``text``, a uint8 numpy array."""
        return np.array([self.stoi[ch] for ch in text], dtype=np.uint8)

    def decode(self, tokens):
        return "".join(self.itos[int(t)] for t in tokens)


def split(data, val_fraction=0.1):
    """The first 90 % of the tokens to train on, the rest to validate."""
    n = int(round((1 - val_fraction) * len(data)))
    return data[:n], data[n:]


# ------------------------------------------------------------------ the model
@dataclass
class GPTConfig:
    block_size: int = 64        # the context: how many tokens the model sees
    vocab_size: int = 96
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0
    bias: bool = True           # biases in the Linear layers
    flash: bool = True          # attention through F.scaled_dot_product_attention


@functools.cache
def build(lib):
    """The model's classes on ``lib`` (``minigrad`` or ``torch``): a namespace with
    ``CausalSelfAttention``, ``MLP``, ``Block`` and ``GPT``. The class bodies are the same
    for both libraries; only ``lib`` differs."""
    nn, F = lib.nn, lib.nn.functional

    class CausalSelfAttention(nn.Module):
        """Multi-head self-attention where a token sees only itself and the tokens before."""

        def __init__(self, config):
            super().__init__()
            assert config.n_embd % config.n_head == 0
            self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
            self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
            self.attn_dropout = nn.Dropout(config.dropout)
            self.resid_dropout = nn.Dropout(config.dropout)
            self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout
            self.flash = config.flash
            if not self.flash:   # the mask of the manual path: 1 on and below the diagonal
                mask = lib.tril(lib.ones(config.block_size, config.block_size))
                self.register_buffer("bias", mask.view(1, 1, config.block_size,
                                                       config.block_size))

        def forward(self, x):
            B, T, C = x.size()          # batch, time (tokens), channels (n_embd)
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            # (B, T, C) -> (B, T, heads, C / heads) -> (B, heads, T, C / heads)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            if self.flash:
                y = F.scaled_dot_product_attention(
                    q, k, v, attn_mask=None, is_causal=True,
                    dropout_p=self.dropout if self.training else 0.0)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
                att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
                att = F.softmax(att, dim=-1)
                att = self.attn_dropout(att)
                y = att @ v             # (B, heads, T, T) @ (B, heads, T, C / heads)
            y = y.transpose(1, 2).contiguous().view(B, T, C)    # the heads side by side
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
            self.gelu = nn.GELU(approximate="tanh")
            self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
            self.dropout = nn.Dropout(config.dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        """Pre-norm transformer block: x + attention(LN(x)), then x + MLP(LN(x))."""

        def __init__(self, config):
            super().__init__()
            self.ln_1 = nn.LayerNorm(config.n_embd)
            self.attn = CausalSelfAttention(config)
            self.ln_2 = nn.LayerNorm(config.n_embd)
            self.mlp = MLP(config)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd),
            ))
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
            # weight tying: the token embedding and the output layer are one parameter
            self.transformer.wte.weight = self.lm_head.weight
            self.apply(self._init_weights)
            for name, p in self.named_parameters():   # GPT-2: smaller residual projections
                if name.endswith("c_proj.weight"):
                    nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets=None):
            b, t = idx.size()
            assert t <= self.config.block_size, f"a sequence of {t} tokens is longer than " \
                                                f"the context, {self.config.block_size}"
            pos = lib.arange(0, t, dtype=lib.long)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)
            if targets is None:         # generating: only the last position's logits
                return self.lm_head(x[:, [-1], :]), None
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                   ignore_index=-1)
            return logits, loss

        def configure_optimizers(self, weight_decay, learning_rate, betas):
            """AdamW with two groups: the matrices (embeddings, Linear weights) decay, the
            biases and LayerNorm parameters (one dimension) do not."""
            params = {name: p for name, p in self.named_parameters() if p.requires_grad}
            groups = [
                {"params": [p for p in params.values() if p.dim() >= 2],
                 "weight_decay": weight_decay},
                {"params": [p for p in params.values() if p.dim() < 2], "weight_decay": 0.0},
            ]
            return lib.optim.AdamW(groups, lr=learning_rate, betas=betas)

        @lib.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
            """Append ``max_new_tokens`` tokens to ``idx`` (B, T), each drawn from the
            model's distribution for the next token, sharpened by ``temperature`` < 1 and
            cut to the ``top_k`` most likely tokens."""
            for _ in range(max_new_tokens):
                idx_cond = idx if idx.size(1) <= self.config.block_size \
                    else idx[:, -self.config.block_size:]
                logits, _ = self(idx_cond)
                logits = logits[:, -1, :] / temperature
                if top_k is not None:
                    v, _ = lib.topk(logits, min(top_k, logits.size(-1)))
                    logits[logits < v[:, [-1]]] = -float("inf")
                probs = F.softmax(logits, dim=-1)
                idx_next = lib.multinomial(probs, num_samples=1, generator=generator)
                idx = lib.cat((idx, idx_next), dim=1)
            return idx

    return SimpleNamespace(CausalSelfAttention=CausalSelfAttention, MLP=MLP, Block=Block,
                           GPT=GPT)


def twins(config, seed=0):
    """``(minigrad_model, torch_model)``: a GPT built by torch from ``seed``, and a minigrad
    GPT that loads its initial weights (``load_state_dict`` of the torch ``state_dict``)."""
    import torch

    torch.manual_seed(seed)
    ref = build(torch).GPT(config)
    mine = build(minigrad).GPT(config)
    mine.load_state_dict(ref.state_dict())
    return mine, ref


def loss_and_grads(lib, model, x, y):
    """One forward and backward pass of ``model`` (a ``lib`` GPT) on the numpy batch ``x``,
    ``y``: the loss followed by every parameter's gradient, flattened into one numpy array,
    for comparing two models or two libraries in a single check. The gradients are cleared
    again afterwards."""
    model.zero_grad()
    _, loss = model(lib.tensor(x), lib.tensor(y))
    loss.backward()
    out = np.concatenate([[loss.item()]] +
                         [p.grad.detach().numpy().ravel() for p in model.parameters()])
    model.zero_grad(set_to_none=True)          # leave no gradient behind for a training step
    return out


# ------------------------------------------------------------------ training
@dataclass
class TrainConfig:
    max_iters: int = 300
    eval_interval: int = 25
    eval_iters: int = 4
    batch_size: int = 8
    gradient_accumulation_steps: int = 2
    learning_rate: float = 3e-3
    min_lr: float = 3e-4
    warmup_iters: int = 20
    lr_decay_iters: int = 300
    weight_decay: float = 0.1
    betas: tuple = (0.9, 0.99)
    grad_clip: float = 1.0
    seed: int = 1337


def get_batch(lib, data, block_size, batch_size, generator):
    """``batch_size`` windows of ``block_size`` tokens from ``data`` (a uint8 numpy array),
    and the same windows shifted by one token: the inputs and their next-token targets, int64
    tensors of ``lib``. The start positions are drawn by minigrad's ``generator`` (a
    ``minigrad.Generator``) for either library, so that two runs see the same windows."""
    ix = minigrad.randint(len(data) - block_size, (batch_size,), generator=generator).tolist()
    x = lib.stack([lib.from_numpy(data[i:i + block_size].astype(np.int64)) for i in ix])
    y = lib.stack([lib.from_numpy(data[i + 1:i + 1 + block_size].astype(np.int64)) for i in ix])
    return x, y


def get_lr(it, cfg):
    """The learning rate at iteration ``it``: a linear warm-up over ``warmup_iters``, then a
    cosine from ``learning_rate`` down to ``min_lr`` at ``lr_decay_iters``, then ``min_lr``."""
    if it < cfg.warmup_iters:
        return cfg.learning_rate * (it + 1) / (cfg.warmup_iters + 1)
    if it > cfg.lr_decay_iters:
        return cfg.min_lr
    ratio = (it - cfg.warmup_iters) / (cfg.lr_decay_iters - cfg.warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * ratio))        # from 1 down to 0
    return cfg.min_lr + coeff * (cfg.learning_rate - cfg.min_lr)


def estimate_loss(lib, model, splits, cfg):
    """The mean loss over ``eval_iters`` batches of each split ({name: data}), in eval mode
    and under ``no_grad``. Every call reads the same windows (a generator seeded afresh), so
    two evaluations differ only because the model did."""
    out = {}
    model.eval()
    with lib.no_grad():
        for k, (name, data) in enumerate(splits.items()):
            generator = minigrad.Generator().manual_seed(cfg.seed + 1 + k)
            losses = [model(*get_batch(lib, data, model.config.block_size, cfg.batch_size,
                                       generator))[1].item() for _ in range(cfg.eval_iters)]
            out[name] = float(np.mean(losses))
    model.train()
    return out


def train(lib, model, optimizer, train_data, val_data, cfg, start=0, iters=None, bar=True):
    """nanoGPT's training loop: for iterations ``start`` … ``start + iters`` (default: up to
    ``cfg.max_iters``) set the learning rate, evaluate every ``eval_interval`` iterations,
    accumulate the gradients of ``gradient_accumulation_steps`` micro-batches, clip their
    norm, step. Returns ``{"iter": [...], "train": [...], "val": [...], "loss": [...]}``: the
    evaluations, and the loss of every iteration (summed over its micro-batches)."""
    stop = cfg.max_iters if iters is None else start + iters
    generator = minigrad.Generator().manual_seed(cfg.seed + 1000 * start)
    history = {"iter": [], "train": [], "val": [], "loss": []}
    for it in range(start, stop):
        lr = get_lr(it, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        if it % cfg.eval_interval == 0:
            losses = estimate_loss(lib, model, {"train": train_data, "val": val_data}, cfg)
            for name in ("train", "val"):
                history[name].append(losses[name])
            history["iter"].append(it)
        total = 0.0
        for _ in range(cfg.gradient_accumulation_steps):
            X, Y = get_batch(lib, train_data, model.config.block_size, cfg.batch_size, generator)
            _, loss = model(X, Y)
            loss = loss / cfg.gradient_accumulation_steps    # the mean over the micro-batches
            loss.backward()
            total += loss.item()
        if cfg.grad_clip != 0.0:
            lib.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        history["loss"].append(total)
        if bar:
            progress(it + 1 - start, stop - start,
                     tr("{lib} loss {loss:.3f}", lib=lib.__name__, loss=total))
    return history


def progress(done, total, note="", width=30, every=10, file=None):
    """A progress bar on stdout, ``100%|██████████| 300/300 note``, redrawn (``\\r``) every
    ``every`` steps and ended with a newline at the last one. It writes the same characters
    on every run, so a notebook stores the same output each time."""
    if done % every and done != total:
        return
    file = sys.stdout if file is None else file
    filled = width * done // total
    bar = "█" * filled + " " * (width - filled)
    file.write(f"\r{100 * done // total:3d}%|{bar}| {done}/{total} {note}")
    if done == total:
        file.write("\n")
    file.flush()
