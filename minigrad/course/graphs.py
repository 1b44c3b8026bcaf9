"""Reading and walking the backward graph, in minigrad and in PyTorch alike.

A tensor made by an operation points to its node, ``grad_fn``; every node points to the
nodes of its inputs through ``next_functions`` (``(node, output_nr)`` pairs, ``(None, 0)``
for an input that needs no gradient); a leaf that requires grad is reached through an
``AccumulateGrad`` node that holds it in ``.variable``. Those few names exist in both
libraries, so everything here works on a minigrad tensor and on a torch tensor::

    print_graph(loss, params={"W": W, "b": b})           # the graph as an indented tree
    grad_fn_chain(loss)                                  # the node names, output first
    print_graph_pair(loss_mg, loss_torch, P_mg, P_torch) # minigrad and torch side by side
    walk = walk_backward(loss, params={"W": W, "b": b})  # backward by hand, node by node
    walk.grads["W"]                                      # what .backward() would put in W.grad

``params`` is a dict name -> tensor, as for :func:`minigrad.viz.draw` and
:class:`minigrad.trace.trace`; it only gives the leaves their names.
"""
import importlib

import numpy as np

from .lang import pad, tr, width

__all__ = ["node_name", "grad_fn_chain", "graph_lines", "side_by_side", "print_graph",
           "print_graph_pair", "walk_backward", "Walk", "WalkStep"]


# --------------------------------------------------------------------------- reading
def node_name(node):
    """The class name of a graph node: ``MatMulBackward`` (minigrad), ``MmBackward0`` (torch).
    torch's C++ nodes report a qualified name (``torch::autograd::AccumulateGrad``); only the
    last part is kept."""
    return node.name().rsplit("::", 1)[-1]


def _is_accumulator(node):
    """``AccumulateGrad`` (either library) is the node that holds its leaf in ``.variable``."""
    return hasattr(node, "variable")


def _leaf_names(params):
    return {id(t): name for name, t in (params or {}).items()}


def _label(node, names):
    """A node's name, followed by its leaf's name for an ``AccumulateGrad``."""
    label = node_name(node)
    if _is_accumulator(node) and id(node.variable) in names:
        label += f" ({names[id(node.variable)]})"
    return label


def _root(t, caller):
    fn = getattr(t, "grad_fn", None)
    if fn is None:
        raise ValueError(
            f"{caller}: the tensor of shape {tuple(t.shape)} has no grad_fn, so there is no "
            f"graph behind it (it is a leaf, or it was computed under no_grad or from tensors "
            f"that do not require grad).")
    return fn


def _parents(node):
    """The nodes this node sends gradients to, in argument order (inputs needing none left out)."""
    return [p for p, _ in node.next_functions if p is not None]


def _topological(root):
    """Every node reachable from ``root``, each once, ordered so that a node comes after all
    the nodes that use its result (the order backward can run them in).

    Depth-first post-order from the root, reversed; parents are visited in argument order, so
    the order is deterministic."""
    order, done, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in done:
            continue
        done.add(node)
        stack.append((node, True))
        for p in reversed(_parents(node)):
            if p not in done:
                stack.append((p, False))
    return order[::-1]


def grad_fn_chain(t, params=None):
    """The names of the nodes of the graph behind ``t``, output first, each node once.

    A node comes after every node that uses its result, so this is an order in which backward
    could run them; leaves appear as ``AccumulateGrad (name)`` when ``params`` names them.
    For ``relu(x @ W1 + b1) @ W2 + b2`` in minigrad::

        ['AddBackward', 'MatMulBackward', 'ReluBackward', 'AddBackward', 'MatMulBackward',
         'AccumulateGrad (W1)', 'AccumulateGrad (b1)', 'AccumulateGrad (W2)',
         'AccumulateGrad (b2)']
    """
    names = _leaf_names(params)
    return [_label(n, names) for n in _topological(_root(t, "grad_fn_chain"))]


