"""NIR (Neuromorphic Intermediate Representation) import and export.

``snn.nir.load(path_or_graph, dt=1e-4)`` -> :class:`snn.Network`; ``snn.nir.read`` also
returns each population's lag behind NIR time; ``snn.nir.save(network, path)`` writes a
graph that ``nir.read`` and ``snn.nir.load`` read back. Needs the optional ``nir``
package (``pip install snn[nir]``). Mapping and time conventions: docs/nir.md.
"""

from __future__ import annotations

from .exporter import save, to_graph
from .importer import Imported, load, read

__all__ = ["Imported", "load", "read", "save", "to_graph"]
