"""Tasks of chapter 08, tiled matrix multiplication: a tile, the tiled product, its tiled
backward, and the tiled product as an ``mg.autograd.Function``.

To tell a tiled product from a plain ``A @ B``, the checkers hand the learner's code
matrices of a numpy subclass, :class:`_Recorder`, that notes the shapes of every matrix
product it takes part in (``@``, ``np.matmul``, ``np.dot``, ``.dot``, ``np.einsum``…). A
tiled product of side T multiplies blocks of at most T×T, one per (i, j, t).
"""
import numpy as np

from ..lang import ntr, tr
from .core import (Misconception, as_numpy, assert_close_or_explain, explain_vjp_count,
                   gradcheck_or_explain, reveal, seeded, task)


__all__ = ["WRONG"]

_SHAPES = [((7, 5), (5, 6), 3), ((4, 4), (4, 4), 2), ((9, 6), (6, 4), 4), ((5, 8), (8, 3), 3)]


def _ceil(a, b):
    return -(-a // b)


# --------------------------------------------------------------------------- recording
class _Recorder(np.ndarray):
    """A numpy array that appends the operand shapes of every matrix product it enters to
    ``_Recorder.log`` (a list, or None when not recording). What is computed from it is a
    recorder too (a slice, a copy, a transpose, a sum…), and while recording ``np.asarray``
    and ``np.array`` keep it one: a product taken on a copy is still seen."""
    log = None

    @staticmethod
    def _plain(x):
        return x.view(np.ndarray) if isinstance(x, _Recorder) else x

    @staticmethod
    def _taint(out):
        if isinstance(out, np.ndarray) and not isinstance(out, _Recorder) and out.ndim:
            return out.view(_Recorder)
        if isinstance(out, tuple):
            return tuple(_Recorder._taint(o) for o in out)
        return out

    @classmethod
    def _note(cls, a, b):
        if cls.log is not None:
            cls.log.append((np.shape(a), np.shape(b)))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc is np.matmul and method == "__call__" and len(inputs) == 2:
            self._note(*inputs)
        inputs = tuple(self._plain(x) for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(self._plain(x) for x in kwargs["out"])
            return getattr(ufunc, method)(*inputs, **kwargs)
        return self._taint(getattr(ufunc, method)(*inputs, **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        if func in (np.dot, np.matmul, np.inner, np.tensordot, np.vdot) and len(arrays) >= 2:
            self._note(arrays[0], arrays[1])
        elif func is np.einsum and len(arrays) >= 2:
            self._note(arrays[0], arrays[1])
        args = tuple(self._plain(a) for a in args)
        kwargs = {k: self._plain(v) for k, v in kwargs.items()}
        return self._taint(func(*args, **kwargs))

    def dot(self, other, out=None):
        self._note(self, other)
        return self._taint(np.dot(self.view(np.ndarray), self._plain(other)))


def _recorded(*arrays):
    return tuple(np.asarray(a, dtype=np.float64).view(_Recorder) for a in arrays)


def _keeping(convert):
    """``np.asarray``/``np.array`` that return a recorder for a recorder."""
    def keep(a, *args, **kwargs):
        out = convert(a, *args, **kwargs)
        if isinstance(a, _Recorder) and isinstance(out, np.ndarray):
            return out.view(_Recorder)
        return out
    return keep


def _run_recording(fn, *args):
    """``fn(*args)`` with matrix products recorded; returns (result, list of shape pairs)."""
    log = []
    _Recorder.log = log
    saved = {name: getattr(np, name) for name in ("asarray", "array", "ascontiguousarray")}
    try:
        for name, convert in saved.items():
            setattr(np, name, _keeping(convert))
        out = fn(*args)
    finally:
        for name, convert in saved.items():
            setattr(np, name, convert)
        _Recorder.log = None
    return out, log


def _plain_result(x):
    return x.view(np.ndarray) if isinstance(x, _Recorder) else x


def _explain_untiled(log, tile, what):
    """Every recorded product must multiply blocks of at most tile × tile."""
    if not log:
        raise Misconception(tr("{what}: no block product was computed with @ — multiply the "
                               "tiles with A_it @ B_tj (a Python loop over single numbers is "
                               "not a tiled matmul, and is very slow)", what=what))
    for sa, sb in log:
        if max(sa + sb) > tile:
            raise Misconception(tr("{what}: you multiplied a {a} array by a {b} one, but with "
                                   "T = {tile} every block is at most {tile}×{tile} — compute "
                                   "one T×T tile of the result at a time, C_ij = Σ_t A_it·B_tj",
                                   what=what, a=sa, b=sb, tile=tile))


def _explain_overwrite(name, got, a, b, tile):
    """Say "= instead of +=" when each tile of C holds only its last product A_it·B_tj."""
    k = a.shape[1]
    last = (_ceil(k, tile) - 1) * tile
    g = None if got is None else as_numpy(got)
    if last and g is not None and g.shape == (a.shape[0], b.shape[1]) and \
            np.allclose(g, a[:, last:] @ b[last:, :], atol=1e-9):
        raise Misconception(tr("{what} holds only the last product A_it·B_tj of each tile: the "
                               "tile's accumulator must add the products of every t (+=), not "
                               "keep the last one (=)", what=name))


def _explain_edges(name, got, expected, a, b, tile, formula):
    """Say "edge tiles missing" when exactly the last partial block-rows, block-columns or
    inner blocks were skipped (range(m // T) instead of ⌈m/T⌉ tiles)."""
    g = as_numpy(got)
    if g is None or np.shape(g) != expected.shape:
        return
    m, k = a.shape
    n = b.shape[1]
    mm, nn, kk = (m // tile) * tile, (n // tile) * tile, (k // tile) * tile
    skipped = np.zeros((m, n))
    skipped[:mm, :nn] = a[:mm, :kk] @ b[:kk, :nn]
    if np.allclose(g, skipped, atol=1e-9) and not np.allclose(g, expected, atol=1e-9):
        sizes = [ntr("{dim} = {v} gives ⌈{v}/{tile}⌉ = {n} tile, not {v} // {tile} = {floor}",
                     "{dim} = {v} gives ⌈{v}/{tile}⌉ = {n} tiles, not {v} // {tile} = {floor}",
                     dim=d, v=v, tile=tile, n=_ceil(v, tile), floor=v // tile)
                 for d, v in (("m", m), ("n", n), ("k", k)) if v % tile]
        raise Misconception(tr("your {name} leaves out the edge tiles: when a size is not a "
                               "multiple of T = {tile}, the last tile is smaller but still "
                               "there ({sizes}) — loop over range(-(-m // T)) (math.ceil), and "
                               "slice [i*T:(i+1)*T], which stops at the edge by itself — "
                               "{formula}", name=name, tile=tile, sizes="; ".join(sizes),
                               formula=formula))


# --------------------------------------------------------------------------- 08.1
_NOTES_A = np.arange(1.0, 17.0).reshape(4, 4)
_NOTES_B = np.repeat(np.arange(1.0, 5.0)[:, None], 4, axis=1)
_NOTES_C00 = np.array([[30.0, 30.0], [70.0, 70.0]])


def _diagnose_block(block, m, i, j, tile, what):
    expected = m[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile]
    got = block(m, i, j, tile)
    g = None if got is None else as_numpy(got)
    if g is not None and g.shape != expected.shape and g.shape == \
            m[i * tile:(i + 1) * tile - 1, j * tile:(j + 1) * tile - 1].shape:
        raise Misconception(tr(
            "{what} has shape {shape} but should be {expected}: Python slices exclude their "
            "end, so rows i·T … (i+1)·T − 1 are m[i*T:(i+1)*T] (no − 1)", what=what,
            shape=g.shape, expected=expected.shape))
    if g is not None and g.shape == expected.shape and (i or j) and \
            np.array_equal(g, m[i:i + expected.shape[0], j:j + expected.shape[1]]):
        raise Misconception(tr(
            "{what} should start at row i·T = {row} and column j·T = {col}: i and j count "
            "tiles, not rows and columns", what=what, row=i * tile, col=j * tile))
    swapped = m[j * tile:(j + 1) * tile, i * tile:(i + 1) * tile]
    if g is not None and i != j and g.shape == swapped.shape and np.array_equal(g, swapped) \
            and not (g.shape == expected.shape and np.array_equal(g, expected)):
        raise Misconception(tr(
            "{what} is tile ({j}, {i}): i and j are swapped — i picks the block-row (rows "
            "from i·T), j the block-column (columns from j·T)", what=what, i=i, j=j))
    assert_close_or_explain(what, got, expected, kind=None,
                            formula=tr("rows i·T … (i+1)·T − 1 and columns j·T … (j+1)·T − 1, "
                                       "cut at the bottom and right edges"))


@task("08.1", title="One tile of a matrix",
      goal="Return tile (i, j) of side T of a matrix, smaller at the bottom and right edges",
      difficulty=1, minutes=5)
def _block(block):
    _diagnose_block(block, _NOTES_A, 0, 1, 2, tr("A₀₁ of the notes (= [[3, 4], [7, 8]])"))
    rng = seeded(81)
    for shape, tile in (((7, 5), 3), ((6, 6), 2), ((5, 9), 4)):
        m = rng.standard_normal(shape)
        for i in range(_ceil(shape[0], tile)):
            for j in range(_ceil(shape[1], tile)):
                _diagnose_block(block, m, i, j, tile,
                                tr("tile ({i}, {j}) of a {shape} matrix with T = {tile}",
                                   i=i, j=j, shape=shape, tile=tile))


def _expected_products(m, k, n, tile):
    return _ceil(m, tile) * _ceil(n, tile) * _ceil(k, tile)


@task("08.2", title="A tiled matmul",
      goal="Compute C = A·B one T×T tile of C at a time, C_ij = Σ_t A_it·B_tj, for any sizes",
      difficulty=2, minutes=15)
def _tiled_matmul(tiled_matmul):
    import torch
    formula = tr("C_ij = Σ_t A_it·B_tj over ⌈m/T⌉ × ⌈n/T⌉ tiles of C")
    got, log = _run_recording(tiled_matmul, *_recorded(_NOTES_A, _NOTES_B), 2)
    _explain_overwrite(tr("C of the notes' example"), _plain_result(got), _NOTES_A, _NOTES_B, 2)
    assert_close_or_explain(tr("C of the notes' example"), _plain_result(got),
                            _NOTES_A @ _NOTES_B, kind=None,
                            formula=f"C₀₀ = A₀₀·B₀₀ + A₀₁·B₁₀ = {_NOTES_C00.tolist()}")
    rng = seeded(82)
    for sa, sb, tile in _SHAPES:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        expected = (torch.tensor(a) @ torch.tensor(b)).numpy()
        got, log = _run_recording(tiled_matmul, *_recorded(a, b), tile)
        got = _plain_result(got)
        what = tr("C for {a}·{b} with T = {tile}", a=sa, b=sb, tile=tile)
        _explain_edges(what, got, expected, a, b, tile, formula)
        _explain_overwrite(what, got, a, b, tile)
        assert_close_or_explain(what, got, expected, kind=None, formula=formula)
        _explain_untiled(log, tile, "tiled_matmul")
        done = sum(1 for x, y in log if np.prod(x) and np.prod(y))
        want = _expected_products(sa[0], sa[1], sb[1], tile)
        if done != want:
            raise Misconception(ntr(
                "tiled_matmul computed {n} block product for {a}·{b} with T = {tile}, but "
                "there are ⌈m/T⌉·⌈n/T⌉·⌈k/T⌉ = {want}: one A_it·B_tj per tile (i, j) of C and "
                "per t — {formula}",
                "tiled_matmul computed {n} block products for {a}·{b} with T = {tile}, but "
                "there are ⌈m/T⌉·⌈n/T⌉·⌈k/T⌉ = {want}: one A_it·B_tj per tile (i, j) of C and "
                "per t — {formula}", n=done, a=sa, b=sb, tile=tile, want=want,
                formula=formula))


@task("08.3", title="The tiled backward",
      goal="Compute Ā = C̄·Bᵀ and B̄ = Aᵀ·C̄ with the tiled matmul",
      difficulty=2, minutes=10)
def _tiled_backward(tiled_matmul_backward):
    import torch
    rng = seeded(83)
    fa, fb = "Ā = C̄·Bᵀ", "B̄ = Aᵀ·C̄"
    for sa, sb, tile in [((4, 4), (4, 4), 2)] + _SHAPES:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        c_bar = rng.standard_normal((sa[0], sb[1]))
        at = torch.tensor(a, requires_grad=True)
        bt = torch.tensor(b, requires_grad=True)
        (at @ bt).backward(torch.tensor(c_bar))
        out, log = _run_recording(tiled_matmul_backward, *_recorded(a, b, c_bar), tile)
        if out is None:
            raise Misconception(tr("tiled_matmul_backward returned None — did you forget to "
                                   "return (Ā, B̄)?"))
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise Misconception(tr("tiled_matmul_backward must return the pair (Ā, B̄), not "
                                   "{type}", type=type(out).__name__))
        ga, gb = (_plain_result(g) for g in out)
        if ga is not None and gb is not None and np.shape(ga) == bt.shape and \
                np.shape(gb) == at.shape and np.allclose(as_numpy(ga), bt.grad.numpy()) and \
                np.allclose(as_numpy(gb), at.grad.numpy()):
            raise Misconception(tr("tiled_matmul_backward returned (B̄, Ā): return the pair in "
                                   "the order of forward's inputs, (Ā, B̄)"))
        square = sa[0] == sa[1] == sb[1]        # there, C̄·B and A·C̄ have the right shape
        if square and ga is not None and np.shape(ga) == at.shape and \
                np.allclose(as_numpy(ga), c_bar @ b, atol=1e-9):
            raise Misconception(tr("your gradient for A is C̄·B — missing transpose? {formula}: "
                                   "Ā has A's shape (m×k), and only C̄ (m×n) times Bᵀ (n×k) "
                                   "gives it", formula=fa))
        if square and gb is not None and np.shape(gb) == bt.shape and \
                np.allclose(as_numpy(gb), a @ c_bar, atol=1e-9):
            raise Misconception(tr("your gradient for B is A·C̄ — missing transpose? {formula}",
                                   formula=fb))
        _explain_edges(tr("gradient for {name}", name="A"), ga, at.grad.numpy(), c_bar, b.T,
                       tile, fa)
        _explain_edges(tr("gradient for {name}", name="B"), gb, bt.grad.numpy(), a.T, c_bar,
                       tile, fb)
        assert_close_or_explain("A", ga, at.grad, formula=fa)
        assert_close_or_explain("B", gb, bt.grad, formula=fb)
        _explain_untiled(log, tile, "tiled_matmul_backward")


@task("08.4", title="A tiled matmul as an autograd Function",
      goal="Write TiledMatMul(mg.autograd.Function) whose backward is itself tiled and "
           "differentiable",
      difficulty=3, minutes=20)
def _tiled_function(TiledMatMul):
    import minigrad as mg
    import torch
    rng = seeded(84)
    fa, fb = "Ā = C̄·Bᵀ", "B̄ = Aᵀ·C̄"
    for sa, sb, tile in [((4, 4), (4, 4), 2)] + _SHAPES[:2]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        up = rng.standard_normal((sa[0], sb[1]))
        w_a, w_b = rng.standard_normal(sa), rng.standard_normal(sb)
        am = mg.tensor(a, requires_grad=True)
        bm = mg.tensor(b, requires_grad=True)
        # forward and backward see matrices that record their products (and those of
        # anything computed from them, copies included)
        am._data, bm._data = _recorded(a, b)
        y, log = _run_recording(TiledMatMul.apply, am, bm, tile)
        am._data, bm._data = a.copy(), b.copy()
        _explain_untiled(log, tile, "TiledMatMul.forward")
        if not isinstance(y, mg.Tensor) or y.grad_fn is None:
            raise Misconception(tr("TiledMatMul.apply recorded no graph node — does forward "
                                   "return the product (an array or a tensor)?"))
        at = torch.tensor(a, requires_grad=True)
        bt = torch.tensor(b, requires_grad=True)
        yt = at @ bt
        assert_close_or_explain("C", y, yt, kind=None,
                                formula=tr("C = A·B, computed tile by tile"))
        grads, log = _recorded_backward(lambda g: TiledMatMul.backward(y.grad_fn, g),
                                        (am, bm), a, b, up)
        grads = explain_vjp_count("TiledMatMul", grads, 3)
        _explain_untiled(log, tile, "TiledMatMul.backward")
        ga_t, gb_t = torch.autograd.grad(yt, (at, bt), torch.tensor(up), create_graph=True)
        square = sa[0] == sa[1] == sb[1]
        for name, g, wrong, formula in (("A", grads[0], up @ b if square else None, fa),
                                        ("B", grads[1], a @ up if square else None, fb)):
            if wrong is not None and g is not None and tuple(g.shape) == wrong.shape and \
                    np.allclose(as_numpy(g), wrong, atol=1e-9):
                product = "C̄·B" if name == "A" else "A·C̄"
                raise Misconception(tr("your gradient for {name} is {product} — missing "
                                       "transpose? {formula}", name=name, product=product,
                                       formula=formula))
        assert_close_or_explain("A", grads[0], ga_t, formula=fa)
        assert_close_or_explain("B", grads[1], gb_t, formula=fb)
        y = TiledMatMul.apply(am, bm, tile)
        (ga, gb), log = _recorded_backward(
            lambda g: mg.autograd.grad(y, (am, bm), g, create_graph=True), (am, bm), a, b, up)
        _explain_untiled(log, tile, "TiledMatMul.backward")
        if not (ga.requires_grad and gb.requires_grad):
            how = reveal(tr("Write them with minigrad operations — TiledMatMul.apply(grad, "
                            "b.mT, ctx.tile) — so the backward is tiled too and can be "
                            "differentiated again"))
            raise Misconception(tr(
                "with create_graph=True your Ā and B̄ carry no graph: backward computed them "
                "outside minigrad (numpy, or .data).") + (f" {how}" if how else ""))
        # second derivatives: d/d(A, B) of Σ Ā⊙W_A + Σ B̄⊙W_B, against torch
        s = (ga * mg.tensor(w_a)).sum() + (gb * mg.tensor(w_b)).sum()
        st = (ga_t * torch.tensor(w_a)).sum() + (gb_t * torch.tensor(w_b)).sum()
        ref = torch.autograd.grad(st, (at, bt))
        got = mg.autograd.grad(s, (am, bm), allow_unused=True)
        for name, g, r in zip(("A", "B"), got, ref):
            assert_close_or_explain(name, np.zeros(r.shape) if g is None else g, r,
                                    kind="second derivative",
                                    formula=tr("the backward of Ā = C̄·Bᵀ is another tiled "
                                               "product"))
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3))
    gradcheck_or_explain(lambda x, z: TiledMatMul.apply(x, z, 2),
                         [mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)],
                         "TiledMatMul.backward")


def _recorded_backward(run, tensors, a, b, up):
    """``run(C̄)`` with C̄, A and B recording their products (A and B restored after)."""
    import minigrad as mg
    up_t = mg.tensor(up)
    (tensors[0]._data, tensors[1]._data), (up_t._data,) = _recorded(a, b), _recorded(up)
    try:
        out, log = _run_recording(run, up_t)
    finally:
        tensors[0]._data, tensors[1]._data = a.copy(), b.copy()
    return out, log


# --------------------------------------------------------------------------- wrong answers
def _block_off_by_one(m, i, j, tile):
    return m[i * tile:(i + 1) * tile - 1, j * tile:(j + 1) * tile - 1]


def _block_rows_not_tiles(m, i, j, tile):
    return m[i:i + tile, j:j + tile]


def _block_no_return(m, i, j, tile):
    m[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile]


def _block_swapped(m, i, j, tile):
    return m[j * tile:(j + 1) * tile, i * tile:(i + 1) * tile]


def _tiled_floor(a, b, tile):
    """Off by one tile: range(m // T) skips the smaller tiles at the edges."""
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n))
    for i in range(m // tile):
        for j in range(n // tile):
            for t in range(k // tile):
                c[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile] += \
                    a[i * tile:(i + 1) * tile, t * tile:(t + 1) * tile] @ \
                    b[t * tile:(t + 1) * tile, j * tile:(j + 1) * tile]
    return c


def _tiled_good(a, b, tile):
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n))
    for i in range(_ceil(m, tile)):
        for j in range(_ceil(n, tile)):
            acc = np.zeros(c[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile].shape)
            for t in range(_ceil(k, tile)):
                acc += a[i * tile:(i + 1) * tile, t * tile:(t + 1) * tile] @ \
                    b[t * tile:(t + 1) * tile, j * tile:(j + 1) * tile]
            c[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile] = acc
    return c


def _tiled_untiled(a, b, tile):
    return a @ b


def _tiled_overwrites(a, b, tile):
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n))
    for i in range(_ceil(m, tile)):
        for j in range(_ceil(n, tile)):
            for t in range(_ceil(k, tile)):
                c[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile] = \
                    a[i * tile:(i + 1) * tile, t * tile:(t + 1) * tile] @ \
                    b[t * tile:(t + 1) * tile, j * tile:(j + 1) * tile]
    return c


