"""The Tensor: numbers in memory that remember who made them.

A tensor's numbers live in a numpy array (``_data``; ``.numpy()`` hands it out, sharing the
memory). A *view* — a slice, ``view``/``reshape`` that needs no copy, ``transpose``,
``expand``, ``unsqueeze``, ``split``, ``detach``, ``.data`` — is another tensor on the same
memory, as in torch: writing through one is seen through all. A base and its views share one
*version counter*, which every in-place operation bumps; a tensor saved for backward remembers
its version, so a change through any alias is caught instead of giving a wrong gradient.

``grad_fn`` is the node of the operation that produced the tensor (None for a leaf); ``grad``
is where backward leaves the gradient of a leaf. An in-place operation on a tensor in the graph
gives it a new ``grad_fn``; on a view, it also gives the base a new history (``CopySlices``), so
the gradient of the base flows through the change. Every method mirrors the PyTorch method of
the same name; the operations themselves live in ``minigrad/ops/``, one file per family, each
VJP under its forward.
"""
import builtins
import warnings
import weakref

import numpy as np

from . import _tensor_str, autograd

from ._device import on_cpu
from . import dtypes
from .dtypes import bool_, float16, float32, float64, int8, int16, int32, int64, uint8


class _Defaults:
    dtype = np.dtype("float32")          # numpy's: the engine works with numpy dtypes
    rng = np.random.default_rng(0)


def set_default_dtype(d):
    """Set the dtype given to tensors built from Python floats (float32 unless changed); a
    floating-point dtype only, as torch."""
    np_dtype = dtypes.to_numpy(d)
    if np_dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the "
                        f"default type, got {d}.")
    _Defaults.dtype = np_dtype


def get_default_dtype():
    """The dtype given to tensors built from Python floats (``minigrad.float32`` unless
    changed with :func:`set_default_dtype`)."""
    return dtypes.of_numpy(_Defaults.dtype)


def _as_array(data, dtype=None):
    if isinstance(data, Tensor):
        data = data._data
    elif isinstance(data, np.generic):          # a numpy scalar keeps its dtype, as an array
        data = np.asarray(data)
    elif not isinstance(data, np.ndarray):
        if hasattr(data, "detach") and hasattr(data, "numpy"):      # a torch tensor
            data = data.detach().cpu().numpy()
        else:
            data = np.asarray(data)
            if dtype is None and data.dtype.kind == "f":
                data = data.astype(_Defaults.dtype)
            elif data.dtype.kind in "OUS":
                raise TypeError(f"tensor: cannot build a tensor from {type(data).__name__} data "
                                f"of dtype {data.dtype}; give numbers, lists of numbers or arrays.")
    if dtype is not None:
        data = data.astype(dtypes.to_numpy(dtype), copy=False)
    return data


# numpy's ufuncs that are minigrad operations (Tensor.__array_ufunc__)
_UFUNC_OPS = {"add": "add", "subtract": "sub", "multiply": "mul", "true_divide": "div",
              "divide": "div", "power": "pow", "matmul": "matmul", "equal": "eq",
              "not_equal": "ne", "less": "lt", "less_equal": "le", "greater": "gt",
              "greater_equal": "ge"}
_ARITHMETIC = ("add_", "sub_", "mul_", "div_", "pow_", "clamp_", "remainder_", "fmod_",
               "floor_divide_")   # keep the dtype's category


