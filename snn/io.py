"""Network files: TOML for the description, a sidecar ``.npz`` for large arrays.

``save(network, "net.toml")`` writes ``net.toml`` and, when the network holds arrays
(per-neuron parameters, spike trains, synapse lists, per-synapse weights or delays, long
neuron lists), ``net.npz`` next to it; the TOML refers to an array as ``"npz:<key>"``.
``load("net.toml")`` reads both and rebuilds the network through the public API
(constructors, :meth:`Network.connect`, ``record_*``), so a file is checked exactly like
code. Every problem is one :class:`NetworkError` line: the file, the TOML key, what is
wrong and how to fix it. ``docs/network-format.md`` documents the format.

Both files are deterministic: floats are written with ``repr`` precision and the npz has
fixed timestamps and sorted members, so ``save(load(f))`` reproduces ``f`` byte for byte.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import stat
import tokenize
import tomllib
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import tomli_w

from .connectivity import RULES as CONNECTIVITY_RULES
from .connectivity import AllToAll
from .errors import NetworkError
from .limits import format_bytes, memory_budget
from .network import Network
from .plasticity import RULES as STDP_RULES
from .populations import LIF_PARAMETERS, LIFGroup, PoissonSource, Population, SpikeSource
from .values import Normal, Uniform

FORMAT = "snn-network/1"
NPZ_PREFIX = "npz:"
# Neuron lists of state recordings up to this length stay inline in the TOML.
INLINE_MAX = 8
# The largest TOML file read: arrays belong in the sidecar, text parsing is slow and wide.
MAX_TOML_BYTES = 256 * 2**20

# What a TOML value may be, by kind; the text is what an error message asks for.
KINDS = {
    "number": "a number",
    "int": "an integer",
    "bool": "true or false",
    "str": "a string",
    "str_list": "an array of strings",
    "value": 'a number, an array (inline or "npz:<key>"), { uniform = [lo, hi] } or { normal = [mean, std] }',
    "array": 'an array of numbers (inline or "npz:<key>")',
    "delay": 'an integer number of timesteps, or an array of them (inline or "npz:<key>")',
    "table": "a table",
    "table_list": "an array of tables",
}
_ARRAY_KINDS = ("value", "array", "delay")

# A schema maps each key of a TOML table to (constructor argument, kind, required).
Schema = dict[str, tuple[str, str, bool]]

FORMAT_KEY = "format"
TOP_KEYS: Schema = {
    FORMAT_KEY: (FORMAT_KEY, "str", True),
    "network": ("network", "table", False),
    "populations": ("populations", "table", False),
    "projections": ("projections", "table", False),
    "recordings": ("recordings", "table", False),
}
NETWORK_KEYS: Schema = {
    "dt_ms": ("dt", "number", False),
    "duration_ms": ("duration", "number", False),
    "seed": ("seed", "int", False),
}
_POPULATION_COMMON: Schema = {"kind": ("kind", "str", True), "n": ("n", "int", True)}
POPULATION_CLASSES: dict[str, type[Population]] = {
    cls.kind: cls for cls in (LIFGroup, PoissonSource, SpikeSource)
}
POPULATION_KEYS: dict[str, Schema] = {
    LIFGroup.kind: {
        **_POPULATION_COMMON,
        **{f"{name}_{unit}": (name, "value", False) for name, (unit, _, _) in LIF_PARAMETERS.items()},
    },
    PoissonSource.kind: {
        **_POPULATION_COMMON,
        "rate_hz": ("rate", "value", False),
        "seed": ("seed", "int", False),
    },
    SpikeSource.kind: {
        **_POPULATION_COMMON,
        "ids": ("ids", "array", True),
        "times_ms": ("times", "array", False),
        "steps": ("steps", "array", False),
    },
}
PROJECTION_KEYS: Schema = {
    "pre": ("pre", "str", True),
    "post": ("post", "str", True),
    "target": ("target", "str", False),
    "weight_mV": ("weight", "value", False),
    "delay_steps": ("delay", "delay", False),
    "seed": ("seed", "int", False),
    "connectivity": ("connectivity", "table", False),
    "stdp": ("stdp", "table", False),
}
RECORDING_KEYS: Schema = {
    "spikes": ("spikes", "str_list", False),
    "rates": ("rates", "str_list", False),
    "state": ("state", "table_list", False),
    "weights": ("weights", "table_list", False),
}
STATE_KEYS: Schema = {
    "population": ("population", "str", True),
    "variables": ("variables", "str_list", False),
    "neurons": ("neurons", "array", False),
    "every": ("every", "int", False),
}
WEIGHT_KEYS: Schema = {"projection": ("projection", "str", True), "every": ("every", "int", False)}
DISTRIBUTIONS = {"uniform": Uniform, "normal": Normal}

_UNITS = ("ms", "mV", "Hz", "hz", "steps")
# dataclass field annotation (a string under postponed evaluation, else a type) -> kind
_KIND_OF_ANNOTATION = {
    "float": "number",
    "int": "int",
    "bool": "bool",
    "str": "str",
    "np.ndarray": "array",
    "ndarray": "array",
}


def _rule_keys(cls: type) -> Schema:
    """Schema of a connectivity or STDP rule, derived from the dataclass and its ``params()``.

    ``params()`` names the file keys (with units, ``a_plus_mV``); a rule without required
    fields can be instantiated to ask it, the others use plain field names.
    """
    fields = dataclasses.fields(cls)
    required = {f.name for f in fields if f.default is dataclasses.MISSING}
    key_of = {f.name: f.name for f in fields}
    if not required:
        for key in cls().params():
            base, _, unit = key.rpartition("_")
            key_of[base if unit in _UNITS else key] = key
    return {
        key_of[f.name]: (f.name, _KIND_OF_ANNOTATION[getattr(f.type, "__name__", f.type)], f.name in required)
        for f in fields
    }


CONNECTIVITY_KEYS: dict[str, Schema] = {
    name: {"rule": ("rule", "str", True), **_rule_keys(cls)} for name, cls in CONNECTIVITY_RULES.items()
}
STDP_KEYS: dict[str, Schema] = {
    name: {"kind": ("kind", "str", True), **_rule_keys(cls)} for name, cls in STDP_RULES.items()
}


# -- saving ------------------------------------------------------------------------------
def save(network: Network, path: str | Path) -> Path:
    """Write ``network`` to ``path`` (TOML) and, if it holds arrays, ``<stem>.npz`` beside it.

    Returns the path of the TOML file.
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    text = _dumps(_document(network, arrays))
    if arrays:
        _write_npz(path.with_suffix(".npz"), arrays)
    path.write_bytes(text.encode("utf-8"))
    return path


