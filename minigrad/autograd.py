"""The engine: the backward graph and the walk that runs it.

Every tensor produced by a differentiable operation holds ``grad_fn``, a
:class:`Node` that remembers the operation and, through ``next_functions``, the
nodes of the tensors it was made from. Leaves that require grad are reached
through an :class:`AccumulateGrad` node that adds what arrives into ``.grad``.

``backward`` walks that graph from the output in reverse topological order,
without recursion: a first pass counts how many gradients each node will
receive, a second pass runs a node's vector-Jacobian product (VJP) only when all
of them have arrived, summed. Operations are :class:`Function` subclasses with
torch's contract (``forward(ctx, ...)`` / ``backward(ctx, grad)``); their VJPs
are written with minigrad's own operations, so a gradient computed with
``create_graph=True`` is itself a graph and can be differentiated again.
"""
import functools
import weakref

import numpy as np

__all__ = ["Function", "Node", "AccumulateGrad", "backward", "grad", "no_grad",
           "enable_grad", "set_grad_enabled", "is_grad_enabled", "detect_anomaly"]


# --------------------------------------------------------------------------- modes
class _Mode:
    grad_enabled = True   # record the graph in forward?
    anomaly = False       # check every VJP for NaN?
    observers = []        # callables told of every VJP run (minigrad.trace uses this)
    array_vjps = True     # without create_graph, run an op's array_backward where it has one


def is_grad_enabled():
    return _Mode.grad_enabled


