r"""The registry: every differentiable operation of minigrad, listed once.

Each :class:`OpInfo` says what an operation computes (``forward``), what its backward
returns (``vjp``, the vector-Jacobian product), which graph node it leaves on its result
(``node``, e.g. ``MulBackward``) and, in ``fn``, how to call it. ``fn`` takes the library
as its first arguments, ``fn(lib, F, *args)``, and is run unchanged both as
``fn(minigrad, minigrad.nn.functional, ...)`` and ``fn(torch, torch.nn.functional, ...)``:
the tests compare the two, value and gradient, which is the proof that minigrad's API
mirrors PyTorch's name for name.

``inputs`` names a *kind* of arguments ("unary", "binary_broadcast", "matmul", ...), and
:func:`sample_inputs` turns an entry into concrete arguments: numpy float64 arrays (the
differentiable inputs), integer or boolean arrays (indices, targets, masks) and plain
Python values (a ``dim``, a shape). The same sampler serves the property-based tests,
which let hypothesis make the choices, and the book, which passes a seeded generator::

    >>> import numpy as np, minigrad as mg
    >>> from minigrad.ops.registry import OPS, sample_inputs, to_args
    >>> info = next(op for op in OPS if op.name == "mul")
    >>> args = to_args(mg, sample_inputs(info, np.random.default_rng(0)))
    >>> info.fn(mg, mg.nn.functional, *args).grad_fn
    <MulBackward object at ...>

The notation of the formulas: :math:`\bar y` is the upstream gradient dL/dy that the VJP
receives, :math:`\bar x` the gradient it returns for x; "unbroadcast" sums a gradient back
to its input's shape (see ``ops/broadcast.py``).
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

__all__ = ["OpInfo", "OPS", "FAMILIES", "sample_inputs", "to_args"]

FAMILIES = ("elementwise", "activation", "linalg", "shape", "reduction", "normalization",
            "loss", "attention", "indexing", "sparse", "broadcast")


@dataclass
class OpInfo:
    """One operation (or one case of it: ``variant``) of the registry.

    Attributes:
        name: the operation as the reference table lists it (``"mul"``, ``"cross_entropy"``).
        family: the ``minigrad/ops/`` module that defines it.
        node: the name of the ``grad_fn`` minigrad gives its result (``"MulBackward"``).
        forward, vjp: the formula and its vector-Jacobian product, in LaTeX.
        fn: ``fn(lib, F, *args)``, the call itself, written once for minigrad and torch.
        inputs: the kind of arguments :func:`sample_inputs` draws for ``fn``.
        variant: which case of the operation this entry covers (empty for the plain one).
        params: options for the sampler kind (e.g. ``{"domain": "positive"}``).
        no_grad_args: positions of float arguments that are data, not variables (a
            probability target): they are passed without ``requires_grad``.
        contiguous_only: torch refuses a non-contiguous input (``view``).
        random: the op draws random numbers (dropout); its outputs cannot be compared with
            torch's, so ``fixed_fn`` gives the same computation with the randomness read
            off minigrad's output.
        fixed_fn: ``fixed_fn(lib, F, out, *args)`` for a random op, ``out`` being minigrad's
            output as a constant tensor of ``lib``.
        gradcheck_kw: keyword arguments for ``minigrad.testing.gradcheck`` when the defaults
            do not fit the op (a float32 cast is flat below float32's resolution).
        gradcheck_fn: for an op whose VJP is *by definition* not the derivative of ``fn``
            (embedding's padding row never learns, though the output reads it), a function
            whose true derivative the VJP does give — there, the padding positions of the
            output are multiplied by 0 — for gradcheck to measure instead of ``fn``. (That
            the padding row's gradient is 0 is checked against torch.)
    """
    name: str
    family: str
    node: str
    forward: str
    vjp: str
    fn: Callable
    inputs: str
    variant: str = ""
    params: dict = field(default_factory=dict)
    no_grad_args: tuple = ()
    contiguous_only: bool = False
    random: bool = False
    fixed_fn: Optional[Callable] = None
    gradcheck_kw: dict = field(default_factory=dict)
    gradcheck_fn: Optional[Callable] = None

    @property
    def id(self):
        """A unique, readable identifier: ``name`` or ``name[variant]``."""
        return f"{self.name}[{self.variant}]" if self.variant else self.name

    def __repr__(self):
        return f"OpInfo({self.id}, {self.family}, {self.node})"


# =========================================================================== the sampler
class _Draw:
    """The choices a sample is made of. ``pick(lo, hi)`` chooses an integer in [lo, hi]
    (structure: ranks, sizes, dims), ``rng`` draws the values. Given only an ``rng``, both
    come from it; the property tests give a ``pick`` that asks hypothesis instead, so
    hypothesis explores (and shrinks) the shapes."""

    def __init__(self, rng, pick=None):
        self.rng = rng
        self.pick = pick if pick is not None else (lambda lo, hi: int(rng.integers(lo, hi + 1)))

    def shape(self, min_ndim=0, max_ndim=3, lo=1, hi=4):
        return tuple(self.pick(lo, hi) for _ in range(self.pick(min_ndim, max_ndim)))

    def values(self, shape, domain="real"):
        """float64 values of ``shape`` in a domain where the op is smooth:

        - ``"real"``: standard normal;
        - ``"positive"``: uniform in [0.5, 2] (log, sqrt, a base of ``**``);
        - ``"nonzero"``: |x| ≥ 0.1 (relu, abs, a divisor: away from the kink or pole);
        - ``"distinct"``: values at least 0.05 apart (max: no ties to share the gradient);
        - a tuple of points: kept at least 0.1 away from each (clamp's bounds)."""
        rng = self.rng
        if domain == "positive":
            return np.asarray(rng.uniform(0.5, 2.0, shape), dtype=np.float64)
        if domain == "distinct":
            n = int(np.prod(shape, dtype=int))
            ranks = rng.permutation(n).reshape(shape)
            return np.asarray((ranks - n / 2) * 0.1 + rng.uniform(0.0, 0.05, shape), np.float64)
        x = rng.standard_normal(shape)
        points = (0.0,) if domain == "nonzero" else domain if isinstance(domain, tuple) else ()
        for p in points:
            d = x - p
            x = np.where(np.abs(d) < 0.1, p + np.where(d < 0, -1, 1) * (0.1 + np.abs(d)), x)
        return np.asarray(x, dtype=np.float64)

    def reduced(self, full, allow_drop=True):
        """A shape that broadcasts to ``full``: some sizes set to 1, some leading dims
        dropped (possibly all of them: a 0-d operand)."""
        shape = [1 if self.pick(0, 2) == 0 else n for n in full]
        drop = self.pick(0, len(full)) if allow_drop and self.pick(0, 1) else 0
        return tuple(shape[drop:])

    def dim(self, ndim):
        """A valid dimension of a tensor of rank ``ndim``, negative half of the time."""
        d = self.pick(0, ndim - 1)
        return d - ndim if self.pick(0, 1) else d


def _unary(d, domain="real", min_ndim=0, max_ndim=3, lo=1, hi=4):
    return [d.values(d.shape(min_ndim, max_ndim, lo, hi), domain)]


def _binary_broadcast(d, domain_a="real", domain_b="real"):
    full = d.shape(0, 3)
    return [d.values(d.reduced(full), domain_a), d.values(d.reduced(full), domain_b)]


def _where(d):
    full = d.shape(0, 3)
    cond = np.asarray(d.rng.random(d.reduced(full)) < 0.5)
    return [cond, d.values(d.reduced(full)), d.values(d.reduced(full))]


def _masked_fill(d):
    full = d.shape(0, 3)
    return [d.values(full), np.asarray(d.rng.random(d.reduced(full)) < 0.5)]


def _matmul(d, case="batched"):
    m, k, n = d.pick(1, 4), d.pick(1, 4), d.pick(1, 4)
    batch = d.shape(1, 2, 1, 3) if case != "2d" else ()
    if case == "2d":
        sa, sb = (m, k), (k, n)
    elif case == "bmm":
        sa, sb = batch[:1] + (m, k), batch[:1] + (k, n)
    elif case == "batched":          # batch dims broadcast against each other
        sa, sb = d.reduced(batch) + (m, k), d.reduced(batch) + (k, n)
    elif case == "vec_mat":
        sa, sb = (k,), d.reduced(batch) + (k, n)
    elif case == "mat_vec":
        sa, sb = d.reduced(batch) + (m, k), (k,)
    elif case == "vec_vec":
        sa, sb = (k,), (k,)
    else:
        raise ValueError(f"matmul sampler: unknown case {case!r}")
    return [d.values(sa), d.values(sb)]


def _linear(d, bias=True):
    n_in, n_out = d.pick(1, 4), d.pick(1, 4)
    out = [d.values(d.shape(0, 2) + (n_in,)), d.values((n_out, n_in))]
    return out + [d.values((n_out,))] if bias else out


def _swiglu(d):
    n, h = d.pick(1, 4), d.pick(1, 4)
    return [d.values(d.shape(0, 2) + (n,)), d.values((n, h)), d.values((n, h))]


def _permute(d):
    shape = d.shape(1, 4)
    return [d.values(shape), tuple(int(i) for i in d.rng.permutation(len(shape)))]


def _transpose(d):
    shape = d.shape(2, 4)
    d0 = d.pick(0, len(shape) - 1)
    d1 = (d0 + d.pick(1, len(shape) - 1)) % len(shape)        # a different dimension
    return [d.values(shape), d0 - len(shape) if d.pick(0, 1) else d0, d1]


def _reshape(d):
    shape = d.shape(1, 3)
    n = int(np.prod(shape))
    sizes = [f for f in range(1, n + 1) if n % f == 0]
    a = sizes[d.pick(0, len(sizes) - 1)]
    new = [(a, n // a), (n // a, 1, a), (n,), (a, -1)][d.pick(0, 3)]
    if tuple(np.empty(shape).reshape(new).shape) == shape:
        new = (1,) + tuple(shape)                             # always a real change
    return [d.values(shape), new]


def _unsqueeze(d):
    shape = d.shape(0, 3)
    return [d.values(shape), d.pick(-len(shape) - 1, len(shape))]


def _squeeze(d, with_dim=False):
    shape = list(d.shape(0, 2, 2, 4))
    for _ in range(d.pick(1, 2)):                             # insert size-1 dims
        shape.insert(d.pick(0, len(shape)), 1)
    ones = [i for i, n in enumerate(shape) if n == 1]
    x = d.values(tuple(shape))
    return [x, ones[d.pick(0, len(ones) - 1)]] if with_dim else [x]


def _expand(d):
    full = d.shape(1, 3, 2, 4)
    small = d.reduced(full, allow_drop=False)
    lead = d.shape(0, 1, 2, 3)
    if not lead and small == full:
        lead = (2,)
    target = tuple(lead) + tuple(-1 if s == f and d.pick(0, 1) else f
                                 for s, f in zip(small, full))
    return [d.values(small), target]


def _expand_as(d):
    x, target = _expand(d)
    shape = tuple(x.shape[i - len(target) + x.ndim] if n == -1 else n
                  for i, n in enumerate(target))
    return [x, d.values(shape)]


def _index_int(d):
    shape = d.shape(1, 3)
    n = shape[0]
    idx = d.rng.integers(-n, n, size=d.shape(1, 2, 1, 5))
    idx.flat[-1] = idx.flat[0]                                # at least one repeat
    return [d.values(shape), idx.astype(np.int64)]


def _index_bool(d):
    shape = d.shape(1, 3)
    k = d.pick(1, len(shape))                                 # mask the first k dims
    mask = d.rng.random(shape[:k]) < 0.5
    mask.flat[d.pick(0, mask.size - 1)] = True                # never empty
    return [d.values(shape), mask]


def _index_mixed(d):
    shape = (d.pick(1, 4), d.pick(2, 4)) + d.shape(0, 1)
    idx = d.rng.integers(0, shape[0], size=d.pick(1, 5))
    return [d.values(shape), idx.astype(np.int64)]


def _inplace_write(d):
    """A (rows, cols) tensor, with rows ≥ 3, and values for two of its rows: (2, cols) or
    broadcast from (cols,)."""
    shape = (d.pick(3, 5), d.pick(1, 4))
    v = (2, shape[1]) if d.pick(0, 1) else (shape[1],)
    return [d.values(shape), d.values(v)]


def _cat(d, same=False):
    shape = d.shape(1, 3)
    dim = d.dim(len(shape) + (1 if same else 0))
    if same:                                                  # stack: equal shapes
        return [d.values(shape) for _ in range(3)] + [dim]
    parts = []
    for _ in range(3):
        s = list(shape)
        s[dim] = d.pick(1, 3)
        parts.append(d.values(tuple(s)))
    return parts + [dim]


def _split(d, how="size"):
    shape = d.shape(1, 3, 1, 5)
    dim = d.dim(len(shape))
    n = shape[dim]
    if how == "size":
        arg = d.pick(1, n)
    elif how == "sections":
        cuts = sorted({d.pick(0, n) for _ in range(2)})
        arg = [b - a for a, b in zip([0] + cuts, cuts + [n])]
    else:                                                     # chunks
        arg = d.pick(1, n)
    return [d.values(shape), arg, dim]


def _reduce(d, domain="real", dims="any", min_ndim=0):
    """[x, dim, keepdim]; dim is None, an int or a tuple (``dims`` restricts the choice);
    every reduced dimension has at least 2 elements (an unbiased variance needs 2)."""
    shape = d.shape(min_ndim, 3, 2, 4)
    x = d.values(shape, domain)
    choices = {"any": ["none", "int", "tuple"], "int": ["int"], "not_none": ["int", "tuple"]}[dims]
    if not shape:
        choices = ["none"]
    how = choices[d.pick(0, len(choices) - 1)]
    if how == "none":
        dim = None
    elif how == "int":
        dim = d.dim(len(shape))
    else:
        chosen = sorted({d.pick(0, len(shape) - 1) for _ in range(d.pick(1, len(shape)))})
        dim = tuple(c - len(shape) if d.pick(0, 1) else c for c in chosen)
    return [x, dim, bool(d.pick(0, 1))]


def _norm(d, n_dims=1, affine="both"):
    norm_shape = tuple(d.pick(2, 4) for _ in range(n_dims))
    x = d.values(d.shape(0, 2) + norm_shape)
    extra = {"both": 2, "weight": 1, "none": 0}[affine]
    return [x] + [d.values(norm_shape) for _ in range(extra)]


def _softmax(d):
    shape = d.shape(0, 3)
    return [d.values(shape), d.dim(len(shape)) if shape else 0]


def _classification(d, ignore=False, probs=False):
    """[logits, target]: logits (C,), (N, C) or (N, C, d₁); integer class targets (or
    class probabilities), some of them ``ignore_index`` = −100 if ``ignore``."""
    layout = d.pick(1 if ignore or probs else 0, 2)
    C = d.pick(2, 4)
    shape = {0: (C,), 1: (d.pick(1, 4), C), 2: (d.pick(1, 3), C, d.pick(1, 3))}[layout]
    logits = d.values(shape)
    if probs:
        e = np.exp(d.values(shape))
        return [logits, e / e.sum(axis=1, keepdims=True)]
    tshape = shape[:1] + shape[2:] if layout else ()
    target = d.rng.integers(0, C, size=tshape).astype(np.int64)
    if ignore:
        target[d.rng.random(tshape) < 0.4] = -100
        target.flat[0] = d.pick(0, C - 1)                       # at least one counts
    return [logits, np.asarray(target)]


def _regression(d):
    shape = d.shape(0, 3)
    return [d.values(shape), d.values(shape)]


def _attention(d, mask=None):
    batch = d.shape(0, 2, 1, 3)
    L, S, E, Ev = d.pick(1, 4), d.pick(1, 4), d.pick(1, 4), d.pick(1, 4)
    out = [d.values(batch + (L, E)), d.values(batch + (S, E)), d.values(batch + (S, Ev))]
    mshape = d.reduced(batch + (L, S))
    if mask == "bool":
        m = np.broadcast_to(d.rng.random(mshape) < 0.6, np.broadcast_shapes(mshape, (L, S)))
        m = m.copy()
        rows = m.reshape(-1, m.shape[-1])
        rows[np.arange(len(rows)), d.rng.integers(0, S, len(rows))] = True   # no empty row
        out.append(m)
    elif mask == "float":
        out.append(d.values(np.broadcast_shapes(mshape, (1, 1))))
    return out


def _embedding(d, padding=False):
    num, dim = d.pick(2, 5), d.pick(1, 4)
    idx = d.rng.integers(0, num, size=d.shape(1, 2, 1, 5))
    idx.flat[-1] = idx.flat[0]                                # a row read twice
    if padding:
        idx.flat[d.pick(0, idx.size - 1)] = 0
    return [idx.astype(np.int64), d.values((num, dim))]


def _index_backward(d):
    """[x, ȳ, idx] for the double backward of indexing: ȳ has the shape of x[idx]."""
    x, idx = _index_int(d)
    return [x, d.values(idx.shape + x.shape[1:]), idx]


def _gather(d, src=False, distinct=False, broadcast=False):
    """[x, dim, index] (gather, take_along_dim) or [x, dim, index, src] (scatter,
    scatter_add): an int64 index of x's rank, in range along dim and no larger than x in the
    other dimensions (with ``broadcast``, of x's size or 1 there). Along dim it may be longer
    than x, places repeating; with ``distinct`` it names each place of a line at most once
    (scatter writes one value per place). src has the index's shape."""
    shape = d.shape(1, 3)
    dim = d.dim(len(shape))
    ax, n = dim % len(shape), shape[dim]
    ishape = [(s if d.pick(0, 1) else 1) if broadcast else d.pick(1, s) for s in shape]
    if distinct:
        ishape[ax] = d.pick(1, n)
        lines = np.argsort(d.rng.random(tuple(ishape[:ax]) + (n,) + tuple(ishape[ax + 1:])),
                           axis=ax)
        idx = np.take(lines, np.arange(ishape[ax]), axis=ax)
    else:
        ishape[ax] = d.pick(1, 4)
        idx = d.rng.integers(0, n, tuple(ishape))
    out = [d.values(shape), dim, idx.astype(np.int64)]
    return out + [d.values(tuple(ishape))] if src else out


def _index_select(d):
    shape = d.shape(1, 3)
    dim = d.dim(len(shape))
    idx = d.rng.integers(0, shape[dim], d.pick(1, 5))
    idx[-1] = idx[0]                                          # a slice picked twice
    return [d.values(shape), dim, idx.astype(np.int64)]


def _ranked(d, k=False):
    """[x, dim] (sort) or [x, dim, k] (topk, 1 ≤ k ≤ the size of dim): distinct values, so
    that the order, hence the gradient, is defined."""
    shape = d.shape(0, 3)
    dim = d.dim(len(shape)) if shape else -d.pick(0, 1)
    out = [d.values(shape, "distinct"), dim]
    return out + [d.pick(1, shape[dim] if shape else 1)] if k else out


def _einsum(d, equation, ones=False):
    """The operands of an einsum equation: a size for each letter, batch dimensions for
    '...' (each operand's broadcast to the others'); with ``ones``, a letter an operand has
    once may have size 1 there (broadcast)."""
    size = {c: d.pick(1, 4) for c in sorted(set(equation) - set(".,->"))}
    batch = d.shape(0, 2, 1, 3)
    out = []
    for term in equation.split("->")[0].split(","):
        head, _, tail = term.rpartition("...") if "..." in term else ("", "", term)
        dims = lambda t: [1 if ones and term.count(c) == 1 and d.pick(0, 2) == 0 else size[c]
                          for c in t]
        shape = dims(head) + (list(d.reduced(batch)) if "..." in term else []) + dims(tail)
        out.append(d.values(tuple(shape)))
    return out


def _zeros(d, count=1):
    """[x, dim, keepdim] with ``count`` elements of x set to 0 (in one slice along dim, or
    anywhere): the products whose VJP may not divide by x."""
    shape = d.shape(1, 3, 2, 4)
    x = d.values(shape)
    dim = d.dim(len(shape))
    at = [d.pick(0, n - 1) for n in shape]
    for k in range(count):
        at[dim] = (at[dim] + k) % shape[dim]
        x[tuple(at)] = 0.0
    return [x, dim, bool(d.pick(0, 1))]


def _binary_target(d, logits=False, weight=False, pos_weight=False):
    """[x, t (, w) (, p)] for the binary cross-entropies: x probabilities in [0.05, 0.95]
    (or logits), t targets in [0, 1] of x's shape, w a positive weight that broadcasts to it,
    p a positive weight per class (the last dimension)."""
    shape = d.shape(0, 3)
    x = d.values(shape) if logits else np.asarray(d.rng.uniform(0.05, 0.95, shape))
    out = [x, np.asarray(d.rng.uniform(0.0, 1.0, shape))]
    if weight:
        out.append(np.asarray(d.rng.uniform(0.5, 2.0, d.reduced(shape))))
    if pos_weight:
        out.append(np.asarray(d.rng.uniform(0.5, 3.0, shape[-1:])))
    return out


def _repeat(d):
    """[x, sizes] for Tensor.repeat: a count per dim, sometimes more counts than dims."""
    shape = d.shape(0, 3)
    return [d.values(shape), tuple(d.pick(1, 3) for _ in range(len(shape) + d.pick(0, 2)))
            or (2,)]


_KINDS = {
    "unary": _unary, "binary_broadcast": _binary_broadcast, "where": _where,
    "masked_fill": _masked_fill, "matmul": _matmul, "linear": _linear, "swiglu": _swiglu,
    "permute": _permute, "transpose": _transpose, "reshape": _reshape,
    "unsqueeze": _unsqueeze, "squeeze": _squeeze, "expand": _expand, "expand_as": _expand_as,
    "index": _unary, "index_int": _index_int, "index_bool": _index_bool,
    "index_mixed": _index_mixed, "cat": _cat, "split": _split, "reduce": _reduce,
    "norm": _norm, "softmax": _softmax, "classification": _classification,
    "regression": _regression, "attention": _attention, "embedding": _embedding,
    "index_backward": _index_backward, "inplace_write": _inplace_write,
    "zeros": _zeros,
    "repeat": _repeat,
    "binary_target": _binary_target,
    "gather": _gather, "index_select": _index_select, "ranked": _ranked, "einsum": _einsum,
}


def sample_inputs(info, rng, pick=None):
    """Arguments for ``info.fn``: a list of numpy arrays and plain values.

    float64 arrays are the differentiable inputs (except the positions in
    ``info.no_grad_args``); integer and boolean arrays are indices, targets and masks;
    anything else (a dim, a shape, a bool) is passed to ``fn`` as it is. ``rng`` is a
    ``numpy.random.Generator``; ``pick(lo, hi)``, if given, makes the structural choices
    (ranks, sizes, dims) instead of ``rng`` — the property tests pass hypothesis's.
    Deterministic: the same generator state gives the same sample."""
    return _KINDS[info.inputs](_Draw(rng, pick), **info.params)


def to_args(lib, sample, requires_grad=True, no_grad_args=()):
    """Turn a sample into ``fn``'s arguments for ``lib`` (minigrad or torch): arrays become
    tensors (float ones requiring grad), other values pass through."""
    args = []
    for i, a in enumerate(sample):
        if isinstance(a, np.ndarray):
            t = lib.tensor(a)
            if requires_grad and a.dtype.kind == "f" and i not in no_grad_args:
                t.requires_grad_(True)
            args.append(t)
        else:
            args.append(a)
    return args


# =========================================================================== the entries
def _frequency(i):
    """For each position of an index tensor, how many times its index occurs in it."""
    flat = i.reshape(-1)
    return (flat.unsqueeze(1) == flat.unsqueeze(0)).sum(1).reshape(i.shape)


def _slice_mul_(x, v):
    h = x * 1                  # a tensor in the graph: a leaf may not be changed in place
    h[1:3].mul_(v)             # through a view: h's history becomes CopySlices
    return h


def _put_rows(lib, x, v):
    h = x * 1
    h[lib.tensor([0, 2])] = v
    return h


def _scatter_add_(x, d, i, s):
    h = x * 1                  # a tensor in the graph: a leaf may not be changed in place
    h.scatter_add_(d, i, s)
    return h


def _einsum_entry(equation, forward, vjp, ones=False):
    return _op("einsum", "linalg", "EinsumBackward", forward, vjp,
               lambda lib, F, *xs: lib.einsum(equation, *xs), "einsum",
               variant=f"'{equation}'", params={"equation": equation, "ones": ones})


def _sdpa_dropout(lib, F, q, k, v):
    """Attention with dropout on its weights; V is extended by the identity, so the output's
    last S columns are the dropped weights themselves: the mask can be read off them."""
    eye = lib.eye(k.shape[-2], dtype=v.dtype).expand(*v.shape[:-1], k.shape[-2])
    return F.scaled_dot_product_attention(q, k, lib.cat([v, eye], -1), dropout_p=0.3)


def _sdpa_dropout_fixed(lib, F, out, q, k, v):
    """The same computation with minigrad's mask, read off its output (a kept weight is
    positive, a dropped one exactly 0)."""
    kept = out[..., v.shape[-1]:] != 0
    a = F.softmax(q @ k.mT * q.shape[-1] ** -0.5, -1) * kept / (1 - 0.3)
    return lib.cat([a @ v, a], -1)


def _op(name, family, node, forward, vjp, fn, inputs, **kw):
    return OpInfo(name, family, node, forward, vjp, fn, inputs, **kw)


def _sdpa(mask):
    def fn(lib, F, q, k, v, m=None, _mask=mask):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=_mask == "causal")
    return fn


_UB = r"\operatorname{unbroadcast}"
_SDPA_F = r"O = \operatorname{softmax}(QK^\top s + M)\,V,\ s = 1/\sqrt{d_k}"
_SDPA_V = (r"\bar V = A^\top \bar O,\ \bar A = \bar O V^\top,\ "
           r"dS = A \odot (\bar A - \textstyle\sum_j \bar A_j A_j),\ "
           r"\bar Q = dS\,K s,\ \bar K = dS^\top Q s")
_CE_F = r"L = -\sum_i y_i \log \operatorname{softmax}(x)_i"
_BCE_F = r"L = -w\,(t \log x + (1 - t) \log(1 - x))"
_BCE_V = r"\bar x = \bar L\, w\,(x - t) / (x (1 - x)),\ \bar t = \bar L\, w \log\tfrac{1 - x}{x}"
_BCEL_F = r"L = -w\,(p\,t \log \sigma(x) + (1 - t) \log(1 - \sigma(x)))"
_BCEL_V = (r"\bar x = \bar L\, w\,((1 + (p - 1) t)\,\sigma(x) - p\,t),\ "
           r"\bar t = \bar L\, w\,(\log \sigma(-x) - p \log \sigma(x))")
_CE_V = r"\bar x = (\operatorname{softmax}(x) - y)\,\bar L"

OPS = [
    # ------------------------------------------------------------------ elementwise
    _op("add", "elementwise", "AddBackward", r"y = a + b",
        rf"\bar a = {_UB}(\bar y),\ \bar b = {_UB}(\bar y)",
        lambda lib, F, a, b: a + b, "binary_broadcast"),
    _op("add", "elementwise", "AddBackward", r"y = x + c", r"\bar x = \bar y",
        lambda lib, F, x: x + 2.5, "unary", variant="scalar"),
    _op("add", "elementwise", "AddBackward", r"y = a + \alpha b",
        rf"\bar a = {_UB}(\bar y),\ \bar b = \alpha\,{_UB}(\bar y)",
        lambda lib, F, a, b: lib.add(a, b, alpha=-0.5), "binary_broadcast", variant="alpha"),
    _op("sub", "elementwise", "SubBackward", r"y = a - b",
        rf"\bar a = {_UB}(\bar y),\ \bar b = -{_UB}(\bar y)",
        lambda lib, F, a, b: a - b, "binary_broadcast"),
    _op("sub", "elementwise", "AddBackward", r"y = c - x", r"\bar x = -\bar y",
        lambda lib, F, x: 1.5 - x, "unary", variant="scalar - tensor"),
    _op("mul", "elementwise", "MulBackward", r"y = a \odot b",
        rf"\bar a = {_UB}(\bar y \odot b),\ \bar b = {_UB}(\bar y \odot a)",
        lambda lib, F, a, b: a * b, "binary_broadcast"),
    _op("mul", "elementwise", "MulBackward", r"y = c\,x", r"\bar x = c\,\bar y",
        lambda lib, F, x: -3.0 * x, "unary", variant="scalar"),
    _op("div", "elementwise", "DivBackward", r"y = a / b",
        rf"\bar a = {_UB}(\bar y / b),\ \bar b = -{_UB}(\bar y \odot a / b^2)",
        lambda lib, F, a, b: a / b, "binary_broadcast", params={"domain_b": "nonzero"}),
    _op("div", "elementwise", "DivBackward", r"y = c / x", r"\bar x = -c\,\bar y / x^2",
        lambda lib, F, x: 2.0 / x, "unary", variant="scalar / tensor",
        params={"domain": "nonzero"}),
    _op("pow", "elementwise", "PowBackward", r"y = x^n", r"\bar x = n\,x^{n-1}\,\bar y",
        lambda lib, F, x: x ** 3, "unary", variant="integer exponent"),
    _op("pow", "elementwise", "PowBackward", r"y = x^n", r"\bar x = n\,x^{n-1}\,\bar y",
        lambda lib, F, x: x ** -1.5, "unary", variant="float exponent",
        params={"domain": "positive"}),
    _op("pow", "elementwise", "PowBackward", r"y = a^b",
        rf"\bar a = {_UB}(b\,a^{{b-1}}\,\bar y),\ \bar b = {_UB}(\bar y\, y \ln a)",
        lambda lib, F, a, b: a ** b, "binary_broadcast", variant="tensor exponent",
        params={"domain_a": "positive"}),
    _op("pow", "elementwise", "PowBackward", r"y = c^x", r"\bar x = \bar y\, y \ln c",
        lambda lib, F, x: 2.0 ** x, "unary", variant="scalar base"),
    _op("neg", "elementwise", "NegBackward", r"y = -x", r"\bar x = -\bar y",
        lambda lib, F, x: -x, "unary"),
    _op("exp", "elementwise", "ExpBackward", r"y = e^x", r"\bar x = \bar y \odot y",
        lambda lib, F, x: lib.exp(x), "unary"),
    _op("log", "elementwise", "LogBackward", r"y = \ln x", r"\bar x = \bar y / x",
        lambda lib, F, x: lib.log(x), "unary", params={"domain": "positive"}),
    _op("sqrt", "elementwise", "SqrtBackward", r"y = \sqrt{x}", r"\bar x = \bar y / (2y)",
        lambda lib, F, x: lib.sqrt(x), "unary", params={"domain": "positive"}),
    _op("abs", "elementwise", "AbsBackward", r"y = |x|",
        r"\bar x = \bar y \operatorname{sign}(x)",
        lambda lib, F, x: lib.abs(x), "unary", params={"domain": "nonzero"}),
    _op("sin", "elementwise", "SinBackward", r"y = \sin x", r"\bar x = \bar y \cos x",
        lambda lib, F, x: lib.sin(x), "unary"),
    _op("cos", "elementwise", "CosBackward", r"y = \cos x", r"\bar x = -\bar y \sin x",
        lambda lib, F, x: lib.cos(x), "unary"),
    _op("erf", "elementwise", "ErfBackward",
        r"y = \operatorname{erf} x = \tfrac{2}{\sqrt\pi}\int_0^x e^{-t^2}dt",
        r"\bar x = \bar y\,\tfrac{2}{\sqrt\pi} e^{-x^2}",
        lambda lib, F, x: lib.erf(x), "unary"),
    _op("clamp", "elementwise", "ClampBackward", r"y = \min(\max(x, lo), hi)",
        r"\bar x = \bar y \cdot 1[lo \le x \le hi]",
        lambda lib, F, x: lib.clamp(x, min=-0.5, max=0.5), "unary",
        params={"domain": (-0.5, 0.5)}),
    _op("clamp", "elementwise", "ClampBackward", r"y = \max(x, lo)",
        r"\bar x = \bar y \cdot 1[x \ge lo]",
        lambda lib, F, x: x.clamp(min=0.3), "unary", variant="min only",
        params={"domain": (0.3,)}),
    _op("clamp", "elementwise", "ClampBackward", r"y = \min(x, hi)",
        r"\bar x = \bar y \cdot 1[x \le hi]",
        lambda lib, F, x: x.clip(max=-0.2), "unary", variant="max only (clip)",
        params={"domain": (-0.2,)}),
    _op("clamp", "elementwise", "ClampBackward", r"y = \max(x, lo)",
        rf"\bar x = {_UB}(1[x \ge lo] \odot \bar y),\ \bar{{lo}} = {_UB}(1[x < lo] \odot \bar y)",
        lambda lib, F, x, lo: x.clamp(min=lo), "binary_broadcast", variant="tensor min"),
    _op("maximum", "elementwise", "MaximumBackward", r"y = \max(a, b)",
        rf"\bar a = {_UB}(1[a > b] \odot \bar y),\ \bar b = {_UB}(1[a < b] \odot \bar y)"
        r"\ (\bar y/2 \text{ each on a tie})",
        lambda lib, F, a, b: lib.maximum(a, b), "binary_broadcast"),
    _op("max", "elementwise", "MaximumBackward", r"y = \max(a, b)",
        rf"\bar a = {_UB}(1[a > b] \odot \bar y),\ \bar b = {_UB}(1[a < b] \odot \bar y)",
        lambda lib, F, a, b: lib.max(a, b), "binary_broadcast", variant="two tensors"),
    _op("minimum", "elementwise", "MinimumBackward", r"y = \min(a, b)",
        rf"\bar a = {_UB}(1[a < b] \odot \bar y),\ \bar b = {_UB}(1[a > b] \odot \bar y)"
        r"\ (\bar y/2 \text{ each on a tie})",
        lambda lib, F, a, b: lib.minimum(a, b), "binary_broadcast"),
    _op("where", "elementwise", "WhereBackward", r"y = c\ ?\ a : b",
        rf"\bar a = {_UB}(c \odot \bar y),\ \bar b = {_UB}(\lnot c \odot \bar y)",
        lambda lib, F, c, a, b: lib.where(c, a, b), "where"),
    _op("where", "elementwise", "WhereBackward", r"y = (x > 0)\ ?\ x : 0",
        r"\bar x = 1[x > 0] \odot \bar y",
        lambda lib, F, x: lib.where(x > 0, x, 0.0), "unary", variant="scalar other",
        params={"domain": "nonzero"}),
    _op("masked_fill", "elementwise", "WhereBackward", r"y = m\ ?\ v : x",
        r"\bar x = \lnot m \odot \bar y",
        lambda lib, F, x, m: x.masked_fill(m, -1.0), "masked_fill"),
    _op("clone", "elementwise", "CloneBackward", r"y = x", r"\bar x = \bar y",
        lambda lib, F, x: x.clone(), "unary"),
    _op("to", "elementwise", "ToDtypeBackward", r"y = \operatorname{float32}(x)",
        r"\bar x = \operatorname{float64}(\bar y)",
        lambda lib, F, x: x.to(lib.float32).to(lib.float64), "unary",
        variant="float64 -> float32 -> float64",
        gradcheck_kw={"eps": 1e-2, "atol": 1e-6, "rtol": 1e-5}),
    _op("log10", "elementwise", "Log10Backward", r"y = \log_{10} x",
        r"\bar x = \bar y / (x \ln 10)",
        lambda lib, F, x: lib.log10(x), "unary", params={"domain": "positive"}),
    _op("log2", "elementwise", "Log2Backward", r"y = \log_2 x", r"\bar x = \bar y / (x \ln 2)",
        lambda lib, F, x: x.log2(), "unary", params={"domain": "positive"}),
    _op("log1p", "elementwise", "Log1PBackward", r"y = \ln(1 + x)", r"\bar x = \bar y / (1 + x)",
        lambda lib, F, x: lib.log1p(x), "unary", params={"domain": "positive"}),
    _op("expm1", "elementwise", "Expm1Backward", r"y = e^x - 1", r"\bar x = \bar y \odot (y + 1)",
        lambda lib, F, x: x.expm1(), "unary"),
    _op("remainder", "elementwise", "RemainderBackward", r"y = a - b \lfloor a / b \rfloor",
        rf"\bar a = {_UB}(\bar y),\ \bar b = -{_UB}(\lfloor a / b \rfloor \odot \bar y)",
        lambda lib, F, a, b: lib.remainder(a, b), "binary_broadcast",
        params={"domain_b": "nonzero"}),
    _op("remainder", "elementwise", "RemainderBackward", r"y = x - c \lfloor x / c \rfloor",
        r"\bar x = \bar y", lambda lib, F, x: x % -1.5, "unary", variant="scalar"),
    _op("fmod", "elementwise", "FmodBackward", r"y = a - b \operatorname{trunc}(a / b)",
        rf"\bar a = {_UB}(\bar y),\ \bar b = -{_UB}(\operatorname{{trunc}}(a / b) \odot \bar y)",
        lambda lib, F, a, b: lib.fmod(a, b), "binary_broadcast", params={"domain_b": "nonzero"}),
    # ------------------------------------------------------------------ activation
    _op("relu", "activation", "ReluBackward", r"y = \max(0, x)",
        r"\bar x = \bar y \cdot 1[x > 0]",
        lambda lib, F, x: F.relu(x), "unary", params={"domain": "nonzero"}),
    _op("leaky_relu", "activation", "LeakyReluBackward",
        r"y = x \text{ if } x > 0 \text{ else } \alpha x",
        r"\bar x = \bar y \text{ if } x > 0 \text{ else } \alpha \bar y",
        lambda lib, F, x: F.leaky_relu(x), "unary", params={"domain": "nonzero"}),
    _op("leaky_relu", "activation", "LeakyReluBackward",
        r"y = x \text{ if } x > 0 \text{ else } \alpha x",
        r"\bar x = \bar y \text{ if } x > 0 \text{ else } \alpha \bar y",
        lambda lib, F, x: F.leaky_relu(x, negative_slope=0.2), "unary",
        variant="negative_slope=0.2", params={"domain": "nonzero"}),
    _op("sigmoid", "activation", "SigmoidBackward", r"y = \sigma(x) = 1/(1 + e^{-x})",
        r"\bar x = \bar y \odot y \odot (1 - y)",
        lambda lib, F, x: lib.sigmoid(x), "unary"),
    _op("tanh", "activation", "TanhBackward", r"y = \tanh x", r"\bar x = \bar y \odot (1 - y^2)",
        lambda lib, F, x: lib.tanh(x), "unary"),
    _op("gelu", "activation", "GeluBackward", r"y = x\,\Phi(x)",
        r"\bar x = \bar y \odot (\Phi(x) + x\,\varphi(x))",
        lambda lib, F, x: F.gelu(x), "unary", variant="approximate='none'"),
    _op("gelu", "activation", "GeluBackward",
        r"y = \tfrac12 x (1 + \tanh u),\ u = \sqrt{2/\pi}(x + 0.044715x^3)",
        r"\bar x = \bar y \odot (\tfrac12(1 + t) + \tfrac12 x (1 - t^2)\sqrt{2/\pi}"
        r"(1 + 3 \cdot 0.044715 x^2)),\ t = \tanh u",
        lambda lib, F, x: F.gelu(x, approximate="tanh"), "unary", variant="approximate='tanh'"),
    _op("silu", "activation", "SiluBackward", r"y = x\,\sigma(x)",
        r"\bar x = \bar y \odot \sigma(x)(1 + x(1 - \sigma(x)))",
        lambda lib, F, x: F.silu(x), "unary"),
    _op("swiglu", "activation", "MulBackward",
        r"y = \operatorname{silu}(x W_g) \odot (x W_u)",
        r"\text{composed: the VJPs of matmul, silu and mul, chained}",
        lambda lib, F, x, wg, wu: F.silu(x @ wg) * (x @ wu), "swiglu", variant="composed"),
    # ------------------------------------------------------------------ linalg
    _op("matmul", "linalg", "MatMulBackward", r"Y = AB",
        r"\bar A = \bar Y B^\top,\ \bar B = A^\top \bar Y", lambda lib, F, a, b: a @ b,
        "matmul", variant="2-D", params={"case": "2d"}),
    _op("matmul", "linalg", "MatMulBackward", r"Y = AB \text{ (batched)}",
        rf"\bar A = {_UB}(\bar Y B^\top),\ \bar B = {_UB}(A^\top \bar Y)",
        lambda lib, F, a, b: lib.matmul(a, b), "matmul", variant="batched, broadcast batch",
        params={"case": "batched"}),
    _op("matmul", "linalg", "MatMulBackward", r"y = a^\top B",
        rf"\bar a = {_UB}(B \bar y),\ \bar B = a \bar y^\top",
        lambda lib, F, a, b: a @ b, "matmul", variant="vector @ matrix",
        params={"case": "vec_mat"}),
    _op("matmul", "linalg", "MatMulBackward", r"y = A b",
        rf"\bar A = \bar y b^\top,\ \bar b = {_UB}(A^\top \bar y)",
        lambda lib, F, a, b: a @ b, "matmul", variant="matrix @ vector",
        params={"case": "mat_vec"}),
    _op("matmul", "linalg", "MatMulBackward", r"y = a \cdot b",
        r"\bar a = \bar y\, b,\ \bar b = \bar y\, a",
        lambda lib, F, a, b: a @ b, "matmul", variant="vector @ vector",
        params={"case": "vec_vec"}),
    _op("mm", "linalg", "MatMulBackward", r"Y = AB",
        r"\bar A = \bar Y B^\top,\ \bar B = A^\top \bar Y",
        lambda lib, F, a, b: lib.mm(a, b), "matmul", params={"case": "2d"}),
    _op("bmm", "linalg", "MatMulBackward", r"Y_i = A_i B_i",
        r"\bar A_i = \bar Y_i B_i^\top,\ \bar B_i = A_i^\top \bar Y_i",
        lambda lib, F, a, b: lib.bmm(a, b), "matmul", params={"case": "bmm"}),
    _op("linear", "linalg", "LinearBackward", r"Y = X W^\top + b",
        r"\bar X = \bar Y W,\ \bar W = \bar Y^\top X,\ \bar b = \textstyle\sum_{batch} \bar Y",
        lambda lib, F, x, w, b: F.linear(x, w, b), "linear", variant="bias"),
    _op("linear", "linalg", "LinearBackward", r"Y = X W^\top",
        r"\bar X = \bar Y W,\ \bar W = \bar Y^\top X",
        lambda lib, F, x, w: F.linear(x, w), "linear", variant="no bias",
        params={"bias": False}),
    _einsum_entry("ij,jk->ik", r"Y_{ik} = \textstyle\sum_j A_{ij} B_{jk}",
                  r"\bar A_{ij} = \textstyle\sum_k \bar Y_{ik} B_{jk},\ "
                  r"\bar B_{jk} = \textstyle\sum_i A_{ij} \bar Y_{ik}"),
    _einsum_entry("...ij,...jk", r"Y_{\ldots ik} = \textstyle\sum_j A_{\ldots ij} B_{\ldots jk}",
                  r"\bar A = \operatorname{unbroadcast}(\textstyle\sum_k \bar Y_{\ldots ik} "
                  r"B_{\ldots jk}),\ \bar B = \operatorname{unbroadcast}(\textstyle\sum_i "
                  r"A_{\ldots ij} \bar Y_{\ldots ik})"),
    _einsum_entry("bii->bi", r"y_{bi} = x_{bii}",
                  r"\bar x_{bii} = \bar y_{bi},\ 0 \text{ off the diagonal}"),
    _einsum_entry("i,j", r"y_{ij} = a_i b_j",
                  r"\bar a_i = \textstyle\sum_j \bar y_{ij} b_j,\ "
                  r"\bar b_j = \textstyle\sum_i \bar y_{ij} a_i"),
    _einsum_entry("ij,jk,kl->il", r"Y_{il} = \textstyle\sum_{jk} A_{ij} B_{jk} C_{kl}",
                  r"\bar A_{ij} = \textstyle\sum_{kl} \bar Y_{il} B_{jk} C_{kl},\ \dots"),
    _einsum_entry("bij,bj->bi", r"y_{bi} = \textstyle\sum_j x_{bij} v_{bj}",
                  r"\bar x_{bij} = \operatorname{unbroadcast}(\bar y_{bi} v_{bj}),\ "
                  r"\bar v_{bj} = \operatorname{unbroadcast}(\textstyle\sum_i \bar y_{bi} x_{bij})",
                  ones=True),
    _einsum_entry("ij,k->", r"y = \textstyle\sum_{ij} a_{ij} \sum_k b_k",
                  r"\bar a_{ij} = \bar y \textstyle\sum_k b_k,\ "
                  r"\bar b_k = \bar y \textstyle\sum_{ij} a_{ij}"),
    _op("norm", "linalg", "LinalgVectorNormBackward", r"y = \lVert x \rVert_2",
        r"\bar x = \bar y\, x / y\ (0 \text{ where } y = 0)",
        lambda lib, F, x, d, k: x.norm(dim=d, keepdim=k), "reduce"),
    _op("norm", "linalg", "LinalgVectorNormBackward", r"y = \textstyle\sum |x|",
        r"\bar x = \bar y \operatorname{sign}(x)",
        lambda lib, F, x, d, k: lib.norm(x, p=1, dim=d, keepdim=k), "reduce", variant="p=1",
        params={"domain": "nonzero"}),
    _op("norm", "linalg", "LinalgVectorNormBackward", r"y = \max |x|",
        r"\bar x = \bar y \operatorname{sign}(x) \cdot 1[|x| = y]",
        lambda lib, F, x, d, k: x.norm(float("inf"), d, k), "reduce", variant="p=inf",
        params={"domain": "distinct"}),
    _op("norm", "linalg", "LinalgVectorNormBackward", r"y = \lVert x \rVert_F",
        r"\bar x = \bar y\, x / y",
        lambda lib, F, x: x.norm(p="fro", dim=(-2, -1)), "unary", variant="p='fro'",
        params={"min_ndim": 2}),
    _op("linalg.vector_norm", "linalg", "LinalgVectorNormBackward",
        r"y = (\textstyle\sum |x|^p)^{1/p}",
        r"\bar x = \bar y \operatorname{sign}(x) |x|^{p-1} / y^{p-1}",
        lambda lib, F, x, d, k: lib.linalg.vector_norm(x, ord=3, dim=d, keepdim=k), "reduce",
        variant="ord=3", params={"domain": "nonzero"}),
    # ------------------------------------------------------------------ shape
    _op("reshape", "shape", "ReshapeBackward", r"y = \operatorname{reshape}(x, s)",
        r"\bar x = \operatorname{reshape}(\bar y, x.\text{shape})",
        lambda lib, F, x, s: x.reshape(s), "reshape"),
    _op("view", "shape", "ReshapeBackward", r"y = \operatorname{view}(x, s)",
        r"\bar x = \operatorname{reshape}(\bar y, x.\text{shape})",
        lambda lib, F, x, s: x.view(*s), "reshape", contiguous_only=True),
    _op("flatten", "shape", "ReshapeBackward", r"y = \operatorname{flatten}(x)",
        r"\bar x = \operatorname{reshape}(\bar y, x.\text{shape})",
        lambda lib, F, x: x.flatten(), "unary", params={"min_ndim": 2}),
    _op("unsqueeze", "shape", "ReshapeBackward", r"y = \operatorname{unsqueeze}(x, d)",
        r"\bar x = \operatorname{squeeze}(\bar y, d)",
        lambda lib, F, x, d: x.unsqueeze(d), "unsqueeze"),
    _op("squeeze", "shape", "ReshapeBackward", r"y = \operatorname{squeeze}(x)",
        r"\bar x = \operatorname{reshape}(\bar y, x.\text{shape})",
        lambda lib, F, x: x.squeeze(), "squeeze", variant="all"),
    _op("squeeze", "shape", "ReshapeBackward", r"y = \operatorname{squeeze}(x, d)",
        r"\bar x = \operatorname{unsqueeze}(\bar y, d)",
        lambda lib, F, x, d: lib.squeeze(x, d), "squeeze", variant="dim",
        params={"with_dim": True}),
    _op("transpose", "shape", "PermuteBackward", r"y = x \text{ with dims } i, j \text{ swapped}",
        r"\bar x = \bar y \text{ with dims } i, j \text{ swapped back}",
        lambda lib, F, x, i, j: x.transpose(i, j), "transpose"),
    _op("permute", "shape", "PermuteBackward", r"y = \operatorname{permute}(x, \pi)",
        r"\bar x = \operatorname{permute}(\bar y, \pi^{-1})",
        lambda lib, F, x, p: x.permute(*p), "permute"),
    _op(".T", "shape", "PermuteBackward", r"Y = X^\top", r"\bar X = \bar Y^\top",
        lambda lib, F, x: x.T, "unary", params={"min_ndim": 2, "max_ndim": 2}),
    _op(".mT", "shape", "PermuteBackward", r"Y_i = X_i^\top", r"\bar X_i = \bar Y_i^\top",
        lambda lib, F, x: x.mT, "unary", params={"min_ndim": 2, "max_ndim": 4}),
    _op("index", "shape", "IndexBackward", r"y = x[\text{slices}]",
        r"\bar x = 0;\ \bar x[\text{slices}] = \bar y",
        lambda lib, F, x: x[1:, ::2], "index", variant="slices",
        params={"min_ndim": 2, "lo": 2}),
    _op("index", "shape", "IndexBackward", r"y = x[0]", r"\bar x = 0;\ \bar x[0] = \bar y",
        lambda lib, F, x: x[0], "index", variant="integer", params={"min_ndim": 1}),
    _op("index", "shape", "IndexBackward", r"y = x[\text{None}, \dots, 1{:}]",
        r"\bar x = 0;\ \bar x[\dots, 1{:}] = \bar y",
        lambda lib, F, x: x[None, ..., 1:], "index", variant="None and Ellipsis",
        params={"min_ndim": 1, "lo": 2}),
    _op("index", "shape", "IndexBackward", r"y = x[i]",
        r"\bar x = 0;\ \bar x[i_k] \mathrel{+}= \bar y_k \text{ (scatter-add)}",
        lambda lib, F, x, i: x[i], "index_int", variant="integer array, repeats"),
    _op("index", "shape", "IndexBackward", r"y = x[m]",
        r"\bar x = 0;\ \bar x[m] = \bar y",
        lambda lib, F, x, m: x[m], "index_bool", variant="boolean mask"),
    _op("index", "shape", "IndexBackward", r"y = x[i, 1{:}]",
        r"\bar x = 0;\ \bar x[i_k, 1{:}] \mathrel{+}= \bar y_k",
        lambda lib, F, x, i: x[i, 1:], "index_mixed", variant="integer array and slice"),
    _op("copy_slices", "shape", "CopySlices", r"h = x;\ h[1{:}3] \mathrel{*}= v",
        r"\bar x = \bar h \text{ outside } [1{:}3],\ \bar x[1{:}3] = \bar h[1{:}3] \odot v,\ "
        r"\bar v = \operatorname{unbroadcast}(\bar h[1{:}3] \odot x[1{:}3])",
        lambda lib, F, x, v: _slice_mul_(x, v), "inplace_write", variant="in place, on a view"),
    _op("index_put", "shape", "IndexPutBackward", r"h = x;\ h[[0, 2]] = v",
        r"\bar x = \bar h,\ \bar x[[0, 2]] = 0,\ \bar v = \operatorname{unbroadcast}(\bar h[[0, 2]])",
        lambda lib, F, x, v: _put_rows(lib, x, v), "inplace_write", variant="x[index] = v"),
    _op("index (backward)", "shape", "IndexAddBackward",
        r"x = 0;\ x[i_k] \mathrel{+}= g_k \text{ (the VJP of } x[i])",
        r"\bar g = \bar x[i]",
        lambda lib, F, x, g, i: lib.autograd.grad(x[i], x, g, create_graph=True)[0],
        "index_backward", variant="double backward"),
    _op("cat", "shape", "CatBackward", r"Y = [X_1; X_2; X_3]_d",
        r"\bar X_k = \text{the slice of } \bar Y \text{ where } X_k \text{ was placed}",
        lambda lib, F, a, b, c, d: lib.cat([a, b, c], d), "cat"),
    _op("stack", "shape", "CatBackward", r"Y = \operatorname{stack}(X_1, X_2, X_3; d)",
        r"\bar X_k = \bar Y \text{ selected at } k \text{ along } d",
        lambda lib, F, a, b, c, d: lib.stack([a, b, c], d), "cat", params={"same": True}),
    _op("split", "shape", "SplitBackward", r"(Y_1, \dots, Y_k) = \operatorname{split}(X, n, d)",
        r"\bar X = [\bar Y_1; \dots; \bar Y_k]_d",
        lambda lib, F, x, n, d: x.split(n, d), "split", variant="size"),
    _op("split", "shape", "SplitBackward", r"(Y_1, \dots, Y_k) = \operatorname{split}(X, s, d)",
        r"\bar X = [\bar Y_1; \dots; \bar Y_k]_d",
        lambda lib, F, x, s, d: lib.split(x, s, dim=d), "split", variant="sections",
        params={"how": "sections"}),
    _op("chunk", "shape", "SplitBackward", r"(Y_1, \dots, Y_k) = \operatorname{chunk}(X, k, d)",
        r"\bar X = [\bar Y_1; \dots; \bar Y_k]_d",
        lambda lib, F, x, k, d: x.chunk(k, d), "split", params={"how": "chunks"}),
    _op("chunk", "shape", "SplitBackward", r"Y_k = \operatorname{chunk}(X, k, d)[-1]",
        r"\bar X = [0; \dots; 0; \bar Y_k]_d",
        lambda lib, F, x, k, d: x.chunk(k, d)[-1], "split", variant="last piece only",
        params={"how": "chunks"}),
    _op("unbind", "shape", "ReshapeBackward", r"(Y_1, \dots, Y_n) = \operatorname{unbind}(X, d)",
        r"\bar X = \operatorname{stack}(\bar Y_1, \dots, \bar Y_n; d)",
        lambda lib, F, x, k, d: x.unbind(d), "split", params={"how": "chunks"}),
    _op("tril", "shape", "TrilBackward", r"y_{ij} = x_{ij}\ (j - i \le k),\ 0 \text{ elsewhere}",
        r"\bar x = \operatorname{tril}(\bar y, k)",
        lambda lib, F, x: x.tril(), "unary", params={"min_ndim": 2, "max_ndim": 4}),
    _op("tril", "shape", "TrilBackward", r"y_{ij} = x_{ij}\ (j - i \le k),\ 0 \text{ elsewhere}",
        r"\bar x = \operatorname{tril}(\bar y, k)",
        lambda lib, F, x: lib.tril(x, diagonal=-1), "unary", variant="diagonal=-1",
        params={"min_ndim": 2}),
    _op("triu", "shape", "TriuBackward", r"y_{ij} = x_{ij}\ (j - i \ge k),\ 0 \text{ elsewhere}",
        r"\bar x = \operatorname{triu}(\bar y, k)",
        lambda lib, F, x: lib.triu(x, 1), "unary", variant="diagonal=1",
        params={"min_ndim": 2, "max_ndim": 4}),
    _op("repeat", "shape", "RepeatBackward", r"y = \operatorname{tile}(x, s)",
        r"\bar x = \textstyle\sum_{\text{copies}} \bar y",
        lambda lib, F, x, s: x.repeat(*s), "repeat"),
    _op("repeat_interleave", "shape", "ReshapeBackward",
        r"y = [x_1, x_1, x_2, x_2, \dots]_d",
        r"\bar x_i = \textstyle\sum_{\text{copies}} \bar y",
        lambda lib, F, x: x.repeat_interleave(2, dim=-1), "unary", variant="composed",
        params={"min_ndim": 1, "lo": 2}),       # a last size 1 gives a copy, CloneBackward
    _op("repeat_interleave", "shape", "IndexBackward",
        r"y = [x_1 \times r_1, x_2 \times r_2, \dots]_0",
        r"\bar x_i = \textstyle\sum_{\text{copies}} \bar y",
        lambda lib, F, x: lib.repeat_interleave(x, lib.arange(x.shape[0]) % 3 + 1, dim=0),
        "unary", variant="repeats=tensor, composed", params={"min_ndim": 1, "lo": 2}),
    # ------------------------------------------------------------------ broadcast
    _op("expand", "broadcast", "ExpandBackward", r"y = \operatorname{expand}(x, s)",
        rf"\bar x = {_UB}(\bar y, x.\text{{shape}})",
        lambda lib, F, x, s: x.expand(*s), "expand"),
    _op("expand_as", "broadcast", "ExpandBackward", r"y = \operatorname{expand}(x, z.\text{shape})",
        rf"\bar x = {_UB}(\bar y, x.\text{{shape}})",
        lambda lib, F, x, z: x.expand_as(z), "expand_as", no_grad_args=(1,)),
    _op("broadcast_to", "broadcast", "ExpandBackward", r"y = \operatorname{broadcast\_to}(x, s)",
        rf"\bar x = {_UB}(\bar y, x.\text{{shape}})",
        lambda lib, F, x, s: lib.broadcast_to(x, tuple(s)), "expand"),
    # ------------------------------------------------------------------ reduction
    _op("sum", "reduction", "SumBackward", r"y = \textstyle\sum_{d} x",
        r"\bar x = \operatorname{expand}(\bar y)",
        lambda lib, F, x, d, k: x.sum(dim=d, keepdim=k), "reduce"),
    _op("mean", "reduction", "MeanBackward", r"y = \tfrac1n \textstyle\sum_{d} x",
        r"\bar x = \operatorname{expand}(\bar y) / n",
        lambda lib, F, x, d, k: x.mean(dim=d, keepdim=k), "reduce"),
    _op("var", "reduction", "VarBackward", r"y = \tfrac1n \textstyle\sum_{d} (x - \mu)^2",
        r"\bar x = \bar y \cdot 2(x - \mu)/n",
        lambda lib, F, x, d, k: x.var(dim=d, unbiased=False, keepdim=k), "reduce",
        variant="unbiased=False", params={"min_ndim": 1}),
    _op("var", "reduction", "VarBackward", r"y = \tfrac1{n-1} \textstyle\sum_{d} (x - \mu)^2",
        r"\bar x = \bar y \cdot 2(x - \mu)/(n - 1)",
        lambda lib, F, x, d, k: lib.var(x, dim=d, unbiased=True, keepdim=k), "reduce",
        variant="unbiased=True", params={"min_ndim": 1}),
    _op("std", "reduction", "StdBackward", r"y = \sqrt{\operatorname{var}(x)}",
        r"\bar x = \bar y \cdot (x - \mu) / ((n - 1)\,y)\ (0 \text{ where } y = 0)",
        lambda lib, F, x, d, k: x.std(dim=d, keepdim=k), "reduce",
        params={"min_ndim": 1}),
    _op("max", "reduction", "MaxBackward", r"y = \max_i x_i",
        r"\bar x = \bar y \cdot 1[x = y]\ (\text{shared among ties})",
        lambda lib, F, x: x.max(), "unary", variant="whole tensor",
        params={"domain": "distinct"}),
    _op("max", "reduction", "MaxBackward", r"(y, i) = \max_d x",
        r"\bar x = \bar y \text{ at the returned index } i,\ 0 \text{ elsewhere}",
        lambda lib, F, x, d, k: x.max(d, keepdim=k).values, "reduce", variant="dim -> values",
        params={"domain": "distinct", "dims": "int", "min_ndim": 1}),
    _op("amax", "reduction", "MaxBackward", r"y = \max_{d} x",
        r"\bar x = \bar y \cdot 1[x = y]\ (\text{shared among ties})",
        lambda lib, F, x, d, k: lib.amax(x, dim=d, keepdim=k), "reduce",
        params={"domain": "distinct", "dims": "not_none", "min_ndim": 1}),
    _op("min", "reduction", "NegBackward", r"y = -\max(-x)",
        r"\bar x = \bar y \cdot 1[x = y]", lambda lib, F, x: x.min(), "unary",
        variant="whole tensor, composed", params={"domain": "distinct"}),
    _op("amin", "reduction", "NegBackward", r"y = -\max_d(-x)",
        r"\bar x = \bar y \cdot 1[x = y]",
        lambda lib, F, x, d, k: x.amin(dim=d, keepdim=k), "reduce", variant="composed",
        params={"domain": "distinct", "dims": "not_none", "min_ndim": 1}),
    _op("logsumexp", "reduction", "ReshapeBackward",
        r"y = m + \log \textstyle\sum_d e^{x - m},\ m = \max_d x",
        r"\bar x = \bar y \odot \operatorname{softmax}_d(x)",
        lambda lib, F, x, d, k: lib.logsumexp(x, d), "reduce", variant="composed",
        params={"dims": "int", "min_ndim": 1}),
    _op("prod", "reduction", "ProdBackward", r"y = \textstyle\prod_i x_i",
        r"\bar x_i = \bar y\, y / x_i",
        lambda lib, F, x: x.prod(), "unary", variant="whole tensor"),
    _op("prod", "reduction", "ProdBackward", r"y = \textstyle\prod_d x",
        r"\bar x_i = \bar y\, y / x_i", lambda lib, F, x, d, k: x.prod(d, keepdim=k),
        "reduce", variant="dim", params={"dims": "int", "min_ndim": 1}),
    _op("prod", "reduction", "ProdBackward", r"y = \textstyle\prod_i x_i",
        r"\bar x_i = \bar y \textstyle\prod_{j \ne i} x_j",
        lambda lib, F, x, d, k: lib.prod(x), "zeros", variant="one zero"),
    _op("prod", "reduction", "ProdBackward", r"y = \textstyle\prod_d x",
        r"\bar x_i = \bar y \textstyle\prod_{j \ne i} x_j",
        lambda lib, F, x, d, k: lib.prod(x, dim=d, keepdim=k), "zeros",
        variant="two zeros in a slice", params={"count": 2}),
    _op("cumsum", "reduction", "CumsumBackward", r"y_i = \textstyle\sum_{j \le i} x_j",
        r"\bar x_j = \textstyle\sum_{i \ge j} \bar y_i",
        lambda lib, F, x, d: x.cumsum(d), "softmax"),
    _op("cumprod", "reduction", "CumprodBackward", r"y_i = \textstyle\prod_{j \le i} x_j",
        r"\bar x_k = \textstyle\sum_{i \ge k} \bar y_i\, y_i / x_k",
        lambda lib, F, x, d: lib.cumprod(x, dim=d), "softmax"),
    _op("cumprod", "reduction", "CumprodBackward", r"y_i = \textstyle\prod_{j \le i} x_j",
        r"\bar x_k = \textstyle\sum_{i \ge k} \bar y_i \textstyle\prod_{j \le i, j \ne k} x_j",
        lambda lib, F, x, d, k: x.cumprod(d), "zeros", variant="one zero"),
    # ------------------------------------------------------------------ normalization
    _op("layer_norm", "normalization", "LayerNormBackward",
        r"y = \gamma \odot \hat x + \beta,\ \hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}",
        r"\bar x = \tfrac{1}{\sqrt{\sigma^2+\epsilon}}(\hat g - \langle \hat g \rangle "
        r"- \hat x \langle \hat g \odot \hat x \rangle),\ \hat g = \bar y \odot \gamma;\ "
        r"\bar\gamma = \textstyle\sum \bar y \odot \hat x,\ \bar\beta = \textstyle\sum \bar y",
        lambda lib, F, x, w, b: F.layer_norm(x, x.shape[-1:], w, b), "norm",
        variant="weight and bias"),
    _op("layer_norm", "normalization", "LayerNormBackward",
        r"y = \hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}",
        r"\bar x = \tfrac{1}{\sqrt{\sigma^2+\epsilon}}(\bar y - \langle \bar y \rangle "
        r"- \hat x \langle \bar y \odot \hat x \rangle)",
        lambda lib, F, x: F.layer_norm(x, x.shape[-2:]), "norm",
        variant="two dims, no affine", params={"n_dims": 2, "affine": "none"}),
    _op("rms_norm", "normalization", "RmsNormBackward",
        r"y = \gamma \odot x / r,\ r = \sqrt{\langle x^2 \rangle + \epsilon}",
        r"\bar x = \tfrac1r(\hat g - x \langle \hat g \odot x \rangle / r^2),\ "
        r"\hat g = \bar y \odot \gamma;\ \bar\gamma = \textstyle\sum \bar y \odot x / r",
        lambda lib, F, x, w: F.rms_norm(x, x.shape[-1:], w), "norm", variant="weight",
        params={"affine": "weight"}),
    _op("rms_norm", "normalization", "RmsNormBackward",
        r"y = x / r,\ r = \sqrt{\langle x^2 \rangle + \epsilon}",
        r"\bar x = \tfrac1r(\bar y - x \langle \bar y \odot x \rangle / r^2)",
        lambda lib, F, x: F.rms_norm(x, x.shape[-2:], eps=1e-6), "norm",
        variant="two dims, no weight", params={"n_dims": 2, "affine": "none"}),
    # ------------------------------------------------------------------ loss
    _op("softmax", "loss", "SoftmaxBackward", r"S_i = e^{x_i} / \textstyle\sum_j e^{x_j}",
        r"\bar x = S \odot (\bar S - \textstyle\sum_k \bar S_k S_k)",
        lambda lib, F, x, d: F.softmax(x, dim=d), "softmax"),
    _op("log_softmax", "loss", "LogSoftmaxBackward",
        r"z_i = x_i - \log \textstyle\sum_j e^{x_j}",
        r"\bar x = \bar z - e^{z} \textstyle\sum_k \bar z_k",
        lambda lib, F, x, d: F.log_softmax(x, dim=d), "softmax"),
    _op("cross_entropy", "loss", "CrossEntropyBackward", _CE_F + r",\ \text{mean}", _CE_V + r"/N",
        lambda lib, F, x, t: F.cross_entropy(x, t), "classification", variant="mean"),
    _op("cross_entropy", "loss", "CrossEntropyBackward", _CE_F + r",\ \text{sum}", _CE_V,
        lambda lib, F, x, t: F.cross_entropy(x, t, reduction="sum"), "classification",
        variant="sum"),
    _op("cross_entropy", "loss", "CrossEntropyBackward", _CE_F + r",\ \text{per item}", _CE_V,
        lambda lib, F, x, t: F.cross_entropy(x, t, reduction="none"), "classification",
        variant="none"),
    _op("cross_entropy", "loss", "CrossEntropyBackward",
        _CE_F + r",\ y = (1 - \alpha)\,\text{onehot} + \alpha / C", _CE_V + r"/N",
        lambda lib, F, x, t: F.cross_entropy(x, t, label_smoothing=0.1), "classification",
        variant="label_smoothing=0.1"),
    _op("cross_entropy", "loss", "CrossEntropyBackward",
        _CE_F + r",\ \text{ignored rows } y = 0", _CE_V + r"/N_{\text{kept}}",
        lambda lib, F, x, t: F.cross_entropy(x, t, ignore_index=-100), "classification",
        variant="ignore_index", params={"ignore": True}),
    _op("cross_entropy", "loss", "CrossEntropyBackward",
        _CE_F + r",\ \text{ignored rows } y = 0", _CE_V,
        lambda lib, F, x, t: F.cross_entropy(x, t, reduction="sum", label_smoothing=0.2),
        "classification", variant="ignore_index, label_smoothing, sum",
        params={"ignore": True}),
    _op("cross_entropy", "loss", "CrossEntropyBackward",
        _CE_F + r",\ y \text{ class probabilities}", _CE_V + r"/N",
        lambda lib, F, x, p: F.cross_entropy(x, p), "classification",
        variant="probability targets", params={"probs": True}, no_grad_args=(1,)),
    _op("nll_loss", "loss", "NllLossBackward", r"L = -\tfrac1N \textstyle\sum_n z_{n, t_n}",
        r"\bar z = -\operatorname{onehot}(t)\,\bar L / N",
        lambda lib, F, z, t: F.nll_loss(z, t), "classification", variant="mean"),
    _op("nll_loss", "loss", "NllLossBackward", r"L = -\textstyle\sum_n z_{n, t_n}",
        r"\bar z = -\operatorname{onehot}(t)\,\bar L",
        lambda lib, F, z, t: F.nll_loss(z, t, reduction="sum"), "classification",
        variant="sum"),
    _op("nll_loss", "loss", "NllLossBackward", r"L_n = -z_{n, t_n}",
        r"\bar z_n = -\operatorname{onehot}(t_n)\,\bar L_n",
        lambda lib, F, z, t: F.nll_loss(z, t, reduction="none", ignore_index=-100),
        "classification", variant="none, ignore_index", params={"ignore": True}),
    _op("mse_loss", "loss", "MseLossBackward", r"L = \tfrac1n \textstyle\sum (x - t)^2",
        r"\bar x = 2(x - t)\bar L / n,\ \bar t = -\bar x",
        lambda lib, F, x, t: F.mse_loss(x, t), "regression", variant="mean"),
    _op("mse_loss", "loss", "MseLossBackward", r"L = \textstyle\sum (x - t)^2",
        r"\bar x = 2(x - t)\bar L,\ \bar t = -\bar x",
        lambda lib, F, x, t: F.mse_loss(x, t, reduction="sum"), "regression", variant="sum"),
    _op("mse_loss", "loss", "MseLossBackward", r"L = (x - t)^2",
        r"\bar x = 2(x - t) \odot \bar L,\ \bar t = -\bar x",
        lambda lib, F, x, t: F.mse_loss(x, t, reduction="none"), "regression", variant="none"),
    _op("binary_cross_entropy", "loss", "BinaryCrossEntropyBackward", _BCE_F + r",\ \text{mean}",
        _BCE_V + r",\ \text{both} / n",
        lambda lib, F, x, t: F.binary_cross_entropy(x, t), "binary_target", variant="mean"),
    _op("binary_cross_entropy", "loss", "BinaryCrossEntropyBackward", _BCE_F, _BCE_V,
        lambda lib, F, x, t, w: F.binary_cross_entropy(x, t, weight=w, reduction="sum"),
        "binary_target", variant="weight=w, reduction='sum'", params={"weight": True},
        no_grad_args=(2,)),
    _op("binary_cross_entropy", "loss", "BinaryCrossEntropyBackward", _BCE_F, _BCE_V,
        lambda lib, F, x, t: F.binary_cross_entropy(x, t, reduction="none"), "binary_target",
        variant="none"),
    _op("binary_cross_entropy_with_logits", "loss", "BinaryCrossEntropyWithLogitsBackward",
        _BCEL_F + r",\ p = 1", _BCEL_V + r",\ \text{both} / n",
        lambda lib, F, x, t: F.binary_cross_entropy_with_logits(x, t), "binary_target",
        variant="mean", params={"logits": True}),
    _op("binary_cross_entropy_with_logits", "loss", "BinaryCrossEntropyWithLogitsBackward",
        _BCEL_F, _BCEL_V,
        lambda lib, F, x, t, w, p: F.binary_cross_entropy_with_logits(
            x, t, weight=w, pos_weight=p, reduction="none"), "binary_target",
        variant="weight=w, pos_weight=p, reduction='none'",
        params={"logits": True, "weight": True, "pos_weight": True}, no_grad_args=(2, 3)),
    _op("binary_cross_entropy_with_logits", "loss", "BinaryCrossEntropyWithLogitsBackward",
        _BCEL_F, _BCEL_V,
        lambda lib, F, x, t, p: lib.nn.BCEWithLogitsLoss(pos_weight=p, reduction="sum")(x, t),
        "binary_target", variant="nn.BCEWithLogitsLoss(pos_weight=p, reduction='sum')",
        params={"logits": True, "pos_weight": True}, no_grad_args=(2,)),
    # ------------------------------------------------------------------ attention
    _op("scaled_dot_product_attention", "attention", "ScaledDotProductAttentionBackward",
        _SDPA_F, _SDPA_V, _sdpa(None), "attention", variant="no mask"),
    _op("scaled_dot_product_attention", "attention", "ScaledDotProductAttentionBackward",
        _SDPA_F + r",\ M_{ij} = -\infty \text{ for } j > i", _SDPA_V, _sdpa("causal"),
        "attention", variant="causal"),
    _op("scaled_dot_product_attention", "attention", "ScaledDotProductAttentionBackward",
        _SDPA_F + r",\ M = 0 \text{ where allowed}, -\infty \text{ elsewhere}", _SDPA_V,
        _sdpa("bool"), "attention", variant="boolean mask", params={"mask": "bool"}),
    _op("scaled_dot_product_attention", "attention", "ScaledDotProductAttentionBackward",
        _SDPA_F, _SDPA_V + r",\ \bar M = dS", _sdpa("float"), "attention",
        variant="float mask", params={"mask": "float"}),
    _op("scaled_dot_product_attention", "attention", "ScaledDotProductAttentionBackward",
        r"O = \operatorname{softmax}(QK^\top s)\,V,\ s = 0.3", _SDPA_V,
        lambda lib, F, q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.3),
        "attention", variant="custom scale"),
    _op("scaled_dot_product_attention", "attention", "ScaledDotProductAttentionBackward",
        r"O = (A \odot D)\,V,\ A = \operatorname{softmax}(QK^\top s),\ "
        r"D = m / (1 - p),\ m \sim \operatorname{Bernoulli}(1 - p)",
        r"\bar V = (A \odot D)^\top \bar O,\ \bar A = (\bar O V^\top) \odot D,\ "
        r"dS = A \odot (\bar A - \textstyle\sum_j \bar A_j A_j),\ "
        r"\bar Q = dS\,K s,\ \bar K = dS^\top Q s",
        _sdpa_dropout, "attention", variant="dropout_p=0.3", random=True,
        fixed_fn=_sdpa_dropout_fixed),
    # ------------------------------------------------------------------ indexing
    _op("gather", "indexing", "GatherBackward", r"y_{ij} = x_{i,\,\text{idx}_{ij}}\ (d = 1)",
        r"\bar x = 0;\ \bar x_{i,\,\text{idx}_{ij}} \mathrel{+}= \bar y_{ij}\ "
        r"(\operatorname{scatter\_add})",
        lambda lib, F, x, d, i: x.gather(d, i), "gather"),
    _op("take_along_dim", "indexing", "GatherBackward",
        r"y = \operatorname{gather}(\operatorname{expand}(x), d, "
        r"\operatorname{expand}(\text{idx}))",
        r"\bar x = \operatorname{unbroadcast}(\operatorname{scatter\_add}(0, d, \text{idx}, "
        r"\bar y))",
        lambda lib, F, x, d, i: lib.take_along_dim(x, i, dim=d), "gather",
        params={"broadcast": True}),
    _op("scatter", "indexing", "ScatterBackward", r"y = x;\ y_{i,\,\text{idx}_{ij}} = s_{ij}",
        r"\bar x = \bar y,\ \bar x_{i,\,\text{idx}_{ij}} = 0;\ "
        r"\bar s_{ij} = \bar y_{i,\,\text{idx}_{ij}}",
        lambda lib, F, x, d, i, s: x.scatter(d, i, s), "gather",
        params={"src": True, "distinct": True}),
    _op("scatter", "indexing", "ScatterBackward", r"y = x;\ y_{i,\,\text{idx}_{ij}} = c",
        r"\bar x = \bar y,\ \bar x_{i,\,\text{idx}_{ij}} = 0",
        lambda lib, F, x, d, i: lib.scatter(x, d, i, value=-1.5), "gather", variant="value"),
    _op("scatter_add", "indexing", "ScatterAddBackward",
        r"y = x;\ y_{i,\,\text{idx}_{ij}} \mathrel{+}= s_{ij}",
        r"\bar x = \bar y,\ \bar s_{ij} = \bar y_{i,\,\text{idx}_{ij}}\ (\operatorname{gather})",
        lambda lib, F, x, d, i, s: x.scatter_add(d, i, s), "gather", params={"src": True}),
    _op("scatter_add", "indexing", "ScatterAddBackward",
        r"h = x;\ h_{i,\,\text{idx}_{ij}} \mathrel{+}= s_{ij}",
        r"\bar x = \bar h,\ \bar s_{ij} = \bar h_{i,\,\text{idx}_{ij}}",
        lambda lib, F, x, d, i, s: _scatter_add_(x, d, i, s), "gather", variant="in place",
        params={"src": True}),
    _op("index_select", "indexing", "IndexSelectBackward",
        r"y = x[\ldots, \text{idx}, \ldots]_d",
        r"\bar x = 0;\ \bar x[\ldots, \text{idx}_k, \ldots]_d \mathrel{+}= "
        r"\bar y[\ldots, k, \ldots]_d",
        lambda lib, F, x, d, i: x.index_select(d, i), "index_select"),
    _op("sort", "indexing", "SortBackward",
        r"(y, \pi) = \operatorname{sort}_d(x),\ y_k = x_{\pi_k}",
        r"\bar x_{\pi_k} = \bar y_k",
        lambda lib, F, x, d: x.sort(d).values, "ranked"),
    _op("sort", "indexing", "SortBackward",
        r"(y, \pi) = \operatorname{sort}_d(x),\ y_1 \ge y_2 \ge \dots",
        r"\bar x_{\pi_k} = \bar y_k",
        lambda lib, F, x, d: lib.sort(x, dim=d, descending=True).values, "ranked",
        variant="descending=True"),
    _op("topk", "indexing", "TopkBackward",
        r"(y, \pi) = \operatorname{topk}_d(x, k),\ y_j = x_{\pi_j}",
        r"\bar x = 0;\ \bar x_{\pi_j} = \bar y_j",
        lambda lib, F, x, d, k: x.topk(k, dim=d).values, "ranked", params={"k": True}),
    _op("topk", "indexing", "TopkBackward",
        r"(y, \pi) = \operatorname{topk}_d(x, k),\ y_1 \le \dots \le y_k",
        r"\bar x = 0;\ \bar x_{\pi_j} = \bar y_j",
        lambda lib, F, x, d, k: lib.topk(x, k, d, largest=False).values, "ranked",
        variant="largest=False", params={"k": True}),
    _op("kthvalue", "indexing", "KthvalueBackward",
        r"(y, i) = \operatorname{kthvalue}_d(x, k),\ y = x_i", r"\bar x = 0;\ \bar x_i = \bar y",
        lambda lib, F, x, d, k: x.kthvalue(k, d).values, "ranked", params={"k": True}),
    _op("median", "indexing", "MedianBackward", r"y = x_{(\lceil n/2 \rceil)}",
        r"\bar x = \bar y \cdot 1[x = y]\ (\text{shared among ties})",
        lambda lib, F, x: x.median(), "unary", variant="whole tensor",
        params={"domain": "distinct"}),
    _op("median", "indexing", "MedianBackward",
        r"(y, i) = \operatorname{median}_d(x),\ y = x_i", r"\bar x = 0;\ \bar x_i = \bar y",
        lambda lib, F, x, d: lib.median(x, d, keepdim=True).values, "ranked",
        variant="dim, keepdim=True"),
    # ------------------------------------------------------------------ sparse
    _op("embedding", "sparse", "EmbeddingBackward", r"Y = W[\text{idx}]",
        r"\bar W[i] = \textstyle\sum_{j: \text{idx}_j = i} \bar Y_j",
        lambda lib, F, i, w: F.embedding(i, w), "embedding", variant="repeated indices"),
    _op("embedding", "sparse", "EmbeddingBackward", r"Y = W[\text{idx}]",
        r"\bar W[i] = \textstyle\sum_{j: \text{idx}_j = i} \bar Y_j,\ \bar W[p] = 0",
        lambda lib, F, i, w: F.embedding(i, w, padding_idx=0), "embedding",
        variant="padding_idx=0", params={"padding": True},
        gradcheck_fn=lambda lib, F, i, w: (F.embedding(i, w, padding_idx=0)
                                           * (i != 0).unsqueeze(-1))),
    _op("embedding", "sparse", "EmbeddingBackward", r"Y = W[\text{idx}]",
        r"\bar W[i] = \tfrac{1}{n_i} \textstyle\sum_{j: \text{idx}_j = i} \bar Y_j,\ "
        r"n_i = \#\{j: \text{idx}_j = i\}",
        lambda lib, F, i, w: F.embedding(i, w, scale_grad_by_freq=True), "embedding",
        variant="scale_grad_by_freq",
        gradcheck_fn=lambda lib, F, i, w: (F.embedding(i, w) / _frequency(i).unsqueeze(-1))),
    _op("dropout", "sparse", "DropoutBackward",
        r"y = x \odot m / (1 - p),\ m \sim \operatorname{Bernoulli}(1 - p)",
        r"\bar x = \bar y \odot m / (1 - p)",
        lambda lib, F, x: F.dropout(x, p=0.3, training=True), "unary",
        params={"domain": "nonzero"}, random=True,
        fixed_fn=lambda lib, F, out, x: x * (out != 0) / (1 - 0.3)),
]
