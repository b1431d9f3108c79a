"""Fixtures of the Python suite: real servers (baton_server)."""
from baton_server import make_server, server  # noqa: F401  (pytest fixtures)
