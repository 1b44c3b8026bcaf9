"""minigrad.nn: ``functional`` (the ops as torch.nn.functional names them)."""
from . import functional  # noqa: F401