def _tiled_full_on_copies(a, b, tile):
    """Every tile product taken, none used: the result is a plain product of copies."""
    _tiled_good(a, b, tile)
    return np.array(a) @ np.array(b)


def _tiled_on_asarray(a, b, tile):
    a, b = np.asarray(a), np.asarray(b, dtype=np.float64)
    return _tiled_good(a, b, tile)


def _tiled_einsum(a, b, tile):
    import math
    m, n = a.shape[0], b.shape[1]
    c = np.zeros((m, n))
    for i in range(math.ceil(m / tile)):
        for j in range(math.ceil(n / tile)):
            for t in range(math.ceil(a.shape[1] / tile)):
                rows, cols = slice(i * tile, (i + 1) * tile), slice(j * tile, (j + 1) * tile)
                inner = slice(t * tile, (t + 1) * tile)
                c[rows, cols] += np.einsum("ik,kj->ij", a[rows, inner], b[inner, cols])
    return c


def _backward_missing_transpose(a, b, c_bar, tile):
    return _tiled_good(c_bar, b, tile), _tiled_good(a.T, c_bar, tile)


def _backward_floor(a, b, c_bar, tile):
    return _tiled_floor(c_bar, b.T, tile), _tiled_floor(a.T, c_bar, tile)


def _backward_untiled(a, b, c_bar, tile):
    return c_bar @ b.T, a.T @ c_bar