class set_grad_enabled:
    """Turn graph recording on or off; usable as a call, a context manager or a decorator.

    As in torch, the mode changes as soon as it is built (so ``set_grad_enabled(False)`` alone
    works as a call) and is put back when its ``with`` block ends."""

    def __init__(self, mode):
        self.prev, self.mode = _Mode.grad_enabled, bool(mode)
        _Mode.grad_enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _Mode.grad_enabled = self.prev

    def __call__(self, fn):
        _Mode.grad_enabled = self.prev   # constructing us as a decorator must not flip the mode
        return self._decorate(fn)

    def _decorate(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class _ScopedMode(set_grad_enabled):
    """``no_grad`` and ``enable_grad``: the mode changes only inside ``with`` (building the
    object changes nothing), and they decorate with or without parentheses."""
    mode = None

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        return self if orig_func is None else self._decorate(orig_func)   # bare @no_grad

    def __init__(self, orig_func=None):
        pass

    def __enter__(self):
        self.prev, _Mode.grad_enabled = _Mode.grad_enabled, self.mode
        return self

    def __call__(self, fn):
        return self._decorate(fn)


class no_grad(_ScopedMode):
    """Inside ``with mg.no_grad():`` operations record no graph (results have no grad_fn)."""
    mode = False


class enable_grad(_ScopedMode):
    """Re-enable graph recording inside a ``no_grad`` block."""
    mode = True


class inference_mode(_ScopedMode):
    """``with mg.inference_mode():`` or ``@mg.inference_mode()``: as ``no_grad`` (minigrad has
    no separate inference tensors); ``inference_mode(False)`` changes nothing."""
    active = False                         # is_inference_mode_enabled()

    def __new__(cls, mode=True):
        self = object.__new__(cls)
        self.enabled = True if callable(mode) else bool(mode)
        return self._decorate(mode) if callable(mode) else self     # bare @inference_mode

    def __init__(self, mode=True):
        pass

    def __enter__(self):
        self.prev = (_Mode.grad_enabled, inference_mode.active)
        if self.enabled:
            _Mode.grad_enabled = False
        inference_mode.active = self.enabled
        return self

    def __exit__(self, *exc):
        _Mode.grad_enabled, inference_mode.active = self.prev

    def _decorate(self, fn):
        enabled = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(enabled):
                return fn(*args, **kwargs)
        return wrapper


def is_inference_mode_enabled():
    return inference_mode.active


class detect_anomaly:
    """Inside ``with mg.autograd.detect_anomaly():`` a VJP that produces NaN raises, naming
    the node (e.g. ``SqrtBackward``) instead of letting the NaN spread silently. As in torch,
    an infinite gradient (that of √x at 0) is a value, not an anomaly, and passes."""

    def __enter__(self):
        self.prev, _Mode.anomaly = _Mode.anomaly, True
        return self

    def __exit__(self, *exc):
        _Mode.anomaly = self.prev


class array_vjps:
    """``with mg.autograd.array_vjps(False):`` makes backward run every op's ``backward`` — the
    VJP the book shows, made of minigrad operations — even where the op also has an
    ``array_backward``, the same VJP on numpy arrays that a backward without create_graph
    runs by default because it is quicker. (minigrad's own switch: torch has no such choice.)"""

    def __init__(self, enabled=True):
        self.enabled = bool(enabled)

    def __enter__(self):
        self.prev, _Mode.array_vjps = _Mode.array_vjps, self.enabled
        return self

    def __exit__(self, *exc):
        _Mode.array_vjps = self.prev


# --------------------------------------------------------------------------- nodes
_FREED = ("Trying to backward through the graph a second time (or to read saved tensors after "
          "they were freed): {name} released what it saved when backward() last ran through it. "
          "Pass retain_graph=True to the first backward() if you need to run backward twice.")


class Node:
    """A node of the backward graph. ``tensor.grad_fn`` is one of these."""
    _n_outputs = 1
    _edges = ()           # one (node, output_nr) or None per forward argument
    _input_meta = ()      # (shape, dtype) per tensor argument, None for the others
    _retained = None      # {output_nr: weakref to a non-leaf that called retain_grad()}
    _pre_hooks = None     # {output_nr: [hook, ...]} from Tensor.register_hook

    def _run_hooks(self, grads):
        """Each hook registered on an output sees its gradient and may replace it."""
        grads = list(grads)
        for nr, hooks in self._pre_hooks.items():
            for hook in list(hooks):
                if grads[nr] is not None:
                    out = hook(grads[nr])
                    if out is not None:
                        grads[nr] = out
        return grads

    def _fill_retained(self, grads):
        for nr, ref in list(self._retained.items()):
            t = ref()
            if t is not None and grads[nr] is not None:
                g = grads[nr] if grads[nr].requires_grad else \
                    grads[nr].detach().clone().contiguous()      # as torch: row by row
                t._grad = g if t._grad is None else t._grad + g

    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        """The parents' nodes, one ``(node, output_nr)`` per tensor argument of forward
        (``(None, 0)`` for a tensor that does not require grad)."""
        return tuple(e if e is not None else (None, 0)
                     for e, meta in zip(self._edges, self._input_meta) if meta is not None)

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad(Node):
    """The node behind a leaf that requires grad: adds the arriving gradient into ``leaf.grad``.

    Gradients accumulate across backward calls (``.grad`` is summed, not replaced), which is
    why a training loop calls ``zero_grad()`` once per step."""

    def __init__(self, variable):
        self.variable = variable

    def accumulate(self, g, create_graph):
        v = self.variable
        vg = v._grad
        if vg is None:
            # keep a private copy: the same gradient object may reach several leaves
            # (with create_graph the copy is a differentiable clone), row by row as torch's
            v._grad = (g.clone() if create_graph else g.detach().clone()).contiguous()
        elif create_graph or vg.requires_grad:
            v._grad = vg + g
        else:
            vg._data += g._data
            vg._vc[0] += 1

    def accumulate_array(self, g):
        """:meth:`accumulate` for a gradient given as a numpy array (create_graph=False)."""
        v = self.variable
        vg = v._grad
        if vg is None:
            v._grad = _tensor_type[0]._make(g.copy())
        elif vg.requires_grad:
            v._grad = vg + _tensor_type[0]._make(g)
        else:
            vg._data += g
            vg._vc[0] += 1

    @property
    def _pre_hooks(self):
        """The leaf's hooks (``register_hook``), run on the gradient before it is added."""
        hooks = self.variable._hooks
        return {0: hooks} if hooks else None


class BackwardNode(Node):
    """The node (and ``ctx``) of one call of a :class:`Function`."""
    _saved = ()
    _freed = False
    _materialize = True
    _non_diff = ()

    def save_for_backward(self, *tensors):
        """Keep tensors for backward, remembering each one's version so that a later in-place
        change is caught instead of giving a wrong gradient."""
        self._saved = [None if t is None else (t, t._vc[0]) for t in tensors]

    def mark_non_differentiable(self, *tensors):
        self._non_diff = tensors

    def set_materialize_grads(self, value):
        self._materialize = value

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(_FREED.format(name=self.name()))
        out = []
        for entry in self._saved:
            if entry is None:
                out.append(None)
                continue
            t, version = entry
            if type(t) is tuple:            # a saved output: rebuilt so it is not a cycle
                data, vc, nr = t
                t = _tensor_cls()._make(data, True, self, nr, vc)
            if t._vc[0] != version:
                made = (f"output {t._output_nr} of {t.grad_fn.name()}" if t.grad_fn is not None
                        else "a leaf")
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [{t._data.dtype} tensor of shape {tuple(t.shape)}], "
                    f"which is {made} and was saved by {self.name()}, is at version {t._vc[0]}; "
                    f"expected version {version} instead. Hint: the tensor, or a view of the "
                    f"same memory, was changed in place after it was saved; use an out-of-place "
                    f"operation (y = y + 1 rather than y += 1), or .clone() it first.")
            out.append(t)
        return tuple(out)

    def _release(self):
        self._saved = ()
        self._freed = True

    def __call__(self, grads):
        return self._forward_cls.backward(self, *grads)


