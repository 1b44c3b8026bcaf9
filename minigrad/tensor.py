"""The Tensor: a numpy array that remembers who made it.

``data`` is the numpy array; ``grad_fn`` is the node of the operation that produced the
tensor (None for a leaf); ``grad`` is where backward leaves the gradient of a leaf. Every
method mirrors the PyTorch method of the same name; the operations themselves live in
``minigrad/ops/``, one file per family, each VJP under its forward.
"""
import warnings
import weakref

import numpy as np

from . import autograd

float32 = np.dtype("float32")
float64 = np.dtype("float64")
float16 = np.dtype("float16")
int64 = long = np.dtype("int64")
int32 = np.dtype("int32")
bool_ = np.dtype("bool")
_float_names = {"float32": float32, "float": float32, "float64": float64, "double": float64}


class _Defaults:
    dtype = float32
    rng = np.random.default_rng(0)


def set_default_dtype(dtype):
    """Set the dtype given to tensors built from Python floats (float32 unless changed)."""
    _Defaults.dtype = np.dtype(dtype)


def get_default_dtype():
    return _Defaults.dtype


def manual_seed(seed):
    """Seed minigrad's random generator (randn, rand, dropout, parameter init)."""
    _Defaults.rng = np.random.default_rng(seed)
    return _Defaults.rng


def _as_array(data, dtype=None):
    if isinstance(data, Tensor):
        data = data.data
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
        data = data.astype(np.dtype(dtype), copy=False)
    return data


