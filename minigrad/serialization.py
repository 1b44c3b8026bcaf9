"""``minigrad.save`` and ``minigrad.load``: checkpoints in a file format that holds data only.

torch.save writes a pickle, and loading a pickle can run any code the file names; minigrad's
file holds a description of the object and the numbers, nothing that is ever executed:

    MGCKPT\\r\\n | version (u32) | header length n (u64) | header: n bytes of UTF-8 JSON | data

(integers little-endian). The header describes the object as a tree of typed nodes (dict,
ordered dict, list, tuple, str, int, float, bool, None, bytes, tensor, numpy array, dtype,
device, Size) and lists the arrays: dtype, shape, offset and length of each one's raw
little-endian bytes in the data section. ``load`` builds back only those types, checks every
size against the file and refuses anything else with an error that says what is wrong.

What ``save`` can store is what checkpoints hold: state dicts, optimizer state dicts, nested
dicts/lists/tuples of numbers and strings, tensors of every dtype (a view is stored as its
values; a tensor reached twice is stored once and loaded as one tensor, so tied weights stay
tied). A model object itself cannot be stored (that needs pickle): save ``model.state_dict()``.
"""
import json
import math
import os
import struct
import tempfile
from collections import OrderedDict

import numpy as np

from .tensor import Tensor

__all__ = ["save", "load"]

MAGIC = b"MGCKPT\r\n"
VERSION = 1
_PREFIX = struct.Struct("<8sIQ")               # magic, version, header length
_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "complex64", "complex128")
_DTYPE_NAMES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
                "float32", "float64")
_SCALARS = (str, bool, int, float, type(None))


