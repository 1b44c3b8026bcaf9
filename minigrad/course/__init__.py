"""Helpers the book's chapters and exercises call, kept out of the notebooks' cells."""
from .compare import compare, to_numpy  # noqa: F401
