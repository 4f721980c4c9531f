"""Property-based fuzz of the network file reader (TOML and the npz sidecar).

Valid files are mutated at random (bytes of the TOML text, values of its keys, bytes and
headers of the npz members) and loaded and built; the only exception allowed to escape
is :class:`snn.NetworkError`, in one line, and no warning may be raised. A small memory budget keeps random sizes cheap:
what the reader accepts is built for real. Examples are bounded so the fuzz takes seconds.
"""

from __future__ import annotations

import io as bytes_io
import math
import tomllib
import warnings
import zipfile

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import snn
from snn import io, limits

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure reproduces
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _base_network() -> snn.Network:
    """A small network with every kind of array in the sidecar."""
    net = snn.Network(dt=0.1, duration=20.0, seed=3)
    net.poisson("src", 12, rate=np.linspace(5.0, 50.0, 12), seed=7)
    net.spikes("stim", 10, ids=np.arange(10), steps=np.arange(10) * 3)
    net.lif("exc", 10, v_init=np.linspace(-70.0, -55.0, 10), tau_m=snn.Uniform(10.0, 20.0))
    net.connect("se", "src", "exc", snn.FixedProbability(0.3), weight=snn.Uniform(0.1, 1.0), delay=2)
    net.connect("st", "stim", "exc", snn.Sparse(np.arange(10), np.arange(10)), weight=np.full(10, 0.5))
    net.connect("ee", "exc", "exc", snn.FixedInDegree(3), weight=1.0, target="exc", seed=4)
    net.connect("ii", "exc", "exc", snn.AllToAll(allow_self=False), weight=-0.2, target="inh")
    net.record_spikes("exc")
    net.record_state("exc", neurons=np.arange(9), every=2)
    net.record_weights("se", every=50)
    return net


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The valid file pair: TOML text and npz bytes; a small memory budget for the module."""
    folder = tmp_path_factory.mktemp("fuzz_base")
    path = io.save(_base_network(), folder / "net.toml")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(limits.BUDGET_ENV, "32M")
        yield path.read_bytes(), path.with_suffix(".npz").read_bytes()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """Where each example writes its files (overwritten every time)."""
    return tmp_path_factory.mktemp("fuzz")


def _load_and_build(folder, toml: bytes, npz: bytes | None) -> None:
    path = folder / "net.toml"
    path.write_bytes(toml)
    sidecar = path.with_suffix(".npz")
    if npz is None:
        sidecar.unlink(missing_ok=True)
    else:
        sidecar.write_bytes(npz)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a numpy warning on the way is a failure too
            io.load(path).build()
    except snn.NetworkError as exc:
        assert "\n" not in str(exc), str(exc)


# -- mutations ---------------------------------------------------------------------------------
def _mutate_bytes(data: bytes, draw) -> bytes:
    """A few random byte edits: replace, insert, delete a span, duplicate a span, truncate."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["replace", "insert", "delete", "duplicate", "truncate"]))
        i = draw(st.integers(0, max(len(out) - 1, 0)))
        if kind == "replace" and out:
            out[i] = draw(st.integers(0, 255))
        elif kind == "insert":
            out[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del out[i : i + draw(st.integers(1, 16))]
        elif kind == "duplicate":
            out[i:i] = out[i : i + draw(st.integers(1, 32))]
        else:
            del out[i:]
    return bytes(out)


SCALARS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, -1, 2**31, 2**62, 10**13, 3_000_000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 1e300, 1e15, 1e30, 5e-324]),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["npz:ghost", "npz:", "lif", "poisson", "all_to_all", "exc", "src"]),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.sampled_from(["uniform", "normal", "rule", "kind", "x"]), SCALARS, max_size=2),
    st.lists(st.lists(st.floats(-5, 5), max_size=3), max_size=3),
)


