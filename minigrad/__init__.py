"""minigrad: a small autograd engine on numpy whose API mirrors PyTorch name for name.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()          # x.grad == 2 * x

The engine (graph nodes, backward) is ``minigrad/autograd.py``; the tensor is
``minigrad/tensor.py``; every operation with its VJP is in ``minigrad/ops/``.
"""
import numpy as _np

from . import autograd
from .autograd import (enable_grad, inference_mode, is_grad_enabled,
                       is_inference_mode_enabled, no_grad, set_grad_enabled)
from ._tensor_str import get_printoptions, set_printoptions
from .factory import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,
                      HalfTensor, IntTensor, LongTensor, ShortTensor, as_tensor,
                      from_numpy, is_tensor, numel)
from .tensor import Size, Tensor, get_default_dtype, set_default_dtype
from .dtypes import (bfloat16, bool_, double, dtype, finfo, float16, float32, float64, half,
                     iinfo, int8, int16, int32, int64, long, short, uint8)
from .tensor import _Defaults, _as_array
from .ops import *  # noqa: F401,F403
from .ops import TENSOR_METHODS as _TM, unbroadcast  # noqa: F401
from .factory import (arange, empty, eye, full, full_like, linspace, ones, ones_like, rand,
                      rand_like, randint, randn, randn_like, tensor, zeros, zeros_like)
from .factory import bernoulli, multinomial, normal, poisson, randint_like, randperm
from . import random  # noqa: E402
from .random import (Generator, default_generator, get_rng_state, initial_seed,
                     manual_seed, seed, set_rng_state)
from . import nn  # noqa: E402
from . import optim  # noqa: E402
from . import utils  # noqa: E402
from ._device import compile, device, get_default_device, set_default_device  # noqa: E402
from .serialization import load, save  # noqa: E402
from . import accelerator, amp, backends, cuda, distributed  # noqa: E402
from .amp import autocast, is_autocast_enabled  # noqa: E402
from .backends import get_float32_matmul_precision, set_float32_matmul_precision  # noqa: E402,E501
from . import testing  # noqa: E402
from . import viz, trace  # noqa: E402  (matplotlib is imported only when drawing)

from ._out import OUT_FUNCTIONS as _OUT, with_out as _with_out  # noqa: E402
for _name in _OUT:                # torch.matmul(a, b, out=c) and the like
    if _name in globals():
        globals()[_name] = _with_out(globals()[_name])
del _name

float = float32           # torch's names that are Python's too: bound last
int = int32
bool = bool_

__version__ = "0.1.0"
