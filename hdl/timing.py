"""Clock cycles of one timestep of :class:`hdl.core.Core` (docs/core-hardware.md).

``step_cycles`` is the formula the design is built to; the tests check it against cycle
counts measured on the Verilog, cycle for cycle.
"""

from __future__ import annotations

from .neuron_pipeline import PIPELINE_CYCLES

# fixed overhead of a step: command, bank swap, engine hand-offs, STEP_DONE
STEP_OVERHEAD = 13
LEARN_OVERHEAD = 16  # learning engine: start, 4 decay ends, decay drain, 4 job drains, bump ends
# the learning engine starts with the neuron engine: its start, decay and drain run during
# the neuron and synapse phases, which last ``6 N + propagation + OVERLAP_OFFSET`` cycles
OVERLAP_OFFSET = 8  # hand-offs: learn start to neuron start, neuron to synapse engine, synapse done


def step_cycles(
    n_inputs: int,
    n_neurons: int,
    neuron_spikes: int,
    input_spikes: int,
    *,
    stdp: bool,
    ltd_ff_rows: int = 0,
    ltd_rec_rows: int = 0,
    ltp_ff_cols: int = 0,
    ltp_rec_cols: int = 0,
    ff_rule: bool = False,
    rec_rule: bool = False,
    banked: bool = True,
    lanes: int = 1,
) -> int:
    """Cycles from the STEP command to the STEP_DONE response of one timestep.

    ``ltd_*_rows``: spiking sources whose row is plastic (walked for depression);
    ``ltp_*_cols``: spiking neurons whose column is plastic (walked for potentiation);
    ``banked``: the weights are two checkerboard banks (``hdl.weight_memory.banked(max_neurons)``,
    a power-of-two ``max_neurons``): a walk takes one cycle per synapse, else two;
    ``lanes`` (``CoreSpec.lanes``): 2 propagates two weights a cycle and runs an FF and a
    REC learning engine side by side.
    """
    n, k, s, i = n_neurons, n_inputs, neuron_spikes, input_spikes
    if lanes > 2:
        return wide_cycles(
            k, n, s, i, lanes=lanes, stdp=stdp, ff_rule=ff_rule, rec_rule=rec_rule,
            ltp_ff_cols=ltp_ff_cols, ltp_rec_cols=ltp_rec_cols,
        )  # fmt: skip
    # the neuron engine (6 cycles per neuron), then the synapse engine: one weight per cycle
    # (two lanes: two), 2 per row to fetch it; two lanes: the inputs' rows during the
    # neuron engine's pass (``phases``: from the step's start to the synapse engine's end)
    row = -(-n // lanes) + 2
    if lanes == 1:
        phases = 6 * n + (s + i) * row + OVERLAP_OFFSET
    else:
        phases = max(i * row + 6, 6 * n + 7) + s * row
    cycles = STEP_OVERHEAD - OVERLAP_OFFSET + phases
    cycles += 2 * s  # output: one SPIKE response per 2 cycles
    if stdp:
        cycles += learn_cycles(
            k,
            n,
            s,
            i,
            ltd_ff_rows,
            ltd_rec_rows,
            ltp_ff_cols,
            ltp_rec_cols,
            ff_rule=ff_rule,
            rec_rule=rec_rule,
            banked=banked,
            lanes=lanes,
            overlap=phases,
        )
    return cycles


def walk(length: int, banked: bool = True, pairs: bool = False) -> int:
    """Cycles of one weight walk of ``length`` synapses in the learning engine's WALK state.

    Two banks: a read every cycle (each written back 3 cycles later, in the other bank):
    ``length``; ``pairs`` (two lanes: both banks read and written in a cycle): two synapses
    a read, ``ceil(length / 2)``. One bank: a read every other cycle (the cycles between are
    the write-backs), leaving after the last read: ``2 * length - 1``. A walk of no synapse
    is skipped.
    """
    if not length:
        return 0
    if pairs:
        return (length + 1) // 2
    return length if banked else 2 * length - 1


def learn_cycles(
    k: int,
    n: int,
    s: int,
    i: int,
    ltd_ff_rows: int = 0,
    ltd_rec_rows: int = 0,
    ltp_ff_cols: int = 0,
    ltp_rec_cols: int = 0,
    *,
    ff_rule: bool,
    rec_rule: bool,
    banked: bool = True,
    lanes: int = 1,
    overlap: int = 0,
) -> int:
    """The learning engine's share of a step (its pass plus its hand-offs, ``LEARN_OVERHEAD``)
    after the synapse engine's: the engine alone (``overlap`` 0: it starts when the synapse
    engine is done), or started ``overlap`` cycles before that (in a step: with the neuron
    engine), when its start, decay and drain (``5 + decay`` cycles) run meanwhile.

    Two lanes: the longer of the FF engine's pass and the REC engine's (each skips the
    other matrix's decays, jobs and bumps; the REC engine skips the input spikes' bumps,
    their end included, and bumps a neuron's two REC traces: 4 cycles); each walks two
    synapses a cycle (two lanes need two banks).
    """
    if lanes == 2:
        return max(
            two_lane_cycles(
                k, n, s, i, ltd_ff_rows, ltd_rec_rows, ltp_ff_cols, ltp_rec_cols,
                ff_rule=ff_rule, rec_rule=rec_rule, overlap=overlap,
            )
        )  # fmt: skip
    # decay: the four trace memories one after another, those of a rule that is off skipped
    decay = (k + n if ff_rule else 0) + (2 * n if rec_rule else 0)
    cycles = LEARN_OVERHEAD + decay - min(5 + decay, overlap)
    # bumps: fetch, read, then one write per trace (an input's FF_PRE; a neuron's three)
    cycles += 3 * i + 5 * s
    # 3 cycles per listed source to fetch its row or column, then the walk of a plastic one
    wn, wk = walk(n, banked), walk(k, banked)
    if ff_rule:
        cycles += 3 * i + wn * ltd_ff_rows + 3 * s + wk * ltp_ff_cols
    if rec_rule:
        cycles += 3 * s + wn * ltd_rec_rows + 3 * s + wn * ltp_rec_cols
    return cycles


def two_lane_cycles(
    k: int,
    n: int,
    s: int,
    i: int,
    ltd_ff_rows: int = 0,
    ltd_rec_rows: int = 0,
    ltp_ff_cols: int = 0,
    ltp_rec_cols: int = 0,
    *,
    ff_rule: bool,
    rec_rule: bool,
    overlap: int = 0,
) -> tuple[int, int]:
    """``(FF, REC)``: the passes of two lanes' learning engines (``LearningEngine(spec, (FF,),
    pairs=True)`` and its REC twin) as :func:`learn_cycles` counts them; the step waits for
    the longer. Each walks two synapses a cycle."""
    wn, wk = walk(n, pairs=True), walk(k, pairs=True)
    decay_ff, decay_rec = (k + n if ff_rule else 0), (2 * n if rec_rule else 0)
    ff = LEARN_OVERHEAD + 3 * i + 3 * s + decay_ff - min(5 + decay_ff, overlap)
    if ff_rule:
        ff += 3 * i + wn * ltd_ff_rows + 3 * s + wk * ltp_ff_cols
    rec = LEARN_OVERHEAD - 1 + 4 * s + decay_rec - min(5 + decay_rec, overlap)
    if rec_rule:
        rec += 6 * s + wn * (ltd_rec_rows + ltp_rec_cols)
    return ff, rec


# a wide core's step around its engines' passes: the command and hand-offs before the
# engines start, the hand-off after both are done and STEP_DONE
WIDE_OVERHEAD = 5
WIDE_SPIKES_READY = 1  # from the neuron engine's ``done`` to the matrix engines' ``spikes_ready``


def wide_cycles(
    k: int,
    n: int,
    s: int,
    i: int,
    *,
    lanes: int,
    stdp: bool,
    ff_rule: bool = False,
    rec_rule: bool = False,
    ltp_ff_cols: int = 0,
    ltp_rec_cols: int = 0,
) -> int:
    """Cycles of a step of the wide core (``lanes`` 4, 8, 16: ``hdl/matrix_engine.py``).

    The two matrix engines and the neuron engine start together (cycle 0). Each engine
    decays its traces (``ceil(len / P) + 1`` cycles per trace memory of a rule that is on, 1
    otherwise, and a drain), then walks rows (3 cycles to fetch each, then ``ceil(N / P)``
    chunks), columns (3 to fetch, ``ceil(len / P)`` chunks for a plastic one) and bumps (3
    a spiking element). The FF engine's rows start at once, its columns when the neuron
    engine is done (``ready``), and so do the REC engine's rows.
    """
    P = lanes
    cn, ck = -(-n // P), -(-k // P)
    # the pipelined neuron engine (a neuron a cycle) is done at ``n + PIPELINE_CYCLES``
    ready = n + PIPELINE_CYCLES + WIDE_SPIKES_READY

    def decay(on: bool, words: int) -> int:
        if not stdp:
            return 0
        return words + 3 if on else 3

    # FF: decay, rows (done at ``ff_rows``), columns after ``ready``, bumps
    ff_rows = 3 + decay(ff_rule, cn + ck) + i * (3 + cn)
    if stdp and ff_rule:
        cols = max(ff_rows, ready) + 1 + ltp_ff_cols * (3 + ck) + (s - ltp_ff_cols) * 3
        ff_done = cols + 1 + 3 * i + 3 * s + 3
    else:
        ff_done = ff_rows + 1
    # REC: decay, rows once ``ready`` (into accumulators of its own), columns, bumps
    rows = max(1 + decay(rec_rule, 2 * cn), ready) + 1 + s * (3 + cn)
    if stdp and rec_rule:
        cols = rows + 2 + ltp_rec_cols * (3 + cn) + (s - ltp_rec_cols) * 3
        rec_done = cols + 1 + 3 * s + 2
    else:
        rec_done = rows + 2
    return WIDE_OVERHEAD + max(ff_done, rec_done) + 2 * s
