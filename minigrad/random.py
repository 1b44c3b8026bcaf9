"""Random numbers as in ``torch.random``: generators, the default one, seeds and states.

A :class:`Generator` draws from one numpy generator (PCG64); ``manual_seed(s)`` starts it
anew as ``numpy.random.default_rng(s)``, so a seed gives the same numbers in minigrad every
time (not the numbers torch would draw: to compare with torch, copy tensors, not seeds).
Every function that draws (``randn``, ``rand``, ``randint``, ``randperm``, ``multinomial``,
``normal``, ``bernoulli``, ``poisson``, the ``*_like`` ones, ``nn.init``, ``Tensor.normal_``,
``uniform_``, ``random_``, ``bernoulli_``, ``exponential_``, ``geometric_``, ``log_normal_``,
``cauchy_``) takes ``generator=``; without one it draws from :data:`default_generator`,
which ``minigrad.manual_seed`` seeds, as dropout does. Drawing from a generator of your own
leaves the default one where it was::

    g = minigrad.Generator().manual_seed(42)
    order = minigrad.randperm(10, generator=g)      # e.g. a data loader's shuffle

The state (``get_state``, ``get_rng_state``) is a uint8 tensor of 45 bytes, little-endian:
the initial seed (8 bytes), PCG64's state (16) and increment (16), whether a 32-bit half
is buffered (1) and that half (4). ``set_state`` takes back only such a tensor.
"""
import contextlib
import operator
import os

import numpy as np

from . import _device, dtypes
from .tensor import Tensor, _Defaults

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng"]

_DEFAULT_SEED = 67280421310721          # the initial seed of a new torch.Generator()
_STATE_SIZE = 45