class _NoNeeds:
    def __getitem__(self, i):
        return False


class _Ctx:
    """The throwaway ctx given to forward when no graph is recorded."""
    needs_input_grad = _NoNeeds()

    def save_for_backward(self, *tensors):
        pass

    def mark_non_differentiable(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass


_tensor_type = []


def _tensor_cls():
    return _tensor_type[0]


def _edge(t):
    """Where a gradient for tensor ``t`` must be sent: its grad_fn, or its leaf accumulator."""
    if t.grad_fn is not None:
        return (t._grad_fn, t._output_nr)
    if t._requires_grad:
        return _leaf_edge(t)
    return None


def _leaf_edge(t):
    """The edge to a leaf's accumulator, made once and kept (weakly) by the leaf."""
    acc = t._acc() if t._acc is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._acc = weakref.ref(acc)
    return (acc, 0)


class RemovableHandle:
    """What ``Tensor.register_hook`` returns: ``handle.remove()`` takes the hook away."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


# --------------------------------------------------------------------------- Function
class Function:
    """An operation with a hand-written VJP, with PyTorch's contract::

        class Exp(mg.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, grad):
                y, = ctx.saved_tensors
                return grad * y

        y = Exp.apply(x)

    ``forward`` runs without recording a graph and may return a Tensor or a numpy array;
    ``backward`` receives one gradient per output and returns one per forward argument
    (None for arguments that need none). Its node is named ``ExpBackward``.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(cls.__name__ + "Backward", (BackwardNode,), {"_forward_cls": cls})

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    # The same VJP on numpy arrays, which a built-in operation may give for speed:
    # ``array_backward(ctx, *grads)`` receives the upstream gradients as arrays and returns
    # arrays (or None). A backward that records no graph (create_graph=False, every training
    # step) calls it instead of ``backward``, skipping the tensor operations ``backward`` is
    # made of; tests/test_registry.py holds the two equal on every registry entry.
    array_backward = None

    @classmethod
    def apply(cls, *args):
        Tensor = _tensor_type[0]
        if _Mode.grad_enabled:
            needs = []
            for a in args:
                if isinstance(a, Tensor):
                    if a._view_fn is not None and a._view_version != a._vc[0]:
                        a._refresh()         # its base changed in place: a new history
                    needs.append(a._requires_grad)
                else:
                    needs.append(False)
            if True in needs:
                return cls._apply_recorded(tuple(needs), args)
            _Mode.grad_enabled = False
            try:
                out = cls.forward(_Ctx(), *args)
            finally:
                _Mode.grad_enabled = True
        else:                                # the fast path: no graph to record
            out = cls.forward(_Ctx(), *args)
        if type(out) is np.ndarray:          # the common case: a fresh array
            return Tensor._make(out)
        if type(out) is tuple:
            return _views(cls, args, tuple(_as_output(o, args) for o in out))
        out = _as_output(out, args)
        if out._base is not None and out._view_fn is None:
            _views(cls, args, (out,))
        return out

    @classmethod
    def _apply_recorded(cls, needs, args):
        """Run forward and link its result(s) into the graph through a new node."""
        Tensor = _tensor_type[0]
        ctx = cls._backward_cls()
        ctx.needs_input_grad = needs
        _Mode.grad_enabled = False
        try:
            out = cls.forward(ctx, *args)
        finally:
            _Mode.grad_enabled = True
        edges, meta = [], []
        for a in args:                            # (apply refreshed any stale view)
            if isinstance(a, Tensor):
                d = a._data
                meta.append((d.shape, d.dtype))
                if a._grad_fn is not None:
                    edges.append((a._grad_fn, a._output_nr))
                elif a._requires_grad:
                    edges.append(_leaf_edge(a))
                else:
                    edges.append(None)
            else:
                edges.append(None)
                meta.append(None)
        ctx._edges, ctx._input_meta = tuple(edges), tuple(meta)
        if type(out) is np.ndarray:               # the common case: one fresh array
            ctx._output_meta = ((out.shape, out.dtype),)
            o = Tensor._make(out)
            if out.dtype.kind == "f":             # (new: never marked non-differentiable)
                o._grad_fn, o._requires_grad = ctx, True
            outs = (o,)
            single = True
        else:
            single = type(out) is not tuple
            outs = _views(cls, args, tuple(_as_output(o, args) for o in
                                           ((out,) if single else out)), single)
            ctx._output_meta = tuple([(o._data.shape, o._data.dtype) for o in outs])
            ctx._n_outputs = len(outs)
            non_diff = ctx._non_diff
            for i, o in enumerate(outs):
                if o._data.dtype.kind == "f" and (not non_diff or
                                                  not any(o is n for n in non_diff)):
                    o._grad_fn, o._output_nr, o._requires_grad = ctx, i, True
        if ctx._saved:   # a saved output would be a cycle output -> node -> output
            ctx._saved = [((e[0]._data, e[0]._vc, e[0]._output_nr), e[1])
                          if e is not None and e[0]._grad_fn is ctx else e for e in ctx._saved]
        return outs[0] if single else outs


def _as_output(o, args):
    """Wrap what forward returned as a fresh Tensor (a returned input becomes a view of it)."""
    Tensor = _tensor_type[0]
    if type(o) is np.ndarray:
        return Tensor._make(o)
    if isinstance(o, Tensor):
        for a in args:
            if o is a:
                t = Tensor._make(o._data, vc=o._vc)
                t._base = o._base if o._view_fn is not None else o
                return t
        return o
    return Tensor._make(np.asarray(o))


def _views(cls, args, outs, single=None):
    """Give each output that is a view (``_base`` set by the op) the ViewFn that takes it
    again: ``cls`` with the same arguments, after the view its input already was."""
    single = len(outs) == 1 if single is None else single
    for k, o in enumerate(outs):
        if o._base is not None and o._view_fn is None:
            parent = args[0]._view_fn
            o._view_fn = ViewFn(parent, cls, args[1:], 0 if single else k + 1,
                                (parent is not None and parent.no_grad) or
                                (not _Mode.grad_enabled and args[0]._requires_grad))
            o._view_version = o._vc[0]
    return outs


def adopt_saved_output(new, target):
    """After an in-place operation ``target`` holds the numbers of ``new`` (the result of the
    recorded op): where that op saved its output, it now reads target's memory and
    version, so a later in-place change of target is caught too."""
    node = new.grad_fn
    if node is None or not node._saved:
        return
    saved = []
    for e in node._saved:
        if e is not None and type(e[0]) is tuple and e[0][0] is new._data:
            e = ((target._data, target._vc, e[0][2]), target._vc[0])
        saved.append(e)
    node._saved = saved


class ViewFn:
    """How a view was taken, so that it can be taken again of another tensor: the operation
    (a Function whose result is a view of its first argument), its other arguments, and the
    view its input already was (``parent``), back to the base. ``multi`` is 1 + the output's
    position for a function that returns several views (split, chunk, unbind), else 0.

    An in-place change of a view uses it twice: to give the view a ``grad_fn`` again on its
    base's new history, and in ``CopySlices``'s VJP, to cut the view's part out of ȳ.

    ``no_grad``: the view (or a view it was taken of) was taken under ``no_grad`` of a tensor
    that requires grad. Whether a later in-place change should be recorded is then ambiguous,
    and torch forbids it: changing the view, or using it after its base changed, with grad mode
    on raises (:func:`no_grad_view_error`)."""
    __slots__ = ("parent", "cls", "rest", "multi", "no_grad")

    def __init__(self, parent, cls, rest, multi=0, no_grad=False):
        self.parent, self.cls, self.rest, self.multi = parent, cls, rest, multi
        self.no_grad = no_grad

    def __call__(self, base):
        x = base if self.parent is None else self.parent(base)
        out = self.cls.apply(x, *self.rest)
        return out[self.multi - 1] if self.multi else out

    def region(self, shape):
        """A bool array of ``shape``: True on the elements the view reads."""
        mask = np.zeros(shape, bool)
        with no_grad():
            self(_tensor_cls()._make(mask))._data[...] = True
        return mask


def no_grad_view_error(view, op=None):
    """torch's refusal for a view taken under no_grad of a tensor that requires grad: changed
    in place (``op``), or used after its base or another view of it changed, in grad mode."""
    what = (f"is being modified inplace ({op}) with grad mode enabled" if op else
            "its base or another view of its base has been modified inplace with grad mode "
            "enabled")
    return RuntimeError(
        f"A view was created in no_grad mode and {what} (a view of shape {tuple(view.shape)} "
        f"of a base of shape {tuple(view._base.shape)}). Given that this use case is ambiguous "
        f"and error-prone, it is forbidden. You can clarify your code by moving both the view "
        f"and the inplace either both inside the no_grad block (if you don't want the inplace "
        f"to be tracked) or both outside (if you want the inplace to be tracked).")


# --------------------------------------------------------------------------- the walk
def _check_grads(node, grads, arrays=False):
    """Every VJP must return one gradient per forward argument, each of its input's shape
    (Tensors, or numpy arrays for an ``array_backward``: ``arrays``)."""
    if not isinstance(grads, tuple):
        grads = (grads,)
    n_args = len(node._edges)
    if len(grads) != n_args:
        raise RuntimeError(
            f"{node.name()}: backward returned {len(grads)} gradient(s) but forward took "
            f"{n_args} argument(s); return exactly one per forward argument (None where none).")
    Tensor = _tensor_type[0]
    out = []
    for i, (g, meta, edge) in enumerate(zip(grads, node._input_meta, node._edges)):
        if g is None or edge is None:
            out.append(None)
            continue
        if arrays:
            d = g if type(g) is np.ndarray else np.asarray(g, dtype=meta[1])
        else:
            if not isinstance(g, Tensor):
                g = Tensor._make(np.asarray(g, dtype=meta[1]))
            d = g._data
        if d.shape != meta[0]:
            raise RuntimeError(
                f"{node.name()}: backward returned a gradient of shape {tuple(d.shape)} for "
                f"argument {i}, whose shape is {tuple(meta[0])}; a gradient always has its "
                f"input's shape.")
        if d.dtype != meta[1]:
            if arrays:
                d = d.astype(meta[1])
            else:
                g = g.to(meta[1])
                d = g._data
        if _Mode.anomaly and np.isnan(d).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its "
                               f"gradient for argument {i} (detect_anomaly is on).")
        out.append(d if arrays else g)
    return out


