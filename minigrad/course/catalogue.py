r"""Running an operation on minigrad and on torch side by side, and the book's reference table.

What the chapters use:

- :func:`check_vjp` runs one function on both libraries with the same inputs and the same
  random upstream gradient ȳ, asserts that every gradient has its variable's shape, and
  prints a :func:`~minigrad.course.compare` line for every output and every gradient::

      check_vjp("reshape", lambda lib, x: x.reshape(6, 4), np.ones((2, 3, 4)))
      # reshape y (6, 4): max |Δ| = 0.0e+00 ✓
      # reshape x̄ (2, 3, 4): max |Δ| = 0.0e+00 ✓

- :func:`show_code` prints the source of the VJP minigrad runs, and
  :func:`verify_gradients` is the notes' verification script, ported to both libraries;

- :func:`catalogue_rows` runs every entry of the op registry (``minigrad/ops/registry.py``)
  on both libraries and :func:`catalogue_markdown` turns the result into the quick-reference
  table of the operator catalogue, with a "verified vs torch" column that is computed, not
  typed. The table is in the reader's language: each entry's family, its case (``variant``)
  and the words of its formulas (``\text{…}``) go through ``tr`` (:func:`table_words` lists
  them for the translation tables), except the ones that are code (``approximate='tanh'``,
  ``x.\text{shape}``), printed as they are.
"""
import inspect
import re
import textwrap
import unicodedata
from dataclasses import dataclass

import numpy as np

from .compare import CheckFailed, compare, to_numpy, verdict
from .lang import ntr, tr, width

__all__ = ["check_vjp", "VJPCheck", "show_code", "verify_gradients", "verify_op",
           "Verification", "catalogue_rows", "catalogue_markdown", "latex_for_table",
           "table_words"]


# --------------------------------------------------------------------------- one function
@dataclass
class VJPCheck:
    """What :func:`check_vjp` ran: the minigrad inputs and outputs (their ``.grad`` filled),
    the torch ones, and the upstream gradients (numpy arrays, one per output)."""
    inputs: list
    outputs: tuple
    torch_inputs: list
    torch_outputs: tuple
    upstream: list


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _leaves(lib, arrays, no_grad_args=()):
    """numpy float arrays become leaves that require grad; other arrays become constant
    tensors (indices, masks); anything else (a dim, a shape) is passed as it is."""
    out = []
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray):
            t = lib.tensor(a)
            if a.dtype.kind == "f" and i not in no_grad_args:
                t.requires_grad_(True)
            out.append(t)
        else:
            out.append(a)
    return out


def _backward(lib, outs, upstream):
    pairs = [(o, lib.tensor(g)) for o, g in zip(outs, upstream) if o.requires_grad]
    if pairs:
        lib.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])


def _shape_rule(label, x):
    """The rule of the chapter: a gradient always has its variable's shape."""
    if x.grad is not None and tuple(x.grad.shape) != tuple(x.shape):
        raise CheckFailed(f"{label}: the gradient has shape {tuple(x.grad.shape)} but the "
                          f"variable has shape {tuple(x.shape)}")


