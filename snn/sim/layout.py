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

from ..build import CHUNK, BuiltNetwork
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
    post: np.ndarray  # int32 (BuiltNetwork.syn_post itself when ``order`` is None)
    delay: np.ndarray  # int16 per synapse, or empty when delays are uniform
    uniform_delay: int  # the delay when uniform, else 0
    ring: int  # slots of the accumulator ring buffer: max_delay + 1
    order: np.ndarray | None  # layout position -> BuiltNetwork CSR position; None: the same order
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

    def to_layout(self, csr_values: np.ndarray, dtype, share: bool = False) -> np.ndarray:
        """Per-synapse values from BuiltNetwork CSR order into layout order.

        ``share``: return ``csr_values`` itself when it is in layout order and of ``dtype``
        already (no copy; for arrays the kernels only read).
        """
        values = np.asarray(csr_values)
        if self.order is not None:
            return np.ascontiguousarray(values[self.order], dtype=dtype)
        if share and values.dtype == np.dtype(dtype) and values.flags.c_contiguous:
            return values
        return values.astype(dtype, copy=True)

    def to_csr(self, layout_values: np.ndarray, dtype=None) -> np.ndarray:
        """Per-synapse values from layout order back to BuiltNetwork CSR order."""
        if self.order is None:
            return layout_values.astype(dtype or layout_values.dtype, copy=True)
        out = np.empty(layout_values.shape, dtype or layout_values.dtype)
        out[self.order] = layout_values
        return out

    def positions(self, csr_positions: np.ndarray) -> np.ndarray:
        """Layout positions of the synapses at ``csr_positions`` (BuiltNetwork CSR order)."""
        if self.order is None:
            return csr_positions
        inv = np.empty_like(self.order)
        inv[self.order] = np.arange(inv.size, dtype=inv.dtype)
        return inv[csr_positions]


def part_cuts(built: BuiltNetwork, n_parts: int) -> np.ndarray:
    """First neuron of each of ``n_parts`` post ranges (and ``n_neurons``), balanced by in-degree.

    Inner cuts are multiples of 8 (the spike flags are scanned a uint64 word at a time, and
    a word then belongs to one part: one thread).
    """
    indegree = np.zeros(built.n_neurons, np.int64)
    for s0 in range(0, built.n_synapses, CHUNK):  # bincount takes intp: in chunks
        indegree += np.bincount(built.syn_post[s0 : s0 + CHUNK], minlength=built.n_neurons)
    cum = np.concatenate([[0], np.cumsum(indegree)])
    targets = cum[-1] * np.arange(1, n_parts) / n_parts
    inner = np.searchsorted(cum, targets, side="left") if cum[-1] else np.zeros(n_parts - 1, np.int64)
    inner = (inner + 4) // 8 * 8
    return np.concatenate([[0], np.minimum(inner, built.n_neurons), [built.n_neurons]]).astype(np.int64)