def _document(net: Network, arrays: dict[str, np.ndarray]) -> dict:
    """The TOML document of ``net``; arrays go to ``arrays`` under their TOML key."""

    def encode(where: str, value: object, inline_max: int = -1) -> object:
        if isinstance(value, (Uniform, Normal)):
            return value.to_dict()
        if isinstance(value, np.ndarray):
            if value.size <= inline_max:
                return value.tolist()
            arrays[where] = value
            return NPZ_PREFIX + where
        return value.item() if isinstance(value, np.generic) else value

    def table(where: str, head: dict, values: dict) -> dict:
        out = dict(head)
        for key, value in values.items():
            if value is not None:
                out[key] = encode(f"{where}.{key}", value)
        return out

    doc: dict = {
        FORMAT_KEY: FORMAT,
        "network": {"dt_ms": net.dt, "duration_ms": net.duration, "seed": net.seed},
    }
    populations = doc["populations"] = {}
    for name, pop in net.populations.items():
        schema = POPULATION_KEYS[pop.kind]
        values = {key: getattr(pop, attr) for key, (attr, _, _) in schema.items()}
        populations[name] = table(f"populations.{name}", {}, values)
    projections = doc["projections"] = {}
    for name, proj in net.projections.items():
        where = f"projections.{name}"
        weight = proj.weight
        n_pre, n_post = net.populations[proj.pre].n, net.populations[proj.post].n
        dense = isinstance(proj.connectivity, AllToAll) and proj.connectivity.allow_self
        if dense and isinstance(weight, np.ndarray) and weight.size == n_pre * n_post:
            weight = weight.reshape(n_pre, n_post)  # same synapse order, shown as the matrix it is
        values = {key: getattr(proj, attr) for key, (attr, _, _) in PROJECTION_KEYS.items()}
        values.update(weight_mV=weight, connectivity=None, stdp=None)
        out = projections[name] = table(where, {}, values)
        conn = proj.connectivity
        out["connectivity"] = table(f"{where}.connectivity", {"rule": conn.rule}, conn.params())
        if proj.stdp is not None:
            out["stdp"] = table(f"{where}.stdp", {"kind": proj.stdp.kind}, proj.stdp.params())
    rec = net.recordings
    recordings: dict = {"spikes": list(rec.spikes), "rates": list(rec.rates), "state": [], "weights": []}
    for i, probe in enumerate(rec.state):
        item = {"population": probe.population, "variables": list(probe.variables)}
        n = net.populations[probe.population].n
        if not np.array_equal(probe.neurons, np.arange(n)):  # absent means every neuron
            item["neurons"] = encode(f"recordings.state.{i}.neurons", probe.neurons, INLINE_MAX)
        item["every"] = probe.every
        recordings["state"].append(item)
    for probe in rec.weights:
        recordings["weights"].append({"projection": probe.projection, "every": probe.every})
    recordings = {key: value for key, value in recordings.items() if value}
    if recordings:
        doc["recordings"] = recordings
    return doc


