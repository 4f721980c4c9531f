"""Phase 4 (propagation) on torch: dense matmul, event-driven gather, or sparse matmul.

All three add each presynaptic spike's weights into the accumulator ring
``acc[(n + d) % ring, b, target, post]`` (``target`` 0: ``acc_e``, 1: ``acc_i``), reading the
weights before plasticity changes them. Weights are per synapse, in the CSR order of
:class:`snn.build.BuiltNetwork`: shape ``(n_syn,)`` when static, ``(B, n_syn)`` when STDP
gives every batch element its own copy.

- ``dense``: one ``(n_pre, 2n)`` matrix per distinct delay, ``spikes @ M``. Static
  shapes and a fixed op count per step (CUDA-graph friendly); cost ``n_pre * n`` per
  step whatever the activity: the choice for small all-to-all cores.
- ``event``: gathers only the rows of the presynaptic elements that spiked
  (``nonzero`` + ``repeat_interleave``) and scatters them with ``index_add_``; cost follows
  the synaptic events, like the numba kernel. Shapes change every step (a host sync
  per step on a GPU, no CUDA graphs). On the CPU the additions happen in the numba
  kernel's order, so float64 results agree with it to the bit.
- ``sparse``: one sparse CSR matrix ``(delays * 2n, n_pre)`` times the spike vector;
  static weights only.

In fixed mode the products run in float64, which is exact for integers below 2**53 (the
engine checks the largest possible sum), then are cast back to int64.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from ..build import BuiltNetwork
from ..errors import NetworkError

STRATEGIES = ("dense", "event", "sparse")


@dataclass
class SynapseTables:
    """Synapse arrays on the device (CSR order of the BuiltNetwork)."""

    n_neurons: int
    n_pre: int
    ring: int
    ptr: torch.Tensor  # int64 (n_pre + 1)
    deg: torch.Tensor  # int64 (n_pre): synapses per presynaptic element
    pre: torch.Tensor  # int64 (n_syn)
    post: torch.Tensor  # int64 (n_syn)
    delay: torch.Tensor  # int64 (n_syn)
    inh: torch.Tensor  # int64 (n_syn): 0 excitatory, 1 inhibitory

    @classmethod
    def from_built(cls, built: BuiltNetwork, device: torch.device) -> SynapseTables:
        """Copy the synapse arrays of ``built`` to ``device``."""
        n_pre = built.syn_ptr.size - 1
        pre = np.repeat(np.arange(n_pre, dtype=np.int64), np.diff(built.syn_ptr))

        def dev(a):
            return torch.as_tensor(np.ascontiguousarray(a, dtype=np.int64), device=device)

        return cls(
            n_neurons=built.n_neurons,
            n_pre=n_pre,
            ring=built.max_delay + 1,
            ptr=dev(built.syn_ptr),
            deg=dev(np.diff(built.syn_ptr)),
            pre=dev(pre),
            post=dev(built.syn_post),
            delay=dev(built.syn_delay),
            inh=dev(~built.syn_exc.astype(bool)),
        )

    @property
    def n_synapses(self) -> int:
        """Number of synapses."""
        return int(self.post.numel())


def choose(strategy: str, syn: SynapseTables, plastic: bool, device: torch.device) -> str:
    """Resolve ``"auto"``: dense for core-sized networks or dense connectivity, else event-driven."""
    if strategy not in (*STRATEGIES, "auto"):
        raise NetworkError(
            f"torch backend: propagation must be one of auto, {', '.join(STRATEGIES)}; got {strategy!r}"
        )
    if strategy == "sparse" and plastic:
        raise NetworkError(
            "torch backend: propagation='sparse' needs static weights; use 'dense' or 'event' with STDP"
        )
    if strategy != "auto":
        return strategy
    cells = syn.n_pre * syn.n_neurons
    if cells <= (1 << 20) or syn.n_synapses >= cells // 8:
        return "dense"
    return "event"


class Propagator:
    """Adds one step's presynaptic spikes into the accumulator ring (see module docstring)."""

    def __init__(self, strategy: str, syn: SynapseTables, weight: torch.Tensor, fixed: bool, dtype) -> None:
        self.strategy = strategy
        self.syn = syn
        self.fixed = fixed
        self.mm_dtype = torch.float64 if fixed else dtype  # float64 products of integers are exact
        n, n_pre = syn.n_neurons, syn.n_pre
        delays = torch.unique(syn.delay).tolist() if syn.n_synapses else []
        self.delays = [int(d) for d in delays]
        if fixed and syn.n_synapses:
            w = weight.abs().to(torch.float64)
            worst = torch.zeros(2 * n, dtype=torch.float64, device=w.device)
            flat_w = w if w.dim() == 1 else w.max(dim=0).values
            worst.index_add_(0, syn.inh * n + syn.post, flat_w)
            if float(worst.max()) >= 2.0**53:
                raise NetworkError(
                    "torch backend: weight sums exceed 2**53 and cannot be exact in fixed mode"
                )
        # per delay: synapse positions and their cell in a (n_pre, 2n) matrix
        self._groups = []
        for d in self.delays:
            pos = torch.nonzero(syn.delay == d).flatten()
            cell = syn.pre[pos] * (2 * n) + syn.inh[pos] * n + syn.post[pos]
            self._groups.append((d, pos, cell))
        self._static = weight.dim() == 1
        if strategy == "dense" and self._static:
            self._matrices = [self._dense(weight, pos, cell) for _, pos, cell in self._groups]
        if strategy == "sparse":
            rows = torch.cat(
                [g * 2 * n + syn.inh[pos] * n + syn.post[pos] for g, (_, pos, _) in enumerate(self._groups)]
            )
            cols = torch.cat([syn.pre[pos] for _, pos, _ in self._groups])
            vals = torch.cat([weight[pos] for _, pos, _ in self._groups]).to(self.mm_dtype)
            shape = (max(len(self._groups), 1) * 2 * n, n_pre)
            coo = torch.sparse_coo_tensor(torch.stack([rows, cols]), vals, shape, check_invariants=True)
            with warnings.catch_warnings():  # "sparse CSR support is in beta": known, and tested here
                warnings.simplefilter("ignore", UserWarning)
                self._sparse = coo.coalesce().to_sparse_csr()
        if strategy == "event":
            self._arange = torch.arange(syn.n_synapses + 1, device=syn.post.device)

    def _dense(self, weight: torch.Tensor, pos: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
        n2 = 2 * self.syn.n_neurons
        if weight.dim() == 1:
            m = torch.zeros(self.syn.n_pre * n2, dtype=self.mm_dtype, device=weight.device)
            m.index_add_(0, cell, weight[pos].to(self.mm_dtype))
            return m.view(self.syn.n_pre, n2)
        b = weight.shape[0]
        m = torch.zeros(b, self.syn.n_pre * n2, dtype=self.mm_dtype, device=weight.device)
        m.index_add_(1, cell, weight[:, pos].to(self.mm_dtype))
        return m.view(b, self.syn.n_pre, n2)

    def __call__(self, step: int, spikes: torch.Tensor, weight: torch.Tensor, acc: torch.Tensor) -> None:
        """Scatter ``spikes`` ``(B, n_pre)`` bool of step ``step`` into ``acc`` ``(ring, B, 2, n)``."""
        if not self.delays:
            return
        if self.strategy == "event":
            self._event(step, spikes, weight, acc)
            return
        ring, b, n = self.syn.ring, spikes.shape[0], self.syn.n_neurons
        s = spikes.to(self.mm_dtype)
        if self.strategy == "sparse":
            out = torch.sparse.mm(self._sparse, s.t()).view(len(self.delays), 2, n, b).permute(0, 3, 1, 2)
            for g, d in enumerate(self.delays):
                acc[(step + d) % ring] += self._cast(out[g])
            return
        for g, (d, pos, cell) in enumerate(self._groups):
            if self._static:
                out = s @ self._matrices[g]
            else:
                out = torch.bmm(s.unsqueeze(1), self._dense(weight, pos, cell)).squeeze(1)
            acc[(step + d) % ring] += self._cast(out.view(b, 2, n))

    def _cast(self, x: torch.Tensor) -> torch.Tensor:
        return x.round().to(torch.int64) if self.fixed else x

    def _event(self, step: int, spikes: torch.Tensor, weight: torch.Tensor, acc: torch.Tensor) -> None:
        syn = self.syn
        bi, k = torch.nonzero(spikes, as_tuple=True)  # b-major, k ascending: the numba kernel's order
        cnt = syn.deg[k]
        total = int(cnt.sum())
        if total == 0:
            return
        which = torch.repeat_interleave(torch.arange(k.numel(), device=k.device), cnt, output_size=total)
        first = torch.cumsum(cnt, 0) - cnt
        pos = syn.ptr[k][which] + self._arange[:total] - first[which]
        b_of = bi[which]
        w = weight[pos] if weight.dim() == 1 else weight[b_of, pos]
        slot = (step + syn.delay[pos]) % syn.ring
        batch = spikes.shape[0]
        idx = ((slot * batch + b_of) * 2 + syn.inh[pos]) * syn.n_neurons + syn.post[pos]
        acc.view(-1).index_add_(0, idx, w.to(acc.dtype))
