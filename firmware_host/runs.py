"""A network run on a board, as :class:`snn.Results`: the ``board`` runner of the
``snn.runners`` entry points, through which ``snn.sweep`` runs on boards without
importing this package."""

from __future__ import annotations

import numpy as np

from snn.network import Network
from snn.sim.results import Results, SpikeTrains

from .board import Board


def run_on_board(net: Network, port: str) -> Results:
    """Load ``net`` onto the board at ``port`` (``sim``: a simulated core), run it for its
    duration and collect its spikes (and recorded weights) in the core's fixed mode."""
    with Board(port) as board:
        q = board.load(net)
        out = board.run()
        weights = board.read_weights().csr(q.built) if net.recordings.weights else None
    bn = q.built
    res = Results(
        mode="fixed", dt=bn.dt, n_steps=bn.n_steps, n_neurons=bn.n_neurons, n_synapses=bn.n_synapses
    )
    for name, sl in bn.lif_slices.items():
        keep = (out.neurons >= sl.start) & (out.neurons < sl.stop)
        res.spikes[name] = SpikeTrains(out.steps[keep], out.neurons[keep] - sl.start, bn.dt)
        res.spike_counts[name] = int(np.count_nonzero(keep))
        res.population_sizes[name] = sl.stop - sl.start
    for probe in net.recordings.weights if weights is not None else ():
        res.weights[probe.projection] = q.weights_mV(bn.projection_weights(probe.projection, weights))
    return res
