"""minigrad's dtypes: ``minigrad.float32``, ``minigrad.int64``, ... as torch's ``torch.float32``.

A dtype prints ``minigrad.float32`` and has torch's attributes (``is_floating_point``,
``is_complex``, ``is_signed``, ``itemsize``). A tensor's numbers live in a numpy array, so each
dtype stands for a numpy dtype: its ``dtype`` attribute, which is also what lets numpy take
one wherever it takes a dtype (``np.zeros(3, minigrad.float64)``, ``a.astype(t.dtype)``). It
compares equal to that numpy dtype (and to numpy's scalar type, ``np.float32``) and hashes
like it, so code written for either keeps working; it does not compare equal to a string or
to Python's ``float``, as torch's does not. The engine itself works with the numpy dtype of
``t._data`` and never builds these objects.

``bfloat16`` is a name only: numpy has no bfloat16 numbers, and minigrad refuses to store
them as another dtype (which would silently give other results than torch's), so making a
tensor with it raises.
"""
import builtins

import numpy as np


class dtype:
    """One of minigrad's dtypes (``minigrad.float32``); ``dtype`` is the numpy dtype it
    stands for."""
    __slots__ = ("name", "_np", "itemsize", "is_floating_point", "is_complex", "is_signed")

    def __init__(self, name, np_dtype, itemsize, kind):
        self.name, self._np, self.itemsize = name, np_dtype, itemsize
        self.is_floating_point, self.is_complex = kind == "f", kind == "c"
        self.is_signed = kind in "fci"

    @property
    def dtype(self):
        if self._np is None:
            raise TypeError(f"minigrad.{self.name}: minigrad keeps a tensor's numbers in numpy, "
                            f"which has no {self.name}, and does not store them as another "
                            f"dtype (the results would differ from torch's); use "
                            f"minigrad.float32, or minigrad.float16 for half precision.")
        return self._np

    def __repr__(self):
        return f"minigrad.{self.name}"

    __str__ = __repr__

    def __eq__(self, other):
        if isinstance(other, dtype):
            return self is other
        if self._np is not None and (isinstance(other, np.dtype) or (
                isinstance(other, type) and issubclass(other, np.generic))):
            return self._np == np.dtype(other)
        return NotImplemented

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self):
        return hash(self._np) if self._np is not None else hash(self.name)

    def __reduce__(self):                      # copy and pickle give back the same object
        return _named, (self.name,)


float32 = dtype("float32", np.dtype("float32"), 4, "f")
float64 = dtype("float64", np.dtype("float64"), 8, "f")
float16 = dtype("float16", np.dtype("float16"), 2, "f")
bfloat16 = dtype("bfloat16", None, 2, "f")
int8 = dtype("int8", np.dtype("int8"), 1, "i")
int16 = dtype("int16", np.dtype("int16"), 2, "i")
int32 = dtype("int32", np.dtype("int32"), 4, "i")
int64 = dtype("int64", np.dtype("int64"), 8, "i")
uint8 = dtype("uint8", np.dtype("uint8"), 1, "u")
bool_ = dtype("bool", np.dtype("bool"), 1, "b")
float, double, half = float32, float64, float16           # torch's other names
short, int, long = int16, int32, int64



def _named(name):
    return _BY_NAME[name]


_BY_NAME = {d.name: d for d in (float32, float64, float16, bfloat16, int8, int16, int32, int64,
                                uint8, bool_)}
_OF_NUMPY = {d._np: d for d in (float32, float64, float16, int8, int16, int32, int64, uint8,
                                bool_)}
_LEGACY = {"FloatTensor": float32, "DoubleTensor": float64, "HalfTensor": float16,
           "BFloat16Tensor": bfloat16, "CharTensor": int8, "ShortTensor": int16,
           "IntTensor": int32, "LongTensor": int64, "ByteTensor": uint8, "BoolTensor": bool_}
_LEGACY_NAME = {d: name for name, d in _LEGACY.items()}


def of_numpy(np_dtype):
    """The minigrad dtype of a numpy dtype (an array's ``dtype``)."""
    d = _OF_NUMPY.get(np_dtype)
    if d is None:
        raise TypeError(f"minigrad has no dtype for numpy's {np_dtype}; its dtypes are "
                        f"{', '.join(str(d) for d in _OF_NUMPY.values())}.")
    return d


def to_numpy(d):
    """The numpy dtype that stores dtype ``d`` (a minigrad dtype, a numpy dtype or scalar
    type, or a legacy type name such as ``"torch.FloatTensor"``)."""
    if isinstance(d, dtype):
        return d.dtype
    if isinstance(d, builtins.str) and d.rpartition(".")[2] in _LEGACY:
        return _LEGACY[d.rpartition(".")[2]].dtype
    return np.dtype(d)


class finfo:
    """The limits of a floating-point dtype, as ``torch.finfo`` (the default dtype unless
    given): ``bits``, ``eps``, ``max``, ``min``, ``tiny`` (= ``smallest_normal``),
    ``resolution`` and ``dtype`` (its name)."""

    def __init__(self, type=None):
        from .tensor import get_default_dtype
        d = get_default_dtype() if type is None else type
        d = d if isinstance(d, dtype) else of_numpy(np.dtype(d))
        if not d.is_floating_point:
            raise TypeError(f"finfo: {d} is not a floating-point dtype; use minigrad.iinfo "
                            f"for integers.")
        self.dtype, self.bits = d.name, 8 * d.itemsize
        if d is bfloat16:                      # 8 exponent bits as float32, 7 fraction bits
            self.eps, self.tiny, self.resolution = 2.0 ** -7, 2.0 ** -126, 0.01
            self.max = (2 - 2.0 ** -7) * 2.0 ** 127
        else:
            f = np.finfo(d.dtype)
            self.eps, self.tiny = builtins.float(f.eps), builtins.float(f.smallest_normal)
            self.resolution, self.max = 10.0 ** -f.precision, builtins.float(f.max)
        self.min, self.smallest_normal = -self.max, self.tiny

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """The limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``max``, ``min`` and
    ``dtype`` (its name)."""

    def __init__(self, type):
        d = type if isinstance(type, dtype) else of_numpy(np.dtype(type))
        if d.is_floating_point:
            raise TypeError(f"iinfo: {d} is a floating-point dtype; use minigrad.finfo.")
        if d is bool_:
            raise TypeError("iinfo: minigrad.bool is not supported by minigrad.iinfo (as torch).")
        i = np.iinfo(d.dtype)
        self.dtype, self.bits = d.name, 8 * d.itemsize
        self.min, self.max = builtins.int(i.min), builtins.int(i.max)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
