"""What a graph keeps alive: the tensors each node saved for its backward.

A node's VJP needs some values of the forward pass: ``MatMulBackward`` needs both factors
(X̄ = Ȳ·Wᵀ, W̄ = Xᵀ·Ȳ), ``TanhBackward`` its output (x̄ = ȳ·(1 − y²)), ``SumBackward``
nothing but a shape. ``ctx.save_for_backward`` stores them on the node, and they stay
alive as long as the graph does, or until ``backward()`` releases them::

    >>> import minigrad as mg
    >>> from minigrad.course.memory import saved_bytes
    >>> x = mg.randn(64, 32, requires_grad=True)
    >>> loss = x.tanh().sum()
    >>> [(m.name, m.nbytes) for m in saved_bytes(loss)]
    [('SumBackward', 0), ('TanhBackward', 8192), ('AccumulateGrad', 0)]

Bytes are counted per numpy *buffer*: a saved view keeps its whole base array alive, so it
counts the base; two nodes that saved the same buffer share it, and
:func:`total_saved_bytes` counts it once. Only what ``save_for_backward`` stored is counted;
a few ops keep a small array as a plain ``ctx`` attribute instead (an index, a target), and
those are not included.
"""
from collections import namedtuple

import numpy as np

__all__ = ["NodeMemory", "graph_nodes", "saved_arrays", "saved_bytes", "total_saved_bytes",
           "torch_saved_bytes"]

NodeMemory = namedtuple("NodeMemory", ["node", "name", "shapes", "nbytes"])
NodeMemory.__doc__ = """One node of a graph: its name, the shapes of what it saved, and the
bytes of the distinct buffers those saved tensors keep alive."""


def graph_nodes(tensor):
    """Every node reachable from ``tensor.grad_fn``, each once, in the order a walk from the
    output meets them (the output's node first). Leaves' ``AccumulateGrad`` nodes included."""
    if tensor.grad_fn is None:
        return []
    seen, order, stack = {id(tensor.grad_fn)}, [], [tensor.grad_fn]
    while stack:
        node = stack.pop(0)
        order.append(node)
        for child, _ in node.next_functions:
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return order


def saved_arrays(node):
    """The numpy arrays ``node`` saved with ``save_for_backward`` (empty once backward has
    released them, and for nodes that save nothing)."""
    out = []
    for entry in getattr(node, "_saved", ()) or ():
        if entry is None:
            continue
        t = entry[0]
        # a node that saved its own output stores (data, version counter, output_nr)
        data = t[0] if type(t) is tuple else t._data
        out.append(np.asarray(data))
    return out


def _buffer(a):
    """The array that owns ``a``'s memory: a view keeps its base alive."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _distinct_bytes(arrays, exclude_ids=()):
    buffers = {}
    for a in arrays:
        b = _buffer(a)
        if id(b) not in exclude_ids:
            buffers[id(b)] = b.nbytes
    return sum(buffers.values())


def saved_bytes(tensor):
    """One :class:`NodeMemory` per node of ``tensor``'s graph (see :func:`graph_nodes`):
    the node, its name, the shapes it saved and the bytes of the distinct buffers they keep
    alive. A tensor with no graph (a leaf, or a result computed under ``no_grad``) gives []."""
    rows = []
    for node in graph_nodes(tensor):
        arrays = saved_arrays(node)
        rows.append(NodeMemory(node, node.name(), tuple(tuple(a.shape) for a in arrays),
                               _distinct_bytes(arrays)))
    return rows


def total_saved_bytes(tensor, exclude=()):
    """The bytes kept alive by everything ``tensor``'s graph saved, each buffer counted once.

    ``exclude``: tensors whose buffers are not to be counted, typically the parameters
    (``model.parameters()``), which live on whether or not a graph saved them."""
    ids = {id(_buffer(np.asarray(t._data))) for t in exclude}
    arrays = [a for node in graph_nodes(tensor) for a in saved_arrays(node)]
    return _distinct_bytes(arrays, ids)


def torch_saved_bytes(fn, exclude=()):
    """Run ``fn()`` with torch and count the bytes of the distinct storages torch saved for
    backward while it ran (through ``torch.autograd.graph.saved_tensors_hooks``), leaving out
    the storages of ``exclude``. Returns ``(fn's result, bytes)``."""
    import torch

    skip = {t.untyped_storage().data_ptr() for t in exclude}
    storages = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in skip:
            storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        result = fn()
    return result, sum(storages.values())