# ---------------------------------------------------------------------------- writing
class _Writer:
    def __init__(self):
        self.arrays, self.chunks, self.offset, self.memo = [], [], 0, {}

    def array(self, a):
        if a.dtype.name not in _DTYPES:
            raise TypeError(f"minigrad.save: cannot store an array of dtype {a.dtype}")
        data = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        self.arrays.append({"dtype": a.dtype.name, "shape": list(a.shape),
                            "offset": self.offset, "nbytes": len(data)})
        self.chunks.append(data)
        self.offset += len(data)
        return len(self.arrays) - 1

    def node(self, obj, where):
        from .nn.modules.module import Module, Parameter
        if obj is None:
            return {"type": "none"}
        if isinstance(obj, bool):
            return {"type": "bool", "value": obj}
        if type(obj) is int:
            return {"type": "int", "value": obj}
        if type(obj) is float:
            return {"type": "float", "value": obj.hex()}          # exact, inf and nan included
        if type(obj) is str:
            return {"type": "str", "value": obj}
        if type(obj) is bytes:
            return {"type": "bytes", "value": obj.hex()}
        if isinstance(obj, Tensor):
            if id(obj) not in self.memo:
                self.memo[id(obj)] = (obj, self.array(obj._data))   # obj kept alive: ids unique
            return {"type": "parameter" if isinstance(obj, Parameter) else "tensor",
                    "array": self.memo[id(obj)][1], "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray | np.generic):                # np.memmap included
            return {"type": "ndarray" if isinstance(obj, np.ndarray) else "numpy_scalar",
                    "array": self.array(np.asarray(obj))}
        if isinstance(obj, np.dtype) or type(obj).__name__ == "dtype" and hasattr(obj, "name"):
            name = "bool" if str(obj.name).startswith("bool") else obj.name
            if name not in _DTYPE_NAMES:
                raise TypeError(f"minigrad.save: cannot store the dtype {obj} (at {where})")
            return {"type": "dtype", "value": name}
        if type(obj).__name__ == "device" and hasattr(obj, "type"):
            return {"type": "device", "value": str(obj)}
        if type(obj).__name__ == "Size" and isinstance(obj, tuple):
            return {"type": "size", "items": [self.node(int(v), where) for v in obj]}
        if type(obj) in (dict, OrderedDict):
            items = []
            for k, v in obj.items():
                if not isinstance(k, _SCALARS) and not (type(k) is tuple and all(
                        isinstance(e, _SCALARS) for e in k)):
                    raise TypeError(f"minigrad.save: cannot store a dict key of type "
                                    f"{type(k).__name__} (at {where}); keys may be strings, "
                                    f"numbers, bools, None or tuples of those.")
                items.append([self.node(k, where), self.node(v, f"{where}[{k!r}]")])
            return {"type": "ordered_dict" if type(obj) is OrderedDict else "dict",
                    "items": items}
        if type(obj) in (list, tuple):
            return {"type": type(obj).__name__,
                    "items": [self.node(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, Module):
            raise TypeError(f"minigrad.save: cannot store a {type(obj).__name__} module (at "
                            f"{where}): a module is code, and minigrad's file holds data only. "
                            f"Save model.state_dict() and, to load, build the model and call "
                            f"model.load_state_dict(minigrad.load(f)).")
        raise TypeError(f"minigrad.save: cannot store an object of type "
                        f"{type(obj).__module__}.{type(obj).__qualname__} (at {where}); a "
                        f"checkpoint holds tensors, numpy arrays, numbers, strings, bools, None, "
                        f"dtypes, devices and dicts, lists and tuples of those.")


def _encode(obj):
    w = _Writer()
    tree = w.node(obj, "obj")
    header = json.dumps({"object": tree, "arrays": w.arrays}, separators=(",", ":"),
                        allow_nan=False).encode("utf-8")
    return b"".join([_PREFIX.pack(MAGIC, VERSION, len(header)), header] + w.chunks)


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Write ``obj`` to ``f`` (a path, or a binary file object open for writing), as
    ``torch.save``. The whole file is encoded before anything is written, and a path is
    written through a temporary file renamed into place: an object that cannot be stored
    raises (``TypeError`` naming its type and where it is) and leaves ``f`` as it was."""
    if pickle_module is not None:
        raise TypeError("minigrad.save: pickle_module is not supported; minigrad's checkpoints "
                        "are not pickles.")
    data = _encode(obj)
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise RuntimeError(f"Parent directory {os.path.dirname(path) or folder} does not exist.")
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=os.path.basename(path) + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    else:
        f.write(data)


# ---------------------------------------------------------------------------- reading
class _Reader:
    def __init__(self, header, data):
        self.data, self.tensors = data, {}
        arrays = header.get("arrays")
        if not isinstance(arrays, list):
            raise self.error("the header has no list of arrays")
        self.arrays = [self.check_array(i, a) for i, a in enumerate(arrays)]

    @staticmethod
    def error(what):
        return RuntimeError(f"minigrad.load: not a valid minigrad checkpoint: {what}.")

    def check_array(self, i, a):
        if not isinstance(a, dict) or a.get("dtype") not in _DTYPES:
            raise self.error(f"array {i} has a dtype a checkpoint may not hold "
                             f"({a.get('dtype') if isinstance(a, dict) else a!r})")
        shape, offset, nbytes = a.get("shape"), a.get("offset"), a.get("nbytes")
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape) \
                or type(offset) is not int or type(nbytes) is not int or offset < 0:
            raise self.error(f"array {i} has a malformed shape, offset or length")
        dtype = np.dtype(a["dtype"]).newbyteorder("<")
        if math.prod(shape) * dtype.itemsize != nbytes:
            raise self.error(f"array {i} claims shape {tuple(shape)} of {a['dtype']} "
                             f"({math.prod(shape) * dtype.itemsize} bytes) but {nbytes} bytes")
        if offset + nbytes > len(self.data):
            raise self.error(f"the file is truncated: array {i} needs bytes {offset} to "
                             f"{offset + nbytes} of the data, which has {len(self.data)}")
        return dtype, tuple(shape), offset, nbytes

    def array(self, node):
        i = node.get("array")
        if type(i) is not int or not 0 <= i < len(self.arrays):
            raise self.error(f"a node refers to array {i!r}, which the header does not list")
        dtype, shape, offset, nbytes = self.arrays[i]
        a = np.frombuffer(self.data, dtype=dtype, count=math.prod(shape), offset=offset)
        return i, a.astype(dtype.newbyteorder("="), copy=True).reshape(shape)

    def value(self, node, kind):
        v = node.get("value")
        if not isinstance(v, kind) or kind is int and isinstance(v, bool):
            raise self.error(f"a {node['type']} node holds {type(v).__name__}")
        return v

    def items(self, node):
        items = node.get("items")
        if not isinstance(items, list):
            raise self.error(f"a {node['type']} node has no list of items")
        return items

    def node(self, node):
        import minigrad
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise self.error(f"a node of the object tree is malformed ({str(node)[:60]})")
        kind = node["type"]
        if kind == "none":
            return None
        if kind == "bool":
            return self.value(node, bool)
        if kind == "int":
            return self.value(node, int)
        if kind == "float":
            try:
                return float.fromhex(self.value(node, str))
            except ValueError:
                raise self.error("a float node holds no number") from None
        if kind == "str":
            return self.value(node, str)
        if kind == "bytes":
            try:
                return bytes.fromhex(self.value(node, str))
            except ValueError:
                raise self.error("a bytes node holds no hex digits") from None
        if kind in ("tensor", "parameter"):
            i, a = self.array(node)
            if i not in self.tensors:
                requires_grad = bool(node.get("requires_grad", False)) and a.dtype.kind == "f"
                self.tensors[i] = minigrad.nn.Parameter(a, requires_grad) if kind == "parameter" \
                    else Tensor(a, requires_grad=requires_grad)
            return self.tensors[i]
        if kind == "ndarray":
            return self.array(node)[1]
        if kind == "numpy_scalar":
            return self.array(node)[1][()]
        if kind == "dtype":
            name = self.value(node, str)
            if name not in _DTYPE_NAMES:
                raise self.error(f"the header names a dtype {name!r} a checkpoint may not hold")
            return getattr(minigrad, name)
        if kind == "device":
            return minigrad.device(self.value(node, str))
        if kind == "size":
            return minigrad.Size(self.node(n) for n in self.items(node))
        if kind in ("list", "tuple"):
            out = [self.node(n) for n in self.items(node)]
            return out if kind == "list" else tuple(out)
        if kind in ("dict", "ordered_dict"):
            out = OrderedDict() if kind == "ordered_dict" else {}
            for pair in self.items(node):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise self.error("a dict item is not a key and a value")
                key = self.node(pair[0])
                if not isinstance(key, _SCALARS + (tuple,)):
                    raise self.error(f"a dict key is a {type(key).__name__}")
                out[key] = self.node(pair[1])
            return out
        raise self.error(f"the header claims an object of type {kind!r}, which a minigrad "
                         f"checkpoint may not hold")


def _decode(raw):
    if raw[:4] == b"PK\x03\x04":
        raise RuntimeError("minigrad.load: this looks like a file written by torch.save (a zip "
                           "archive holding a pickle); minigrad does not read pickles, since "
                           "loading one can run code. Load it with torch, convert the tensors "
                           "(e.g. {k: v.numpy() for k, v in sd.items()}) and minigrad.save that.")
    if len(raw) < _PREFIX.size:
        if MAGIC.startswith(raw[:len(MAGIC)]) and raw:
            raise RuntimeError(f"minigrad.load: the file is truncated ({len(raw)} bytes, "
                               f"shorter than the {_PREFIX.size}-byte preamble).")
        raise RuntimeError(f"minigrad.load: not a minigrad checkpoint (it is {len(raw)} bytes "
                           f"long and does not start with {MAGIC!r}).")
    magic, version, n = _PREFIX.unpack_from(raw)
    if magic != MAGIC:
        raise RuntimeError(f"minigrad.load: not a minigrad checkpoint (wrong magic bytes "
                           f"{magic!r}, expected {MAGIC!r}).")
    if version != VERSION:
        raise RuntimeError(f"minigrad.load: checkpoint format version {version}; this minigrad "
                           f"reads version {VERSION}.")
    if _PREFIX.size + n > len(raw):
        raise RuntimeError(f"minigrad.load: the file is truncated: the header claims {n} bytes "
                           f"but only {len(raw) - _PREFIX.size} follow the preamble.")
    try:
        header = json.loads(raw[_PREFIX.size:_PREFIX.size + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _Reader.error(f"its header is not JSON ({type(e).__name__})") from None
    if not isinstance(header, dict) or "object" not in header:
        raise _Reader.error("its header describes no object")
    data = memoryview(raw)[_PREFIX.size + n:]
    reader = _Reader(header, data)
    end = max((off + nb for _, _, off, nb in reader.arrays), default=0)
    if end != len(data):
        raise _Reader.error(f"its arrays take {end} bytes but the data section has {len(data)}")
    try:
        return reader.node(header["object"])
    except RecursionError:
        raise _Reader.error("its object tree is nested too deeply") from None


def _check_map_location(map_location):
    if map_location is None or callable(map_location) and not isinstance(map_location, str):
        return              # a function of (storage, location): every tensor is on the CPU
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for t in targets:
        if str(t).split(":")[0] != "cpu":
            raise RuntimeError(f"minigrad.load: map_location={map_location!r}: minigrad runs on "
                               f"the CPU only, and every tensor it loads is on the CPU.")


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Read what :func:`save` wrote, from a path or a binary file object, as ``torch.load``.
    Tensors come back on the CPU (``map_location`` may name the CPU, or be torch's function
    of ``(storage, location)``, which has nothing to move); a tensor saved with
    ``requires_grad`` is loaded as a leaf that requires grad. ``weights_only`` is accepted
    with either value: the file never holds code, so there is nothing it could allow.
    A file that is not a minigrad checkpoint, is truncated, or whose header does not match
    its data or names a type a checkpoint may not hold raises ``RuntimeError`` saying so."""
    if pickle_module is not None:
        raise TypeError("minigrad.load: pickle_module is not supported; minigrad's checkpoints "
                        "are not pickles.")
    _check_map_location(map_location)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            raw = fh.read()
    else:
        raw = f.read()
    return _decode(bytes(raw))
