"""minigrad.course.tiling: tiled matmul vs numpy's @, its counts vs the analytic formulas,
its tiled backward vs torch.autograd (random upstream gradients), and the FlashAttention
helpers vs torch's softmax / scaled_dot_product_attention."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.course.tiling import (Traffic, block, flash_attention, flash_attention_backward,
                                    matmul_traffic, online_softmax, tiled_matmul,
                                    tiled_matmul_backward, tiled_mm)

SETTINGS = settings(max_examples=40, deadline=None, database=None)
dims = st.integers(1, 9)


def _rand(rng, *shape):
    return rng.standard_normal(shape)


# ------------------------------------------------------------------ forward and counts
@SETTINGS
@given(m=dims, k=dims, n=dims, tile=st.integers(1, 10), seed=st.integers(0, 2**32 - 1))
def test_tiled_matmul_matches_numpy_and_the_analytic_counts(m, k, n, tile, seed):
    rng = np.random.default_rng(seed)
    a, b = _rand(rng, m, k), _rand(rng, k, n)
    counted = Traffic()
    c = tiled_matmul(a, b, tile, counted)
    np.testing.assert_allclose(c, a @ b, rtol=1e-12, atol=1e-12)
    assert counted == matmul_traffic(m, k, n, tile)


def test_notes_example_blocks():
    """The notes' 4×4 example in 2×2 blocks (the products were worked out in the notes and
    are checked here against numpy as well)."""
    a = np.arange(1, 17).reshape(4, 4)
    b = np.repeat(np.arange(1, 5)[:, None], 4, axis=1)
    trace = []
    c = tiled_matmul(a, b, 2, trace=trace)
    products = dict(trace)
    assert np.array_equal(block(a, 0, 0, 2) @ block(b, 0, 0, 2), products[(0, 0, 0)])
    assert np.array_equal(products[(0, 0, 0)], [[5, 5], [17, 17]])
    assert np.array_equal(products[(0, 0, 1)], [[25, 25], [53, 53]])
    assert np.array_equal(block(c, 0, 0, 2), [[30, 30], [70, 70]])
    assert np.array_equal(c, a @ b)
    assert len(trace) == 8


def test_counts_limits_and_monotonicity():
    n = 16
    assert matmul_traffic(n, n, n, 1).loads == 2 * n ** 3            # untiled: 2 loads per FMA
    assert matmul_traffic(n, n, n, n).loads == 2 * n * n             # one tile: each matrix once
    loads = [matmul_traffic(n, n, n, t).loads for t in (1, 2, 4, 8, 16)]
    assert loads == [2 * n ** 3 // t for t in (1, 2, 4, 8, 16)]
    assert all(matmul_traffic(n, n, n, t).flops == 2 * n ** 3 for t in (1, 2, 4, 8, 16))
    assert matmul_traffic(n, n, n, 4).intensity > matmul_traffic(n, n, n, 2).intensity


def test_block_edges():
    m = np.arange(20).reshape(4, 5)
    assert np.array_equal(block(m, 1, 2, 2), m[2:4, 4:5])
    assert block(m, 0, 0, 10).shape == (4, 5)


@pytest.mark.parametrize("tile", [0, -1, 2.0, True])
def test_bad_tile(tile):
    with pytest.raises(ValueError, match="tile must be a positive integer"):
        tiled_matmul(np.ones((2, 2)), np.ones((2, 2)), tile)


def test_bad_shapes():
    with pytest.raises(ValueError, match=r"tiled_matmul: cannot multiply shapes \(2, 3\) and "
                                         r"\(2, 3\)"):
        tiled_matmul(np.ones((2, 3)), np.ones((2, 3)), 2)
    with pytest.raises(RuntimeError, match="tiled_mm: cannot multiply shapes"):
        tiled_mm(mg.ones(2, 3), mg.ones(2, 3), 2)
    with pytest.raises(ValueError, match="upstream gradient has shape"):
        tiled_matmul_backward(np.ones((2, 3)), np.ones((3, 4)), np.ones((2, 3)), 2)


# ------------------------------------------------------------------ backward
@SETTINGS
@given(m=dims, k=dims, n=dims, tile=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_tiled_backward_vs_torch(m, k, n, tile, seed):
    rng = np.random.default_rng(seed)
    a, b, c_bar = _rand(rng, m, k), _rand(rng, k, n), _rand(rng, m, n)
    at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (at @ bt).backward(torch.tensor(c_bar))
    counted = Traffic()
    a_bar, b_bar = tiled_matmul_backward(a, b, c_bar, tile, counted)
    np.testing.assert_allclose(a_bar, at.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b_bar, bt.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert counted.flops == 2 * matmul_traffic(m, k, n, tile).flops

    am = mg.tensor(a, requires_grad=True)
    bm = mg.tensor(b, requires_grad=True)
    y = tiled_mm(am, bm, tile)
    assert y.grad_fn.name() == "TiledMatMulBackward"
    y.backward(mg.tensor(c_bar))
    np.testing.assert_allclose(am.grad.numpy(), at.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bm.grad.numpy(), bt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_tiled_mm_finite_differences_and_second_order():
    rng = np.random.default_rng(3)
    a = mg.tensor(_rand(rng, 5, 3), requires_grad=True)
    b = mg.tensor(_rand(rng, 3, 4), requires_grad=True)
    assert mg.testing.gradcheck(lambda a, b: tiled_mm(a, b, 2), (a, b))
    # second order: d/dB of <Ā, U> where Ā = C̄·Bᵀ, vs torch
    c_bar, u = _rand(rng, 5, 4), _rand(rng, 5, 3)
    ga, = mg.autograd.grad(tiled_mm(a, b, 2), a, mg.tensor(c_bar), create_graph=True)
    (ga * mg.tensor(u)).sum().backward()
    at = torch.tensor(a.detach().numpy(), requires_grad=True)
    bt = torch.tensor(b.detach().numpy(), requires_grad=True)
    gt, = torch.autograd.grad(at @ bt, at, torch.tensor(c_bar), create_graph=True)
    (gt * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), bt.grad.numpy(), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ FlashAttention helpers
@pytest.mark.parametrize("block_size", [1, 3, 4, 50])
def test_online_softmax_vs_torch(block_size):
    rng = np.random.default_rng(block_size)
    x = _rand(rng, 2, 5, 11) * 40          # large logits: needs the running-max rescaling
    x[0, 0, 7] = 900.0
    expected = torch.softmax(torch.tensor(x), dim=-1).numpy()
    np.testing.assert_allclose(online_softmax(x, block_size), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n_q, n_k, block_size", [(7, 7, 3), (5, 9, 2), (4, 4, 4), (6, 3, 10)])
def test_flash_attention_vs_torch(n_q, n_k, block_size):
    rng = np.random.default_rng(n_q * 100 + n_k)
    q, k, v = _rand(rng, 2, n_q, 4), _rand(rng, 2, n_k, 4), _rand(rng, 2, n_k, 5)
    o_bar = _rand(rng, 2, n_q, 5)
    qt, kt, vt = (torch.tensor(t, requires_grad=True) for t in (q, k, v))
    ot = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt)
    ot.backward(torch.tensor(o_bar))
    out, lse = flash_attention(q, k, v, block_size)
    np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-12, atol=1e-12)
    lse_t = torch.logsumexp(qt.detach() @ kt.detach().mT / 2.0, dim=-1).numpy()
    np.testing.assert_allclose(lse, lse_t, rtol=1e-12, atol=1e-12)
    grads = flash_attention_backward(q, k, v, out, lse, o_bar, block_size)
    for g, t in zip(grads, (qt, kt, vt)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_flash_attention_bad_shapes():
    with pytest.raises(ValueError, match="flash_attention: query"):
        flash_attention(np.ones((3, 4)), np.ones((3, 5)), np.ones((3, 5)), 2)
