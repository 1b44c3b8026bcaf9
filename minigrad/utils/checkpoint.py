"""``minigrad.utils.checkpoint``: ``checkpoint(function, *args, use_reentrant=True)`` as
``torch.utils.checkpoint.checkpoint`` — the course's own (chapter 10, ``minigrad/course/
checkpoint.py``): the reentrant variant, which recomputes the segment during backward;
``use_reentrant=False`` is refused."""
from ..course.checkpoint import checkpoint  # noqa: F401

__all__ = ["checkpoint"]
