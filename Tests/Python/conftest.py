"""Fixtures of the Python suite: real servers (baton_server.Server)."""
import pytest

from baton_server import Server


@pytest.fixture
def server():
    running = Server()
    yield running
    running.stop()


@pytest.fixture
def make_server():
    started = []

    def make(*extra, token=None):
        started.append(Server(*extra, token=token))
        return started[-1]

    yield make
    for running in started:
        running.stop()