def _as_tensors(grads):
    Tensor = _tensor_type[0]
    return [None if g is None else Tensor._make(g) for g in grads]


def _as_arrays(grads):
    return [None if g is None else g._data for g in grads]


def _run(roots, retain_graph, create_graph, inputs=None):
    """Run the backward graph from ``roots`` (pairs of edge and gradient).

    With ``inputs`` given (autograd.grad) nothing is accumulated into ``.grad``: the
    gradients reaching those tensors are returned instead."""
    deps, stack = {}, []                          # pass 1: count each node's incoming edges
    for (node, _), _g in roots:
        if node not in deps:
            deps[node] = 0
            stack.append(node)
    while stack:
        for e in stack.pop()._edges:
            if e is not None:
                child = e[0]
                if child in deps:
                    deps[child] += 1
                else:
                    deps[child] = 1
                    stack.append(child)

    # Without create_graph the walk carries numpy arrays (array_backward's currency), and
    # makes Tensors only for what needs them: hooks, retained grads, autograd.grad's
    # results, observers, a VJP without an array form, and the leaves' .grad.
    arrays = not create_graph and _Mode.array_vjps
    buffers = {}                                  # node -> gradients received, per output
    for (node, nr), g in roots:
        _receive(buffers, node, nr, g._data if arrays else g, create_graph)
    capturing = inputs is not None
    captured, wanted = {}, {}
    if capturing:
        for i, t in enumerate(inputs):
            wanted.setdefault(_edge(t), []).append(i)
    observers = _Mode.observers
    prev_mode, _Mode.grad_enabled = _Mode.grad_enabled, create_graph
    try:
        ready = [n for n in buffers if deps[n] == 0]
        while ready:                              # pass 2: run a node once all grads are in
            node = ready.pop()
            grads = buffers.pop(node, None)
            if type(node) is AccumulateGrad:
                if grads is not None:
                    if capturing or node.variable._hooks:
                        grads = _arriving(node, grads, arrays, wanted, captured)
                    if not capturing and grads[0] is not None:
                        if arrays:
                            node.accumulate_array(grads[0])
                        else:
                            node.accumulate(grads[0], create_graph)
                continue
            if grads is not None and (capturing or node._pre_hooks is not None
                                      or node._retained is not None):
                grads = _arriving(node, grads, arrays, wanted, captured)
            if grads is None or (grads[0] is None and all(g is None for g in grads)):
                in_grads = (None,) * len(node._edges)
            else:
                if len(grads) > 1 and node._materialize and any(g is None for g in grads):
                    Tensor = _tensor_type[0]
                    grads = [(np.zeros(*meta) if arrays else Tensor._make(np.zeros(*meta)))
                             if g is None else g for g, meta in zip(grads, node._output_meta)]
                fast = node._forward_cls.array_backward if arrays else None
                if fast is not None:
                    in_grads = _check_grads(node, fast(node, *grads), True)
                elif arrays:
                    in_grads = _as_arrays(_check_grads(node, node(_as_tensors(grads))))
                else:
                    in_grads = _check_grads(node, node(grads))
                if observers:
                    for obs in observers:
                        if arrays:
                            obs(node, _as_tensors(grads), _as_tensors(in_grads))
                        else:
                            obs(node, grads, in_grads)
            if not retain_graph:
                node._release()
            for e, g in zip(node._edges, in_grads):
                if e is not None:
                    child = e[0]
                    if g is not None:
                        _receive(buffers, child, e[1], g, create_graph)
                    deps[child] -= 1
                    if deps[child] == 0:
                        ready.append(child)
    finally:
        _Mode.grad_enabled = prev_mode
    return captured


