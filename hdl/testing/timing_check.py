"""Compare measured step cycles with :func:`hdl.timing.step_cycles`."""

from __future__ import annotations

from firmware_host.memory_map import Matrix, core_image
from hdl.testing.conformance import load_case, on_core
from hdl.timing import step_cycles
from hdl.weight_memory import banked


def predicted(spec, case: dict, spikes: list[int], inputs: list[int]) -> int:
    """The formula's cycles for one measured step of ``case``."""
    _, q = load_case(case)
    image = core_image(on_core(q, spec))
    rules = [bool(image.rules[m][0] & 1) for m in Matrix]
    rows, cols = image.row_enable, image.col_enable
    return step_cycles(
        image.n_inputs,
        image.n_neurons,
        len(spikes),
        len(inputs),
        stdp=spec.stdp,
        ff_rule=rules[Matrix.FF],
        rec_rule=rules[Matrix.REC],
        ltd_ff_rows=sum(int(rows[Matrix.FF][i]) for i in inputs) if rules[Matrix.FF] else 0,
        ltd_rec_rows=sum(int(rows[Matrix.REC][j]) for j in spikes) if rules[Matrix.REC] else 0,
        ltp_ff_cols=sum(int(cols[Matrix.FF][j]) for j in spikes) if rules[Matrix.FF] else 0,
        ltp_rec_cols=sum(int(cols[Matrix.REC][j]) for j in spikes) if rules[Matrix.REC] else 0,
        banked=banked(spec.max_neurons),
        lanes=spec.lanes,
    )
