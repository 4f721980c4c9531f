"""Longest tests first, so that the two xdist workers start on them at once and the
suite ends with both busy: xdist hands the first tests out round robin, and a build that
starts last would run alone at the end. ``@pytest.mark.slow(seconds=S)`` gives a test's
typical duration on the 2-core CI machine (an order for scheduling, not a limit)."""

import sys

import pytest


def _seconds(item) -> float:
    mark = item.get_closest_marker("slow")
    return float(mark.kwargs.get("seconds", 60)) if mark else 0.0


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: -_seconds(item))  # stable: the rest keep their order


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Torch's intra-op threads spin at their barriers: two xdist workers with two threads
    each on two cores made the digits training take 111 s instead of 7 s. The tests check
    results, not torch's threading, so one thread per worker (only once torch is loaded)."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    yield
