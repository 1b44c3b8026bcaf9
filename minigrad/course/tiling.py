"""Tiled matrix multiplication, its tiled backward, what it costs, and where it leads
(FlashAttention): the helpers of the chapter on tiling.

The picture is a machine with two memories: a large, slow one that holds the matrices, and
a small, fast one where arithmetic happens. Cut A (m×k), B (k×n) and C = A·B into T×T tiles
(edge tiles may be smaller) and compute one tile of C at a time::

    C_ij = Σ_t A_it · B_tj

Each term loads one tile of A and one of B from slow memory and does a small product in fast
memory; C_ij stays in fast memory until its sum is complete and is then stored once. The
floating-point work does not depend on T (2·m·n·k: one multiply and one add per term), but
the number of elements loaded does::

    loads(T) = m·k·⌈n/T⌉ + k·n·⌈m/T⌉        (A is read once per column of tiles of C,
                                              B once per row of tiles of C)

For square n×n matrices that is 2n³/T: tiles T times larger, T times less traffic, and
``flops / loads`` (the arithmetic intensity) grows like T. The limit on T is the fast memory,
which must hold about 3·T² numbers (a tile of A, a tile of B and the tile of C).

The backward of C = A·B is two more matrix products, Ā = C̄·Bᵀ and B̄ = Aᵀ·C̄, so it is tiled
in exactly the same way (:func:`tiled_matmul_backward`, and the autograd op
:class:`TiledMatMul`).

The same trick applied to attention, O = softmax(Q·Kᵀ/√d)·V, is FlashAttention: work on
tiles of Q, K and V, never store the n×n matrix of scores, and normalise the softmax on the
fly with a running maximum and a running sum (:func:`online_softmax`,
:func:`flash_attention`, :func:`flash_attention_backward`).
"""
import math
from dataclasses import dataclass

import numpy as np

from ..autograd import Function

__all__ = ["Traffic", "block", "tiled_matmul", "matmul_traffic", "tiled_matmul_backward",
           "TiledMatMul", "tiled_mm", "online_softmax", "flash_attention",
           "flash_attention_backward"]


@dataclass
class Traffic:
    """What a tiled computation did, counted as it ran (or predicted by a formula).

    flops:         floating-point operations (a multiply-add counts 2)
    loads:         numbers read from slow memory
    stores:        numbers written to slow memory
    tile_products: how many tile-by-tile products were computed"""
    flops: int = 0
    loads: int = 0
    stores: int = 0
    tile_products: int = 0

    @property
    def intensity(self):
        """Arithmetic intensity: flops per number moved between slow and fast memory."""
        moved = self.loads + self.stores
        return self.flops / moved if moved else float("inf")


def _check_tile(tile, op):
    if not isinstance(tile, (int, np.integer)) or isinstance(tile, bool) or tile < 1:
        raise ValueError(f"{op}: tile must be a positive integer (the side of a square tile), "
                         f"got {tile!r}.")


def block(m, i, j, tile):
    """Tile (i, j) of matrix ``m``: rows i·T … (i+1)·T − 1, columns j·T … (j+1)·T − 1
    (smaller at the bottom and right edges). ``block(A, 0, 1, 2)`` is the notes' A₀₁."""
    _check_tile(tile, "block")
    return m[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile]


