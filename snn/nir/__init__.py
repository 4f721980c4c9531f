"""NIR (Neuromorphic Intermediate Representation) import and export.

``snn.nir.load(path_or_graph, dt=1e-4)`` -> :class:`snn.Network`; ``snn.nir.read`` also
returns each population's lag behind NIR time; ``snn.nir.save(network, path)`` writes a
graph that ``nir.read`` and ``snn.nir.load`` read back. Needs the optional ``nir``
package (``pip install snn[nir]``). Mapping and time conventions: docs/nir.md.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import NetworkError
from .exporter import save, to_graph
from .importer import Imported, load, read

__all__ = ["Imported", "load", "load_file", "node_counts", "read", "save", "to_graph"]


def load_file(path, dt: float | None = None):
    """A network file of either kind: ``.nir`` through :func:`load` (``dt`` in the graph's
    time unit, needed when the file has none), anything else through :func:`snn.io.load`."""
    path = Path(path)
    if path.suffix.lower() != ".nir":
        if dt is not None:
            raise NetworkError(f"{path}: --dt applies to NIR files only (a network file has its own dt)")
        from .. import io

        return io.load(path)
    try:
        import nir  # noqa: F401
    except ModuleNotFoundError:
        raise NetworkError(f"{path}: NIR files need the nir package: pip install 'snn[nir]'") from None
    try:
        return load(path, dt)
    except NetworkError as exc:
        raise NetworkError(f"{path}: {exc}") from None


def node_counts(path) -> dict[str, int]:
    """How many nodes of each type a NIR file holds (nested graphs counted through)."""
    import nir

    counts: dict[str, int] = {}

    def walk(graph):
        for node in graph.nodes.values():
            kind = type(node).__name__
            counts[kind] = counts.get(kind, 0) + 1
            if isinstance(node, nir.NIRGraph):
                walk(node)

    walk(nir.read(path))
    return dict(sorted(counts.items()))