class Tensor:
    """A tensor: its numbers (``_data``, a numpy array), ``grad``, ``grad_fn`` and
    ``requires_grad``; a view also has ``_base`` (the tensor whose memory it reads) and
    ``_view_fn`` (how to take the same view of another tensor:
    :class:`minigrad.autograd.ViewFn`)."""
    __slots__ = ("_data", "_grad", "_grad_fn", "_requires_grad", "_output_nr", "_vc", "_acc",
                 "_base", "_hooks", "_view_fn", "_view_version", "__weakref__")
    __array_priority__ = 1000

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """numpy on tensors, as with torch's: ``array * tensor`` and the other arithmetic and
        comparison ufuncs are minigrad's operations (recorded, so the graph is kept);
        any other ufunc (``np.exp(t)``, ``np.abs(t).max()``) runs on the numbers and gives a
        tensor, refused on a tensor that requires grad (its gradient would be lost)."""
        op = _UFUNC_OPS.get(ufunc.__name__)
        if method == "__call__" and op is not None and len(inputs) == 2 and not kwargs:
            a, b = (Tensor(x) if isinstance(x, np.ndarray) else
                    x.item() if isinstance(x, np.generic) else x for x in inputs)
            return getattr(_ops, op)(a, b)
        if "out" in kwargs:
            return NotImplemented
        arrays = []
        for x in inputs:
            if isinstance(x, Tensor):
                if x._requires_grad and autograd.is_grad_enabled():
                    raise RuntimeError(
                        f"numpy.{ufunc.__name__}: can't run numpy on a tensor that requires "
                        f"grad (shape {tuple(x.shape)}): the graph would be lost. Use the "
                        f"minigrad operation, or x.detach() to leave the graph on purpose.")
                x = x._data
            arrays.append(x)
        out = getattr(ufunc, method)(*arrays, **kwargs)
        wrap = lambda o: Tensor._make(o) if isinstance(o, (np.ndarray, np.generic)) else o
        return tuple(wrap(o) for o in out) if isinstance(out, tuple) else wrap(out)

    def __init__(self, data=None, *sizes, dtype=None, requires_grad=False):
        """``Tensor(data)``: a tensor of ``data``'s numbers (their dtype kept; the factory
        ``minigrad.tensor`` is the documented way). As torch's legacy constructor,
        ``Tensor(2, 3)`` (sizes, or a Size) is a zero-filled tensor of that shape in the
        default dtype (torch leaves it uninitialized) and ``Tensor()`` an empty one."""
        if data is None or _is_size(data) and all(_is_size(s) for s in sizes):
            shape = data if isinstance(data, Size) else (() if data is None else (data,)) + sizes
            data = np.zeros((0,) if data is None else tuple(shape), _Defaults.dtype)
        elif sizes:
            raise TypeError(f"Tensor: give data, or sizes (ints), not {data!r} and {sizes}.")
        self._data = _as_array(data, dtype)
        self._grad = self._grad_fn = self._acc = self._base = self._hooks = self._view_fn = None
        self._output_nr, self._vc = 0, [0]
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad=False, grad_fn=None, output_nr=0, vc=None):
        """Fast internal constructor: ``data`` is already a numpy array (or numpy scalar)."""
        t = object.__new__(cls)
        t._data = data if type(data) is np.ndarray else np.asarray(data)
        t._grad = t._acc = t._base = t._hooks = t._view_fn = None
        t._grad_fn, t._output_nr, t._requires_grad = grad_fn, output_nr, requires_grad
        t._vc = [0] if vc is None else vc
        return t

    # ------------------------------------------------------------------ graph attributes
    @property
    def grad_fn(self):
        """The node of the operation that made this tensor (None for a leaf). A view whose base
        (or another view of it) changed in place since gets its ``grad_fn`` again first, on the
        base's new history, as torch regenerates it when it is read."""
        if self._view_fn is not None and self._view_version != self._vc[0] and \
                autograd.is_grad_enabled():
            self._refresh()
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node):
        self._grad_fn = node

    @property
    def grad(self):
        """The gradient backward left here: on a leaf that requires grad, or on a non-leaf
        that called ``retain_grad()``. Reading it on any other non-leaf warns, as torch: it is
        always None there, and almost always a mistake."""
        g = self._grad
        if g is None and self.grad_fn is not None and not self.retains_grad:
            warnings.warn(
                f"grad: this tensor (shape {tuple(self.shape)}) is not a leaf (it was made by "
                f"{self.grad_fn.name()}), so backward() does not fill its .grad; it is None. "
                f"Call .retain_grad() on it before backward() if you want its gradient, or "
                f"read .grad of the leaf you meant.", UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value):
        """Assigning ``.grad``: a tensor of this tensor's shape and dtype, or None, checked at
        once as torch does (a wrong one would make the next backward fail far away)."""
        if value is not None:
            if not isinstance(value, Tensor):
                kind = type(value)
                kind = kind.__name__ if kind.__module__ == "builtins" else \
                    f"{kind.__module__}.{kind.__qualname__}"
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {kind}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the "
                    f"tensor are the same size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype}' to a tensor "
                    f"with dtype '{self.dtype}'. The gradient must match the tensor's dtype.")
        self._grad = value

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever backward computes the gradient with respect to this
        tensor; if it returns a tensor, that replaces the gradient (for the rest of the
        walk, and for ``.grad``). Returns a handle whose ``remove()`` takes the hook away."""
        if not self._requires_grad:
            raise RuntimeError(f"register_hook: cannot register a hook on a tensor (shape "
                               f"{tuple(self.shape)}) that does not require grad: no gradient "
                               f"will ever be computed for it.")
        if self.grad_fn is None:           # a leaf: its AccumulateGrad runs the hooks
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node._pre_hooks is None:
                node._pre_hooks = {}
            hooks = node._pre_hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return autograd.RemovableHandle(hooks, hook)

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "requires_grad: you can only change requires_grad of leaf tensors; this tensor "
                f"was made by {self.grad_fn.name()}. Use .detach() to get a tensor without "
                "history.")
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"requires_grad: only floating-point tensors can require gradients, but this one "
                f"has dtype {self._data.dtype}; gradients of integers are not defined. Build it "
                f"with dtype=minigrad.float32 (or float64).")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        """A leaf: made by the user, not by an operation (``grad_fn is None``)."""
        return self.grad_fn is None

    @property
    def _version(self):
        """How many times the tensor was modified in place (backward checks saved ones)."""
        return self._vc[0]

    def retain_grad(self):
        """Ask backward to keep ``.grad`` on this non-leaf tensor too."""
        if self.grad_fn is None:
            return
        if self.grad_fn._retained is None:
            self.grad_fn._retained = {}
        self.grad_fn._retained[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self):
        r = self.grad_fn._retained if self.grad_fn is not None else None
        return bool(r) and self._output_nr in r and r[self._output_nr]() is self

    def detach(self):
        """The same numbers (shared memory, shared version counter), cut from the graph: a
        change through either is seen by both, and counted, so a backward that saved this
        tensor still notices."""
        return Tensor._make(self._data, vc=self._vc)

    @property
    def data(self):
        """The same numbers as a tensor outside the graph: shared memory, but its own version
        counter (as torch: a change through ``.data`` is invisible to autograd's checks — why
        ``p.data -= lr * p.grad`` works, and why it is dangerous). Assigning ``x.data = t``
        gives x the numbers of t."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        value = value._data if isinstance(value, Tensor) else _as_array(value)
        if value.dtype != self._data.dtype and self._requires_grad and value.dtype.kind != "f":
            raise RuntimeError(f"data: cannot give a tensor that requires grad the numbers of "
                               f"a {value.dtype} tensor; gradients need floating point.")
        self._data = value

    def detach_(self):
        self._grad_fn, self._requires_grad = None, False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Walk the graph back from this tensor; every leaf that requires grad gets ``.grad``
        added to. ``gradient`` is the upstream gradient (needed unless this is a scalar)."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    # ------------------------------------------------------------------ plain attributes
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        return Size(self._data.shape) if dim is None else self._data.shape[dim]

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    def nelement(self):
        return self._data.size

    @property
    def dtype(self):
        """The tensor's dtype (``minigrad.float32``); its numbers are in ``_data``, a numpy
        array of the numpy dtype it stands for."""
        return dtypes.of_numpy(self._data.dtype)

    @property
    def device(self):
        """Where the numbers live: ``device(type='cpu')``, always (minigrad runs on the CPU)."""
        from ._device import CPU
        return CPU

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_complex(self):
        return self._data.dtype.kind == "c"

    def is_signed(self):
        return self._data.dtype.kind in "fci"

    def element_size(self):
        """Bytes per element."""
        return self._data.dtype.itemsize

    # ------------------------------------------------------------------ new tensors like this one
    def _like(self, data, dtype, requires_grad):
        np_dtype = self._data.dtype if dtype is None else dtypes.to_numpy(dtype)
        return Tensor(np.asarray(data, np_dtype), requires_grad=requires_grad)

    @on_cpu
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A new leaf tensor holding a copy of ``data``, in this tensor's dtype unless given."""
        return self._like(np.array(_as_array(data), copy=True), dtype, requires_grad)

    @on_cpu
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self._like(np.zeros(_shape(size)), dtype, requires_grad)

    @on_cpu
    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self._like(np.ones(_shape(size)), dtype, requires_grad)

    @on_cpu
    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        """As ``new_zeros`` (torch leaves the memory uninitialized; minigrad fills it with 0)."""
        return self.new_zeros(*size, dtype=dtype, requires_grad=requires_grad)

    @on_cpu
    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return self._like(np.full(_shape((size,)), fill_value), dtype, requires_grad)

    def numpy(self, force=False):
        """The numpy array of the tensor's numbers, sharing its memory (a write to one is a
        write to the other). Refused on a tensor that requires grad, as torch."""
        if self._requires_grad and not force:
            raise RuntimeError(f"numpy: can't call numpy() on a tensor that requires grad "
                               f"(shape {tuple(self.shape)}); use tensor.detach().numpy() "
                               f"instead.")
        return self._data

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"item: only a one-element tensor can be converted to a Python "
                               f"number, but this one has shape {tuple(self.shape)}.")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"bool: the boolean value of a tensor of shape {tuple(self.shape)} "
                               f"(more than one value) is ambiguous; use .any() or .all().")
        return bool(self._data)

    def _scalar(self, kind):
        if self._data.size != 1:
            raise ValueError(f"{kind}: only one element tensors can be converted to Python "
                             f"scalars, but this one has shape {tuple(self.shape)}.")
        return self._data.item()

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __index__(self):
        return self._data.__index__()

    def __hash__(self):
        return id(self)

    def __repr__(self):
        """As torch prints a tensor (precision 4, scientific notation when the magnitudes
        call for it, ``...`` above 1000 elements; ``minigrad.set_printoptions`` changes
        these): see ``minigrad/_tensor_str.py``."""
        return _tensor_str.tensor_repr(self)

    def __format__(self, spec):
        """``f"{loss:.4f}"``: a 0-d tensor formats as its number, as torch's; any other
        tensor only with an empty format (its repr)."""
        if self._data.ndim == 0 and type(self) is Tensor:
            return self._data.item().__format__(spec)
        return object.__format__(self, spec)

    # ------------------------------------------------------------------ conversions
    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """This tensor in another dtype (on the CPU, minigrad's only device), as torch's
        ``to(dtype)``, ``to(device, dtype)``, ``to(other)`` (other's dtype) or
        ``to(dtype=..., device=...)``; itself when nothing changes, unless ``copy=True``."""
        for a in args:
            if isinstance(a, Tensor):
                dtype = a._data.dtype
            elif isinstance(a, str) or type(a).__name__ == "device":
                device = a
            elif not isinstance(a, builtins.bool):     # to(dtype, non_blocking, copy) positions
                dtype = a
        if device is not None and str(device) not in ("cpu", "cpu:0"):
            raise RuntimeError(f"to: minigrad runs on the CPU only; cannot move a tensor of "
                               f"shape {tuple(self.shape)} to device {str(device)!r}.")
        np_dtype = self._data.dtype if dtype is None else dtypes.to_numpy(dtype)
        if np_dtype == self._data.dtype:
            return _ops.clone(self) if copy else self
        return _ops.to_dtype(self, np_dtype)

    def type(self, dtype=None):
        """With no argument, the tensor's type name (``'minigrad.FloatTensor'``, as torch's
        ``'torch.FloatTensor'``); else this tensor in ``dtype`` (a dtype or a type name)."""
        if dtype is None:
            return f"minigrad.{dtypes._LEGACY_NAME[self.dtype]}"
        return self.to(dtypes.to_numpy(getattr(dtype, "_dtype", dtype)))

    def double(self):
        return self.to(float64)

    def float(self):
        return self.to(float32)

    def half(self):
        return self.to(float16)

    def long(self):
        return self.to(int64)

    def int(self):
        return self.to(int32)

    def short(self):
        return self.to(int16)

    def char(self):
        return self.to(int8)

    def byte(self):
        return self.to(uint8)

    def bool(self):
        return self.to(bool_)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        """Refused: minigrad runs on the CPU only (``minigrad.cuda.is_available()`` is False)."""
        from ._device import check_device
        check_device("cuda", "cuda")

    def pin_memory(self, device=None):
        raise RuntimeError("pin_memory: cannot access accelerator device when none is available "
                           "(minigrad runs on the CPU only; pinned memory is for copies to a GPU).")

    def is_pinned(self, device=None):
        return False

    @property
    def is_cuda(self):
        return False

    def get_device(self):
        """-1, torch's number for the CPU."""
        return -1

    def contiguous(self):
        """This tensor if its memory is laid out row by row, else a copy that is."""
        return self if self._data.flags.c_contiguous else _ops.clone(self, True)

    def is_contiguous(self):
        return self._data.flags.c_contiguous

    def clone(self):
        return _ops.clone(self)

    # ------------------------------------------------------------------ in place
    def _inplace(self, op, compute, other=None, ufunc=None):
        """The one path of every in-place operation. ``compute(old)`` gives the new value (of
        this tensor's shape) from a tensor holding the old one; the result is written into
        this tensor's memory — which its base and views share — and the shared version
        counter goes up, so a backward that saved the old value raises instead of using the
        new one.

        When the graph is recorded (grad mode on, and this tensor or ``other`` requires grad)
        the new value is computed as a recorded operation and this tensor takes its
        ``grad_fn``; a view also gives its base a new history, ``CopySlices``: the gradient of
        the base flows through the change made to the view, as in torch."""
        self._check_writable(op, other if op in _ARITHMETIC else None)
        if self._view_fn is not None and self._view_fn.no_grad and autograd.is_grad_enabled():
            raise autograd.no_grad_view_error(self, op)
        recording = autograd.is_grad_enabled() and (
            self._requires_grad or (isinstance(other, Tensor) and other._requires_grad))
        if not recording and ufunc is not None and self._inplace_ufunc(ufunc, other):
            return self
        if not recording:
            with autograd.no_grad():
                new = compute(self)
            self._write(new, op)
            return self
        view = self._view_fn is not None
        if view:
            self._refresh()
            self._check_view_writable(op)
        elif self._requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"{op}: a leaf Variable that requires grad is being used in an in-place "
                f"operation (a leaf of shape {tuple(self.shape)}): its gradient would belong "
                f"to a value that no longer exists. Wrap parameter updates in `with "
                f"minigrad.no_grad():`, or work on a copy (x.clone()).")
        old = Tensor._make(self._data.copy(), self._requires_grad, self.grad_fn,
                           self._output_nr)
        new = compute(old)
        if new._data.dtype != self._data.dtype:
            new = new.to(self._data.dtype)
        retained = self.retains_grad
        if retained:                     # the retained gradient is the new value's, not the old's
            del self.grad_fn._retained[self._output_nr]
        self._write(new, op)
        if view:
            base = self._base
            before = Tensor._make(base._data, base._requires_grad, base.grad_fn,
                                  base._output_nr)
            after = _ops.shape.CopySlices.apply(before, new, self._view_fn)
            base._grad_fn, base._output_nr, base._requires_grad = after.grad_fn, 0, True
            self._refresh(force=True)
        else:
            self._grad_fn, self._output_nr = new.grad_fn, new._output_nr
            self._requires_grad = new._requires_grad
            autograd.adopt_saved_output(new, self)
        if retained:
            self.retain_grad()
        return self

    def _inplace_ufunc(self, ufunc, other):
        """The quick path of ``+= -= *= /=`` outside the graph (``p.data -= lr * p.grad``):
        numpy's ``ufunc`` writes straight into this tensor's memory, with no result array and
        no copy. Only where it gives the general path's numbers: a tensor operand of this
        tensor's dtype, or a Python number (computed in this tensor's dtype, as torch). False
        elsewhere; the general path then runs, with its promotion rules and errors."""
        if isinstance(other, Tensor):
            o = other._data
            if o.dtype != self._data.dtype:
                return False
        elif type(other) in (int, float):
            o = other
        else:
            return False
        try:
            with np.errstate(all="ignore"):
                ufunc(self._data, o, out=self._data, casting="same_kind")
        except (ValueError, TypeError, OverflowError):
            return False
        self._vc[0] += 1
        return True

    def _write(self, new, op):
        value = new._data if isinstance(new, Tensor) else new
        if np.shape(value) != self._data.shape:
            raise RuntimeError(
                f"{op}: the result has shape {tuple(np.shape(value))} but the tensor written "
                f"in place has shape {tuple(self.shape)}; an in-place result must keep the "
                f"tensor's shape (broadcasting may only stretch the other operand).")
        np.copyto(self._data, value, casting="unsafe")
        self._vc[0] += 1

    def _check_writable(self, op, other=None):
        """Refuse, as torch, an in-place result the tensor cannot hold: of a higher dtype
        category (a float into an integer tensor), or written into an expanded tensor."""
        dt = self._data.dtype
        if op == "sub_":                    # the same refusal as out-of-place a - b on bools
            _ops.elementwise._no_bool_subtraction(self, other)
        if dt.kind != "f" and other is not None:
            res = _ops.result_type(self, other)
            if op == "div_" or _ops.elementwise._category(res) > _ops.elementwise._category(dt):
                res = _Defaults.dtype if op == "div_" and res.kind != "f" else res
                raise RuntimeError(
                    f"{op}: the result has dtype {res}, which can't be cast to the dtype {dt} "
                    f"of the tensor (shape {tuple(self.shape)}): it cannot hold it, and an "
                    f"in-place op keeps the tensor's dtype. Use the out-of-place form or "
                    f"convert first (.float()).")
        if not self._data.flags.writeable:
            raise RuntimeError(
                f"{op}: unsupported operation: more than one element of the written-to tensor "
                f"(shape {tuple(self.shape)}, an expanded view) refers to a single memory "
                f"location, so it cannot be written in place. Please clone() the tensor before "
                f"performing the operation.")

    def _check_view_writable(self, op):
        base = self._base
        if base._requires_grad and base.grad_fn is None:
            raise RuntimeError(
                f"{op}: a view of a leaf Variable that requires grad is being used in an "
                f"in-place operation (a view of shape {tuple(self.shape)} of a leaf of shape "
                f"{tuple(base.shape)}). Wrap the update in `with minigrad.no_grad():`, or "
                f"change a copy (x.clone()).")
        if self._view_fn.multi:
            raise RuntimeError(
                f"{op}: output {self._view_fn.multi - 1} of {self._view_fn.cls.__name__} is a "
                f"view and is being modified inplace. This view is the output of a function "
                f"that returns multiple views (split, chunk, unbind). Such functions do not "
                f"allow the output views to be modified inplace. You should replace the "
                f"inplace operation by an out-of-place one, or clone() the piece first.")

    def _refresh(self, force=False):
        """A view whose base changed in place since its ``grad_fn`` was made takes the view
        again of the base's new history (torch regenerates it the same way)."""
        if force or self._view_version != self._vc[0]:
            if self._view_fn.no_grad:
                raise autograd.no_grad_view_error(self)
            fresh = self._view_fn(self._base)
            self._grad_fn, self._output_nr = fresh.grad_fn, fresh._output_nr
            self._requires_grad = fresh._requires_grad
            self._view_version = self._vc[0]

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def add_(self, other, alpha=1):
        return self._inplace("add_", lambda old: _ops.add(old, other, alpha=alpha), other,
                             np.add if alpha == 1 else None)

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", lambda old: _ops.sub(old, other, alpha=alpha), other,
                             np.subtract if alpha == 1 else None)

    def mul_(self, other):
        return self._inplace("mul_", lambda old: _ops.mul(old, other), other, np.multiply)

    def div_(self, other):
        return self._inplace("div_", lambda old: _ops.div(old, other), other, np.true_divide)

    def pow_(self, exponent):
        return self._inplace("pow_", lambda old: _ops.pow(old, exponent), exponent)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda old: _ops.clamp(old, min, max),
                             min if isinstance(min, Tensor) else max)

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        return self._inplace("masked_fill_", lambda old: _ops.masked_fill(old, mask, value),
                             value)

    def relu_(self):
        return self._inplace("relu_", _ops.relu)

    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        return self._inplace("scatter_", lambda old: _ops.scatter(old, dim, index, src, value,
                                                                  reduce), src)

    def scatter_add_(self, dim, index, src):
        return self._inplace("scatter_add_", lambda old: _ops.scatter_add(old, dim, index, src),
                             src)

    def _float_inplace(self, op, fn):
        if self._data.dtype.kind != "f":
            raise RuntimeError(f"{op}: the result has dtype {_Defaults.dtype}, which can't be "
                               f"cast to the dtype {self._data.dtype} of the tensor (shape "
                               f"{tuple(self.shape)}); use the out-of-place form or convert "
                               f"first (.float()).")
        return self._inplace(op, fn)

    def log10_(self):
        return self._float_inplace("log10_", _ops.log10)

    def log2_(self):
        return self._float_inplace("log2_", _ops.log2)

    def log1p_(self):
        return self._float_inplace("log1p_", _ops.log1p)

    def expm1_(self):
        return self._float_inplace("expm1_", _ops.expm1)

    def remainder_(self, other):
        return self._inplace("remainder_", lambda old: _ops.remainder(old, other), other)

    def fmod_(self, other):
        return self._inplace("fmod_", lambda old: _ops.fmod(old, other), other)

    def floor_divide_(self, other):
        return self._inplace("floor_divide_", lambda old: _ops.floor_divide(old, other), other)

    def tril_(self, diagonal=0):
        return self._inplace("tril_", lambda old: _ops.tril(old, diagonal))

    def triu_(self, diagonal=0):
        return self._inplace("triu_", lambda old: _ops.triu(old, diagonal))

    def __ifloordiv__(self, other):
        return self.floor_divide_(other)

    def __imod__(self, other):
        return self.remainder_(other)

    def fill_(self, value, op="fill_"):
        """Every element set to ``value`` (a number or a 0-d tensor)."""
        everywhere = Tensor._make(np.ones(self._data.shape, bool))
        return self._inplace(op, lambda old: _ops.masked_fill(old, everywhere, value), value)

    def zero_(self):
        return self.fill_(0, "zero_")

    def copy_(self, src):
        """The numbers of ``src`` (broadcast to this tensor's shape, cast to its dtype)
        written into this tensor; differentiable with respect to ``src``."""
        if not isinstance(src, Tensor):
            src = Tensor(np.asarray(src))
        try:
            np.broadcast_shapes(src._data.shape, self._data.shape)
        except ValueError:
            raise RuntimeError(f"copy_: the source of shape {tuple(src.shape)} cannot be "
                               f"broadcast to the tensor's shape {tuple(self.shape)}.") from None
        everywhere = Tensor._make(np.ones(self._data.shape, bool))
        return self._inplace("copy_", lambda old: _ops.where(everywhere, src.to(old.dtype), old),
                             src)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with samples of N(mean, std²), from ``generator`` or the default generator."""
        _random._check_float(self._data.dtype, "normal_")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        value = _random._rng(generator, "normal_").normal(mean, std, self._data.shape)
        return self._inplace("normal_", lambda old: Tensor._make(value.astype(old.dtype)))

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill with samples of U(a, b), from ``generator`` or the default generator."""
        _random._check_float(self._data.dtype, "uniform_")
        if a > b:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={a:g} > to={b:g}")
        value = _random._rng(generator, "uniform_").uniform(a, b, self._data.shape)
        return self._inplace("uniform_", lambda old: Tensor._make(value.astype(old.dtype)))

    def random_(self, *bounds, generator=None, **named):
        """Fill with integers drawn uniformly from [from, to): ``random_(to)``,
        ``random_(from, to)``; without ``to``, up to the largest the dtype holds exactly
        (2²⁴ for float32, 2⁵³ for float64, the maximum of an integer dtype), as torch."""
        if len(bounds) == 1 and not named:
            bounds = (0, bounds[0])                                    # random_(to)
        if len(bounds) > 2 or set(named) - {"from", "to"} or \
                set(named) & set(("from", "to")[:len(bounds)]):
            raise TypeError("random_(): takes random_(to), random_(from, to) or "
                            "random_(from=0, to=None) and generator=")
        values = dict(zip(("from", "to"), bounds)) | named
        low, high = values.get("from", 0), values.get("to")
        dtype = self._data.dtype
        if high is None:                     # up to the largest integer the dtype holds exactly
            top = (1 if dtype.kind == "b" else int(np.iinfo(dtype).max) if dtype.kind in "iu"
                   else 2 ** (np.finfo(dtype).nmant + 1))
            low, _ = _random._check_range(low, top, dtype, "random_")
        else:
            low, high = _random._check_range(low, high, dtype, "random_")
            top = high - 1
        rng = _random._rng(generator, "random_")
        return self._inplace("random_", lambda old: Tensor._make(
            rng.integers(low, top, old.shape, endpoint=True).astype(dtype)))

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill with 1 at probability ``p`` (a number, or a tensor that broadcasts to this
        tensor's shape), else 0."""
        prob = _random._probability(p, "bernoulli_")
        try:
            prob = np.broadcast_to(prob, self._data.shape)
        except ValueError:
            raise RuntimeError(f"bernoulli_: p of shape {prob.shape} does not broadcast to the "
                               f"tensor's shape {tuple(self.shape)}.") from None
        rng = _random._rng(generator, "bernoulli_")
        return self._inplace("bernoulli_", lambda old: Tensor._make(
            (rng.random(old.shape) < prob).astype(self._data.dtype)))

    def bernoulli(self, p=None, *, generator=None):
        """``minigrad.bernoulli(self)``: 1 with probability given by each element, else 0."""
        return _factory.bernoulli(self, p, generator=generator)

    def exponential_(self, lambd=1.0, *, generator=None):
        """Fill with samples of the exponential distribution of rate ``lambd``."""
        _random._check_float(self._data.dtype, "exponential_", RuntimeError)
        if not lambd > 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
        rng = _random._rng(generator, "exponential_")
        return self._inplace("exponential_", lambda old: Tensor._make(
            (rng.standard_exponential(old.shape) / lambd).astype(self._data.dtype)))

    def geometric_(self, p, *, generator=None):
        """Fill with the number of trials up to the first success, each of probability p."""
        if not 0 < p < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
        rng = _random._rng(generator, "geometric_")
        return self._inplace("geometric_", lambda old: Tensor._make(
            rng.geometric(p, old.shape).astype(self._data.dtype)))

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        """Fill with exp(N(mean, std²)) samples."""
        _random._check_float(self._data.dtype, "log_normal_")
        if not std > 0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
        rng = _random._rng(generator, "log_normal_")
        return self._inplace("log_normal_", lambda old: Tensor._make(
            rng.lognormal(mean, std, old.shape).astype(self._data.dtype)))

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        """Fill with samples of the Cauchy distribution at ``median`` of scale ``sigma``."""
        _random._check_float(self._data.dtype, "cauchy_", RuntimeError)
        if not sigma > 0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
        rng = _random._rng(generator, "cauchy_")
        return self._inplace("cauchy_", lambda old: Tensor._make(
            (median + sigma * rng.standard_cauchy(old.shape)).astype(self._data.dtype)))

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """``minigrad.multinomial(self, num_samples, replacement)``."""
        return _factory.multinomial(self, num_samples, replacement, generator=generator)

    def __setitem__(self, key, value):
        """``x[key] = value``: a basic index writes through the view ``x[key]`` (``copy_``);
        an index with arrays puts the values at those places (``index_put``). Differentiable
        on a tensor in the graph; on a leaf that requires grad, only under ``no_grad``."""
        _ops.shape.setitem(self, key, value)

    # ------------------------------------------------------------------ operators
    def __add__(self, o):
        return _ops.add(self, o)

    def __radd__(self, o):
        return _ops.add(self, o)

    def __sub__(self, o):
        return _ops.sub(self, o)

    def __rsub__(self, o):
        return _ops.rsub(self, o)

    def __mul__(self, o):
        return _ops.mul(self, o)

    def __rmul__(self, o):
        return _ops.mul(self, o)

    def __truediv__(self, o):
        return _ops.div(self, o)

    def __rtruediv__(self, o):
        return _ops.rdiv(self, o)

    def __pow__(self, o):
        return _ops.pow(self, o)

    def __rpow__(self, o):
        return _ops.rpow(self, o)

    def __floordiv__(self, o):
        return _ops.floor_divide(self, o)

    def __rfloordiv__(self, o):
        return _ops.rfloordiv(self, o)

    def __mod__(self, o):
        return _ops.remainder(self, o)

    def __rmod__(self, o):
        return _ops.rremainder(self, o)

    def __neg__(self):
        return _ops.neg(self)

    def __matmul__(self, o):
        return _ops.matmul(self, o)

    def __rmatmul__(self, o):
        return _ops.matmul(o if isinstance(o, Tensor) else Tensor(o), self)

    def __getitem__(self, key):
        return _ops.getitem(self, key)

    def __lt__(self, o):
        return _ops.lt(self, o)

    def __le__(self, o):
        return _ops.le(self, o)

    def __gt__(self, o):
        return _ops.gt(self, o)

    def __ge__(self, o):
        return _ops.ge(self, o)

    def __eq__(self, o):
        return _ops.eq(self, o)

    def __ne__(self, o):
        return _ops.ne(self, o)

    def __invert__(self):
        return _ops.logical_not(self)

    def __and__(self, o):
        return _ops.logical_and(self, o)

    def __or__(self, o):
        return _ops.logical_or(self, o)

    @property
    def T(self):
        """The transpose: ``.T`` reverses all dimensions (use ``.mT`` for batches of matrices)."""
        return self if self._data.ndim < 2 else _ops.permute(self, *range(self._data.ndim)[::-1])

    @property
    def mT(self):
        return _ops.transpose(self, -2, -1)


def _shape(size):
    from .factory import _size
    return _size(size)


def _is_size(n):
    return isinstance(n, Size) or isinstance(n, (int, np.integer)) and not isinstance(
        n, (bool, np.bool_))


class Size(tuple):
    """A shape, printed like torch.Size."""

    def __repr__(self):
        return f"minigrad.Size({list(self)})"

    def numel(self):
        return int(np.prod(self))


autograd._tensor_type.append(Tensor)

from . import ops as _ops  # noqa: E402  (the ops need Tensor defined first)
from . import factory as _factory, random as _random  # noqa: E402

# the methods that simply forward to an op of the same name
for _name in _ops.TENSOR_METHODS:
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, getattr(_ops, _name))
del _name