def _backward_swapped(a, b, c_bar, tile):
    return _tiled_good(a.T, c_bar, tile), _tiled_good(c_bar, b.T, tile)


def _make_function(kind):
    import minigrad as mg

    class TiledMatMul(mg.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, tile):
            ctx.save_for_backward(a, b)
            ctx.tile = tile
            if kind == "untiled":
                return a._data @ b._data
            if kind == "copies":
                return np.asarray(a.detach().numpy()) @ np.array(b.detach().numpy())
            return _tiled_good(a._data, b._data, tile)

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            if kind == "numpy":
                g, an, bn = grad.detach().numpy(), a.detach().numpy(), b.detach().numpy()
                return (mg.tensor(_tiled_good(g, bn.T, ctx.tile)),
                        mg.tensor(_tiled_good(an.T, g, ctx.tile)), None)
            if kind == "numpy_untiled":
                g, an, bn = grad.detach().numpy(), a.detach().numpy(), b.detach().numpy()
                return mg.tensor(g @ bn.T), mg.tensor(an.T @ g), None
            if kind == "untiled_backward":
                return grad @ b.mT, a.mT @ grad, None
            if kind == "transpose":
                return (TiledMatMul.apply(grad, b, ctx.tile),
                        TiledMatMul.apply(a.mT, grad, ctx.tile), None)
            ga = TiledMatMul.apply(grad, b.mT, ctx.tile)
            gb = TiledMatMul.apply(a.mT, grad, ctx.tile)
            return (ga, gb) if kind == "count" else (ga, gb, None)
    return TiledMatMul


