"""Arrays prepared once for the kernels: synapses, plasticity indices, neuron segments.

Shared by the float and the fixed kernels (only the weight and parameter dtypes differ):

- Synapses stay in CSR over the global presynaptic index (neurons, then sources). For
  ``n_parts`` threads the postsynaptic neurons are cut into ``n_parts`` contiguous ranges
  (balanced by incoming synapses), and each row is ordered by part, then excitatory
  before inhibitory: ``bounds[k, 2t] .. bounds[k, 2t+1]`` are the excitatory synapses of
  row ``k`` onto part ``t``, ``.. bounds[k, 2t+2]`` its inhibitory ones. Thread ``t`` then
  scatters only into its own targets (no atomics), and the scatter routes by target
  without a per-synapse flag. Within each piece the order of ``BuiltNetwork`` is kept, so
  every target receives its inputs in the same order for any ``n_parts``: float sums
  are identical bit for bit. Routing by target equals routing by sign (the doc's rule):
  excitatory weights are >= 0, inhibitory <= 0, and a zero weight adds nothing.
  ``order`` maps a layout position to the ``BuiltNetwork`` CSR position.
- Delays: uniform delays are one scalar (no per-synapse array); otherwise int16.
- Plastic synapses: per presynaptic element (for depression on a pre spike) and per
  postsynaptic neuron (a CSC index, for potentiation on a post spike), as positions
  into the layout's weight array.
- Neuron parameters are run-length encoded into *segments* of consecutive neurons with
  identical parameters, so the update loop keeps them in registers instead of streaming
  one array per parameter, and the segments are cut into *blocks* (``lo, hi, segment``):
  the unit of work of a parallel update and the granularity at which spikes are looked
  for (a block that reports no spike is not scanned).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..build import BuiltNetwork
from ..plasticity import PairSTDP
from ..quantize import QuantizedRule

# columns of a rule table (float or int64); the same layout for both modes
KIND, D_PRE, D_POST, A_PLUS, A_MINUS, W_MIN, W_MAX, BUMP_PRE, BUMP_POST, NEAREST = range(10)
N_RULE_COLS = 10
PAIR_ADD, PAIR_MULT, WINDOW = 0, 1, 2

# neurons per block: small enough that most blocks of a sparsely firing network have no
# spike (their flags are not scanned), large enough to amortize the vector loop's
# prologue/epilogue and a block's bookkeeping
BLOCK = 512


@dataclass
class SynapseLayout:
    """Synapses and plasticity indices in the kernels' order (see module docstring)."""

    ptr: np.ndarray  # int64 (n_pre + 1)
    bounds: np.ndarray  # int64 (n_pre, 2 * n_parts + 1): pieces of each row, see module docstring
    post: np.ndarray  # int32
    delay: np.ndarray  # int16 per synapse, or empty when delays are uniform
    uniform_delay: int  # the delay when uniform, else 0
    ring: int  # slots of the accumulator ring buffer: max_delay + 1
    order: np.ndarray  # layout position -> BuiltNetwork CSR position
    cuts: np.ndarray  # int64 (n_parts + 1): part t targets neurons cuts[t]:cuts[t+1]
    pre_ptr: np.ndarray  # plastic synapses of each presynaptic element
    pre_pos: np.ndarray
    pre_rule: np.ndarray
    post_ptr: np.ndarray  # plastic synapses onto each neuron (CSC)
    post_pos: np.ndarray
    post_pre: np.ndarray
    post_rule: np.ndarray

    @property
    def n_parts(self) -> int:
        return (self.bounds.shape[1] - 1) // 2

    def to_layout(self, csr_values: np.ndarray, dtype) -> np.ndarray:
        """Per-synapse values from BuiltNetwork CSR order into layout order."""
        return np.ascontiguousarray(np.asarray(csr_values)[self.order], dtype=dtype)

    def to_csr(self, layout_values: np.ndarray, dtype=None) -> np.ndarray:
        """Per-synapse values from layout order back to BuiltNetwork CSR order."""
        out = np.empty(layout_values.shape, dtype or layout_values.dtype)
        out[self.order] = layout_values
        return out


def part_cuts(built: BuiltNetwork, n_parts: int) -> np.ndarray:
    """First neuron of each of ``n_parts`` post ranges (and ``n_neurons``), balanced by in-degree.

    Inner cuts are multiples of 8 (the spike flags are scanned a uint64 word at a time, and
    a word then belongs to one part: one thread).
    """
    indegree = np.bincount(built.syn_post, minlength=built.n_neurons)
    cum = np.concatenate([[0], np.cumsum(indegree)])
    targets = cum[-1] * np.arange(1, n_parts) / n_parts
    inner = np.searchsorted(cum, targets, side="left") if cum[-1] else np.zeros(n_parts - 1, np.int64)
    inner = (inner + 4) // 8 * 8
    return np.concatenate([[0], np.minimum(inner, built.n_neurons), [built.n_neurons]]).astype(np.int64)