class Tensor:
    """A tensor: ``data`` (numpy array), ``grad``, ``grad_fn`` and ``requires_grad``."""
    __slots__ = ("data", "_grad", "grad_fn", "_requires_grad", "_output_nr", "_vc", "_acc",
                 "_base", "_hooks", "__weakref__")
    __array_priority__ = 1000       # numpy defers `array * tensor` to Tensor.__rmul__
    __array_ufunc__ = None

    def __init__(self, data, dtype=None, requires_grad=False):
        self.data = _as_array(data, dtype)
        self._grad = self.grad_fn = self._acc = self._base = self._hooks = None
        self._output_nr, self._vc = 0, [0]
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad=False, grad_fn=None, output_nr=0, vc=None):
        """Fast internal constructor: ``data`` is already a numpy array (or numpy scalar)."""
        t = object.__new__(cls)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t._grad = t._acc = t._base = t._hooks = None
        t.grad_fn, t._output_nr, t._requires_grad = grad_fn, output_nr, requires_grad
        t._vc = [0] if vc is None else vc
        return t

    # ------------------------------------------------------------------ graph attributes
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
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(
                f"requires_grad: only floating-point tensors can require gradients, but this one "
                f"has dtype {self.data.dtype}; gradients of integers are not defined. Build it "
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
        """The same data (shared memory, shared version counter), cut from the graph."""
        t = Tensor._make(self.data, vc=self._vc)
        t._base = self
        return t

    def detach_(self):
        self.grad_fn, self._requires_grad = None, False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Walk the graph back from this tensor; every leaf that requires grad gets ``.grad``
        added to. ``gradient`` is the upstream gradient (needed unless this is a scalar)."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    # ------------------------------------------------------------------ plain attributes
    @property
    def shape(self):
        return Size(self.data.shape)

    def size(self, dim=None):
        return Size(self.data.shape) if dim is None else self.data.shape[dim]

    @property
    def ndim(self):
        return self.data.ndim

    def dim(self):
        return self.data.ndim

    def numel(self):
        return self.data.size

    def nelement(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return "cpu"

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def numpy(self):
        if self._requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; use "
                               "tensor.detach().numpy() instead.")
        return self.data

    def item(self):
        if self.data.size != 1:
            raise RuntimeError(f"item: only a one-element tensor can be converted to a Python "
                               f"number, but this one has shape {tuple(self.shape)}.")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"bool: the boolean value of a tensor of shape {tuple(self.shape)} "
                               f"(more than one value) is ambiguous; use .any() or .all().")
        return bool(self.data)

    def _scalar(self, kind):
        if self.data.size != 1:
            raise ValueError(f"{kind}: only one element tensors can be converted to Python "
                             f"scalars, but this one has shape {tuple(self.shape)}.")
        return self.data.item()

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __index__(self):
        return self.data.__index__()

    def __hash__(self):
        return id(self)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(",
                               precision=4, floatmode="maxprec_equal")
        extra = ""
        if self.data.dtype not in (_Defaults.dtype, int64, bool_):
            extra += f", dtype=minigrad.{self.data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name()}>"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ------------------------------------------------------------------ conversions
    def to(self, dtype=None, *args, **kwargs):
        device = kwargs.get("device")
        if isinstance(dtype, str) or type(dtype).__name__ == "device":   # to("cpu"[, dtype])
            device, dtype = dtype, (args[0] if args else None)
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"to: minigrad runs on the CPU only; cannot move a tensor of "
                               f"shape {tuple(self.shape)} to device {str(device)!r}.")
        dtype = kwargs.get("dtype", dtype)
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self
        return _ops.to_dtype(self, np.dtype(dtype))

    def type(self, dtype):
        return self.to(dtype)

    def double(self):
        return self.to(float64)

    def float(self):
        return self.to(float32)

    def long(self):
        return self.to(int64)

    def int(self):
        return self.to(int32)

    def bool(self):
        return self.to(bool_)

    def cpu(self):
        return self

    def contiguous(self):
        """This tensor if its memory is laid out row by row, else a copy that is."""
        return self if self.data.flags.c_contiguous else _ops.clone(self)

    def is_contiguous(self):
        return self.data.flags.c_contiguous

    def clone(self):
        return _ops.clone(self)

    # ------------------------------------------------------------------ in place
    def _inplace(self, op, other):
        """``self op= other``. With no graph to keep (under no_grad, or a tensor that needs no
        grad) the numpy array is changed in place; otherwise the op is recorded and this
        tensor takes its result (a new array: views taken before keep the old values) and its
        grad_fn. Either way the version counter goes up, so a backward that saved the old
        value raises instead of using the new one."""
        other_t = isinstance(other, Tensor)
        self._check_inplace(op, other)
        if autograd.is_grad_enabled() and (self._requires_grad or
                                           (other_t and other._requires_grad)):
            if self.grad_fn is None and self._requires_grad:
                raise RuntimeError(
                    f"in-place {op}: a leaf tensor that requires grad (shape "
                    f"{tuple(self.shape)}) cannot be modified in place while the graph is "
                    f"recorded; its gradient would belong to a value that no longer exists. "
                    f"Wrap parameter updates in `with minigrad.no_grad():`.")
            if self._base is not None:
                raise RuntimeError(
                    f"in-place {op}: minigrad does not record in-place changes to a view "
                    f"(shape {tuple(self.shape)}) of a tensor in the graph; use an "
                    f"out-of-place operation instead.")
            old = Tensor._make(self.data, self._requires_grad, self.grad_fn, self._output_nr,
                               self._vc)
            new = getattr(_ops, op)(old, other)
            if new.shape != self.shape:
                raise RuntimeError(f"in-place {op}: the result has shape {tuple(new.shape)} "
                                   f"but the tensor has shape {tuple(self.shape)}.")
            self.data = new.data.astype(self.data.dtype, copy=False)
            self.grad_fn, self._output_nr, self._requires_grad = new.grad_fn, new._output_nr, True
            # the old value keeps its array and its counter (shared with the views taken of
            # it, and with the op that may have saved it); this tensor counts on afresh
            self._vc = [self._vc[0] + 1]
        else:
            o = other.data if other_t else other
            ufunc = {"add": np.add, "sub": np.subtract, "mul": np.multiply,
                     "div": np.true_divide}[op]
            try:
                ufunc(self.data, o, out=self.data, casting="same_kind")
            except ValueError:
                raise RuntimeError(
                    f"in-place {op}: cannot write a result of shape "
                    f"{np.broadcast_shapes(self.data.shape, np.shape(o))} into a tensor of shape "
                    f"{tuple(self.shape)}; an in-place result must keep the tensor's shape."
                ) from None
            self._vc[0] += 1
        return self

    def _check_inplace(self, op, other):
        """Refuse, as torch, an in-place result the tensor cannot hold: of a higher dtype
        category (a float into an integer tensor), or written into an expanded tensor."""
        dt = self.data.dtype
        if op == "sub":                     # the same refusal as out-of-place a - b on bools
            _ops.elementwise._no_bool_subtraction(self, other)
        if dt.kind != "f":
            res = _ops.result_type(self, other)
            if op == "div" or _ops.elementwise._category(res) > _ops.elementwise._category(dt):
                res = _Defaults.dtype if op == "div" and res.kind != "f" else res
                raise RuntimeError(
                    f"in-place {op}: the result has dtype {res}, which can't be cast to the "
                    f"dtype {dt} of the tensor (shape {tuple(self.shape)}): it cannot hold it, "
                    f"and an in-place op keeps the tensor's dtype. Use the out-of-place form "
                    f"(x = x.{op}(...)) or convert first (.float()).")
        if not self.data.flags.writeable:
            self._readonly_error(f"in-place {op}")

    def _readonly_error(self, op):
        raise RuntimeError(
            f"{op}: this tensor (shape {tuple(self.shape)}) is an expanded view, in which several "
            f"elements refer to one memory location, so it cannot be written in place; "
            f".clone() it first.")

    def __iadd__(self, other):
        return self._inplace("add", other)

    def __isub__(self, other):
        return self._inplace("sub", other)

    def __imul__(self, other):
        return self._inplace("mul", other)

    def __itruediv__(self, other):
        return self._inplace("div", other)

    def add_(self, other, alpha=1):
        return self._inplace("add", other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return self._inplace("sub", other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self._inplace("mul", other)

    def div_(self, other):
        return self._inplace("div", other)

    def zero_(self):
        return self.fill_(0)

    def _write_check(self, op, src=None):
        """fill_ and copy_ write the array directly, which is right only when no graph has to
        be kept: refuse the cases where the write would have to be recorded."""
        if not autograd.is_grad_enabled():
            return
        if self._requires_grad and self.grad_fn is None:
            raise RuntimeError(f"in-place {op}: a leaf tensor that requires grad (shape "
                               f"{tuple(self.shape)}) cannot be modified in place while the graph "
                               f"is recorded; use `with minigrad.no_grad():`.")
        if self._requires_grad or (isinstance(src, Tensor) and src._requires_grad):
            raise RuntimeError(
                f"{op}: minigrad does not record {op} in the graph, and this write (into a "
                f"tensor of shape {tuple(self.shape)}) involves a tensor that requires grad, so "
                f"its gradient would be wrong; build a new tensor instead (zeros_like, "
                f"full_like, src.clone()), or write under `with minigrad.no_grad():`.")

    def fill_(self, value):
        self._write_check("fill_/zero_")
        if not self.data.flags.writeable:
            self._readonly_error("fill_/zero_")
        self.data[...] = value
        self._vc[0] += 1
        return self

    def copy_(self, src):
        self._write_check("copy_", src)
        if not self.data.flags.writeable:
            self._readonly_error("copy_")
        src = src.data if isinstance(src, Tensor) else np.asarray(src)
        try:
            self.data[...] = src
        except ValueError:
            raise RuntimeError(f"copy_: cannot copy a source of shape {np.shape(src)} into a "
                               f"tensor of shape {tuple(self.shape)}.") from None
        self._vc[0] += 1
        return self

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

    def __neg__(self):
        return _ops.neg(self)

    def __matmul__(self, o):
        return _ops.matmul(self, o)

    def __rmatmul__(self, o):
        return _ops.matmul(o, self)

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
        return self if self.data.ndim < 2 else _ops.permute(self, *range(self.data.ndim)[::-1])

    @property
    def mT(self):
        return _ops.transpose(self, -2, -1)


class Size(tuple):
    """A shape, printed like torch.Size."""

    def __repr__(self):
        return f"minigrad.Size({list(self)})"

    def numel(self):
        return int(np.prod(self))


autograd._tensor_type.append(Tensor)

from . import ops as _ops  # noqa: E402  (the ops need Tensor defined first)

# the methods that simply forward to an op of the same name
for _name in _ops.TENSOR_METHODS:
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, getattr(_ops, _name))
del _name
