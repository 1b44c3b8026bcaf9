"""Helpers the book's chapters and exercises call, kept out of the notebooks' cells."""
from .compare import compare, to_numpy, verdict  # noqa: F401
from .catalogue import check_vjp, show_code  # noqa: F401
from .checkpoint import checkpoint  # noqa: F401
from .memory import saved_bytes, total_saved_bytes  # noqa: F401
from .graphs import grad_fn_chain, print_graph, print_graph_pair, walk_backward  # noqa: F401
from .lang import decimal, get_language, labelled, ntr, pad, set_language, tr, width  # noqa: F401,E501
