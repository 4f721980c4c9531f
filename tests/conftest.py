"""Longest tests first, so that the two xdist workers start on them at once and the
suite ends with both busy: xdist hands the first tests out round robin, and a build that
starts last would run alone at the end. ``@pytest.mark.slow(seconds=S)`` gives a test's
typical duration on the 2-core CI machine (an order for scheduling, not a limit)."""


def _seconds(item) -> float:
    mark = item.get_closest_marker("slow")
    return float(mark.kwargs.get("seconds", 60)) if mark else 0.0


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: -_seconds(item))  # stable: the rest keep their order