def graph_lines(t, params=None):
    """The graph behind ``t`` as indented lines of node names, one level deeper for each step
    back: a node is followed by the nodes of its inputs, in argument order.

    A node reached a second time (a tensor used by several operations) is printed again with
    ``(↑ seen)`` and not expanded twice: it is where backward adds gradients up."""
    names = _leaf_names(params)
    lines, seen = [], set()
    stack = [(_root(t, "graph_lines"), 0)]
    while stack:                                   # depth first, without recursion
        node, depth = stack.pop()
        label = _label(node, names)
        if node in seen:
            lines.append("  " * depth + label + " " + tr("(↑ seen)"))
            continue
        seen.add(node)
        lines.append("  " * depth + label)
        for p in reversed(_parents(node)):
            stack.append((p, depth + 1))
    return lines


def side_by_side(left, right, titles=None, gap=4):
    """Two lists of lines as two columns of one string (the left one padded to its widest
    line plus ``gap`` spaces), with an optional title and underline above each. Widths are
    display widths (:func:`~minigrad.course.lang.width`): a Chinese title is underlined and
    padded by the columns it takes."""
    left, right = list(left), list(right)
    if titles is not None:
        left = [titles[0], "-" * width(titles[0])] + left
        right = [titles[1], "-" * width(titles[1])] + right
    columns = max((width(s) for s in left), default=0) + gap
    n = max(len(left), len(right))
    left += [""] * (n - len(left))
    right += [""] * (n - len(right))
    return "\n".join((pad(a, columns) + b).rstrip() for a, b in zip(left, right))


def print_graph(t, params=None):
    """Print :func:`graph_lines` of ``t``."""
    print("\n".join(graph_lines(t, params)))


def print_graph_pair(a, b, params_a=None, params_b=None, titles=("minigrad", "torch"), gap=4):
    """Print the graphs behind ``a`` and ``b`` side by side, e.g. the same model built with
    minigrad and with torch (the counterpart of :func:`minigrad.viz.draw_pair`)."""
    print(side_by_side(graph_lines(a, params_a), graph_lines(b, params_b), titles, gap))


# --------------------------------------------------------------------------- walking
def _library(t):
    """The module (``minigrad`` or ``torch``) a tensor belongs to."""
    return importlib.import_module(type(t).__module__.split(".")[0])


def _shape(g):
    return tuple(int(s) for s in g.shape)


def _input_shape(node, nr):
    """The shape of the gradient ``node`` expects for its output ``nr``: the leaf's shape for
    an AccumulateGrad, else the shape of that output of the forward op."""
    if _is_accumulator(node):
        return _shape(node.variable)
    meta = getattr(node, "_output_meta", None)         # minigrad
    if meta is not None:
        return tuple(meta[nr][0])
    return tuple(int(s) for s in node._input_metadata[nr].shape)   # torch (private attribute)


def _vjp(node, grads):
    """Run one node's vector-Jacobian product by hand; return one gradient per entry of
    ``next_functions`` (None where nothing is sent).

    minigrad: the node is the ``ctx`` of its Function, so its VJP is
    ``node._forward_cls.backward(node, *grads)``. It returns one gradient per forward
    argument, non-tensor ones included (e.g. the exponent of ``x ** 2``), while
    ``next_functions`` lists the tensor arguments only; we keep those.
    torch: a node is callable, ``node(*grads)``, and returns one gradient per entry of
    ``next_functions`` (a lone tensor when there is one)."""
    fwd = getattr(node, "_forward_cls", None)
    if fwd is not None:
        out = fwd.backward(node, *grads)
        out = out if isinstance(out, tuple) else (out,)
        return [g for g, meta in zip(out, node._input_meta) if meta is not None]
    out = node(*grads)
    return list(out) if isinstance(out, (tuple, list)) else [out]


