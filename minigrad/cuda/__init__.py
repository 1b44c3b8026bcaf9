"""``minigrad.cuda``, as ``torch.cuda`` on a machine without a GPU: minigrad runs on the CPU,
so ``is_available()`` is False and ``device_count()`` 0, seeding is a no-op, and what would
use a GPU raises, saying so."""
from . import amp  # noqa: F401

__all__ = ["is_available", "device_count", "is_initialized", "is_bf16_supported",
           "manual_seed", "manual_seed_all", "seed", "seed_all", "empty_cache",
           "memory_allocated", "max_memory_allocated", "memory_reserved", "synchronize",
           "current_device", "get_device_name", "set_device", "amp"]


def _no_gpu(what):
    raise RuntimeError(f"minigrad.cuda.{what}: minigrad runs on the CPU only; there is no CUDA "
                       f"device (minigrad.cuda.is_available() is False).")


def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


def is_bf16_supported(including_emulation=True):
    return False


def manual_seed(seed):
    """No-op: there is no GPU generator to seed (``minigrad.manual_seed`` seeds the CPU's)."""


manual_seed_all = manual_seed


def seed():
    pass


seed_all = seed


def empty_cache():
    pass


def memory_allocated(device=None):
    return 0


max_memory_allocated = memory_reserved = memory_allocated


def synchronize(device=None):
    _no_gpu("synchronize")


def current_device():
    _no_gpu("current_device")


def get_device_name(device=None):
    _no_gpu("get_device_name")


def set_device(device):
    _no_gpu("set_device")
