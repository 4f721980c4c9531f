"""Gateware of the NeuroCoreX-style core, generated from a :class:`snn.CoreSpec`.

``Core`` (``hdl.core``) is the top: memories, the neuron, synapse and learning engines
and the timestep controller behind one command stream (``hdl.commands``).
``hdl.verilog.generate`` turns it into Verilog. The integer arithmetic follows
``docs/core-arithmetic.md`` to the bit; ``docs/core-hardware.md`` describes the design.
"""

from .core import Core
from .verilog import generate

__all__ = ["Core", "generate"]