class WalkStep:
    """One node visited by :func:`walk_backward`.

    ``index`` (visit order, from 0), ``name``, ``node``; ``grads_in``: the gradients that
    arrived, one per output of the op, summed over its users (for an AccumulateGrad, the
    gradient added to the leaf); ``sent``: ``(parent node, gradient, shape before reduction)``
    for each gradient sent on; ``leaf`` and ``leaf_name`` for an AccumulateGrad."""
    __slots__ = ("index", "name", "node", "grads_in", "sent", "leaf", "leaf_name")

    def __init__(self, index, name, node, grads_in, sent, leaf=None, leaf_name=None):
        self.index, self.name, self.node = index, name, node
        self.grads_in, self.sent = grads_in, sent
        self.leaf, self.leaf_name = leaf, leaf_name

    def text(self, names):
        """One line: what arrived and where it went, shapes only (no values, no addresses).
        It starts with the node's name (:meth:`Walk.line` pads that name into a column)."""
        if self.leaf is not None:
            return f"{self.name}  {self.leaf_name}.grad += {_shape(self.grads_in[0])}"
        got = ", ".join("None" if g is None else str(_shape(g)) for g in self.grads_in)
        parts = []
        for parent, g, raw in self.sent:
            shape = str(_shape(g))
            if raw != _shape(g):                # torch leaves broadcasting to its engine
                shape = tr("{raw} summed to {shape}", raw=raw, shape=shape)
            dest = names.get(id(parent.variable), tr("leaf")) if _is_accumulator(parent) \
                else node_name(parent)
            parts.append(tr("{shape} to {dest}", shape=shape, dest=dest))
        sent = ", ".join(parts) or tr("nothing")
        return f"{self.name}  " + tr("got {got} → sends {sent}", got=got, sent=sent)

    def __repr__(self):
        return f"WalkStep({self.index}, {self.name})"


class Walk:
    """The record of :func:`walk_backward`: ``steps`` (a list of :class:`WalkStep`, in visit
    order), ``grads`` (leaf name -> the gradient that reached it, summed), ``order`` (the node
    names in visit order). ``print(walk)`` prints the steps again."""

    def __init__(self, names, width=0):
        self.steps, self.grads, self._names, self._by_leaf = [], {}, names, {}
        self._width = width                 # the name column: the longest node name

    @property
    def order(self):
        return [s.name for s in self.steps]

    def grad_of(self, leaf):
        """The gradient that reached ``leaf`` (None if none did)."""
        return self._by_leaf.get(id(leaf))

    def line(self, step):
        """One step as a line of the printed walk."""
        text = step.text(self._names)
        return f"{step.index:>2}. {step.name:<{self._width}}" + text[len(step.name):]

    def lines(self):
        return [self.line(s) for s in self.steps]

    def __str__(self):
        return "\n".join(self.lines())

    def __repr__(self):
        return f"<Walk: {len(self.steps)} steps>"


