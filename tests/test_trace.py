"""minigrad.trace: the record of backward, step by step, against torch.

The network is the four-layer example of the notes (chapter "computational graph"):

    h1 = W1 x + b1,  h2 = ReLU(h1),  h3 = W2 h2 + b2,  ŷ = W3 h3 + b3,  L = (ŷ − y)²

with W1, W2 2×2, W3 1×2. Every gradient the trace recorded — what arrived at each node and
what it sent to each input — is compared with torch's gradient of the same tensor (torch
keeps them for intermediate tensors through ``retain_grad``).
"""
import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad.autograd import AccumulateGrad, BackwardNode, _Mode
from minigrad.trace import trace

ATOL, RTOL = 1e-12, 1e-10


def four_layer(lib, loss="mse", seed=0):
    """The notes' network in float64. b1 is chosen so that h1 has one positive and one
    negative unit: the ReLU then passes one gradient and blocks the other.

    Returns (L, params, tensors) with tensors the intermediates by name."""
    F = lib.nn.functional
    rng = np.random.default_rng(seed)
    x = rng.normal(size=2)
    W1 = rng.normal(size=(2, 2))
    b1 = -W1 @ x + np.array([0.7, -0.4])
    vals = {"W1": W1, "b1": b1, "W2": rng.normal(size=(2, 2)), "b2": rng.normal(size=2),
            "W3": rng.normal(size=(1, 2)), "b3": rng.normal(size=1)}
    P = {k: lib.tensor(v, dtype=lib.float64, requires_grad=True) for k, v in vals.items()}
    x, y = lib.tensor(x, dtype=lib.float64), lib.tensor([0.3], dtype=lib.float64)
    h1 = F.linear(x, P["W1"], P["b1"])
    h2 = F.relu(h1)
    h3 = F.linear(h2, P["W2"], P["b2"])
    yhat = F.linear(h3, P["W3"], P["b3"])
    if loss == "mse":
        L = F.mse_loss(yhat, y, reduction="sum")
        T = {"h1": h1, "h2": h2, "h3": h3, "yhat": yhat}
    else:
        d = yhat - y
        L = d ** 2
        T = {"h1": h1, "h2": h2, "h3": h3, "yhat": yhat, "d": d}
    return L, P, T


def n_backward_nodes(t):
    seen, stack, n = set(), [t.grad_fn], 0
    while stack:
        node = stack.pop()
        if id(node) in seen or isinstance(node, AccumulateGrad):
            continue
        seen.add(id(node))
        assert isinstance(node, BackwardNode)
        n += 1
        stack.extend(e[0] for e in node._edges if e is not None)
    return n


def upstream(L, seed=1):
    return np.random.default_rng(seed).normal(size=tuple(L.shape))


@pytest.mark.parametrize("loss", ["mse", "square"])
def test_four_layer_steps_match_torch(loss):
    L, P, T = four_layer(mg, loss)
    Lt, Pt, Tt = four_layer(torch, loss)
    for t in Tt.values():
        t.retain_grad()
    u = upstream(L)
    with trace(P, values=True) as t:
        L.backward(mg.tensor(u))
    Lt.backward(torch.tensor(u))

    assert len(t) == n_backward_nodes(L)
    expected = (["MseLossBackward"] if loss == "mse" else ["PowBackward", "SubBackward"]) + \
        ["LinearBackward", "LinearBackward", "ReluBackward", "LinearBackward"]
    assert [s.name for s in t] == expected          # the notes' order: loss, W3, W2, ReLU, W1
    assert [s.index for s in t] == list(range(len(t)))

    # which minigrad tensor each node produced, and the torch twin of each tensor
    made_by = {id(L.grad_fn): ("L", L)}
    made_by.update({id(v.grad_fn): (k, v) for k, v in T.items()})
    twin = dict(Tt, L=Lt)
    params_t = {id(P[k]): Pt[k] for k in P}
    for step in t:
        name, out = made_by[id(step.node)]
        assert step.grads_in == [tuple(out.shape)]
        want_in = u if name == "L" else twin[name].grad.numpy()
        np.testing.assert_allclose(step.values_in[0], want_in, atol=ATOL, rtol=RTOL,
                                   err_msg=f"step {step.index} ({step.name}) grad in")
        for s in step.sent:
            if s.leaf is not None:
                want, shape = params_t[id(s.leaf)].grad.numpy(), tuple(s.leaf.shape)
            else:
                k, tensor = made_by[id(s.to)]
                want, shape = twin[k].grad.numpy(), tuple(tensor.shape)
            assert s.shape == shape
            np.testing.assert_allclose(s.value, want, atol=ATOL, rtol=RTOL,
                                       err_msg=f"step {step.index} ({step.name}) arg {s.arg}")
    # the ReLU passed the gradient of its positive unit only
    relu = next(s for s in t if s.name == "ReluBackward")
    assert relu.sent[0].value[1] == 0 and relu.sent[0].value[0] != 0
    # every parameter's gradient reached it once, and equals .grad and torch
    leaves = t.leaf_grads()
    assert [e[0] for e in leaves] == ["W3", "b3", "W2", "b2", "W1", "b1"]
    for name, leaf, shape, steps, value in leaves:
        assert leaf is P[name] and shape == tuple(P[name].shape) and len(steps) == 1
        np.testing.assert_allclose(value, P[name].grad.detach().numpy(), atol=ATOL, rtol=RTOL)
        np.testing.assert_allclose(value, Pt[name].grad.numpy(), atol=ATOL, rtol=RTOL)


