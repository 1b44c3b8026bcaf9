"""minigrad.optim: optimizers with torch's names, arguments, state and exact update math.

- ``Optimizer`` (``optimizer.py``): param_groups, per-parameter state, zero_grad, state_dict;
- ``SGD`` (``sgd.py``): momentum, dampening, weight decay, Nesterov;
- ``Adam``, ``AdamW`` (``adam.py``): L2 versus decoupled weight decay, amsgrad;
- ``RMSprop``, ``Adagrad`` (``rmsprop.py``): steps scaled by running or summed squared gradients;
- ``lr_scheduler``: StepLR, MultiStepLR, ExponentialLR, LambdaLR, CosineAnnealingLR, LinearLR,
  OneCycleLR, SequentialLR, ReduceLROnPlateau.
"""
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import Adagrad, RMSprop
from .sgd import SGD
from . import lr_scheduler  # noqa: E402

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]
