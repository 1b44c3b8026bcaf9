"""minigrad.course.attention: the by-hand numpy backward of attention vs torch.autograd, the
library-agnostic multi-head attention on minigrad vs torch (and vs torch's own
nn.MultiheadAttention), the head split, and the graph printer."""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.course.attention import (grad_fn_tree, merge_heads, multi_head_attention,
                                       sdpa_backward, sdpa_forward, softmax, softmax_backward,
                                       split_heads)

TOL = dict(rtol=1e-10, atol=1e-12)


def _rand(rng, *shape):
    return rng.standard_normal(shape)


def test_softmax_backward_vs_torch():
    rng = np.random.default_rng(0)
    s, a_bar = _rand(rng, 3, 4, 5), _rand(rng, 3, 4, 5)
    st_ = torch.tensor(s, requires_grad=True)
    torch.softmax(st_, -1).backward(torch.tensor(a_bar))
    np.testing.assert_allclose(softmax(s), torch.softmax(torch.tensor(s), -1).numpy(), **TOL)
    np.testing.assert_allclose(softmax_backward(softmax(s), a_bar), st_.grad.numpy(), **TOL)


@pytest.mark.parametrize("shape_q, shape_k, d_v", [((3, 4), (3, 4), 4), ((2, 5, 3), (2, 6, 3), 2)])
def test_sdpa_by_hand_vs_torch(shape_q, shape_k, d_v):
    rng = np.random.default_rng(1)
    q, k = _rand(rng, *shape_q), _rand(rng, *shape_k)
    v = _rand(rng, *shape_k[:-1], d_v)
    o_bar = _rand(rng, *shape_q[:-1], d_v)
    qt, kt, vt = (torch.tensor(t, requires_grad=True) for t in (q, k, v))
    ot = TF.scaled_dot_product_attention(qt, kt, vt)
    ot.backward(torch.tensor(o_bar))
    o, a = sdpa_forward(q, k, v)
    np.testing.assert_allclose(o, ot.detach().numpy(), **TOL)
    for g, t in zip(sdpa_backward(q, k, v, a, o_bar), (qt, kt, vt)):
        np.testing.assert_allclose(g, t.grad.numpy(), **TOL)


def test_sdpa_forward_bad_shapes():
    with pytest.raises(ValueError, match="sdpa_forward: query"):
        sdpa_forward(np.ones((3, 4)), np.ones((3, 5)), np.ones((3, 4)))


def test_split_heads_is_column_blocks_on_both_libraries():
    q = np.arange(24.0).reshape(3, 8)
    for lib in (mg, torch):
        heads = split_heads(lib.tensor(q), 2)
        assert tuple(heads.shape) == (2, 3, 4)
        np.testing.assert_array_equal(heads[0].numpy(), q[:, :4])
        np.testing.assert_array_equal(heads[1].numpy(), q[:, 4:])
        np.testing.assert_array_equal(merge_heads(heads).numpy(), q)
    with pytest.raises(ValueError, match="d_model = 8 .* not divisible by num_heads = 3"):
        split_heads(mg.tensor(q), 3)
    with pytest.raises(ValueError, match="merge_heads: expected"):
        merge_heads(mg.tensor(q))


def _params(rng, d_model):
    return [_rand(rng, d_model, d_model) for _ in range(4)] + [_rand(rng, d_model) for _ in range(4)]


@pytest.mark.parametrize("batch", [(), (2,)])
def test_multi_head_attention_minigrad_vs_torch(batch):
    rng = np.random.default_rng(2)
    n, d_model, h = 3, 8, 2
    x, params = _rand(rng, *batch, n, d_model), _params(rng, d_model)
    upstream = _rand(rng, *batch, n, d_model)
    results = []
    for lib, fn in ((mg, F), (torch, TF)):
        leaves = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in [x] + params]
        w, b = leaves[1:5], leaves[5:]
        out = multi_head_attention(leaves[0], *w, h, fn, *b)
        out.backward(lib.tensor(upstream, dtype=lib.float64))
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in leaves])
    for ours, ref in zip(*results):
        np.testing.assert_allclose(ours, ref, **TOL)


def test_multi_head_attention_vs_torch_nn_multiheadattention():
    """torch's own layer stores the transposed weights (nn.Linear's convention)."""
    rng = np.random.default_rng(4)
    n, d_model, h = 3, 8, 2
    x, (wq, wk, wv, wo, bq, bk, bv, bo) = _rand(rng, n, d_model), _params(rng, d_model)
    upstream = _rand(rng, n, d_model)
    layer = torch.nn.MultiheadAttention(d_model, h, bias=True, batch_first=True,
                                        dtype=torch.float64)
    with torch.no_grad():
        layer.in_proj_weight.copy_(torch.tensor(np.concatenate([wq.T, wk.T, wv.T])))
        layer.in_proj_bias.copy_(torch.tensor(np.concatenate([bq, bk, bv])))
        layer.out_proj.weight.copy_(torch.tensor(wo.T))
        layer.out_proj.bias.copy_(torch.tensor(bo))
    xt = torch.tensor(x[None], requires_grad=True)
    ref, _ = layer(xt, xt, xt, need_weights=False)
    ref.backward(torch.tensor(upstream[None]))
    leaves = [mg.tensor(a, requires_grad=True) for a in (x, wq, wk, wv, wo, bq, bk, bv, bo)]
    out = multi_head_attention(leaves[0], *leaves[1:5], h, F, *leaves[5:])
    out.backward(mg.tensor(upstream))
    np.testing.assert_allclose(out.detach().numpy(), ref[0].detach().numpy(), **TOL)
    np.testing.assert_allclose(leaves[0].grad.numpy(), xt.grad[0].numpy(), **TOL)
    w_in = layer.in_proj_weight.grad.numpy()
    for i, leaf in enumerate(leaves[1:4]):
        np.testing.assert_allclose(leaf.grad.numpy(), w_in[i * d_model:(i + 1) * d_model].T, **TOL)
    np.testing.assert_allclose(leaves[4].grad.numpy(), layer.out_proj.weight.grad.numpy().T, **TOL)
    b_in = layer.in_proj_bias.grad.numpy()
    for i, leaf in enumerate(leaves[5:8]):
        np.testing.assert_allclose(leaf.grad.numpy(), b_in[i * d_model:(i + 1) * d_model], **TOL)
    np.testing.assert_allclose(leaves[8].grad.numpy(), layer.out_proj.bias.grad.numpy(), **TOL)


def test_grad_fn_tree():
    for lib in (mg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        y = (x * w + x).sum()
        lines = grad_fn_tree(y, {x: "x", w: "w"})
        assert [re.sub(r"Backward\d+", "Backward", line) for line in lines] == [
            "SumBackward",
            "  AddBackward",
            "    MulBackward",
            "      AccumulateGrad (x)",
            "      AccumulateGrad (w)",
            "    AccumulateGrad (x) (↑ seen)",
        ]
    with pytest.raises(ValueError, match="has no grad_fn"):
        grad_fn_tree(mg.tensor([1.0]))
