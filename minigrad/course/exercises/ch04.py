"""Tasks of chapter 04, how ``loss.backward()`` reaches ``model.parameters()``: find the
parameters behind a loss by walking the graph, update them in place, write the training loop
with ``zero_grad()`` in the right place, and accumulate gradients on purpose over
micro-batches.

The loops take the library's objects (model, optimizer, loss function) as arguments and use
only what minigrad and torch share, so the checkers run them on both libraries and compare
with a reference loop; a misplaced ``zero_grad()`` is recognised by the numbers it produces.
"""
import copy

import numpy as np

from ..lang import ntr, tr
from .core import Misconception, as_numpy, seeded, seeded_torch, task

__all__ = ["WRONG"]


def _models(lib, sizes=(4, 6, 3), seed=0):
    """A small MLP for ``lib``, with the same initial weights in both libraries."""
    import minigrad as mg
    import torch
    from ..training import make_mlp
    seeded_torch(seed)
    ref = make_mlp(torch, sizes).double()
    if lib is torch:
        return ref
    model = make_mlp(mg, sizes).to(mg.float64)
    model.load_state_dict(ref.state_dict())
    return model


def _data(lib, n=12, seed=0):
    rng = seeded(seed)
    return lib.tensor(rng.standard_normal((n, 4))), lib.tensor(rng.integers(0, 3, n))


def _flat(model):
    return np.concatenate([as_numpy(p).ravel() for p in model.parameters()])


# --------------------------------------------------------------------------- 04.1 leaves
@task("04.1", title="the parameters behind a loss",
      goal="Walk grad_fn / next_functions from the loss and collect the leaves it reaches",
      difficulty=1, minutes=10)
def _(parameters_of):
    import minigrad as mg
    import torch
    for lib in (mg, torch):
        F = lib.nn.functional
        model = _models(lib)
        X, y = _data(lib)
        named = dict(model.named_parameters())
        _expect_leaves(parameters_of, F.cross_entropy(model(X), y), named, lib.__name__)
        # a weight used twice, a parameter off the first-input path, an unused one
        w = lib.tensor(np.ones((4, 4)) / 4, requires_grad=True)
        b = lib.tensor(np.zeros(4), requires_grad=True)
        c = lib.tensor(np.ones(2), requires_grad=True)
        unused = lib.tensor(np.ones(3), requires_grad=True)
        h = (X @ w + b).tanh() @ w
        loss = (h * h).sum() + (c * c).sum()
        _expect_leaves(parameters_of, loss, {"w": w, "b": b, "c": c}, lib.__name__,
                       absent={"unused": unused})
        # a graph 3000 nodes deep: a recursive walk meets Python's recursion limit
        s = lib.tensor(np.ones(2), requires_grad=True)
        deep = s * 1.0
        for _ in range(3000):
            deep = deep * 1.0
        try:
            _expect_leaves(parameters_of, (deep * deep).sum() + (c * c).sum(), {"s": s, "c": c},
                           lib.__name__)
        except RecursionError:
            raise Misconception(tr("({lib}) on a graph 3000 nodes deep your walk hit Python's "
                                   "recursion limit — walk with an explicit stack (a list you "
                                   "push to and pop from) instead of recursion",
                                   lib=lib.__name__)) from None