def check_vjp(label, fn, *arrays, seed=0, tol=1e-12, names=None):
    """Run ``fn(lib, *tensors)`` with ``lib`` = minigrad and ``lib`` = torch, pull both back
    with the same random upstream gradient, and print the checks.

    ``arrays`` are numpy arrays (float ones become leaves that require grad) or plain values
    passed through. The upstream gradient of each output is drawn from
    ``numpy.random.default_rng(seed)``. Prints one ``compare`` line per output (forward
    value) and per gradient (labelled ``x̄`` or by ``names``), after asserting that each
    gradient has its variable's shape. Raises ``CheckFailed`` if anything differs.
    Returns a :class:`VJPCheck` with minigrad's and torch's tensors."""
    import torch

    import minigrad as mg
    xs, ts = _leaves(mg, arrays), _leaves(torch, arrays)
    outs, touts = _as_tuple(fn(mg, *xs)), _as_tuple(fn(torch, *ts))
    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(tuple(o.shape)) for o in outs]
    _backward(mg, outs, upstream)
    _backward(torch, touts, upstream)
    if len(outs) != len(touts):
        raise CheckFailed(f"{label}: {len(outs)} outputs, torch gives {len(touts)}")
    for k, (o, to) in enumerate(zip(outs, touts)):
        tag = f"y{k + 1}" if len(outs) > 1 else "y"
        compare(f"{label} {tag} {tuple(o.shape)}", o, to, tol)
    diff = [(i, x, t) for i, (x, t) in enumerate(zip(xs, ts))
            if isinstance(a := arrays[i], np.ndarray) and a.dtype.kind == "f"]
    for j, (i, x, t) in enumerate(diff):
        name = names[j] if names else ("x̄" if len(diff) == 1 else f"x̄{j + 1}")
        _shape_rule(f"{label} {name}", x)
        g = np.zeros(x.shape) if x.grad is None else x.grad
        tg = np.zeros(tuple(t.shape)) if t.grad is None else t.grad
        compare(f"{label} {name} {tuple(x.shape)}", g, tg, tol)
    return VJPCheck(xs, outs, ts, touts, upstream)


def show_code(obj):
    """Print the source of a function or method, dedented: how a chapter shows the VJP that
    minigrad actually runs (``show_code(Mul.backward)``) rather than a copy of it."""
    path = obj.__module__.replace(".", "/") + ".py"
    print(f"# {path}: {obj.__qualname__}")
    print(textwrap.dedent(inspect.getsource(obj)).rstrip())


def verify_gradients(lib, F, data):
    """The verification script of the notes on common operators, ported to run on either
    library: three gradients written by hand (matmul, ReLU, softmax + cross-entropy) against
    autograd's, printed as in the notes (each difference with its bound, :func:`verdict`). ``data`` holds the arrays the notes draw with
    ``torch.randn`` (keys "X", "W", "x_relu", "x_ce"); returns the printed differences."""
    diffs = {}
    # ===== 1. MatMul =====
    X = lib.tensor(data["X"], requires_grad=True)
    W = lib.tensor(data["W"], requires_grad=True)
    Y = X @ W
    loss = Y.sum()
    loss.backward()

    grad_Y = lib.ones_like(Y)          # computed by hand
    grad_X_manual = grad_Y @ W.T
    grad_W_manual = X.T @ grad_Y

    print("=== MatMul ===")
    diffs["MatMul grad_X"] = (X.grad - grad_X_manual).abs().max().item()
    diffs["MatMul grad_W"] = (W.grad - grad_W_manual).abs().max().item()
    print(f"grad_X: max |Δ| = {verdict(diffs['MatMul grad_X'], 1e-12)}")
    print(f"grad_W: max |Δ| = {verdict(diffs['MatMul grad_W'], 1e-12)}")

    # ===== 2. ReLU =====
    x = lib.tensor(data["x_relu"], requires_grad=True)
    y = F.relu(x)
    y.sum().backward()

    grad_x_manual = (x.detach() > 0).float()
    print("\n=== ReLU ===")
    diffs["ReLU grad_x"] = (x.grad - grad_x_manual).abs().max().item()
    print(f"grad_x: max |Δ| = {verdict(diffs['ReLU grad_x'], 1e-12)}")

    # ===== 3. Softmax + CrossEntropy =====
    x = lib.tensor(data["x_ce"], requires_grad=True)
    target = lib.tensor([1, 3, 2])
    loss = F.cross_entropy(x, target)
    loss.backward()

    s = F.softmax(x.detach(), dim=-1)  # computed by hand
    target_onehot = F.one_hot(target, 5).float()
    grad_x_manual = (s - target_onehot) / 3  # divided by the batch size

    print("\n=== Softmax + CrossEntropy ===")
    diffs["CrossEntropy grad_x"] = (x.grad - grad_x_manual).abs().max().item()
    print(f"grad_x: max |Δ| = {verdict(diffs['CrossEntropy grad_x'], 1e-12)}")
    return diffs


