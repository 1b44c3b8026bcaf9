"""minigrad.course.memory: what each node saved, in bytes, checked against the tensors
themselves and against what torch saves for the same computation."""
import weakref

import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad.course.memory import (graph_nodes, saved_arrays, saved_bytes, total_saved_bytes,
                                    torch_saved_bytes)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def by_name(rows):
    out = {}
    for r in rows:
        out.setdefault(r.name, []).append(r)
    return out


def test_tanh_saves_its_output(rng):
    x = mg.tensor(rng.standard_normal((64, 32)), requires_grad=True)
    y = x.tanh()
    loss = y.sum()
    rows = by_name(saved_bytes(loss))
    assert rows["SumBackward"][0].nbytes == 0 and rows["SumBackward"][0].shapes == ()
    tanh = rows["TanhBackward"][0]
    assert tanh.shapes == ((64, 32),)
    assert tanh.nbytes == 64 * 32 * 8 == y.detach().numpy().nbytes
    # the saved output is y's very buffer, not a copy
    assert np.shares_memory(saved_arrays(tanh.node)[0], y.detach().numpy())


def test_matmul_saves_both_factors(rng):
    x = mg.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((3, 7)), requires_grad=True)
    rows = by_name(saved_bytes(x @ w))
    mm = rows["MatMulBackward"][0]
    assert mm.shapes == ((5, 3), (3, 7))
    assert mm.nbytes == x.detach().numpy().nbytes + w.detach().numpy().nbytes


def test_a_buffer_saved_twice_counts_once(rng):
    x = mg.tensor(rng.standard_normal((10, 10)), requires_grad=True)
    y = x * x                                       # MulBackward saves x twice
    assert saved_bytes(y)[0].shapes == ((10, 10), (10, 10))
    assert saved_bytes(y)[0].nbytes == x.detach().numpy().nbytes
    z = y * x + x.exp()                             # x again, in another node
    expected = x.detach().numpy().nbytes + y.detach().numpy().nbytes + x.exp().detach().numpy().nbytes  # x, y, exp(x)
    assert total_saved_bytes(z) == expected


def test_a_saved_view_keeps_its_base_alive(rng):
    base = mg.tensor(rng.standard_normal((8, 8)), requires_grad=True)
    h = base * 1.0
    v = h[:2]                                       # a view of h's buffer
    node = saved_bytes(v * v)[0]                    # MulBackward saved v twice
    assert node.shapes == ((2, 8), (2, 8))
    assert node.nbytes == h.detach().numpy().nbytes == 8 * 8 * 8


def test_no_grad_records_nothing(rng):
    x = mg.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    with mg.no_grad():
        y = (x @ x).tanh().sum()
    assert y.grad_fn is None
    assert saved_bytes(y) == [] and total_saved_bytes(y) == 0
    assert saved_bytes(x) == []                     # a leaf has no graph either


def test_backward_releases_and_retain_graph_keeps(rng):
    x = mg.tensor(rng.standard_normal((6, 4)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    loss = ((x @ w).tanh() * 2.0).sum()
    before = total_saved_bytes(loss)
    assert before > 0
    loss.backward(retain_graph=True)
    assert total_saved_bytes(loss) == before
    loss.backward()
    assert total_saved_bytes(loss) == 0
    assert all(r.nbytes == 0 for r in saved_bytes(loss))


def test_freed_intermediate_dies():
    x = mg.randn(3, 4, requires_grad=True)
    w = mg.randn(4, 2, requires_grad=True)
    h = (x * 2.0).tanh()
    out = (h @ w).sum()
    ref = weakref.ref(h)
    del h
    assert ref() is not None                        # MatMulBackward holds it
    out.backward()
    assert ref() is None


def test_graph_nodes_visits_each_node_once():
    x = mg.randn(3, requires_grad=True)
    a = x.exp()
    y = a * a + a.sin()                             # a diamond: a is used three times
    nodes = graph_nodes(y)
    assert nodes[0] is y.grad_fn
    assert len(nodes) == len({id(n) for n in nodes})
    names = [n.name() for n in nodes]
    assert names.count("ExpBackward") == 1 and names.count("AccumulateGrad") == 1


def test_exclude_parameters(rng):
    w = mg.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    x = mg.tensor(rng.standard_normal((9, 4)))
    loss = (x @ w).relu().sum()
    assert total_saved_bytes(loss) - total_saved_bytes(loss, exclude=[w]) == w.detach().numpy().nbytes


def _mlp(lib, x, ws):
    h = x
    for w in ws:
        h = lib.nn.functional.relu(h @ w)
    return (h * h).mean()


def test_activation_bytes_match_torch(rng):
    """minigrad and torch keep the same activations alive for an MLP (torch skips saving a
    weight whose partner needs no gradient, so parameters are left out of both counts)."""
    x = rng.standard_normal((32, 16))
    ws = [rng.standard_normal((16, 16)) for _ in range(3)]
    mws = [mg.tensor(w, requires_grad=True) for w in ws]
    tws = [torch.tensor(w, requires_grad=True) for w in ws]
    ours = total_saved_bytes(_mlp(mg, mg.tensor(x), mws), exclude=mws)
    _, theirs = torch_saved_bytes(lambda: _mlp(torch, torch.tensor(x), tws), exclude=tws)
    assert ours == theirs == (1 + 3) * 32 * 16 * 8   # the input, then one ReLU output per layer
