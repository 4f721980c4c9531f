"""The CPU simulator: numba event-driven kernels in float and hardware-exact fixed mode.

``snn.simulate(network, mode="float" | "fixed")`` runs a network and returns
:class:`Results`; :class:`Simulator` gives step-wise control and access to the state.
"""

from .dispatch import simulate
from .results import Results, SpikeTrains
from .simulator import Simulator

__all__ = ["Results", "Simulator", "SpikeTrains", "simulate"]