def _expect_leaves(parameters_of, loss, named, libname, absent=None):
    got = parameters_of(loss)
    if got is None:
        raise Misconception(tr("parameters_of returned None — did you forget to return?"))
    try:
        got = list(got)
    except TypeError:
        raise Misconception(tr("parameters_of returned a {type}; return a list of tensors",
                               type=type(got).__name__)) from None
    for t in got:
        if not (hasattr(t, "grad_fn") and hasattr(t, "shape")):
            if hasattr(t, "next_functions"):
                raise Misconception(tr("({lib}) your list holds graph nodes, not tensors: "
                                       "return the parameter of each AccumulateGrad node, "
                                       "node.variable", lib=libname))
            raise Misconception(tr("({lib}) your list holds a {type}, not a tensor: return "
                                   "the parameter tensors themselves (node.variable of each "
                                   "AccumulateGrad node)", lib=libname,
                                   type=type(t).__name__))
    ids = [id(t) for t in got]
    if len(set(ids)) < len(ids):
        raise Misconception(tr("({lib}) your list holds the same parameter more than once: a "
                               "node reached along two paths (a weight used twice) must be "
                               "visited once — keep a set of the nodes already seen",
                               lib=libname))
    by_id = {id(p): name for name, p in named.items()}
    missed = [name for name, p in named.items() if id(p) not in ids]
    copies = [name for name, p in named.items() if id(p) not in ids and any(
        id(t) not in by_id and tuple(t.shape) == tuple(p.shape) and
        np.array_equal(as_numpy(t), as_numpy(p)) for t in got)]
    if copies:
        raise Misconception(tr("({lib}) you returned copies of the parameters ({names}): the "
                               "right values, but not the objects the model holds (an "
                               "optimizer must change those) — return node.variable itself, "
                               "not .detach(), .clone() or .data", lib=libname,
                               names=", ".join(copies)))
    if missed:
        raise Misconception(ntr("({lib}) you missed {n} of the {total} parameters ({names}) — "
                                "follow EVERY edge of next_functions, not only the first, down "
                                "to the AccumulateGrad nodes, and return their .variable",
                                "({lib}) you missed {n} of the {total} parameters ({names}) — "
                                "follow EVERY edge of next_functions, not only the first, down "
                                "to the AccumulateGrad nodes, and return their .variable",
                               lib=libname, n=len(missed), total=len(named),
                               names=", ".join(missed)))
    extra = [t for t in got if id(t) not in by_id]
    if extra:
        bad = extra[0]
        if absent and any(bad is p for p in absent.values()):
            raise Misconception(tr("({lib}) you returned a parameter the loss does not use",
                                   lib=libname))
        raise Misconception(ntr("({lib}) you returned {n} tensor that is not one of the "
                                "model's parameter objects (shape {shape}) — return "
                                "node.variable itself, the very object, not a copy or a "
                                "gradient",
                                "({lib}) you returned {n} tensors that are not the model's "
                                "parameter objects (e.g. one of shape {shape}) — return "
                                "node.variable itself, the very object, not a copy or a "
                                "gradient", lib=libname, n=len(extra), shape=tuple(bad.shape)))


# --------------------------------------------------------------------------- 04.2 SGD step
@task("04.2", title="an SGD step, in place",
      goal="p ← p − lr·p.grad for every parameter, changing the objects the model holds",
      difficulty=1, minutes=5)
def _(sgd_step):
    import minigrad as mg
    model = _models(mg)
    X, y = _data(mg)
    extra = mg.tensor(np.ones(3), requires_grad=True)          # a parameter with no gradient
    mg.nn.functional.cross_entropy(model(X), y).backward()
    params = list(model.parameters()) + [extra]
    before = [p.detach().numpy().copy() for p in params]
    grads = [None if p.grad is None else p.grad.numpy().copy() for p in params]
    objects = [id(p) for p in params]
    sgd_step(params, 0.1)
    if [id(p) for p in model.parameters()] != objects[:-1]:
        raise Misconception(tr("the model holds different parameter objects after your step: "
                               "change the existing tensors in place, do not replace them"))
    after = [p.detach().numpy() for p in params]
    if all(np.array_equal(a, b) for a, b in zip(after, before)):
        raise Misconception(tr("the parameters did not change: `p = p - lr * p.grad` only "
                               "makes the name p point to a new tensor — update in place, "
                               "p -= lr * p.grad, inside `with mg.no_grad():`"))
    for i, (a, b, g) in enumerate(zip(after, before, grads)):
        want = b if g is None else b - 0.1 * g
        if not np.allclose(a, want, rtol=1e-12, atol=1e-15):
            if g is not None and np.allclose(a, b + 0.1 * g):
                raise Misconception(tr("your step went uphill: p ← p − lr·p.grad (minus: the "
                                       "gradient points to where the loss increases)"))
            raise Misconception(tr("parameter {i} (shape {shape}) is not p − lr·p.grad after "
                                   "your step", i=i, shape=b.shape))


# --------------------------------------------------------------------------- 04.3 the loop
def _reference_train(model, optimizer, loss_fn, X, y, steps, mode="right"):
    losses = []
    for k in range(steps):
        if mode == "right" or (mode == "once" and k == 0):
            optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        if mode == "after_backward":
            optimizer.zero_grad()
        optimizer.step()
        losses.append(loss.item())
    return losses


@task("04.3", title="a training loop, zero_grad in its place",
      goal="forward, loss, zero_grad, backward, step — on minigrad and on torch",
      difficulty=2, minutes=10)
