"""Building tensors: ``tensor``, ``zeros``, ``ones``, ``randn``, ``arange``… as in torch."""
import numpy as np

from . import dtypes, random as _random
from ._device import on_cpu
from .tensor import Tensor, _as_array, _Defaults


@on_cpu
def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new leaf tensor holding a copy of ``data`` (Python floats become float32 by default;
    a numpy array keeps its dtype, as torch.tensor does)."""
    return Tensor(np.array(_as_array(data, dtype), copy=True), requires_grad=requires_grad)


def _size(size):
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        size = size[0]
    size = tuple(size)
    if any(n < 0 for n in size):
        raise RuntimeError(f"cannot create a tensor of shape {size} with a negative dimension: "
                           f"every size must be 0 or more.")
    return size


def _new(data, dtype, requires_grad):
    dtype = _Defaults.dtype if dtype is None else dtypes.to_numpy(dtype)
    return Tensor(data.astype(dtype, copy=False), requires_grad=requires_grad)


@on_cpu
def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _new(np.zeros(_size(size)), dtype, requires_grad)


@on_cpu
def ones(*size, dtype=None, requires_grad=False, device=None):
    return _new(np.ones(_size(size)), dtype, requires_grad)


@on_cpu
def empty(*size, dtype=None, requires_grad=False, device=None):
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


@on_cpu
def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor of ``size`` holding ``fill_value``; its dtype, unless given, follows the value
    as in torch: bool, int64 for an int, the default float dtype for a float."""
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, (int, np.integer)):
        dtype = np.int64
    return _new(np.full(_size((size,)), fill_value), dtype, requires_grad)


@on_cpu
def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye: n and m must be greater or equal to 0, got {n} and {m}.")
    return _new(np.eye(n, m), dtype, requires_grad)


def _shape(sizes, size, who):
    """The shape given as ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(size=(2, 3))``."""
    if size is not None:
        if sizes:
            raise TypeError(f"{who}(): the size is given twice, as arguments and as size=.")
        sizes = (size,)
    if not sizes:
        raise TypeError(f"{who}(): the size is missing: {who}(2, 3) or {who}((2, 3)).")
    return _size(sizes)


def _float_dtype(dtype, who):
    """The numpy dtype of a floating-point sample: the default one unless ``dtype`` says."""
    dtype = _Defaults.dtype if dtype is None else dtypes.to_numpy(dtype)
    _random._check_float(dtype, who)
    return dtype


@on_cpu
def randn(*sizes, size=None, generator=None, dtype=None, requires_grad=False, device=None):
    """Samples of the standard normal N(0, 1) from ``generator``, or from the default
    generator (seed it with ``minigrad.manual_seed``): ``randn(2, 3)``, ``randn((2, 3))``,
    ``randn(size=(2, 3))``."""
    shape, dtype = _shape(sizes, size, "randn"), _float_dtype(dtype, "randn")
    return _new(_random._rng(generator, "randn").standard_normal(shape), dtype, requires_grad)


@on_cpu
def rand(*sizes, size=None, generator=None, dtype=None, requires_grad=False, device=None):
    """Samples of the uniform distribution on [0, 1), as ``randn`` takes its size."""
    shape, dtype = _shape(sizes, size, "rand"), _float_dtype(dtype, "rand")
    return _new(_random._rng(generator, "rand").random(shape), dtype, requires_grad)