def _seed_value(seed):
    """A seed as torch takes one: an int in [-2**63, 2**64), a negative one counted mod 2**64."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if not -2 ** 63 <= seed < 2 ** 64:
        raise ValueError(f"manual_seed: the seed {seed} is out of range: a seed lies in "
                         f"[-2**63, 2**64).")
    return seed % 2 ** 64


def _check_float(dtype, who, error=NotImplementedError):
    """Refuse to draw floating-point samples into an integer or bool dtype, as torch does."""
    if np.dtype(dtype).kind != "f":
        raise error(f"{who}: draws floating-point numbers, not {dtypes.of_numpy(np.dtype(dtype))} "
                    f"ones: give a floating-point dtype (as torch, which has no {who} for it).")


def _integer(value, name, who):
    if isinstance(value, float) or not hasattr(value, "__index__"):
        raise TypeError(f"{who}(): argument '{name}' must be int, not {type(value).__name__}")
    value = operator.index(value)
    if not -2 ** 63 <= value < 2 ** 63:
        raise RuntimeError(f"{who}: {name}={value} does not fit in an int64.")
    return value


def _check_range(low, high, dtype, who):
    """[low, high) as two ints, checked as torch checks them: low < high, and both ends in
    the range of ``dtype`` (a numpy dtype) when it is an integer or bool one."""
    low, high = _integer(low, "low", who), _integer(high, "high", who)
    if low >= high:
        raise RuntimeError(f"{who}: expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    if dtype.kind in "biu":
        lo, hi = (0, 1) if dtype.kind == "b" else (int(np.iinfo(dtype).min),
                                                   int(np.iinfo(dtype).max))
        for bad, end in ((low < lo, "from"), (high - 1 > hi, "to - 1")):
            if bad:
                raise RuntimeError(f"{who}: {end} is out of bounds for "
                                   f"{dtypes.of_numpy(dtype)}, whose numbers lie in [{lo}, {hi}]")
    return low, high


def _probability(p, who):
    """``p`` (a number, array or tensor) as an array of probabilities, each in [0, 1]."""
    values = np.asarray(p._data if isinstance(p, Tensor) else p)
    if not ((values >= 0) & (values <= 1)).all():          # nan is refused too
        if values.ndim == 0:
            raise RuntimeError(f"{who} expects p to be in [0, 1], but got p={p}")
        raise RuntimeError(f"{who} expects all elements of p to be in [0, 1]")
    return values


def _rng(generator, who):
    """The numpy generator that ``generator`` (a :class:`Generator`, or None for the default
    one) draws from; ``who`` names the function in the error for anything else."""
    if generator is None:
        return _Defaults.rng
    if not isinstance(generator, Generator):
        raise TypeError(f"{who}(): argument 'generator' must be minigrad.Generator, not "
                        f"{type(generator).__name__}")
    return generator._rng


class Generator:
    """A stream of random numbers of its own, as ``torch.Generator``: ``manual_seed(s)``
    (which returns the generator), ``seed()``, ``initial_seed()``, ``get_state()`` /
    ``set_state()`` and ``device``. A new one starts from torch's default seed."""

    def __init__(self, device="cpu"):
        if _device.device(device).type != "cpu":
            raise RuntimeError(f"Generator: device {device} is not supported: minigrad runs on "
                               f"the CPU only.")
        self.manual_seed(_DEFAULT_SEED)

    @property
    def device(self):
        """The device its numbers are for: ``device(type='cpu')``."""
        return _device.CPU

    def manual_seed(self, seed):
        """Start the stream again from ``seed``; returns the generator."""
        seed = _seed_value(seed)
        self._rng, self._seed = np.random.default_rng(seed), seed
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns that seed."""
        s = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(s)
        return s

    def initial_seed(self):
        """The seed the stream started from."""
        return self._seed

    def get_state(self):
        """The state, a uint8 tensor (see the module's docstring): ``set_state`` of it
        replays the numbers drawn after it was taken."""
        bits = self._rng.bit_generator.state
        if bits["bit_generator"] != "PCG64":
            raise RuntimeError(f"get_state: a {bits['bit_generator']} generator has no state "
                               f"in minigrad's form (PCG64's).")
        fields = [(self._seed, 8), (bits["state"]["state"], 16), (bits["state"]["inc"], 16),
                  (bits["has_uint32"], 1), (bits["uinteger"], 4)]
        raw = b"".join(int(v).to_bytes(n, "little") for v, n in fields)
        return Tensor(np.frombuffer(raw, np.uint8).copy())

    def set_state(self, new_state):
        """Go back to a state that ``get_state`` gave; returns the generator."""
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a minigrad.ByteTensor, but got "
                            f"{type(new_state).__name__}")
        if new_state._data.dtype != np.uint8:
            raise TypeError(f"RNG state must be a minigrad.ByteTensor (a uint8 tensor, as "
                            f"get_state gives), not a tensor of {new_state.dtype}")
        if new_state._data.size != _STATE_SIZE:
            raise RuntimeError(f"Expected a minigrad generator state of size {_STATE_SIZE} but "
                               f"found the input RNG state size to be {new_state._data.size}")
        raw = new_state._data.reshape(-1).tobytes()
        seed, state, inc, has, half = (int.from_bytes(raw[a:b], "little") for a, b in
                                       ((0, 8), (8, 24), (24, 40), (40, 41), (41, 45)))
        if inc % 2 == 0 or has > 1:
            raise RuntimeError("set_state: these 45 bytes are not a state that get_state gave "
                               "(PCG64's increment is odd and the buffered flag 0 or 1).")
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": state,
                                   "inc": inc}, "has_uint32": has, "uinteger": half}
        self._rng, self._seed = rng, seed
        return self

    def clone_state(self):
        """A new generator in the same state, which then draws on its own."""
        return Generator().set_state(self.get_state())

    def __reduce__(self):                    # copy.deepcopy and pickle: an independent copy
        return _restored, (bytes(self.get_state()._data),)


def _restored(raw):
    return Generator().set_state(Tensor(np.frombuffer(raw, np.uint8).copy()))


class _DefaultGenerator(Generator):
    """The default generator. Its stream is ``_Defaults.rng``, which the engine's own draws
    (dropout, ``randn``...) read; a checkpoint saves and restores it there."""

    def __init__(self):
        self._seed = 0                        # _Defaults.rng starts as default_rng(0)

    @property
    def _rng(self):
        return _Defaults.rng

    @_rng.setter
    def _rng(self, rng):
        _Defaults.rng = rng


default_generator = _DefaultGenerator()


def manual_seed(seed):
    """Seed the default generator (``randn``, ``rand``, dropout, parameter init...); returns
    it. ``manual_seed(s)`` makes the stream ``numpy.random.default_rng(s)``."""
    return default_generator.manual_seed(int(seed))


def seed():
    """Seed the default generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed():
    """The seed the default generator started from (0 until ``manual_seed`` is called)."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state, a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Give the default generator back a state that ``get_rng_state`` returned."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, device_type=None):
    """Inside the ``with``, draw from the default generator freely: its state is restored on
    the way out."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