def _row_batches(ptr: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Consecutive row ranges of about ``size`` synapses each (a longer row: a range of its own)."""
    n_rows = ptr.size - 1
    edges = np.unique(np.searchsorted(ptr, np.arange(0, int(ptr[-1]), max(size, 1)), side="right") - 1)
    edges = [int(e) for e in edges if 0 <= e < n_rows]
    edges = sorted({0, *edges, n_rows})
    return list(zip(edges[:-1], edges[1:]))


def synapse_layout(built: BuiltNetwork, n_parts: int = 1) -> SynapseLayout:
    """Build the synapse layout of ``built`` for ``n_parts`` threads.

    Works through the rows in batches of about ``snn.build.CHUNK`` synapses; when every
    row is in layout order already (CUBA: projections in target order), the layout shares
    ``built.syn_post`` and keeps no ``order``.
    """
    ptr = built.syn_ptr
    n_pre = ptr.size - 1
    inh_of_proj = (~built.proj_exc.astype(bool)).astype(np.int64)
    cuts = part_cuts(built, n_parts)
    width = 2 * n_parts
    bounds = np.empty((n_pre, width + 1), np.int64)
    bounds[:, 0] = ptr[:-1]
    orders = []  # (s0, local order) of the batches that are not in layout order
    for r0, r1 in _row_batches(ptr, CHUNK):
        s0, s1 = int(ptr[r0]), int(ptr[r1])
        post = built.syn_post[s0:s1]
        piece = 2 * np.searchsorted(cuts[1:-1], post, side="right") + inh_of_proj[built.syn_proj_rows(r0, r1)]
        key = np.repeat(np.arange(r1 - r0, dtype=np.int64), np.diff(ptr[r0 : r1 + 1])) * width + piece
        counts = np.bincount(key, minlength=(r1 - r0) * width).reshape(r1 - r0, width)
        np.cumsum(counts, axis=1, out=bounds[r0:r1, 1:])
        bounds[r0:r1, 1:] += ptr[r0:r1, None]
        if key.size > 1 and not bool(np.all(key[1:] >= key[:-1])):
            # stable: by row, then piece, BuiltNetwork order inside each piece
            orders.append((s0, np.argsort(key, kind="stable")))
    n_syn = built.n_synapses
    order = None
    post = built.syn_post
    if orders:
        order = np.arange(n_syn, dtype=np.int64)
        for s0, local in orders:
            order[s0 : s0 + local.size] = local + s0
        post = built.syn_post[order]
    del orders
    uniform_delay = built.uniform_delay
    delay = np.zeros(0, np.int16)
    if uniform_delay == 0:
        d = built.syn_delay if order is None else built.syn_delay[order]
        delay = d.astype(np.int16)
    syn = SynapseLayout(
        ptr=ptr,
        bounds=bounds,
        post=post,
        delay=delay,
        uniform_delay=uniform_delay,
        ring=built.max_delay + 1,
        order=order,
        cuts=cuts,
        **_plastic_indices(built, order, post),
    )
    return syn


def _plastic_indices(built: BuiltNetwork, order: np.ndarray | None, post: np.ndarray) -> dict:
    """Indices of the plastic synapses per presynaptic element and per target (CSC)."""
    n_pre = built.syn_ptr.size - 1
    empty = np.zeros(0, np.int64)
    if not built.rules:
        return dict(pre_ptr=np.zeros(n_pre + 1, np.int64), pre_pos=empty, pre_rule=empty,
                    post_ptr=np.zeros(built.n_neurons + 1, np.int64), post_pos=empty, post_pre=empty,
                    post_rule=empty)  # fmt: skip
    proj = built.syn_proj if order is None else built.syn_proj[order]  # a full array: plastic networks only
    rule = built.proj_rule[proj]
    plastic = np.flatnonzero(rule >= 0)  # layout positions, grouped by pre already
    pre = np.searchsorted(built.syn_ptr, plastic, side="right") - 1  # rows keep their synapses
    pre_ptr = np.zeros(n_pre + 1, np.int64)
    np.cumsum(np.bincount(pre, minlength=n_pre), out=pre_ptr[1:])
    sort_post = np.argsort(post[plastic], kind="stable")
    by_post = plastic[sort_post]
    post_ptr = np.zeros(built.n_neurons + 1, np.int64)
    np.cumsum(np.bincount(post[plastic], minlength=built.n_neurons), out=post_ptr[1:])
    return dict(
        pre_ptr=pre_ptr,
        pre_pos=plastic.astype(np.int64),
        pre_rule=rule[plastic].astype(np.int64),
        post_ptr=post_ptr,
        post_pos=by_post.astype(np.int64),
        post_pre=pre[sort_post].astype(np.int64),
        post_rule=rule[by_post].astype(np.int64),
    )


def segments(table, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Run-length encode the rows of a per-neuron parameter ``table`` (n, P), then cut into blocks.

    ``table`` may also be a list of P columns (arrays of n values, or functions that
    return one: evaluated one at a time, so that the full table is never held).
    Returns ``(blocks, first)``: ``blocks[b] = (lo, hi, s)``, neurons ``lo:hi`` share the
    parameters of neuron ``first[s]`` (segment ``s``). Blocks hold at most ``block`` neurons.
    """
    columns = list(table.T) if isinstance(table, np.ndarray) else list(table)
    n = None
    change = None
    for column in columns:
        col = np.asarray(column() if callable(column) else column)
        if change is None:
            n = col.shape[0]
            change = np.zeros(n, bool)
            change[:1] = True
        change[1:] |= col[1:] != col[:-1]
    if not n:
        return np.zeros((0, 3), np.int64), np.zeros(0, np.int64)
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
