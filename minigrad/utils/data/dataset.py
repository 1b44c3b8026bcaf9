"""``minigrad.utils.data.dataset``, for ``from torch.utils.data.dataset import ...``."""
from . import (ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset,  # noqa: F401
               random_split)