def _dumps(doc: dict) -> str:
    """TOML text of ``doc``: tomli_w's scalars, but one-line arrays and inline distributions."""
    lines = [f"# snn network description ({FORMAT}); see docs/network-format.md"]

    def literal(key: str, value: object) -> str:
        return f"{_toml_key(key)} = {_toml_value(value)}"

    def is_table(value: object) -> bool:
        return isinstance(value, dict) and not _is_distribution(value)

    def is_table_list(value: object) -> bool:
        return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)

    def emit(name: str, table: dict, header: str) -> None:
        literals = [(k, v) for k, v in table.items() if not (is_table(v) or is_table_list(v))]
        # like tomli_w: a table holding only sub-tables needs no header of its own
        if header and (literals or not table or header.startswith("[[")):
            lines.extend(["", header])
        lines.extend(literal(k, v) for k, v in literals)
        for key, value in table.items():
            child = f"{name}.{key}" if name else key
            if is_table(value):
                emit(child, value, f"[{child}]")
            elif is_table_list(value):
                for item in value:
                    emit(child, item, f"[[{child}]]")

    emit("", doc, "")
    return "\n".join(lines) + "\n"


def _toml_key(key: str) -> str:
    return tomli_w.dumps({key: 0})[: -len(" = 0\n")]


def _toml_value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return tomli_w.dumps({"x": value})[len("x = ") : -1]


def _is_distribution(value: object) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in DISTRIBUTIONS


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An npz that np.load reads, byte-identical for equal arrays (np.savez stamps the time)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            arr = np.ascontiguousarray(arrays[key])
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=arr.nbytes > 2**30) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


# -- loading -----------------------------------------------------------------------------
def load(path: str | Path) -> Network:
    """Read a network file (and its sidecar ``.npz``); raise a one-line :class:`NetworkError`.

    Nothing partial is returned: either the whole network or an error.
    """
    path = Path(path)
    try:
        doc = _read_toml(path)
        with _Reader(path) as reader:
            return reader.network(doc)
    except NetworkError as exc:
        message = " ".join(str(exc).split())  # one line, whatever a constructor wrote
        raise NetworkError(f"{path}: {message}") from None


