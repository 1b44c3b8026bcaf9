"""The binary cross-entropy losses, as ``torch.nn``'s: each calls its function of
``minigrad.nn.functional``; weight and pos_weight are buffers (in the state dict, no
gradient)."""
from .. import functional as F
from .module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss"]


class BCELoss(Module):
    """``F.binary_cross_entropy``: probabilities (after a sigmoid) and targets of one shape."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = F._legacy_reduction(size_average, reduce, reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(Module):
    """``F.binary_cross_entropy_with_logits``: logits and targets of one shape, stable for any
    logit; ``pos_weight`` weighs the positive examples (one per class)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__()
        self.reduction = F._legacy_reduction(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)