WRONG = {
    "08.1": [(_block_off_by_one, "Python slices exclude their"),
             (_block_rows_not_tiles, "count tiles, not rows"),
             (_block_no_return, "did you forget to return"),
             (_block_swapped, "i and j are swapped")],
    "08.2": [(_tiled_floor, "leaves out the edge tiles"),
             (_tiled_untiled, "every block is at most"),
             (_tiled_full_on_copies, "every block is at most"),
             (_tiled_overwrites, "not keep the last one (=)")],
    "08.3": [(_backward_missing_transpose, "missing transpose"),
             (_backward_floor, "leaves out the edge tiles"),
             (_backward_untiled, "every block is at most"),
             (_backward_swapped, "returned (B̄, Ā)")],
    "08.4": [(_make_function("transpose"), "missing transpose"),
             (_make_function("numpy"), "carry no graph"),
             (_make_function("count"), "returned 2 gradients but forward took 3"),
             (_make_function("untiled"), "every block is at most"),
             (_make_function("copies"), "TiledMatMul.forward: you multiplied"),
             (_make_function("numpy_untiled"), "TiledMatMul.backward: you multiplied"),
             (_make_function("untiled_backward"), "TiledMatMul.backward: you multiplied")],
}

RIGHT = {
    "08.2": [_tiled_good, _tiled_on_asarray, _tiled_einsum],
    "08.3": [lambda a, b, c_bar, tile: (_tiled_good(c_bar, np.asarray(b).T, tile),
                                       _tiled_good(np.array(a).T, c_bar, tile))],
    "08.4": [_make_function("right")],
}
"""Correct answers written differently from the solution notebook's: each must pass."""