def _read_toml(path: Path) -> dict:
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block, /dev/zero never end
            raise NetworkError("is not a regular file (a pipe or a device); give the path of a .toml file")
        if info.st_size > MAX_TOML_BYTES:
            raise NetworkError(
                f"is {format_bytes(info.st_size)}, more than the {format_bytes(MAX_TOML_BYTES)} a network "
                "description may have; keep large arrays in the .npz sidecar (snn.io.save does)"
            )
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise NetworkError("file not found; check the path") from None
    except IsADirectoryError:
        raise NetworkError("is a directory; give the path of a .toml network file") from None
    except PermissionError:
        raise NetworkError("cannot be read (permission denied)") from None
    except OSError as exc:  # a symlink loop, a name too long, an I/O error, ...
        raise NetworkError(f"cannot be read ({exc.strerror or exc}); check the path") from None
    except UnicodeDecodeError:
        raise NetworkError("not a TOML file: it is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        # a table declared twice is how a duplicate population or projection name shows up
        fix = "give each population and projection its own name" if "twice" in str(exc) else "fix the syntax"
        raise NetworkError(f"not valid TOML: {exc}; {fix}") from None


@contextmanager
def _at(where: str) -> Iterator[None]:
    """Prefix errors of the API calls that rebuild the network with their TOML table."""
    try:
        yield
    except NetworkError as exc:
        raise NetworkError(f"{where}: {exc}") from None


class _Reader:
    """Turns a parsed TOML document into API calls; opens the sidecar on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sidecar = path.with_suffix(".npz")
        self._npz: np.lib.npyio.NpzFile | None = None

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._npz is not None:
            self._npz.close()

    def network(self, doc: dict) -> Network:
        if FORMAT_KEY not in doc:
            raise NetworkError(f"missing the version key; add {FORMAT_KEY} = {FORMAT!r} at the top")
        top = self.fields(doc, TOP_KEYS, "")
        if top[FORMAT_KEY] != FORMAT:
            raise NetworkError(
                f"format: unknown format version {top[FORMAT_KEY]!r}; this snn reads format = {FORMAT!r}"
            )
        with _at("network"):
            net = Network(**self.fields(top.get("network", {}), NETWORK_KEYS, "network"))
        for name, table in self.tables(top.get("populations", {}), "populations"):
            where = f"populations.{name}"
            kind = self.tag(table, "kind", POPULATION_CLASSES, "population kind", where)
            args = self.fields(table, POPULATION_KEYS[kind], where)
            del args["kind"]
            with _at(where):
                net.add(POPULATION_CLASSES[kind](name, **args))
        for name, table in self.tables(top.get("projections", {}), "projections"):
            where = f"projections.{name}"
            args = self.fields(table, PROJECTION_KEYS, where)
            if "connectivity" in args:
                args["connectivity"] = self.rule(
                    args["connectivity"],
                    "rule",
                    CONNECTIVITY_RULES,
                    CONNECTIVITY_KEYS,
                    f"{where}.connectivity",
                )
            if "stdp" in args:
                args["stdp"] = self.rule(args["stdp"], "kind", STDP_RULES, STDP_KEYS, f"{where}.stdp")
            with _at(where):
                net.connect(name, args.pop("pre"), args.pop("post"), args.pop("connectivity", None), **args)
        self.recordings(net, top.get("recordings", {}))
        return net

    def recordings(self, net: Network, table: dict) -> None:
        rec = self.fields(table, RECORDING_KEYS, "recordings")
        with _at("recordings.spikes"):
            if rec.get("spikes"):  # record_spikes() without names would mean "every LIF group"
                net.record_spikes(*rec["spikes"])
        with _at("recordings.rates"):
            net.record_rate(*rec.get("rates", []))
        for i, item in enumerate(rec.get("state", [])):
            where = f"recordings.state.{i}"
            args = self.fields(item, STATE_KEYS, where)
            with _at(where):
                net.record_state(args.pop("population"), **args)
        for i, item in enumerate(rec.get("weights", [])):
            where = f"recordings.weights.{i}"
            args = self.fields(item, WEIGHT_KEYS, where)
            with _at(where):
                net.record_weights(args.pop("projection"), **args)

    def rule(self, table: dict, tag: str, classes: dict, schemas: dict[str, Schema], where: str) -> object:
        """Instantiate a connectivity or STDP rule from its table."""
        what = "connectivity rule" if classes is CONNECTIVITY_RULES else "STDP kind"
        name = self.tag(table, tag, classes, what, where)
        args = self.fields(table, schemas[name], where)
        del args[tag]
        with _at(where):
            return classes[name](**args)

    def tables(self, table: dict, where: str) -> Iterator[tuple[str, dict]]:
        for name, value in table.items():
            if not isinstance(value, dict):
                raise NetworkError(
                    f"{where}.{name}: expected a table [{where}.{name}], got {_toml_type(value)}"
                )
            yield name, value

    def tag(self, table: dict, key: str, classes: dict, what: str, where: str) -> str:
        """The value of the key that selects a class (``kind``, ``rule``), checked."""
        if key not in table:
            raise NetworkError(f"{where}: missing required key {key!r}; choose from {', '.join(classes)}")
        name = table[key]
        if not isinstance(name, str) or name not in classes:
            raise NetworkError(f"{where}.{key}: unknown {what} {name!r}; choose from {', '.join(classes)}")
        return name

    def fields(self, table: object, schema: Schema, where: str) -> dict:
        """Check a table against its schema; return constructor arguments of the keys present."""
        here = where or "top level"
        if not isinstance(table, dict):
            raise NetworkError(f"{here}: expected a table, got {_toml_type(table)}")
        for key in table:
            if key not in schema:
                raise NetworkError(f"{here}: unknown key {key!r}; allowed keys: {', '.join(schema)}")
        args = {}
        for key, (attr, kind, required) in schema.items():
            if key in table:
                args[attr] = self.value(f"{where}.{key}" if where else key, table[key], kind)
            elif required:
                raise NetworkError(f"{here}: missing required key {key!r} ({KINDS[kind]})")
        return args

    def value(self, where: str, raw: object, kind: str) -> object:
        """Convert one TOML value of the given kind (see ``KINDS``)."""
        is_int = isinstance(raw, int) and not isinstance(raw, bool)
        is_number = is_int or isinstance(raw, float)
        if kind in _ARRAY_KINDS and isinstance(raw, str) and raw.startswith(NPZ_PREFIX):
            return self.npz_array(where, raw[len(NPZ_PREFIX) :], kind)
        if kind in _ARRAY_KINDS and isinstance(raw, list):
            return _inline_array(where, raw, kind)
        if kind == "value" and isinstance(raw, dict):
            return _distribution(where, raw)
        accepted = {
            "number": is_number,
            "value": is_number,
            "int": is_int,
            "delay": is_int,
            "array": False,  # an array is a list or an "npz:" reference, both taken above
            "bool": isinstance(raw, bool),
            "str": isinstance(raw, str),
            "str_list": isinstance(raw, list) and all(isinstance(v, str) for v in raw),
            "table": isinstance(raw, dict),
            "table_list": isinstance(raw, list) and all(isinstance(v, dict) for v in raw),
        }
        if not accepted[kind]:
            raise NetworkError(f"{where}: expected {KINDS[kind]}, got {_toml_type(raw)}")
        return float(raw) if kind in ("number", "value") else raw

    def npz_array(self, where: str, key: str, kind: str) -> np.ndarray:
        """The array ``key`` of the sidecar file."""
        name = self.sidecar.name
        if self._npz is None:
            if not self.sidecar.is_file():
                raise NetworkError(
                    f"{where}: refers to '{NPZ_PREFIX}{key}' but the sidecar file {name} is missing; "
                    f"keep it next to {self.path.name}"
                )
            try:
                self._npz = np.load(self.sidecar, allow_pickle=False)
            except _READ_ERRORS as exc:
                raise NetworkError(f"{where}: the sidecar {name} is not a valid .npz file ({exc})") from None
            if not isinstance(self._npz, np.lib.npyio.NpzFile):
                self._npz = None
                raise NetworkError(f"{where}: the sidecar {name} is a single .npy array, not an .npz archive")
        if key not in self._npz.files:
            raise NetworkError(
                f"{where}: the sidecar {name} has no array {key!r}; "
                f"save the network again or fix the reference (it has {len(self._npz.files)} arrays)"
            )
        self.check_size(where, key)
        try:
            arr = self._npz[key]
        except _READ_ERRORS as exc:
            raise NetworkError(f"{where}: cannot read array {key!r} of {name} ({exc})") from None
        return _numeric(where, arr, kind, f" (array {key!r} of {name})")

    def check_size(self, where: str, key: str) -> None:
        """Read the header of array ``key`` first: its size must match the data and the budget."""
        name = self.sidecar.name
        try:
            info = self._npz.zip.getinfo(f"{key}.npy")
            with self._npz.zip.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version not in _HEADER_READERS:
                    return  # a newer .npy version: np.load checks it
                shape, _, dtype = _HEADER_READERS[version](member)
                header = member.tell()
        except KeyError:
            return  # not a .npy member: np.load reports what it is
        except _READ_ERRORS as exc:
            raise NetworkError(f"{where}: array {key!r} of {name} has a broken header ({exc})") from None
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if nbytes > info.file_size - header:
            raise NetworkError(
                f"{where}: array {key!r} of {name} claims shape {shape} ({count:,} elements, "
                f"{format_bytes(nbytes)}) but holds {format_bytes(max(info.file_size - header, 0))}; "
                "the file is truncated or corrupt, save the network again"
            )
        budget = memory_budget()
        if budget is not None and nbytes > budget:
            raise NetworkError(
                f"{where}: array {key!r} of {name} is {format_bytes(nbytes)} ({count:,} elements), more than "
                f"the memory budget of {format_bytes(budget)}; make the network smaller or raise SNN_MEMORY_BUDGET"
            )


# What reading a damaged zip member or .npy header raises (numpy parses the header with
# ast.literal_eval; zipfile may find an unknown compression, a bad CRC or an encrypted member)
_READ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    SyntaxError,
    TypeError,
    KeyError,
    RuntimeError,
    NotImplementedError,
    MemoryError,
    tokenize.TokenError,
    pickle.UnpicklingError,
    zipfile.BadZipFile,
    zlib.error,
)
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _inline_array(where: str, raw: list, kind: str) -> np.ndarray:
    if any(isinstance(v, bool) for v in raw):  # numpy would read true/false as numbers
        raise NetworkError(f"{where}: expected {KINDS[kind]}, got booleans")
    try:
        arr = np.asarray(raw) if raw else np.zeros(0)
    except ValueError:
        raise NetworkError(f"{where}: expected {KINDS[kind]}, got rows of different lengths") from None
    return _numeric(where, arr, kind, "")


def _numeric(where: str, arr: np.ndarray, kind: str, source: str) -> np.ndarray:
    if arr.dtype.kind not in "iuf":
        raise NetworkError(f"{where}: expected {KINDS[kind]}, got {arr.dtype} values{source}")
    return arr


def _distribution(where: str, raw: dict) -> Uniform | Normal:
    if not _is_distribution(raw):
        keys = ", ".join(raw) or "none"
        raise NetworkError(
            f"{where}: a distribution is {{ uniform = [lo, hi] }} or {{ normal = [mean, std] }}, got keys {keys}"
        )
    ((name, pair),) = raw.items()
    if not (
        isinstance(pair, list)
        and len(pair) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair)
    ):
        raise NetworkError(f"{where}.{name}: expected two numbers [a, b], got {pair!r}")
    with _at(where):
        return DISTRIBUTIONS[name](float(pair[0]), float(pair[1]))


def _toml_type(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array"}
    return names.get(type(value), "a table" if isinstance(value, dict) else type(value).__name__)
