"""minigrad.utils.data against torch.utils.data: the same calls on both libraries, the same
batches (values, dtypes, structure), lengths and errors. Shuffled orders are compared as
permutations (the two random streams differ) and for reproducibility from a seed."""
import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import minigrad
import minigrad.utils.data as mdata

P = collections.namedtuple("P", "a b")


def plain(x):
    """A batch with its tensors replaced by (dtype name, values), comparable across the two."""
    if isinstance(x, torch.Tensor):
        return ("tensor", str(x.dtype).split(".")[-1], x.numpy().tolist())
    if isinstance(x, minigrad.Tensor):
        return ("tensor", str(x.dtype).split(".")[-1], x.numpy().tolist())
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__,) + tuple(plain(v) for v in x)
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [plain(v) for v in x])
    return x


def both(fn):
    """fn(lib, data) on torch and on minigrad, as comparable values (or the error raised)."""
    out = []
    for lib, data in ((torch, tdata), (minigrad, mdata)):
        try:
            out.append(plain(fn(lib, data)))
        except Exception as e:            # the error itself is what is compared
            out.append((type(e).__name__, str(e)))
    return out


SAMPLES = {
    "ints": [1, 2, 3],
    "floats": [1.0, 2.5, -3.0],
    "bools": [True, False, True],
    "numpy float32 scalars": [np.float32(1), np.float32(2)],
    "numpy int32 scalars": [np.int32(1), np.int32(3)],
    "numpy arrays": [np.array([1, 2]), np.array([3, 4])],
    "0-d numpy arrays": [np.array(1.5), np.array(2.0)],
    "uint8 arrays": [np.arange(3, dtype=np.uint8), np.arange(3, 6, dtype=np.uint8)],
    "tuples with strings": [(1, "a"), (2, "b")],
    "dicts": [{"x": 1, "y": [1.0, 2.0]}, {"x": 2, "y": [3.0, 4.0]}],
    "namedtuples": [P(1, 2.0), P(3, 4.0)],
    "lists": [[1, 2], [3, 4]],
    "strings": ["a", "bc"],
    "bytes": [b"a", b"b"],
    "nested": [{"p": (np.zeros(2), 1)}, {"p": (np.ones(2), 2)}],
    # errors
    "lists of unequal length": [[1, 2], [3]],
    "objects": [object(), object()],
    "string arrays": [np.array(["a"]), np.array(["b"])],
}


@pytest.mark.parametrize("name", SAMPLES)
def test_default_collate_as_torch(name):
    batch = SAMPLES[name]
    t, m = both(lambda lib, data: data.default_collate(batch))
    if name == "objects":                      # the object's address is in the message
        assert t[0] == m[0] == "TypeError"
    else:
        assert m == t


def test_default_collate_tensors_stacked():
    rng = np.random.default_rng(0)
    rows = [rng.standard_normal((2, 3)) for _ in range(4)]
    t, m = both(lambda lib, data: data.default_collate([lib.tensor(r) for r in rows]))
    assert m == t
    t, m = both(lambda lib, data: data.default_collate([lib.zeros(2), lib.zeros(3)]))
    assert t[0] == m[0] == "RuntimeError"                   # minigrad names the shapes


def test_default_convert_as_torch():
    for sample in ([np.arange(3), (np.float64(2.0), "s")], {"a": np.ones(2)}, 3, "x"):
        t, m = both(lambda lib, data: data.default_convert(sample))
        assert m == t


def make_dataset(lib):
    return [(lib.tensor(np.arange(3) + i, dtype=lib.float64), i) for i in range(10)]


@pytest.mark.parametrize("kwargs", [dict(), dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                    dict(batch_size=None), dict(batch_size=4, drop_last=False),
                                    dict(batch_size=20), dict(batch_size=2, num_workers=2),
                                    dict(batch_size=3, collate_fn=lambda b: len(b)),
                                    dict(batch_sampler=[[3, 1], [0]]),
                                    dict(sampler=[5, 2, 7], batch_size=2)])
def test_dataloader_batches_as_torch(kwargs):
    t, m = both(lambda lib, data: [list(data.DataLoader(make_dataset(lib), **kwargs)),
                                   len(data.DataLoader(make_dataset(lib), **kwargs))])
    assert m == t


def test_tensor_dataset_and_subset():
    def run(lib, data):
        ds = data.TensorDataset(lib.arange(6), lib.arange(6) * 2)
        sub = data.Subset(ds, [0, 3, 5])
        cat = data.ConcatDataset([sub, ds])
        return [ds[2], len(ds), len(sub), sub[1], len(cat), cat[4], cat[-1],
                list(data.DataLoader(ds, batch_size=4)), list(data.DataLoader(sub, batch_size=2))]
    t, m = both(run)
    assert m == t
    t, m = both(lambda lib, data: data.TensorDataset(lib.zeros(3), lib.zeros(4)))
    assert m == t and t[0] == "AssertionError"


class Stream:
    """An IterableDataset of 0..6 on either library."""

    @staticmethod
    def make(data):
        class S(data.IterableDataset):
            def __iter__(self):
                return iter(range(7))

            def __len__(self):
                return 7
        return S()


@pytest.mark.parametrize("kwargs", [dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                    dict(batch_size=None), dict(shuffle=True),
                                    dict(sampler=[1]), dict(batch_sampler=[[1]])])
def test_iterable_dataset_as_torch(kwargs):
    t, m = both(lambda lib, data: [list(data.DataLoader(Stream.make(data), **kwargs)),
                                   len(data.DataLoader(Stream.make(data), **kwargs))])
    assert m == t


