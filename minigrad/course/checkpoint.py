"""Gradient checkpointing: keep a segment's inputs, recompute its inside during backward.

Normally every node of a segment saves what its VJP needs, and all of it stays alive until
backward reaches it. ``checkpoint(fn, *args)`` instead runs ``fn`` under ``no_grad`` (no
graph, nothing saved inside) and records a single node that saves only ``args``. When
backward reaches that node it runs ``fn`` again, this time recording a graph, and calls
``minigrad.autograd.backward`` on the recomputed output with the gradient it received.
That inner backward fills the ``.grad`` of every parameter ``fn`` uses, and the gradients of
``args`` are returned to the outer backward. Memory falls from "everything inside" to "the
inputs"; the price is one more forward pass of the segment.

    >>> import minigrad as mg
    >>> from minigrad.course.checkpoint import checkpoint
    >>> lin = mg.nn.Linear(4, 4)
    >>> x = mg.randn(2, 4, requires_grad=True)
    >>> y = checkpoint(lambda h: lin(h).tanh(), x)
    >>> y.grad_fn.name()
    'CheckpointBackward'

This is the "reentrant" variant of ``torch.utils.checkpoint.checkpoint`` (its
``use_reentrant=True``), with the same limits: at least one tensor argument must require
grad, or no node is recorded and the parameters inside get no gradient (a warning says so);
the parameters' gradients go to their ``.grad``, so a checkpoint cannot be differentiated
through ``autograd.grad`` with respect to parameters it does not take as arguments, nor
twice (``create_graph=True``).
"""
import copy
import warnings

from .. import autograd
from ..autograd import Function, enable_grad
from ..tensor import Tensor, _Defaults

__all__ = ["checkpoint", "Checkpoint"]


class Checkpoint(Function):
    """The node of one checkpointed segment. ``forward(ctx, fn, preserve_rng_state, *args)``
    saves only ``args``; ``backward`` recomputes ``fn(*args)`` with the graph on and runs
    backward through it. Its node is named ``CheckpointBackward``."""

    @staticmethod
    def forward(ctx, fn, preserve_rng_state, *args):
        ctx.fn = fn
        # dropout inside fn must draw the same mask again when fn is recomputed
        ctx.rng = copy.deepcopy(_Defaults.rng) if preserve_rng_state else None
        ctx.save_for_backward(*[a if isinstance(a, Tensor) else None for a in args])
        ctx.constants = [None if isinstance(a, Tensor) else a for a in args]
        return fn(*args)                     # Function.apply runs this with no graph

    @staticmethod
    def backward(ctx, *grads):
        if autograd.is_grad_enabled():
            raise RuntimeError("checkpoint: backward with create_graph=True (a gradient of a "
                               "gradient) is not supported through a checkpoint.")
        inputs = []
        for t, c in zip(ctx.saved_tensors, ctx.constants):
            if t is None:
                inputs.append(c)
            else:                            # a fresh leaf, so its gradient lands in .grad
                inputs.append(t.detach().requires_grad_(t.requires_grad))
        current = _Defaults.rng
        if ctx.rng is not None:
            _Defaults.rng = copy.deepcopy(ctx.rng)
        try:
            with enable_grad():
                out = ctx.fn(*inputs)
        finally:
            _Defaults.rng = current
        outs = out if isinstance(out, tuple) else (out,)
        pairs = [(o, g) for o, g in zip(outs, grads)
                 if g is not None and isinstance(o, Tensor) and o.requires_grad]
        if pairs:
            autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(a.grad if isinstance(a, Tensor) else None for a in inputs)


def checkpoint(function, *args, use_reentrant=True, preserve_rng_state=True):
    """``function(*args)``, computed without keeping its inside for backward.

    Mirrors ``torch.utils.checkpoint.checkpoint(function, *args, use_reentrant=True)``:
    ``function`` returns a tensor or a tuple of tensors; ``args`` are tensors or plain values.
    With ``preserve_rng_state`` (the default) the recomputation draws the same random numbers
    as the first run, so a dropout inside sees the same mask."""
    if use_reentrant is False:
        raise NotImplementedError("checkpoint: minigrad implements the reentrant variant only "
                                  "(use_reentrant=True).")
    if autograd.is_grad_enabled() and not any(isinstance(a, Tensor) and a.requires_grad
                                              for a in args):
        warnings.warn("checkpoint: none of the inputs has requires_grad=True; no graph is "
                      "recorded, so the parameters inside get no gradient.", UserWarning,
                      stacklevel=2)
    return Checkpoint.apply(function, preserve_rng_state, *args)
