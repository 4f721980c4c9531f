"""What the packages above ``snn`` contribute to it, found through entry points.

``snn`` is the ground floor: ``firmware_host`` and ``hdl`` build on it, so it never
imports them. They register what they add in ``pyproject.toml``
(``[project.entry-points."GROUP"]``) and ``snn`` looks it up here by group:

- ``snn.commands``: ``add_parser(subparsers)`` of a top-level subcommand
  (``snn hdl ...`` from ``hdl.cli``, ``snn board ...`` from ``firmware_host.cli``);
- ``snn.bench``: ``add_parser(kinds)`` of a ``snn bench KIND`` (``hardware`` from ``hdl``);
- ``snn.runners``: run a network elsewhere than the simulator (``board``: on a board
  or a simulated one, from ``firmware_host``; used by ``snn.sweep``);
- ``snn.ports``: a served device behind a ``--port`` name (``sim-rtl``: the gateware in
  the Amaranth simulator, from ``hdl``; used by ``snn board``).
"""

from __future__ import annotations

from importlib.metadata import entry_points

from .errors import NetworkError


def contributions(group: str) -> dict[str, object]:
    """Every object registered in ``group``, loaded, by entry-point name (sorted)."""
    return {ep.name: ep.load() for ep in sorted(entry_points(group=group), key=lambda ep: ep.name)}


def contribution(group: str, name: str, what: str) -> object:
    """The object registered as ``name`` in ``group``; a one-line error naming ``what`` when
    the package that provides it is not installed."""
    for ep in entry_points(group=group, name=name):
        return ep.load()
    raise NetworkError(
        f"{what} is not available: no {group!r} entry point {name!r}; install the package that "
        "provides it (pip install -e .[hdl] from the checkout)"
    )
