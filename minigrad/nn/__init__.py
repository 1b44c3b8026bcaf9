"""minigrad.nn: layers and models, as ``torch.nn``.

- ``Parameter`` and ``Module`` (``modules/module.py``): registration, ``parameters()``,
  ``state_dict()`` / ``load_state_dict()``, train/eval, dtype conversion;
- containers (``modules/container.py``): ``Sequential``, ``ModuleList``, ``ModuleDict``,
  ``ParameterList``, ``ParameterDict``;
- small modules for ``Sequential`` (``modules/activation.py``): ``Flatten``, ``Unflatten``,
  ``Softmax``, ``LogSoftmax``, ``LeakyReLU``, ``ELU``, ``Softplus``;
- ``BatchNorm1d`` (``modules/batchnorm.py``), with its running statistics;
- layers, activations, losses (``modules/layers.py``): ``Linear``, ``Embedding``,
  ``LayerNorm``, ``RMSNorm``, ``Dropout``, ``ReLU``, ``GELU``, ``SiLU``, ``Tanh``, ``Sigmoid``,
  ``Identity``, ``CrossEntropyLoss``, ``MSELoss``;
- the course's blocks (``modules/transformer.py``): ``MultiHeadAttention``, ``FeedForward``,
  ``TransformerBlock``, ``GPT``;
- ``functional`` (the ops under torch.nn.functional's names) and ``init``;
- ``utils`` (gradient clipping, parameter vectors) and ``parallel`` (``DataParallel`` in this
  process; ``DistributedDataParallel`` raises: minigrad runs in one process).
"""
import sys as _sys

from . import functional  # noqa: F401
from . import init  # noqa: F401
from . import parallel, utils  # noqa: F401
from .modules.module import Module, Parameter
from .modules.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .modules.activation import ELU, Flatten, LeakyReLU, LogSoftmax, Softmax, Softplus, Unflatten
from .modules.batchnorm import BatchNorm1d
from .modules.layers import (GELU, CrossEntropyLoss, Dropout, Embedding, Identity, LayerNorm,
                             Linear, MSELoss, ReLU, RMSNorm, Sigmoid, SiLU, Tanh)
from .modules.loss import BCELoss, BCEWithLogitsLoss
from .modules.transformer import make_blocks

# the course's blocks, built on this very namespace (make_blocks(torch.nn) builds them on torch)
_blocks = make_blocks(_sys.modules[__name__])
MultiHeadAttention = _blocks.MultiHeadAttention
FeedForward = _blocks.FeedForward
TransformerBlock = _blocks.TransformerBlock
GPT = _blocks.GPT
for _cls in (MultiHeadAttention, FeedForward, TransformerBlock, GPT):
    _cls.__module__ = __name__
del _blocks, _cls

__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
           "ParameterDict", "Flatten", "Unflatten", "Softmax", "LogSoftmax", "LeakyReLU", "ELU",
           "Softplus", "BatchNorm1d", "Linear",
           "Embedding", "LayerNorm", "RMSNorm", "Dropout", "ReLU", "GELU", "SiLU", "Tanh",
           "Sigmoid", "Identity", "CrossEntropyLoss", "MSELoss", "MultiHeadAttention",
           "FeedForward", "TransformerBlock", "GPT", "functional", "init", "utils", "parallel"]
__all__ += ["BCELoss", "BCEWithLogitsLoss"]
