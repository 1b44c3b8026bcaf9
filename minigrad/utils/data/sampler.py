"""``minigrad.utils.data.sampler``, for ``from torch.utils.data.sampler import ...``."""
from . import (BatchSampler, RandomSampler, Sampler, SequentialSampler,  # noqa: F401
               SubsetRandomSampler, WeightedRandomSampler)