# --------------------------------------------------------------------------- the registry
@dataclass
class Verification:
    """The result of running one registry entry on both libraries.

    ``ok`` is True when the forward values and every gradient agree within the tolerance and
    minigrad's node is the one the entry names; ``max_diff`` is the largest difference seen
    (absolute, relative to max(1, |torch's value|)); ``problem`` says what failed, if
    anything."""
    info: object
    ok: bool
    max_diff: float
    problem: str = ""


def _scaled_diff(a, b):
    a, b = to_numpy(a), to_numpy(b)
    if a.shape != b.shape:
        raise ValueError(f"shape {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    same = (a == b) | (np.isnan(a) & np.isnan(b))      # equal infinities, or both NaN
    with np.errstate(invalid="ignore"):
        d = np.where(same, 0.0, np.abs(a - b) / np.maximum(1.0, np.abs(b)))
    return float(np.max(np.where(np.isnan(d), np.inf, d)))


def _grad(t):
    return np.zeros(tuple(t.shape)) if t.grad is None else t.grad


def verify_op(info, rng, tol=1e-10):
    """Run registry entry ``info`` on minigrad and on torch with one sample of its inputs
    (``sample_inputs(info, rng)``) and one random upstream gradient; compare the outputs,
    every input's gradient, and minigrad's node name with ``info.node``.

    A random op (dropout) cannot draw torch's numbers; torch runs ``info.fixed_fn`` instead:
    the same computation, with the randomness read off minigrad's output."""
    import torch
    import torch.nn.functional as TF

    import minigrad as mg
    import minigrad.nn.functional as MF
    from minigrad.ops.registry import sample_inputs

    sample = sample_inputs(info, rng)
    up_seed = int(rng.integers(2**32))
    xs = _leaves(mg, sample, info.no_grad_args)
    outs = _as_tuple(info.fn(mg, MF, *xs))
    upstream = [np.random.default_rng(up_seed).standard_normal(tuple(o.shape)) for o in outs]
    ts = _leaves(torch, sample, info.no_grad_args)
    if info.random:
        const = torch.tensor(to_numpy(outs[0]))
        touts = _as_tuple(info.fixed_fn(torch, TF, const, *ts))
    else:
        touts = _as_tuple(info.fn(torch, TF, *ts))
    node = outs[0].grad_fn.name() if outs[0].grad_fn is not None else None
    _backward(mg, outs, upstream)
    _backward(torch, touts, upstream)
    worst, problems = 0.0, []
    if len(outs) != len(touts):
        problems.append(ntr("{n} output vs torch's {n_torch}", "{n} outputs vs torch's {n_torch}",
                            n=len(outs), n_torch=len(touts)))
    for k, (o, to) in enumerate(zip(outs, touts)):
        try:
            worst = max(worst, _scaled_diff(o, to))
        except ValueError as e:
            problems.append(tr("output {k}: {error}", k=k, error=e))
    leaves = [(x, t) for x, t in zip(xs, ts) if getattr(x, "requires_grad", False)]
    for i, (x, t) in enumerate(leaves):
        if x.grad is not None and tuple(x.grad.shape) != tuple(x.shape):
            problems.append(tr("gradient {i} has shape {shape}, not {expected}", i=i,
                               shape=tuple(x.grad.shape), expected=tuple(x.shape)))
            continue
        worst = max(worst, _scaled_diff(_grad(x), _grad(t)))
    if node != info.node:
        problems.append(tr("node {node}, not {expected}", node=node, expected=info.node))
    if worst > tol:
        problems.append(f"max |Δ| = {worst:.1e} > {tol:.0e}")
    return Verification(info, not problems, worst, "; ".join(problems))


def catalogue_rows(ops=None, seed=0, samples=3, tol=1e-10):
    """Verify every registry entry (or ``ops``) on ``samples`` random samples each, from one
    generator seeded with ``seed``. Returns one :class:`Verification` per entry, in
    registry order; its ``max_diff`` is the worst over the samples."""
    from minigrad.ops.registry import OPS
    from minigrad.tensor import _Defaults

    ops = OPS if ops is None else ops
    rng = np.random.default_rng(seed)
    saved_rng = _Defaults.rng            # dropout draws from minigrad's generator
    _Defaults.rng = np.random.default_rng(seed)
    rows = []
    try:
        for info in ops:
            runs = [verify_op(info, rng, tol) for _ in range(samples)]
            bad = [r.problem for r in runs if not r.ok]
            rows.append(Verification(info, not bad, max(r.max_diff for r in runs),
                                     bad[0] if bad else ""))
    finally:
        _Defaults.rng = saved_rng
    return rows


_TEXT = re.compile(r"(\\text\{)(\s*)([^{}]*?)(\s*)(\})")
_CODE_WORDS = {"None", "idx", "shape", "onehot", "mean", "sum", "none", "dim", "alpha"}


def _is_code(words):
    """Whether a case label or a formula's word is code, printed as it is in every language:
    an argument (``unbiased=False``, ``approximate='tanh'``, ``ignore_index``), a chain of
    dtypes (``float64 -> float32``), or a name of the code (``x.\text{shape}``, ``mean``)."""
    return bool(re.search(r"[=_'>]", words)) or words in _CODE_WORDS


def _words(info):
    yield info.family
    if info.variant:
        yield info.variant
    for tex in (info.forward, info.vjp):
        for m in _TEXT.finditer(tex):
            yield m.group(3)


def table_words(ops=None):
    """The texts of the operator table that are translated, sorted: every registry entry's
    family and case (``variant``), and the words of its formulas' ``\text{…}`` (without the
    spaces around them), leaving out the ones that are code (:func:`_is_code`)."""
    from minigrad.ops.registry import OPS
    return sorted({w for info in (OPS if ops is None else ops) for w in _words(info)
                   if w and not _is_code(w)})


def _tr_words(words):
    return words if not words or _is_code(words) else tr(words)


def tr_formula(tex):
    r"""``tex`` with the words of each ``	ext{…}`` translated (the spaces around them kept):
    ``x 	ext{ if } x > 0`` → ``x 	ext{ si } x > 0`` in French."""
    return _TEXT.sub(lambda m: m.group(1) + m.group(2) + _tr_words(m.group(3)) + m.group(4)
                     + m.group(5), tex)


def latex_for_table(tex):
    r"""A formula as ``$…$`` that survives a markdown table: a ``|`` would end the cell, so
    it is written ``\vert``."""
    return "$" + tex.replace("|", r"\vert ") + "$"


def _cell(text):
    return str(text).replace("|", r"\|")


def catalogue_markdown(rows, columns=("operator", "node", "forward", "vjp", "verified")):
    """A markdown table of verified registry entries (from :func:`catalogue_rows`).

    Columns: ``operator`` (name and variant), ``family``, ``node`` (minigrad's grad_fn),
    ``forward`` and ``vjp`` (the formulas), ``verified`` (✓ when minigrad agreed with torch
    on every sample, ✗ and the problem otherwise). Display it with
    ``IPython.display.Markdown``."""
    heads = {"operator": tr("operator"), "family": tr("family"), "node": tr("node"),
             "forward": tr("forward"), "vjp": tr("backward (VJP)"),
             "verified": tr("verified vs torch")}
    lines = ["| " + " | ".join(heads[c] for c in columns) + " |",
             "|" + "|".join(":---" for _ in columns) + "|"]
    for r in rows:
        info = r.info
        variant = _tr_words(info.variant)
        cells = {"operator": f"`{info.name}`" + (f" ({_cell(variant)})" if variant else ""),
                 "family": tr(info.family), "node": f"`{info.node}`",
                 "forward": latex_for_table(tr_formula(info.forward)),
                 "vjp": latex_for_table(tr_formula(info.vjp)),
                 "verified": "✓" if r.ok else "✗ " + _cell(r.problem)}
        lines.append("| " + " | ".join(cells[c] for c in columns) + " |")
    return "\n".join(lines)