def tiled_matmul(a, b, tile, traffic=None, trace=None):
    """C = A·B for 2-D numpy arrays, computed one T×T tile of C at a time.

    For every tile (i, j) of C, an accumulator in "fast memory" receives A_it·B_tj for
    t = 0, 1, …; then it is written to C. If ``traffic`` (a :class:`Traffic`) is given, every
    load, store and flop is counted into it. If ``trace`` (a list) is given, each tile product
    is appended to it as ``((i, j, t), A_it·B_tj)`` — how the chapter prints the notes'
    A₀₀·B₀₀ and A₀₁·B₁₀."""
    _check_tile(tile, "tiled_matmul")
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"tiled_matmul: cannot multiply shapes {a.shape} and {b.shape}: both "
                         f"must be matrices, and the columns of the first ({a.shape[-1]}) must "
                         f"equal the rows of the second ({b.shape[0]}).")
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=np.result_type(a, b))
    for i in range(-(-m // tile)):
        for j in range(-(-n // tile)):
            acc = np.zeros(block(c, i, j, tile).shape, dtype=c.dtype)    # in fast memory
            for t in range(-(-k // tile)):
                a_it, b_tj = block(a, i, t, tile), block(b, t, j, tile)  # loaded from slow
                prod = a_it @ b_tj
                acc += prod
                if traffic is not None:
                    traffic.loads += a_it.size + b_tj.size
                    traffic.flops += 2 * a_it.shape[0] * a_it.shape[1] * b_tj.shape[1]
                    traffic.tile_products += 1
                if trace is not None:
                    trace.append(((i, j, t), prod))
            block(c, i, j, tile)[...] = acc                              # stored once
            if traffic is not None:
                traffic.stores += acc.size
    return c


def matmul_traffic(m, k, n, tile):
    """The analytic :class:`Traffic` of ``tiled_matmul`` for (m×k)·(k×n) with T×T tiles:

    flops = 2·m·n·k,   loads = m·k·⌈n/T⌉ + k·n·⌈m/T⌉,   stores = m·n,
    tile_products = ⌈m/T⌉·⌈n/T⌉·⌈k/T⌉.

    T = 1 is the untiled triple loop (every multiply-add loads its two operands:
    loads = 2·m·n·k); T ≥ max(m, n) loads each matrix exactly once (loads = m·k + k·n)."""
    _check_tile(tile, "matmul_traffic")
    cm, cn, ck = -(-m // tile), -(-n // tile), -(-k // tile)
    return Traffic(flops=2 * m * n * k, loads=m * k * cn + k * n * cm, stores=m * n,
                   tile_products=cm * cn * ck)


def tiled_matmul_backward(a, b, c_bar, tile, traffic=None):
    """The VJP of C = A·B, each half itself a tiled matmul: Ā = C̄·Bᵀ,  B̄ = Aᵀ·C̄.

    Returns (Ā, B̄). With ``traffic``, both products are counted into it: the backward costs
    twice the forward's flops."""
    c_bar = np.asarray(c_bar)
    m, n = np.shape(a)[0], np.shape(b)[1]
    if c_bar.shape != (m, n):
        raise ValueError(f"tiled_matmul_backward: the upstream gradient has shape {c_bar.shape} "
                         f"but C = A·B has shape {(m, n)}; a gradient has its variable's shape.")
    a_bar = tiled_matmul(c_bar, np.asarray(b).T, tile, traffic)
    b_bar = tiled_matmul(np.asarray(a).T, c_bar, tile, traffic)
    return a_bar, b_bar


class TiledMatMul(Function):
    """Y = A·B computed tile by tile, as a minigrad op (node ``TiledMatMulBackward``).

    VJP: Ā = Ȳ·Bᵀ and B̄ = Aᵀ·Ȳ, each computed by this same op, so the backward is tiled
    too, and it is itself a graph (``create_graph=True`` gives second derivatives).
    Saves A and B."""

    @staticmethod
    def forward(ctx, a, b, tile):
        ctx.save_for_backward(a, b)
        ctx.tile = tile
        return tiled_matmul(a._data, b._data, tile)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad[:2]
        ga = TiledMatMul.apply(grad, b.mT, ctx.tile) if na else None
        gb = TiledMatMul.apply(a.mT, grad, ctx.tile) if nb else None
        return ga, gb, None


def tiled_mm(a, b, tile):
    """``a @ b`` for 2-D minigrad tensors, forward and backward computed in T×T tiles."""
    _check_tile(tile, "tiled_mm")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise RuntimeError(f"tiled_mm: cannot multiply shapes {tuple(a.shape)} and "
                           f"{tuple(b.shape)}: both must be matrices, and the columns of the "
                           f"first must equal the rows of the second.")
    return TiledMatMul.apply(a, b, tile)


# ------------------------------------------------------------------ towards FlashAttention
def online_softmax(x, block_size):
    """Row-wise softmax of a numpy array (last axis), reading each row in blocks of columns.

    One pass keeps, per row, the running maximum m and the running sum l = Σ e^(xⱼ − m) of
    the columns seen so far; when a block raises the maximum from m to m', the old sum is
    rescaled by e^(m − m') so that it is again relative to m'. A second pass writes
    e^(xⱼ − m)/l. No step needs a whole row at once."""
    _check_tile(block_size, "online_softmax")
    x = np.asarray(x)
    m = np.full(x.shape[:-1] + (1,), -np.inf)
    l = np.zeros(x.shape[:-1] + (1,))
    for j in range(0, x.shape[-1], block_size):
        xj = x[..., j:j + block_size]
        m_new = np.maximum(m, xj.max(axis=-1, keepdims=True))
        l = l * np.exp(m - m_new) + np.exp(xj - m_new).sum(axis=-1, keepdims=True)
        m = m_new
    return np.exp(x - m) / l


def flash_attention(q, k, v, block_size):
    """O = softmax(Q·Kᵀ/√d)·V on numpy arrays (…, n, d), FlashAttention's way.

    For each block of queries, the blocks of keys and values are visited one at a time; the
    scores S_ij = Q_i·K_jᵀ/√d of a single block pair are the only scores that ever exist.
    With a running row maximum m, running sum l and unnormalised output O_i, a new block does

        m' = max(m, rowmax S_ij),  P = e^(S_ij − m'),
        l = e^(m − m')·l + rowsum P,   O_i = e^(m − m')·O_i + P·V_j,

    and at the end O_i / l is the exact softmax-weighted average. Returns (O, lse) where
    lse = m + log l is the log-sum-exp of each row of scores: all the backward needs to
    rebuild any block of A without storing A."""
    _check_tile(block_size, "flash_attention")
    q, k, v = (np.asarray(t) for t in (q, k, v))
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"flash_attention: query {q.shape}, key {k.shape} and value {v.shape} "
                         f"do not fit: query and key need the same last dimension, key and "
                         f"value the same sequence length.")
    scale = 1 / math.sqrt(q.shape[-1])
    n_q, n_k = q.shape[-2], k.shape[-2]
    out = np.zeros(q.shape[:-1] + v.shape[-1:])
    lse = np.zeros(q.shape[:-1])
    for i in range(0, n_q, block_size):
        qi = q[..., i:i + block_size, :]
        m = np.full(qi.shape[:-1] + (1,), -np.inf)
        l = np.zeros(qi.shape[:-1] + (1,))
        oi = np.zeros(qi.shape[:-1] + v.shape[-1:])
        for j in range(0, n_k, block_size):
            s = qi @ np.swapaxes(k[..., j:j + block_size, :], -1, -2) * scale
            m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
            p = np.exp(s - m_new)
            rescale = np.exp(m - m_new)
            l = rescale * l + p.sum(axis=-1, keepdims=True)
            oi = rescale * oi + p @ v[..., j:j + block_size, :]
            m = m_new
        out[..., i:i + block_size, :] = oi / l
        lse[..., i:i + block_size] = (m + np.log(l))[..., 0]
    return out, lse


def flash_attention_backward(q, k, v, out, lse, o_bar, block_size):
    """The backward of :func:`flash_attention`, block by block, never storing A.

    Each block of attention weights is rebuilt from the saved log-sum-exp,
    A_ij = e^(S_ij − lse_i), and the notes' formulas are applied to it:

        V̄_j += A_ijᵀ·Ō_i,   Ā_ij = Ō_i·V_jᵀ,   S̄_ij = A_ij ⊙ (Ā_ij − D_i) / √d,
        Q̄_i += S̄_ij·K_j,    K̄_j += S̄_ijᵀ·Q_i,

    where D_i = rowsum(Ō_i ⊙ O_i) replaces the softmax backward's rowsum(Ā ⊙ A) over a whole
    row: the two are equal because Σⱼ Āᵢⱼ Aᵢⱼ = Σⱼ (Ōᵢ·Vⱼ) Aᵢⱼ = Ōᵢ·Oᵢ.
    Returns (Q̄, K̄, V̄)."""
    _check_tile(block_size, "flash_attention_backward")
    q, k, v, out, o_bar = (np.asarray(t) for t in (q, k, v, out, o_bar))
    scale = 1 / math.sqrt(q.shape[-1])
    d_row = (o_bar * out).sum(axis=-1, keepdims=True)
    q_bar, k_bar, v_bar = np.zeros(q.shape), np.zeros(k.shape), np.zeros(v.shape)
    for j in range(0, k.shape[-2], block_size):
        kj, vj = k[..., j:j + block_size, :], v[..., j:j + block_size, :]
        for i in range(0, q.shape[-2], block_size):
            qi, ob = q[..., i:i + block_size, :], o_bar[..., i:i + block_size, :]
            a = np.exp(qi @ np.swapaxes(kj, -1, -2) * scale - lse[..., i:i + block_size, None])
            v_bar[..., j:j + block_size, :] += np.swapaxes(a, -1, -2) @ ob
            s_bar = a * (ob @ np.swapaxes(vj, -1, -2) - d_row[..., i:i + block_size, :]) * scale
            q_bar[..., i:i + block_size, :] += s_bar @ kj
            k_bar[..., j:j + block_size, :] += np.swapaxes(s_bar, -1, -2) @ qi
    return q_bar, k_bar, v_bar