def walk_backward(output, gradient=None, params=None, verbose=True):
    """Do what ``output.backward(gradient)`` does, by hand, one node at a time.

    The walk is that of minigrad's engine (``minigrad/autograd.py``), written out:

    1. starting from ``output.grad_fn``, follow ``next_functions`` and count, for every node,
       how many edges lead into it: that many gradients will arrive there;
    2. keep a stack of *ready* nodes, starting with the output's node and ``gradient``;
       pop one, and
       - if it is an ``AccumulateGrad``: the gradient it received is that leaf's gradient;
       - else run its VJP on the (summed) gradients it received and send each result to the
         matching parent in ``next_functions``, adding it to what that parent already got;
       a parent becomes ready when its last expected gradient has arrived.

    Works on a minigrad or a torch graph (torch's ``AddBackward0`` returns its gradient with
    the broadcast shape and lets its engine sum it down to the input's shape; we do that sum
    here and print it). On a torch graph the order is still minigrad's: torch's engine picks
    among ready nodes by creation order instead, which can differ where the graph branches;
    any order that runs a node after all its users gives the same gradients.

    Nothing is written into any ``.grad`` and nothing is freed, so ``output.backward(...)``
    still works afterwards. ``verbose`` prints each step as it is taken.

    Returns a :class:`Walk`: ``walk.grads[name]`` is what ``.backward()`` puts into the
    ``.grad`` of the leaf named ``name`` in ``params`` (unnamed leaves are ``leaf0``,
    ``leaf1``… in the order they are reached; ``walk.grad_of(tensor)`` finds any of them)."""
    lib = _library(output)
    root = _root(output, "walk_backward")
    if gradient is None:
        if int(np.prod(_shape(output))) != 1:
            raise RuntimeError(
                f"walk_backward: the output has shape {_shape(output)}, so an upstream gradient "
                f"is needed: pass gradient= a tensor of shape {_shape(output)} (only a "
                f"one-element output gets the default gradient 1).")
        gradient = lib.ones_like(output)
    elif not isinstance(gradient, type(output)):
        gradient = lib.tensor(np.asarray(gradient), dtype=output.dtype)
    if _shape(gradient) != _shape(output):
        raise RuntimeError(
            f"walk_backward: gradient has shape {_shape(gradient)} but the output has shape "
            f"{_shape(output)}; the upstream gradient must have the output's shape.")

    names = _leaf_names(params)
    deps, stack = {root: 0}, [root]                 # 1. count the edges into every node
    while stack:
        for p in _parents(stack.pop()):
            if p in deps:
                deps[p] += 1
            else:
                deps[p] = 1
                stack.append(p)

    walk = Walk(names, max(len(node_name(n)) for n in deps))
    received = {root: [None] * len(_outputs_of(root))}
    received[root][_output_nr_of(output)] = gradient
    ready = [root]
    with lib.no_grad():
        while ready:                                # 2. run every node once its grads are in
            node = ready.pop()
            grads = received.pop(node, None)
            if _is_accumulator(node):
                leaf = node.variable
                if grads is None or grads[0] is None:
                    continue
                if id(leaf) not in names:
                    names[id(leaf)] = f"leaf{sum(1 for k in walk.grads if k.startswith('leaf'))}"
                walk.grads[names[id(leaf)]] = grads[0]
                walk._by_leaf[id(leaf)] = grads[0]
                step = WalkStep(len(walk.steps), node_name(node), node, grads, [], leaf,
                                names[id(leaf)])
            else:
                if grads is None:                   # nothing arrived: nothing to send
                    grads = [None] * len(_outputs_of(node))
                    sent_grads = [None] * len(node.next_functions)
                else:
                    grads = _materialize(node, grads, lib)
                    sent_grads = _vjp(node, grads)
                sent = []
                for (parent, nr), g in zip(node.next_functions, sent_grads):
                    if parent is None:
                        continue
                    if g is not None:
                        raw, want = _shape(g), _input_shape(parent, nr)
                        if raw != want:
                            g = _sum_to(node, g, want)
                        box = received.setdefault(parent, [None] * len(_outputs_of(parent)))
                        box[nr] = g if box[nr] is None else box[nr] + g
                        sent.append((parent, g, raw))
                    deps[parent] -= 1
                    if deps[parent] == 0:
                        ready.append(parent)
                step = WalkStep(len(walk.steps), node_name(node), node, grads, sent)
            walk.steps.append(step)
            if verbose:
                print(walk.line(step))
    return walk


def _output_nr_of(t):
    """Which output of its ``grad_fn`` a tensor is (0 unless the op made several)."""
    if hasattr(t, "output_nr"):                       # torch
        return int(t.output_nr)
    return int(getattr(t, "_output_nr", 0))           # minigrad


def _sum_to(node, g, shape):
    """torch's nodes may return a gradient with the broadcast shape of their output (its
    engine then sums it down to the input's shape); a minigrad VJP must return its input's
    shape itself (its ops ``unbroadcast``), so a mismatch there is an error, as in the engine."""
    if hasattr(g, "sum_to_size"):
        return g.sum_to_size(shape)
    raise RuntimeError(
        f"walk_backward: {node_name(node)} returned a gradient of shape {_shape(g)} for an "
        f"input of shape {shape}; a minigrad VJP must return its input's shape.")


def _outputs_of(node):
    """A placeholder list with one entry per output of the node's op."""
    if _is_accumulator(node):
        return [None]
    meta = getattr(node, "_output_meta", None)       # minigrad
    if meta is not None:
        return list(meta)
    return list(node._input_metadata)                 # torch: one entry per forward output


def _materialize(node, grads, lib):
    """An op with several outputs may receive gradients for only some of them; as both
    engines do, the missing ones become zeros (minigrad) or are passed as None for torch's
    nodes, which treat None as zero."""
    if len(grads) == 1 or all(g is not None for g in grads):
        return grads
    meta = getattr(node, "_output_meta", None)
    if meta is None or not getattr(node, "_materialize", True):
        return grads
    return [lib.tensor(np.zeros(m[0], dtype=m[1])) if g is None else g
            for g, m in zip(grads, meta)]