def test_steps_run_after_every_node_that_feeds_them():
    L, P, _ = four_layer(mg, "square")
    with trace() as t:
        L.backward(mg.tensor(upstream(L)))
    when = {id(s.node): s.index for s in t}
    for s in t:
        for sent in s.sent:
            if sent.leaf is None:
                assert when[id(sent.to)] > s.index


def test_table_is_stable_and_readable():
    def run():
        L, P, _ = four_layer(mg)
        with trace(P, values=True) as t:
            L.backward(mg.tensor(upstream(L)))
        return t
    t1, t2 = run(), run()
    text = t1.table()
    assert text == t2.table() == str(t1)
    assert "0x" not in text
    lines = text.split("\n")
    assert lines[0].split() == ["step", "node", "grad", "in", "grad", "out", "→", "to"]
    step_rows = [ln for ln in lines[1:] if ln[:4].strip().isdigit()]
    assert [int(r.split()[0]) for r in step_rows] == list(range(len(t1)))
    for s in t1:
        assert s.name in step_rows[s.index]
    assert "→ ReluBackward [3]" in text and "→ W1" in text and "→ b3" in text
    # the value printed for W3 is the gradient rounded to 4 decimals
    w3 = next(s for s in t1[1].sent if s.leaf is not None and s.shape == (1, 2)).value
    assert f"{round(w3[0, 1], 4)}"[:6] in text
    # shapes only, on request or when values were not kept
    short = t1.table(values=False)
    assert "[" not in short.split("\n")[1].split("→")[0].split("MseLossBackward")[1]
    with trace() as t3:
        four_layer(mg)[0].backward(mg.tensor(1.5))
    with pytest.raises(ValueError, match="values"):
        t3.table(values=True)
    assert "leaf0" in t3.table()          # unnamed leaves are numbered in order of arrival


def test_observer_removed_when_backward_raises():
    class Boom(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.detach().numpy() * 1.0

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("boom")

    before = list(_Mode.observers)
    x = mg.randn(3, requires_grad=True)
    y = Boom.apply(x * 2).sum()
    with pytest.raises(ValueError, match="boom"):
        with trace() as t:
            y.backward()
    assert _Mode.observers == before
    assert [s.name for s in t] == ["SumBackward"]      # what ran before the failure
    # a second backward through freed buffers raises too, and the observer still goes
    L, P, _ = four_layer(mg)
    L.backward(mg.tensor(0.5))
    with pytest.raises(RuntimeError):
        with trace():
            L.backward(mg.tensor(0.5))
    assert _Mode.observers == before


def test_nested_traces_both_record():
    before = list(_Mode.observers)
    L, P, _ = four_layer(mg)
    with trace() as outer:
        with trace() as inner:
            L.backward(mg.tensor(upstream(L)), retain_graph=True)
        assert _Mode.observers == before + [outer._observer]
        L.backward(mg.tensor(upstream(L)))
    assert len(inner) == 5 and len(outer) == 10
    assert [s.name for s in outer[:5]] == [s.name for s in inner]
    assert _Mode.observers == before


def test_trace_around_autograd_grad():
    L, P, _ = four_layer(mg)
    names = ["W1", "b2"]
    with trace(P, values=True) as t:
        gW1, gb2 = mg.autograd.grad(L, [P[n] for n in names], grad_outputs=mg.tensor(0.7))
    assert P["W1"].grad is None                         # grad() does not accumulate
    got = {e[0]: e[4] for e in t.leaf_grads()}
    np.testing.assert_allclose(got["W1"], gW1.detach().numpy(), atol=ATOL)
    np.testing.assert_allclose(got["b2"], gb2.detach().numpy(), atol=ATOL)
    assert len(t) == n_backward_nodes(L)


def test_a_leaf_used_twice_sums_two_contributions():
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(3,))
    u = rng.normal(size=(3,))
    w, wt = mg.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    out, out_t = w * w.exp() + w.sin(), wt * wt.exp() + wt.sin()
    with trace({"w": w}, values=True) as t:
        out.backward(mg.tensor(u))
    out_t.backward(torch.tensor(u))
    (name, leaf, shape, steps, value), = t.leaf_grads()
    assert name == "w" and len(steps) == 3               # from Mul (w), Exp and Sin
    np.testing.assert_allclose(value, wt.grad.numpy(), atol=ATOL, rtol=RTOL)
    assert "w  (3,)  from steps" in t.table()


def test_multi_output_node_reports_every_incoming_gradient():
    x = mg.randn(2, 6, requires_grad=True)
    a, b, c = x.split(2, dim=-1)
    y = (a * b).sum()                                   # c unused: its gradient is zeros
    with trace(values=True) as t:
        y.backward(mg.tensor(upstream(y)))
    split = next(s for s in t if s.name.startswith("Split"))
    assert split.grads_in == [(2, 2), (2, 2), (2, 2)]
    np.testing.assert_array_equal(split.values_in[2], np.zeros((2, 2)))
    np.testing.assert_allclose(split.sent[0].value, x.grad.detach().numpy())