@pytest.mark.parametrize("kwargs", [dict(batch_size=0), dict(batch_size=2.5),
                                    dict(shuffle=True, sampler=[1, 2]),
                                    dict(batch_sampler=[[1]], batch_size=2),
                                    dict(batch_sampler=[[1]], drop_last=True),
                                    dict(batch_size=None, drop_last=True),
                                    dict(num_workers=-1), dict(prefetch_factor=2),
                                    dict(persistent_workers=True), dict(timeout=-1),
                                    dict(batch_size=2, drop_last=1)])
def test_dataloader_errors_as_torch(kwargs):
    t, m = both(lambda lib, data: list(data.DataLoader(list(range(10)), **kwargs)))
    assert m == t
    assert t[0] in ("ValueError", "TypeError")


def test_samplers_as_torch():
    def run(lib, data):
        seq = data.SequentialSampler(range(5))
        bs = data.BatchSampler(seq, 2, False)
        return [list(seq), len(seq), list(bs), len(bs), len(data.BatchSampler(seq, 2, True)),
                list(data.BatchSampler(seq, 2, True)), len(data.RandomSampler(range(7))),
                len(data.RandomSampler(range(7), num_samples=10)),
                len(list(data.RandomSampler(range(7), num_samples=10))),
                len(data.SubsetRandomSampler([4, 8, 9]))]
    t, m = both(run)
    assert m == t
    for call in (lambda lib, data: data.BatchSampler(range(7), 0, False),
                 lambda lib, data: data.BatchSampler(range(7), 2, 1),
                 lambda lib, data: data.RandomSampler(range(7), num_samples=0),
                 lambda lib, data: data.RandomSampler(range(7), replacement=1),
                 lambda lib, data: data.Dataset()[0]):
        t, m = both(call)
        assert m == t and t[0] in ("ValueError", "TypeError", "NotImplementedError")


def test_random_orders_are_permutations_and_reproducible():
    def orders(seed):
        minigrad.manual_seed(seed)
        loader = mdata.DataLoader(list(range(20)), batch_size=6, shuffle=True)
        first, second = [b.tolist() for b in loader], [b.tolist() for b in loader]
        sub = list(mdata.SubsetRandomSampler([4, 8, 9, 11]))
        with_repl = list(mdata.RandomSampler(range(5), replacement=True, num_samples=50))
        split = [list(s) for s in mdata.random_split(range(10), [0.3, 0.7])]
        return first, second, sub, with_repl, split
    first, second, sub, with_repl, split = orders(3)
    assert sorted(sum(first, [])) == list(range(20)) and [len(b) for b in first] == [6, 6, 6, 2]
    assert first != second                                  # a new order each pass
    assert sorted(sub) == [4, 8, 9, 11]
    assert set(with_repl) <= set(range(5)) and len(set(with_repl)) > 1
    assert sorted(sum(split, [])) == list(range(10)) and [len(s) for s in split] == [3, 7]
    assert orders(3) == (first, second, sub, with_repl, split)
    assert orders(4) != (first, second, sub, with_repl, split)


def test_generator_argument_gives_reproducible_orders():
    def order(seed):
        g = minigrad.Generator().manual_seed(seed)
        loader = mdata.DataLoader(list(range(12)), batch_size=5, shuffle=True, generator=g)
        split = mdata.random_split(range(9), [3, 6],
                                   generator=minigrad.Generator().manual_seed(seed))
        return [b.tolist() for b in loader], [list(s) for s in split]
    assert order(1) == order(1) != order(2)
    assert sorted(sum(order(1)[0], [])) == list(range(12))


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.5], [0.33, 0.33, 0.34], [3, 3],
                                     [0.5, 0.6], [0.0, 1.0], [-0.5, 1.5]])
def test_random_split_lengths_as_torch(lengths):
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t, m = both(lambda lib, data: [len(s) for s in data.random_split(range(11), lengths)])
    assert m == t
    assert len(caught) % 2 == 0                 # both warn about an empty split, or neither


def test_pin_memory_warns_that_there_is_no_accelerator_as_torch():
    for data in (tdata, mdata):
        with pytest.warns(UserWarning, match="no accelerator is found"):
            list(data.DataLoader(list(range(4)), batch_size=2, pin_memory=True))


def test_weighted_random_sampler():
    minigrad.manual_seed(0)
    draws = list(mdata.WeightedRandomSampler([0.0, 1.0, 3.0], 4000))
    counts = np.bincount(draws, minlength=3)
    assert counts[0] == 0 and 0.7 < counts[2] / 4000 < 0.8
    once = list(mdata.WeightedRandomSampler([1.0, 1.0, 1.0, 5.0], 4, replacement=False))
    assert sorted(once) == [0, 1, 2, 3]
    t, m = both(lambda lib, data: len(data.WeightedRandomSampler(lib.tensor([1.0, 2.0]), 7)))
    assert m == t == 7
    for args in (([1.0], 0), ([1.0], 2, 1), ([[1.0]], 2)):
        t, m = both(lambda lib, data: data.WeightedRandomSampler(*args))
        assert m == t and t[0] == "ValueError"


def test_submodule_import_paths_as_torch():
    from minigrad.utils.data.dataloader import DataLoader, default_collate
    from minigrad.utils.data.dataset import Dataset, Subset
    from minigrad.utils.data.sampler import BatchSampler, RandomSampler
    import torch.utils.data.dataloader as tdl
    assert DataLoader is mdata.DataLoader and default_collate is mdata.default_collate
    assert Dataset is mdata.Dataset and Subset is mdata.Subset
    assert BatchSampler is mdata.BatchSampler and RandomSampler is mdata.RandomSampler
    assert tdl.DataLoader is tdata.DataLoader