def _(train):
    import minigrad as mg
    import torch
    steps = 6
    for lib in (mg, torch):
        X, y = _data(lib)
        outcomes = {}
        for mode in ("right", "once", "after_backward"):
            m = _models(lib)
            opt = lib.optim.SGD(m.parameters(), lr=0.5)
            _reference_train(m, opt, lib.nn.functional.cross_entropy, X, y, steps, mode)
            outcomes[mode] = _flat(m)
        model = _models(lib)
        start = _flat(model)
        opt = lib.optim.SGD(model.parameters(), lr=0.5)
        losses = train(model, opt, lib.nn.functional.cross_entropy, X, y, steps)
        got = _flat(model)
        if np.allclose(got, outcomes["right"], rtol=1e-10, atol=1e-12):
            if losses is None or len(list(losses)) != steps:
                raise Misconception(ntr("train must return a list holding the {n} loss (loss.item())",
                                        "train must return the list of the {n} losses, one per "
                                        "step (loss.item())", n=steps))
            if any(hasattr(v, "detach") or not isinstance(v, (int, float, np.floating))
                   for v in losses):
                raise Misconception(tr("train returned the losses as {type}: return numbers, "
                                       "loss.item() (a tensor kept in a list keeps its whole "
                                       "graph alive)",
                                       type=type(next(v for v in losses if hasattr(v, "detach")
                                                      or not isinstance(v, (int, float,
                                                                            np.floating)))
                                                 ).__name__))
            ref = _models(lib)
            want = _reference_train(ref, lib.optim.SGD(ref.parameters(), lr=0.5),
                                    lib.nn.functional.cross_entropy, X, y, steps)
            if not np.allclose([float(v) for v in losses], want, rtol=1e-10):
                raise Misconception(tr("the parameters are right but the losses you returned "
                                       "are not the losses of the steps (the loss of each "
                                       "forward pass, before its step)"))
            continue
        if np.array_equal(got, start):
            raise Misconception(tr("({lib}) the parameters never changed: zero_grad() ran "
                                   "between backward() and step(), erasing the gradients "
                                   "before the optimizer could use them — call it before "
                                   "backward()", lib=lib.__name__))
        if np.allclose(got, outcomes["once"], rtol=1e-10, atol=1e-12):
            raise Misconception(tr("({lib}) the gradients accumulated across steps: backward() "
                                   "ADDS into .grad, so step k used the sum of the gradients of "
                                   "steps 1…k — call optimizer.zero_grad() once per step, "
                                   "before loss.backward()", lib=lib.__name__))
        raise Misconception(ntr("({lib}) after {n} step the parameters differ from those of "
                                "the loop forward → loss → zero_grad → backward → step "
                                "(max |Δ| = {diff:.3g})",
                                "({lib}) after {n} steps the parameters differ from those of "
                                "the loop forward → loss → zero_grad → backward → step "
                                "(max |Δ| = {diff:.3g})", n=steps, lib=lib.__name__,
                                diff=np.abs(got - outcomes["right"]).max()))


# --------------------------------------------------------------------------- 04.4 accumulation
@task("04.4", title="gradient accumulation over micro-batches",
      goal="One optimizer step from k micro-batches, equal to a step on the whole batch",
      difficulty=2, minutes=15)
def _(accumulate_step):
    import minigrad as mg
    import torch
    for lib in (mg, torch):
        F = lib.nn.functional
        X, y = _data(lib, n=12, seed=1)
        for k in (3, 4):
            size = 12 // k
            micro = [(X[i * size:(i + 1) * size], y[i * size:(i + 1) * size]) for i in range(k)]
            ref = _models(lib)
            start = _flat(ref)
            opt = lib.optim.SGD(ref.parameters(), lr=0.5)
            opt.zero_grad()
            F.cross_entropy(ref(X), y).backward()
            opt.step()
            want = _flat(ref) - start
            model = _models(lib)
            F.cross_entropy(model(X[:5]), y[:5]).backward()    # stale gradients, left over
            opt = lib.optim.SGD(model.parameters(), lr=0.5)
            accumulate_step(model, opt, F.cross_entropy, micro)
            got = _flat(model) - start
            if np.allclose(got, want, rtol=1e-9, atol=1e-12):
                continue
            if np.allclose(got, k * want, rtol=1e-9, atol=1e-12):
                raise Misconception(tr("({lib}) your step is exactly {k}× too large: the "
                                       "gradients of {k} micro-batch means were added up — "
                                       "divide each micro-batch's loss by k = {k} before "
                                       "backward()", lib=lib.__name__, k=k))
            last = _models(lib)
            o = lib.optim.SGD(last.parameters(), lr=0.5)
            F.cross_entropy(last(micro[-1][0]), micro[-1][1]).div(k).backward()
            o.step()
            if np.allclose(got, _flat(last) - start, rtol=1e-9, atol=1e-12) or \
                    np.allclose(got, k * (_flat(last) - start), rtol=1e-9, atol=1e-12):
                raise Misconception(tr("({lib}) only the last micro-batch reached step(): "
                                       "zero_grad() inside the loop erased the others — call "
                                       "it once, before the loop", lib=lib.__name__))
            raise Misconception(tr("({lib}) your step is not the step of the whole batch "
                                   "(max |Δ| = {diff:.3g}) — were the stale gradients cleared "
                                   "with zero_grad() before the first backward()?",
                                   lib=lib.__name__, diff=np.abs(got - want).max()))


