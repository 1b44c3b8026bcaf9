"""Interactive widgets of the course (ipywidgets), one per file:

- :class:`BackwardStepper` (``stepper.py``): backward one VJP at a time (chapters 1 and 3);
- :class:`TiledMatmulExplorer` (``tiles.py``): the tiled matrix product, tile by tile (chapter 8);
- :class:`AttentionExplorer` (``attention.py``): attention maps, the causal mask, and which rows
  of dQ, dK, dV one output position reaches (chapters 6 and 7);
- :class:`OptimizerPlayground` (``optimizers.py``): SGD, Adam and AdamW on a tiny MLP (chapter 9).

Each one shows its figure as SVG inside an ``ipywidgets.HTML`` and its numbers in a text
panel; displayed in a notebook it also carries a static SVG of its initial state, which is what
the printed book shows (see ``_common.py``).
"""
from .stepper import BackwardStepper  # noqa: F401
from .tiles import TiledMatmulExplorer  # noqa: F401
from .attention import AttentionExplorer  # noqa: F401
from .optimizers import OptimizerPlayground  # noqa: F401
