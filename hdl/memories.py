"""Memory-word layouts shared by the core and its engines.

A record of several fields (a neuron's parameters, its state, the STDP enable bits of a
row / column) is stored in one memory word split into equal *lanes*, one field per lane,
so that a command can write a single field through the write port's byte-enable
(``granularity``) without a read-modify-write, while an engine reads the whole record in
one cycle.
"""

from __future__ import annotations

from amaranth.hdl import Shape, unsigned
from amaranth.lib import data
from amaranth.lib.memory import ReadPort, WritePort
from amaranth.lib.wiring import In

from snn.core_spec import CoreSpec


class LaneLayout(data.FlexibleLayout):
    """Fields ``name: shape`` at offsets ``0, lane, 2*lane, ...`` (``lane`` = widest field)."""

    def __init__(self, fields: dict[str, Shape]):
        self.lane = max(Shape.cast(s).width for s in fields.values())
        self.names = list(fields)
        super().__init__(
            self.lane * len(fields),
            {name: data.Field(shape, i * self.lane) for i, (name, shape) in enumerate(fields.items())},
        )

    @property
    def lanes(self) -> int:
        """Number of fields (and write-enable bits)."""
        return len(self.names)


def param_layout(spec: CoreSpec) -> LaneLayout:
    """A neuron's parameters, in the order of ``firmware_host.memory_map.NeuronParam``."""
    v, c = Shape(spec.v_bits, True), unsigned(spec.coef_bits)
    return LaneLayout(
        {
            "v_inf": v,
            "v_thresh": v,
            "v_reset": v,
            "v_init": v,
            "ref_steps": unsigned(spec.refrac_bits),
            "k_m": c,
            "a_e": c,
            "a_i": c,
            "p_e": c,
            "p_i": c,
        }
    )


def state_layout(spec: CoreSpec) -> LaneLayout:
    """A neuron's state, in the order of ``firmware_host.memory_map.NeuronState``."""
    i = Shape(spec.i_bits, True)
    return LaneLayout({"v": Shape(spec.v_bits, True), "i_e": i, "i_i": i, "ref": unsigned(spec.refrac_bits)})


def enable_layout() -> LaneLayout:
    """The STDP enable bits of one row / column index, one lane each, in ``TraceKind`` order.

    The row enables of FF (``ff_pre``) and REC (``rec_pre``), the column enables of FF
    (``ff_post``) and REC (``rec_post``), each in bit 0 of a 4-bit lane: one memory of
    ``max(max_inputs, max_neurons)`` x 16 bits beside the four trace memories (``trace_bits``
    wide each), where the enable bit of a trace's row or column would take a second 16-bit
    EBR lane per trace memory. 16 bits is an iCE40 EBR's 256 x 16 mode, whose per-bit write
    mask takes the lanes as they are (a 4-bit word of 1-bit lanes costs ~20 LUTs to steer).
    """
    return LaneLayout({name: unsigned(4) for name in ("ff_pre", "ff_post", "rec_pre", "rec_post")})


def neuron_groups(spec: CoreSpec) -> dict[int, list[tuple[str, str]]]:
    """The fields of a neuron's parameters and state grouped by width, as stored.

    ``{width: [(record, field), ...]}`` with ``record`` ``"param"`` or ``"state"``: the core
    keeps one memory per width, one field per lane (lane = the width), so no field is
    padded to the widest one and every lane keeps its own write enable (the per-bit write
    mask of an iCE40 EBR, a byte enable of wider block RAMs). Default spec: 18 bits (the
    five voltages and two currents, 126 bits: 8 EBRs of 256 x 16), 16 bits (five
    coefficients: 5 EBRs), 8 bits (``ref_steps`` and ``ref``: 1 EBR).
    """
    groups: dict[int, list[tuple[str, str]]] = {}
    for record, layout in (("param", param_layout(spec)), ("state", state_layout(spec))):
        for name in layout.names:
            groups.setdefault(layout[name].width, []).append((record, name))
    return groups


def acc_layout(spec: CoreSpec) -> data.StructLayout:
    """The two input accumulators of a neuron (never saturate: ``acc_bits`` wide)."""
    a = Shape(spec.acc_bits, True)
    return data.StructLayout({"e": a, "i": a})


def rule_layout(spec: CoreSpec) -> data.StructLayout:
    """One STDP rule slot, fields in the order of ``firmware_host.memory_map.RuleField``."""
    c, a, w, t = (
        unsigned(spec.coef_bits),
        unsigned(spec.stdp_amp_bits),
        Shape(spec.weight_bits, True),
        unsigned(spec.trace_bits),
    )
    return data.StructLayout(
        {
            "flags": unsigned(4),
            "decay_pre": c,
            "decay_post": c,
            "amp_plus": a,
            "amp_minus": a,
            "w_min": w,
            "w_max": w,
            "bump_pre": t,
            "bump_post": t,
        }
    )


def step_lists(spec: CoreSpec, *, inputs: bool = True) -> dict:
    """The signature members through which an engine reads a step's spikes: the counts in
    use (``n_inputs``, ``n_neurons``), the neuron spikes (entries ``0..spike_count-1`` of the
    spike list) and (``inputs``) the input spikes (entries ``0..input_count-1`` of bank
    ``input_bank`` of the input list)."""
    n, k = spec.max_neurons, spec.max_inputs
    members = {
        "n_inputs": In(range(k + 1)),
        "n_neurons": In(range(n + 1)),
        "spike_count": In(range(n + 1)),
        "input_count": In(range(k + 1)),
        "input_bank": In(1),
        "spikes_rd": read_port(n, addr_width(n)),
    }
    if inputs:
        members["inputs_rd"] = read_port(2 * k, addr_width(k))
    return members


def addr_width(depth: int) -> int:
    """Address bits of a memory of ``depth`` words."""
    return max(1, (depth - 1).bit_length())


def read_port(depth: int, width: int):
    """An engine's side of a memory read port (it drives ``addr``/``en``, gets ``data``)."""
    return In(ReadPort.Signature(addr_width=addr_width(depth), shape=unsigned(width)))


def write_port(depth: int, width: int, lanes: int = 1):
    """An engine's side of a memory write port with ``lanes`` write-enable bits."""
    return In(
        WritePort.Signature(
            addr_width=addr_width(depth),
            shape=unsigned(width),
            granularity=None if lanes == 1 else width // lanes,
        )
    )