# --------------------------------------------------------------------------- wrong answers
def _wrong():
    import minigrad as mg

    def first_input_only(loss):
        found, fn = {}, loss.grad_fn
        while fn is not None:
            if hasattr(fn, "variable"):
                found[id(fn.variable)] = fn.variable
                break
            for f, _ in fn.next_functions:
                if f is not None and hasattr(f, "variable"):
                    found[id(f.variable)] = f.variable
            fn = fn.next_functions[0][0]
        return list(found.values())

    def no_seen_set(loss):
        found, stack = [], [loss.grad_fn]
        while stack:
            fn = stack.pop()
            if hasattr(fn, "variable"):
                found.append(fn.variable)
            stack.extend(f for f, _ in fn.next_functions if f is not None)
        return found

    def recursive(loss):
        found = {}

        def visit(fn):
            if fn is None:
                return
            if hasattr(fn, "variable"):
                found[id(fn.variable)] = fn.variable
            for f, _ in fn.next_functions:
                visit(f)
        visit(loss.grad_fn)
        return list(found.values())

    def detached_copies(loss):
        return [p.detach() for p in stack_walk(loss)]

    def nodes_not_tensors(loss):
        return [fn for fn in _nodes(loss) if hasattr(fn, "variable")]

    def stack_walk(loss):
        return [fn.variable for fn in _nodes(loss) if hasattr(fn, "variable")]

    def _nodes(loss):
        seen, stack, out = set(), [loss.grad_fn], []
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            out.append(fn)
            stack.extend(f for f, _ in fn.next_functions)
        return out

    def train_tensor_losses(model, optimizer, loss_fn, X, y, steps):
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            losses.append(loss)
        return losses

    def rebinding_step(params, lr):
        with mg.no_grad():
            for p in params:
                if p.grad is not None:
                    p = p - lr * p.grad        # rebinds the name only

    def uphill_step(params, lr):
        with mg.no_grad():
            for p in params:
                if p.grad is not None:
                    p += lr * p.grad

    def train_no_zero_grad(model, optimizer, loss_fn, X, y, steps):
        losses = []
        for _ in range(steps):
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    def train_zero_grad_after_backward(model, optimizer, loss_fn, X, y, steps):
        losses = []
        for _ in range(steps):
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.zero_grad()
            optimizer.step()
            losses.append(loss.item())
        return losses

    def accumulate_no_division(model, optimizer, loss_fn, micro_batches):
        optimizer.zero_grad()
        for X, y in micro_batches:
            loss_fn(model(X), y).backward()
        optimizer.step()

    def accumulate_zero_grad_inside(model, optimizer, loss_fn, micro_batches):
        for X, y in micro_batches:
            optimizer.zero_grad()
            (loss_fn(model(X), y) / len(micro_batches)).backward()
        optimizer.step()

    def accumulate_stale(model, optimizer, loss_fn, micro_batches):
        for X, y in micro_batches:
            (loss_fn(model(X), y) / len(micro_batches)).backward()
        optimizer.step()

    return {
        "04.1": [(first_input_only, "you missed"), (no_seen_set, "more than once"),
                 (recursive, "recursion limit"), (detached_copies, "copies of the parameters"),
                 (nodes_not_tensors, "graph nodes, not tensors")],
        "04.2": [(rebinding_step, "the parameters did not change"),
                 (uphill_step, "uphill")],
        "04.3": [(train_no_zero_grad, "the gradients accumulated across steps"),
                 (train_zero_grad_after_backward, "erasing the gradients"),
                 (train_tensor_losses, "return numbers, loss.item()")],
        "04.4": [(accumulate_no_division, "too large"),
                 (accumulate_zero_grad_inside, "only the last micro-batch"),
                 (accumulate_stale, "stale gradients")],
    }


WRONG = _wrong()


def _leaves_breadth_first(loss):
    """A queue instead of a stack, ids instead of nodes in the seen set."""
    import collections
    found, seen, queue = [], set(), collections.deque([loss.grad_fn])
    while queue:
        fn = queue.popleft()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        if type(fn).__name__ == "AccumulateGrad":
            found.append(fn.variable)
        queue.extend(f for f, _ in fn.next_functions)
    return found


def _train_float_losses(model, optimizer, loss_fn, X, y, steps):
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses


RIGHT = {"04.1": [_leaves_breadth_first], "04.3": [_train_float_losses]}
"""Correct answers written differently from the solution notebook's: each must pass."""