def synapse_layout(built: BuiltNetwork, n_parts: int = 1) -> SynapseLayout:
    """Build the synapse layout of ``built`` for ``n_parts`` threads."""
    n_pre = built.syn_ptr.size - 1
    pre = np.repeat(np.arange(n_pre, dtype=np.int64), np.diff(built.syn_ptr))
    inh = ~built.syn_exc.astype(bool)
    cuts = part_cuts(built, n_parts)
    part = np.searchsorted(cuts[1:-1], built.syn_post, side="right")
    piece = 2 * part + inh  # piece of its row: (part, exc/inh)
    key = pre * (2 * n_parts) + piece
    # stable: by row, then piece, BuiltNetwork order inside each piece (rows are sorted
    # already, so the merge sort runs over nearly sorted data)
    order = np.argsort(key, kind="stable").astype(np.int64)
    counts = np.bincount(key, minlength=n_pre * 2 * n_parts).reshape(n_pre, -1)
    bounds = np.empty((n_pre, 2 * n_parts + 1), np.int64)
    bounds[:, 0] = built.syn_ptr[:-1]
    np.cumsum(counts, axis=1, out=bounds[:, 1:])
    bounds[:, 1:] += built.syn_ptr[:-1, None]
    delay = built.syn_delay[order]
    uniform = delay.size == 0 or bool(np.all(delay == delay[0]))
    uniform_delay = int(delay[0]) if delay.size else 1
    rule = built.syn_rule[order]
    post = built.syn_post[order].astype(np.int32)

    plastic = np.flatnonzero(rule >= 0)  # layout positions, grouped by pre already
    pre_ptr = np.zeros(n_pre + 1, np.int64)
    np.cumsum(np.bincount(pre[plastic], minlength=n_pre), out=pre_ptr[1:])
    by_post = plastic[np.argsort(post[plastic], kind="stable")]
    post_ptr = np.zeros(built.n_neurons + 1, np.int64)
    np.cumsum(np.bincount(post[plastic], minlength=built.n_neurons), out=post_ptr[1:])
    return SynapseLayout(
        ptr=built.syn_ptr.astype(np.int64),
        bounds=bounds,
        post=post,
        delay=np.zeros(0, np.int16) if uniform else delay.astype(np.int16),
        uniform_delay=uniform_delay if uniform else 0,
        ring=built.max_delay + 1,
        order=order,
        cuts=cuts,
        pre_ptr=pre_ptr,
        pre_pos=plastic.astype(np.int64),
        pre_rule=rule[plastic].astype(np.int64),
        post_ptr=post_ptr,
        post_pos=by_post.astype(np.int64),
        post_pre=pre[by_post],
        post_rule=rule[by_post].astype(np.int64),
    )


def segments(table: np.ndarray, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Run-length encode the rows of a per-neuron parameter ``table`` (n, P), then cut into blocks.

    Returns ``(blocks, first)``: ``blocks[b] = (lo, hi, s)``, neurons ``lo:hi`` share the
    parameters of neuron ``first[s]`` (segment ``s``). Blocks hold at most ``block`` neurons.
    """
    n = table.shape[0]
    if n == 0:
        return np.zeros((0, 3), np.int64), np.zeros(0, np.int64)
    change = np.ones(n, bool)
    change[1:] = np.any(table[1:] != table[:-1], axis=1)
    first = np.flatnonzero(change).astype(np.int64)
    rows = []
    for s, (lo, hi) in enumerate(zip(first, np.append(first[1:], n))):
        rows.extend((b, min(b + block, int(hi)), s) for b in range(int(lo), int(hi), block))
    return np.array(rows, np.int64).reshape(-1, 3), first


def split_blocks(blocks: np.ndarray, cuts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``blocks`` (see :func:`segments`) at the neuron indices ``cuts`` (part boundaries).

    Returns ``(blocks, first_block)``: part ``t``'s neurons are the blocks
    ``first_block[t]:first_block[t + 1]``.
    """
    rows = []
    for lo, hi, s in blocks.tolist():
        inner = [int(c) for c in cuts if lo < c < hi]
        edges = [lo, *inner, hi]
        rows.extend((a, b, s) for a, b in zip(edges[:-1], edges[1:]))
    out = np.array(rows, np.int64).reshape(-1, 3)
    first = np.searchsorted(out[:, 0], cuts, side="left").astype(np.int64)
    first[-1] = out.shape[0]
    return out, first


def float_rule_table(built: BuiltNetwork, dtype) -> np.ndarray:
    """Rule constants for the float kernel (columns: see ``KIND`` ...)."""
    table = np.zeros((max(len(built.rules), 1), N_RULE_COLS), np.float64)
    for r, rule in enumerate(built.rules):
        row = table[r]
        if isinstance(rule, PairSTDP):
            mult = rule.mode == "multiplicative"
            scale = 1.0 / (rule.w_max - rule.w_min) if mult else 1.0
            row[KIND] = PAIR_MULT if mult else PAIR_ADD
            row[D_PRE] = np.exp(-built.dt / rule.tau_plus)
            row[D_POST] = np.exp(-built.dt / rule.tau_minus)
            row[A_PLUS], row[A_MINUS] = rule.a_plus * scale, rule.a_minus * scale
            row[BUMP_PRE] = row[BUMP_POST] = 1.0
            row[NEAREST] = rule.pairing == "nearest"
        else:  # WindowSTDP: traces count steps down from window + 1
            row[KIND] = WINDOW
            row[A_PLUS], row[A_MINUS] = rule.dw_plus, rule.dw_minus
            row[BUMP_PRE], row[BUMP_POST] = rule.window_pre + 1, rule.window_post + 1
            row[NEAREST] = 1
        row[W_MIN], row[W_MAX] = rule.w_min, rule.w_max
    return table.astype(dtype)


def fixed_rule_table(rules: list[QuantizedRule]) -> np.ndarray:
    """Rule constants for the fixed kernel (int64, same columns as the float table)."""
    table = np.zeros((max(len(rules), 1), N_RULE_COLS), np.int64)
    for r, q in enumerate(rules):
        kind = WINDOW if q.kind == "window" else (PAIR_MULT if q.multiplicative else PAIR_ADD)
        table[r] = (
            kind, q.decay_pre, q.decay_post, q.amp_plus, q.amp_minus,
            q.w_min, q.w_max, q.bump_pre, q.bump_post, int(q.nearest),
        )  # fmt: skip
    return table