def _paths(doc: object, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a parsed TOML document (tables, and items of arrays of tables)."""
    out = []
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    for key, value in items:
        out.append(prefix + (key,))
        if isinstance(value, (dict, list)):
            out.extend(_paths(value, prefix + (key,)))
    return out


@st.composite
def toml_value_edits(draw, text: bytes) -> bytes:
    """Set one key (existing or new) to a random value, or delete it."""
    doc = tomllib.loads(text.decode())
    paths = _paths(doc)
    path = draw(st.sampled_from(paths))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    action = draw(st.sampled_from(["set", "set", "delete", "new"]))
    if action == "delete":
        del parent[key]
    elif action == "new" and isinstance(parent, dict):
        parent[draw(st.sampled_from(["n", "seed", "dt_ms", "steps", "every", "weight_mV", "zz"]))] = draw(
            VALUES
        )
    else:
        parent[key] = draw(VALUES)
    try:
        return tomli_w.dumps(doc).encode()
    except (TypeError, ValueError):  # a value tomli_w cannot write (NaN keys, ...): write the original
        return text


def _npy(arr_bytes: bytes, header: dict) -> bytes:
    buf = bytes_io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + arr_bytes


@st.composite
def npz_edits(draw, npz: bytes) -> bytes:
    """Rewrite one member of the sidecar: new values, a new dtype/shape, a lying header, or bytes."""
    with zipfile.ZipFile(bytes_io.BytesIO(npz)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    name = draw(st.sampled_from(sorted(members)))
    arr = np.load(bytes_io.BytesIO(members[name]))
    kind = draw(st.sampled_from(["values", "dtype", "shape", "header", "bytes", "drop"]))
    if kind == "values":
        n = draw(st.integers(0, 40))
        vals = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n))
        with np.errstate(invalid="ignore", over="ignore"):  # NaN into an int array: any value will do
            members[name] = _save(np.array(vals, np.float64).astype(arr.dtype) if n else arr[:0])
    elif kind == "dtype":
        dtype = draw(st.sampled_from(["<i1", "<u8", "<f2", "<c16", "|b1", "<U3", "<M8[s]", "|V4"]))
        members[name] = _save(np.zeros(arr.size, dtype))
    elif kind == "shape":
        members[name] = _save(
            np.resize(arr, draw(st.sampled_from([(0,), (2, 3), (1, 1, 1), (7,), (10**5,)])))
        )
    elif kind == "header":
        shape = draw(st.sampled_from([(10**12,), (2**40, 2**30), (0,), (3,), (10**6,), ()]))
        descr = draw(st.sampled_from(["<i8", "<f8", "|O", "<U1000000"]))
        members[name] = _npy(arr.tobytes(), {"descr": descr, "fortran_order": False, "shape": shape})
    elif kind == "bytes":
        members[name] = _mutate_bytes(members[name], draw)
    else:
        del members[name]
    out = bytes_io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return out.getvalue()


def _save(arr: np.ndarray) -> bytes:
    buf = bytes_io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


# -- the properties --------------------------------------------------------------------------
def test_base_pair_loads(base, workdir):
    toml, npz = base
    _load_and_build(workdir, toml, npz)
    path = workdir / "net.toml"
    assert io.load(path).build().n_synapses > 0


@FUZZ
@given(data=st.data())
def test_toml_byte_mutations(base, workdir, data):
    toml, npz = base
    _load_and_build(workdir, _mutate_bytes(toml, data.draw), npz)


@FUZZ
@given(data=st.data())
def test_toml_value_mutations(base, workdir, data):
    toml, npz = base
    edited = toml
    for _ in range(data.draw(st.integers(1, 3))):
        edited = data.draw(toml_value_edits(edited)) if edited.strip() else edited
    _load_and_build(workdir, edited, npz)


@FUZZ
@given(data=st.data())
def test_npz_mutations(base, workdir, data):
    toml, npz = base
    edited = data.draw(npz_edits(npz))
    if data.draw(st.booleans()):
        edited = _mutate_bytes(edited, data.draw)
    _load_and_build(workdir, toml, edited if data.draw(st.integers(0, 9)) else None)


def test_budget_is_small_during_the_fuzz(base):
    assert limits.memory_budget() == 32 * 2**20
    assert not math.isnan(limits.memory_budget())