@on_cpu
def randint(low=0, high=None, size=None, *, generator=None, dtype=None, requires_grad=False,
            device=None):
    """Integers drawn uniformly from [low, high): ``randint(high, size)``,
    ``randint(low, high, size)`` or the same with keywords, ``size`` a tuple (or list, or
    ``Size``); int64 unless ``dtype`` says otherwise, as torch."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high                     # randint(high, size)
    elif high is None:
        low, high = 0, low                                 # randint(high, size=size)
    if not isinstance(size, (tuple, list)):
        raise TypeError("randint(): size must be a tuple of ints: randint(high, size) or "
                        "randint(low, high, size), e.g. randint(0, 10, (3,)).")
    dtype = np.dtype(np.int64) if dtype is None else dtypes.to_numpy(dtype)
    low, high = _random._check_range(low, high, dtype, "randint")
    out = _random._rng(generator, "randint").integers(low, high, size=_size((size,)))
    return Tensor(out.astype(dtype), requires_grad=requires_grad)


@on_cpu
def randperm(n, *, generator=None, dtype=None, requires_grad=False, device=None):
    """The numbers 0 … n−1 in a random order, from ``generator`` or the default generator
    (int64 unless ``dtype`` says otherwise). A data loader's shuffle is
    ``randperm(len(dataset), generator=g)``."""
    n = _random._integer(n, "n", "randperm")
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}.")
    dtype = np.dtype(np.int64) if dtype is None else dtypes.to_numpy(dtype)
    if n > 0:
        _random._check_range(0, n, dtype, "randperm")
    out = _random._rng(generator, "randperm").permutation(n)
    return Tensor(out.astype(dtype), requires_grad=requires_grad)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """For each row of ``input`` (1-D, or 2-D with one distribution per row: weights ≥ 0, not
    all 0, normalized here), ``num_samples`` category indices (int64) drawn in proportion to
    the weights; without replacement, each index at most once. Without replacement the draw
    is a race: each category gets the time E/p (E exponential), the first ones win — as
    drawing one by one, the weights renormalized after each draw."""
    x = input._data
    if x.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if x.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{dtypes.of_numpy(x.dtype)}")
    num_samples = _random._integer(num_samples, "num_samples", "multinomial")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > x.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    rows = x.reshape(-1, x.shape[-1]).astype(np.float64)
    out = np.empty((len(rows), num_samples), np.int64)
    if len(rows):
        if not (np.isfinite(rows) & (rows >= 0)).all():
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if (rows.sum(axis=1) <= 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        rng = _random._rng(generator, "multinomial")
        if replacement:
            cdf = np.cumsum(rows, axis=1)
            cdf /= cdf[:, -1:]                      # the last one exactly 1
            u = rng.random(out.shape)
            for r in range(len(rows)):              # a category of weight 0 is never drawn
                out[r] = np.searchsorted(cdf[r], u[r], side="right")
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                times = rng.standard_exponential(rows.shape) / rows
            times[np.isnan(times)] = np.inf         # weight 0: last, in index order
            out[:] = (np.argmin(times, axis=1)[:, None] if num_samples == 1 else
                      np.argsort(times, axis=1, kind="stable")[:, :num_samples])
    return Tensor(out.reshape(x.shape[:-1] + (num_samples,)))


@on_cpu
def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False,
           device=None):
    """Samples of N(mean, std²): ``normal(mean, std)`` with a tensor mean or std (or both,
    broadcast together; the result has their shape and dtype), or ``normal(0.0, 1.0, size)``
    with two numbers. The result does not require grad (torch's gradient of a sample with
    respect to mean and std is zero)."""
    rng = _random._rng(generator, "normal")
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal(): with a number as mean and as std, give the size: "
                            "normal(0.0, 1.0, (2, 3)).")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        dtype = _float_dtype(dtype, "normal")
        return _new(rng.normal(mean, std, _size((size,))), dtype, requires_grad)
    if size is not None:
        raise TypeError("normal(): a size goes with a number as mean and as std; with a "
                        "tensor the result has the tensor's shape.")
    m, s = (a._data if isinstance(a, Tensor) else np.asarray(a) for a in (mean, std))
    dtype = np.result_type(*[a._data.dtype for a in (mean, std) if isinstance(a, Tensor)])
    _random._check_float(dtype, "normal")
    if isinstance(std, Tensor) and (s < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not isinstance(std, Tensor) and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    try:
        shape = np.broadcast_shapes(m.shape, s.shape)
    except ValueError:
        raise RuntimeError(f"normal: the shapes of mean {m.shape} and std {s.shape} do not "
                           f"broadcast together.") from None
    return Tensor((m + s * rng.standard_normal(shape)).astype(dtype))


def bernoulli(input, p=None, *, generator=None):
    """1 with probability ``input`` (each element a probability in [0, 1]), else 0, in
    ``input``'s shape and dtype; ``bernoulli(input, p)`` uses the one probability ``p``.
    The result does not require grad (torch's gradient of a sample is zero)."""
    _random._check_float(input._data.dtype, "bernoulli")
    prob = _random._probability(input._data if p is None else p, "bernoulli")
    rng = _random._rng(generator, "bernoulli")
    return Tensor((rng.random(input._data.shape) < prob).astype(input._data.dtype))


def poisson(input, generator=None):
    """A Poisson sample at each rate of ``input`` (finite, ≥ 0), in its shape and dtype."""
    rates = input._data
    _random._check_float(rates.dtype, "poisson")
    if not (rates >= 0).all():                         # nan is refused too
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    if not np.isfinite(rates).all():
        raise RuntimeError("poisson: a rate is infinite; a Poisson sample needs a finite rate.")
    return Tensor(_random._rng(generator, "poisson").poisson(rates).astype(rates.dtype))


@on_cpu
def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError(f"arange: step must be nonzero (from {start} to {end}).")
    out = np.arange(start, end, step)
    if dtype is None and out.dtype.kind == "f":
        dtype = _Defaults.dtype
    return Tensor(out if dtype is None else out.astype(dtype), requires_grad=requires_grad)


@on_cpu
def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    return _new(np.linspace(start, end, steps), dtype, requires_grad)


def _like(fn, x, dtype, requires_grad):
    return Tensor(fn(x.shape).astype(x._data.dtype if dtype is None else dtype),
                  requires_grad=requires_grad)


@on_cpu
def zeros_like(x, dtype=None, requires_grad=False, device=None):
    return _like(np.zeros, x, dtype, requires_grad)


@on_cpu
def ones_like(x, dtype=None, requires_grad=False, device=None):
    return _like(np.ones, x, dtype, requires_grad)


@on_cpu
def full_like(x, fill_value, dtype=None, requires_grad=False, device=None):
    return _like(lambda s: np.full(s, fill_value), x, dtype, requires_grad)


@on_cpu
def randn_like(x, *, generator=None, dtype=None, requires_grad=False, device=None):
    _random._check_float(x._data.dtype if dtype is None else dtypes.to_numpy(dtype),
                         "randn_like")
    return _like(_random._rng(generator, "randn_like").standard_normal, x, dtype, requires_grad)


@on_cpu
def rand_like(x, *, generator=None, dtype=None, requires_grad=False, device=None):
    _random._check_float(x._data.dtype if dtype is None else dtypes.to_numpy(dtype),
                         "rand_like")
    return _like(_random._rng(generator, "rand_like").random, x, dtype, requires_grad)


@on_cpu
def randint_like(x, low=0, high=None, *, generator=None, dtype=None, requires_grad=False,
                 device=None):
    """``randint`` in the shape of ``x`` (and its dtype unless ``dtype`` says otherwise):
    ``randint_like(x, high)`` or ``randint_like(x, low, high)``."""
    if high is None:
        low, high = 0, low
    dtype = x._data.dtype if dtype is None else dtypes.to_numpy(dtype)
    low, high = _random._check_range(low, high, dtype, "randint_like")
    out = _random._rng(generator, "randint_like").integers(low, high, size=x.shape)
    return Tensor(out.astype(dtype), requires_grad=requires_grad)


# ---------------------------------------------------------------------------- sharing and legacy
@on_cpu
def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory when it can (as torch): a tensor of the asked
    dtype is returned itself, a numpy array of that dtype is shared; anything else is
    copied (a list, or a conversion to another dtype)."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray):
        return Tensor._make(data if dtype is None else data.astype(dtypes.to_numpy(dtype),
                                                                    copy=False))
    return tensor(data, dtype=dtype)


def from_numpy(ndarray):
    """A tensor on the memory of a numpy array (as torch: writing either changes both)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dtypes.of_numpy(ndarray.dtype)                 # refuses what minigrad cannot hold
    return Tensor._make(ndarray)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


class _LegacyType(type):
    def __instancecheck__(cls, obj):               # isinstance(t, FloatTensor): t's dtype
        return isinstance(obj, Tensor) and obj._data.dtype == cls._dtype.dtype


def _legacy(name, d):
    def __new__(cls, *args):
        """Torch's legacy constructor: sizes give a zero-filled tensor, data is converted."""
        if args and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                        for a in args) or not args:
            return zeros(*args if args else (0,), dtype=d)
        if len(args) > 1:
            raise TypeError(f"{name}: give data, or sizes (ints), not {args}.")
        return tensor(args[0], dtype=d)
    return _LegacyType(name, (), {"__new__": __new__, "_dtype": d, "__doc__":
                                  f"``{name}(data)`` or ``{name}(*sizes)``: a {d} tensor."})


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
CharTensor = _legacy("CharTensor", dtypes.int8)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
BoolTensor = _legacy("BoolTensor", dtypes.bool_)
