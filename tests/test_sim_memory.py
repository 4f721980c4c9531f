"""The in-place build and the CUBA benchmark's table (issue 17)."""

from __future__ import annotations

import numpy as np

from snn.bench.cuba import Row, table
from snn.bench.machine import machine_line
from snn.bench.processes import Measurement
from snn.models import cuba
from snn.sim import Simulator
from snn.sim.layout import segments


def test_segments_merge_equal_rows_and_take_columns():
    table_ = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 3.0], [1.0, 3.0], [0.0, 3.0]])
    blocks, first = segments(table_, block=2)
    assert first.tolist() == [0, 2, 4]
    assert blocks.tolist() == [[0, 2, 0], [2, 4, 1], [4, 5, 2]]
    blocks2, first2 = segments([table_[:, 0], lambda: table_[:, 1]], block=2)
    assert np.array_equal(blocks, blocks2) and np.array_equal(first, first2)


def test_cuba_is_built_at_final_dtypes_and_shared_with_the_kernels():
    sim = Simulator(cuba(3000, duration=10.0), dtype="float32", threads=2, progress=False)
    b = sim.built
    assert b.syn_post.dtype == np.int32 and b.syn_weight.dtype == np.float32
    assert b.syn_delays is None  # the projection is kept per row and projection, not per synapse:
    assert b.proj_seg.itemsize == 1 and b.proj_seg.size == 2 * b.n_neurons  # 2 projections leave each row
    assert np.array_equal(b.syn_proj_rows(10, 20), b.syn_proj[b.syn_ptr[10] : b.syn_ptr[20]])
    assert sim._seg_par.shape[0] == 1  # one parameter set: one segment
    # rows are in layout order already: no order array, the kernels read the built arrays
    assert sim.syn.order is None
    assert np.shares_memory(sim.syn.post, b.syn_post) and np.shares_memory(sim.weight, b.syn_weight)
    assert sim.synapse_bytes() == 8 * b.n_synapses


def _m(wall: float, peak: float = 100.0) -> Measurement:
    return Measurement(
        {"wall_s": wall, "syn": 80, "build_s": 0.5, "build_peak_mb": 90.0, "synapse_bytes": 640}, peak
    )


def test_table_gives_medians_ranges_and_ratios_within_each_repeat():
    row = Row(1000)
    row.runs = {
        "1t": [_m(2.0), _m(4.0), _m(3.0)],
        "2t": [_m(1.0), _m(3.0), None],
        "yardstick": [_m(1.0), _m(2.0), _m(6.0)],
        "brian2": [_m(4.0, 50.0), _m(4.0, 60.0), _m(10.0, 70.0)],
    }
    header, cells = table([row], 1.0)
    got = dict(zip(header, cells[0]))
    assert got["ours 1t s/s"] == "3.000 (2.000-4.000)"
    assert got["ours 2t s/s"] == "2.000 (1.000-3.000)"
    assert got["brian2 peak MB"] == "60 (50-70)"
    assert got["ours 1t / brian2"] == "0.50x (0.30-1.00)"  # 2/4, 4/4, 3/10
    assert got["ours 2t / ours 1t"] == "0.62x (0.50-0.75)"  # 1/2, 3/4 (repeat 3 failed)
    assert got["ours 1t / yardstick"] == "2.00x (0.50-2.00)"
    assert got["ours B/syn"] == "8.0"


def test_machine_line_names_cpu_date_and_versions():
    line = machine_line([1, 2])
    assert "threads used: 1, 2" in line and "UTC" in line and "numba" in line


def test_yardstick_spikes_equal_the_engines(capsys):
    import json

    from snn.bench import yardstick

    yardstick.main(["1500", "0.1", "4"])
    plain = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    sim = Simulator(cuba(1500, duration=100.0, seed=4), dtype="float32", progress=False)
    sim.run(1000)
    assert plain["spikes"] == sim.results().n_spikes > 0
