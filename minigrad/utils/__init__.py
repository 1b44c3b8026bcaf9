"""minigrad.utils: ``data`` (datasets, samplers, DataLoader) and ``checkpoint`` (gradient
checkpointing, imported when first used), as ``torch.utils``."""
import importlib

from . import data  # noqa: F401


def __getattr__(name):
    if name == "checkpoint":
        return importlib.import_module(".checkpoint", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
