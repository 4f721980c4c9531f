"""The hardware core's arithmetic and size: every width and limit in one dataclass.

``docs/core-arithmetic.md`` defines, in integers, what a core built from a
:class:`CoreSpec` computes; the numba fixed-point kernel, the torch backend in fixed mode
and the gateware all implement that document.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from .errors import NetworkError

#: the lane counts of the hardware core: 1 and 2 (the engines of ``hdl/``), and the wide
#: core's 4, 8, 16 (``hdl/matrix_engine.py``: a matrix in that many skewed banks)
LANES = (1, 2, 4, 8, 16)


@dataclass(frozen=True)
class CoreSpec:
    """Widths (bits) and sizes of a NeuroCoreX-style core. Every field is a parameter.

    The defaults follow NeuroCoreX: 8-bit signed weights, 18-bit signed state with 10
    fraction bits, 256 inputs and 256 all-to-all neurons, STDP on.
    """

    weight_bits: int = 8  # signed synaptic weight
    v_bits: int = 18  # signed membrane potential, threshold, reset, resting level
    i_bits: int = 18  # signed synaptic currents i_e, i_i
    frac_bits: int = 10  # fraction bits of v and i: one LSB is 2**-frac_bits mV
    coef_bits: int = 16  # unsigned propagator coefficients, all fraction bits: value/2**coef_bits
    refrac_bits: int = 8  # refractory counter, in timesteps
    trace_bits: int = 16  # unsigned STDP trace
    trace_frac_bits: int = 12  # fraction bits of a trace: 1.0 is 2**trace_frac_bits
    stdp_amp_bits: int = 16  # unsigned STDP amplitude, in weight LSBs
    stdp_frac_bits: int = 8  # fraction bits of an STDP amplitude
    max_inputs: int = 256  # external spike inputs (rows of the feed-forward matrix)
    max_neurons: int = 256  # LIF neurons (all-to-all recurrent matrix)
    max_delay: int = 1  # synaptic delay in timesteps that the core supports (1..max_delay)
    stdp: bool = True  # on-chip learning engine present
    # synapses the hardware core's engines process per cycle (1, 2, or a wide core's 4, 8,
    # 16): a schedule, not arithmetic, so it takes no part in comparisons (equal specs
    # compute the same)
    lanes: int = field(default=1, compare=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "stdp":
                if not isinstance(value, bool):
                    raise NetworkError(f"CoreSpec.stdp must be true or false, got {value!r}")
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise NetworkError(f"CoreSpec.{f.name} must be an integer >= 1, got {value!r}")
        if self.frac_bits >= min(self.v_bits, self.i_bits):
            raise NetworkError("CoreSpec.frac_bits must be smaller than v_bits and i_bits")
        if self.trace_frac_bits >= self.trace_bits:
            raise NetworkError("CoreSpec.trace_frac_bits must be smaller than trace_bits")
        if self.weight_bits > self.i_bits:
            raise NetworkError("CoreSpec.weight_bits must not exceed i_bits")
        if self.lanes not in LANES:
            raise NetworkError(
                f"CoreSpec.lanes must be one of {', '.join(map(str, LANES))}, got {self.lanes!r}"
            )

    # -- derived ranges ------------------------------------------------------------------
    @staticmethod
    def signed_range(bits: int) -> tuple[int, int]:
        """``(min, max)`` of a two's-complement integer of ``bits`` bits."""
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    @property
    def v_range(self) -> tuple[int, int]:
        """Range of v (and of thresholds, resets, resting levels) in LSBs."""
        return self.signed_range(self.v_bits)

    @property
    def i_range(self) -> tuple[int, int]:
        """Range of the synaptic currents in LSBs."""
        return self.signed_range(self.i_bits)

    @property
    def weight_range(self) -> tuple[int, int]:
        """Range of a weight in weight LSBs."""
        return self.signed_range(self.weight_bits)

    @property
    def trace_max(self) -> int:
        """Largest trace value (traces saturate here)."""
        return (1 << self.trace_bits) - 1

    @property
    def max_weight_shift(self) -> int:
        """Largest left shift from weight LSBs to current LSBs that keeps a weight inside i."""
        return self.i_bits - self.weight_bits

    @property
    def acc_bits(self) -> int:
        """Width of the per-neuron input accumulator: wide enough that it never saturates."""
        return self.weight_bits + (self.max_inputs + self.max_neurons).bit_length()

    def to_dict(self) -> dict:
        """Plain dict (for files, IDENTIFY replies and reports)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CoreSpec:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise NetworkError(
                f"unknown CoreSpec field {unknown[0]!r}; known fields: {', '.join(sorted(known))}"
            )
        return cls(**data)
