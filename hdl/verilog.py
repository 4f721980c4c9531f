"""Verilog export of a :class:`hdl.core.Core` (amaranth's builtin yosys).

The output is deterministic: source locations are stripped (no absolute paths), so two
runs from different working directories give the same file.
"""

from __future__ import annotations

from amaranth.back import verilog

from snn.core_spec import CoreSpec

from .core import Core


def generate(spec: CoreSpec, name: str = "snn_core") -> str:
    """Verilog text of the core for ``spec``; the top module is ``name``."""
    core = Core(spec)
    return verilog.convert(core, name=name, emit_src=False, strip_internal_attrs=True)