def _arriving(node, grads, arrays, wanted, captured):
    """What the gradients reaching ``node`` meet first: its hooks (which may replace them),
    the non-leaves that retain theirs, and autograd.grad's inputs (``wanted``: positions by
    edge), whose gradients go into ``captured``."""
    if arrays:
        grads = _as_tensors(grads)
    if node._pre_hooks is not None:
        grads = node._run_hooks(grads)
    if node._retained is not None:
        node._fill_retained(grads)
    if wanted:
        for nr, g in enumerate(grads):
            for i in wanted.get((node, nr), ()):
                captured[i] = g
    return _as_arrays(grads) if arrays else grads


def _receive(buffers, node, nr, g, create_graph=True):
    """Add gradient ``g`` to what ``node`` has received for its output ``nr``: a tensor used
    by several operations gets the sum of their gradients (numpy arrays, summed as numbers,
    when no graph of the backward is recorded)."""
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * node._n_outputs
    old = buf[nr]
    if old is None:
        buf[nr] = g
    elif create_graph:
        buf[nr] = old + g
    elif type(g) is np.ndarray:
        buf[nr] = old + g
    else:
        buf[nr] = _tensor_type[0]._make(old._data + g._data)


def _roots(tensors, grad_tensors, caller):
    Tensor = _tensor_type[0]
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"{caller}: got {len(tensors)} tensors and {len(grad_tensors)} "
                           f"gradients; give one gradient per tensor (None for a scalar one).")
    roots = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if t._view_fn is not None and t._view_version != t._vc[0]:
            t._refresh()                     # a view whose base changed in place since
        if not t.requires_grad:
            raise RuntimeError(
                f"{caller}: output {i} (shape {tuple(t.shape)}) does not require grad and has no "
                f"grad_fn: nothing that needs a gradient was used to compute it. Did you forget "
                f"requires_grad=True on a leaf, or compute it under no_grad()?")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(
                    f"{caller}: grad can be implicitly created only for scalar outputs, but this "
                    f"output has shape {tuple(t.shape)}. Reduce it to a scalar (e.g. .sum()) or "
                    f"pass gradient= a tensor of shape {tuple(t.shape)}.")
            g = Tensor._make(np.ones_like(t._data))
        elif not isinstance(g, Tensor):
            g = Tensor._make(np.asarray(g, dtype=t._data.dtype))
        if g.shape != t.shape:
            raise RuntimeError(
                f"{caller}: gradient has shape {tuple(g.shape)} but the output has shape "
                f"{tuple(t.shape)}; the upstream gradient must have the output's shape.")
        roots.append((_edge(t), g))
    return roots


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf), weighted by ``grad_tensors``, into every leaf's ``.grad``."""
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        Tensor = _tensor_type[0]
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        got = _run(_roots(tensors, grad_tensors, "backward"), retain_graph, create_graph, inputs)
        for i, t in enumerate(inputs):
            if i in got and got[i] is not None:
                AccumulateGrad(t).accumulate(got[i], create_graph)
        return
    _run(_roots(tensors, grad_tensors, "backward"), retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple, without touching any ``.grad``.

    With ``create_graph=True`` the returned gradients carry a graph of their own, so they can
    be differentiated again (Hessian-vector products, gradient penalties)."""
    Tensor = _tensor_type[0]
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    if not inputs:
        raise RuntimeError("grad: inputs is empty; pass the tensor(s) to differentiate with "
                           "respect to.")
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {tuple(t.shape)}) does not require grad.")
    got = _run(_roots(outputs, grad_outputs, "grad"), retain_graph, create_graph, inputs)
    result = []
    for i, t in enumerate(inputs):
        g = got.get(i)
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {tuple(t.shape)}) was not used to compute the outputs, "
                f"so it has no gradient. Pass allow_unused=True to get None for it.")
        if g is not None and not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


class NoDerivative(Function):
    """The node torch leaves on the result of an operation it has no derivative for
    (``a // b``, ``number % tensor``): named ``NotImplemented`` as torch's, it lets forward
    through and refuses backward, naming the operation — so a loss that depends on it fails
    as it does in torch instead of silently losing that path. Use
    ``NoDerivative.apply(op, value, *inputs)``: ``value`` is the result, computed already."""

    @staticmethod
    def forward(ctx, op, value, *inputs):
        ctx.op = op
        return value

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"derivative for {ctx.op} is not implemented: the result is a step "
                           f"function of its inputs (as in torch); compute it on detached "
                           f"inputs (x.detach()) if no gradient should flow through it.")


NoDerivative._backward_cls.__name__ = "NotImplemented"
