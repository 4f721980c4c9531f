"""Quantize a float network into the core's integer arithmetic (docs/core-arithmetic.md).

``quantize(network, spec)`` returns a :class:`QuantizedNetwork`: the integer parameters,
weights and STDP constants that the fixed-point simulator, the torch backend and the
hardware core all run, plus a report of the quantization error of every parameter.
``fit_problems(network, spec)`` lists why a network does not fit a core's structure.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .build import BuiltNetwork
from .core_spec import CoreSpec
from .errors import FitError
from .network import Network
from .plasticity import PairSTDP, STDPRule, WindowSTDP


class QuantizationWarning(UserWarning):
    """A value was clipped to the core's range, or fell below its resolution."""


@dataclass(frozen=True, kw_only=True)
class QuantizedRule:
    """Integer constants of one STDP rule (see docs/core-arithmetic.md, phase 5), by keyword."""

    # which rule
    kind: str  # "pair" or "window"
    multiplicative: bool  # pair: the change scales with the distance to the bound
    nearest: bool  # pair: a spike replaces its trace (True for window rules too)
    # traces
    decay_pre: int  # pair: trace decay per step, /2**coef_bits (window: unused, 0)
    decay_post: int
    bump_pre: int  # value a pre spike writes into (nearest, window) or adds to (all) the trace
    bump_post: int
    # weight changes
    amp_plus: int  # /2**stdp_frac_bits weight LSBs (pair) or whole LSBs (window)
    amp_minus: int
    w_min: int  # weight LSBs
    w_max: int


@dataclass(kw_only=True)
class ReportRow:
    """Quantization error of one parameter (largest over neurons/synapses)."""

    name: str
    unit: str
    max_abs_error: float
    max_rel_error: float
    note: str = ""


@dataclass(kw_only=True)
class QuantizedNetwork:
    """A network in the core's integers. Arrays are int64; synapses in CSR order of ``built``."""

    spec: CoreSpec
    built: BuiltNetwork
    weight_shift: int  # weights enter i_e/i_i shifted left by this many bits
    v_init: np.ndarray
    v_inf: np.ndarray  # v_rest + i_bias
    v_thresh: np.ndarray
    v_reset: np.ndarray
    ref_steps: np.ndarray
    k_m: np.ndarray  # 1 - exp(-dt/tau_m)
    a_e: np.ndarray  # exp(-dt/tau_syn_e)
    a_i: np.ndarray
    p_e: np.ndarray  # propagator from i_e to v over one step
    p_i: np.ndarray
    weight: np.ndarray
    rules: list[QuantizedRule]
    report: list[ReportRow] = field(default_factory=list)

    @property
    def weight_lsb(self) -> float:
        """One weight LSB in mV."""
        return 2.0 ** (self.weight_shift - self.spec.frac_bits)

    def to_mV(self, values: np.ndarray) -> np.ndarray:
        """Membrane or current LSBs to mV."""
        return np.asarray(values, np.float64) * 2.0**-self.spec.frac_bits

    def weights_mV(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Weight LSBs to mV (default: the initial weights)."""
        w = self.weight if weights is None else weights
        return np.asarray(w, np.float64) * self.weight_lsb

    def report_text(self) -> str:
        """The quantization report as an aligned text table."""
        lines = [f"{'parameter':<28}{'unit':<6}{'max abs err':>14}{'max rel err':>14}  note"]
        for r in self.report:
            lines.append(f"{r.name:<28}{r.unit:<6}{r.max_abs_error:>14.3g}{r.max_rel_error:>14.3g}  {r.note}")
        return "\n".join(lines)


def propagators(dt: float, tau_m, tau_e, tau_i) -> dict[str, np.ndarray]:
    """Exact one-step propagators of the LIF/exponential-synapse system (float64).

    ``v' = v_inf + (v - v_inf)*(1 - k_m) + p_e*i_e + p_i*i_i``; ``i' = a*i``.
    A synaptic time constant of 0 is a delta synapse: ``a = 0``, ``p = 1`` (the weight
    jumps ``v`` in the step it arrives and leaves no current).
    """
    tau_m = np.asarray(tau_m, np.float64)
    em = np.exp(-dt / tau_m)
    out = {"k_m": -np.expm1(-dt / tau_m)}
    for key, tau in (("e", tau_e), ("i", tau_i)):
        tau = np.asarray(tau, np.float64)
        delta = tau == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            es = np.where(delta, 0.0, np.exp(-dt / np.where(delta, 1.0, tau)))
            p = tau / (tau - tau_m) * (es - em)
        out[f"a_{key}"] = es
        # equal time constants: the limit dt/tau * exp(-dt/tau)
        same = np.isclose(tau, tau_m, rtol=1e-9, atol=0.0)
        out[f"p_{key}"] = np.where(delta, 1.0, np.where(same, dt / tau_m * em, p))
    return out


def quantize(
    network: Network | BuiltNetwork,
    spec: CoreSpec | None = None,
    *,
    clip: bool = False,
    weight_shift: int | None = None,
    require_fit: bool = True,
) -> QuantizedNetwork:
    """Map a float network onto ``spec``'s integers.

    A value outside its width is refused with :class:`FitError`, or clipped with a
    :class:`QuantizationWarning` when ``clip``. ``require_fit`` also refuses networks whose
    structure does not fit the core (see :func:`fit_problems`); the fixed-point simulator
    passes ``False`` to run larger networks in the core's arithmetic.
    """
    spec = spec or CoreSpec()
    built = network if isinstance(network, BuiltNetwork) else network.build()
    if require_fit:
        problems = fit_problems(built, spec)
        if problems:
            raise FitError(f"network does not fit the core: {problems[0]}")
    q = Quantizer(spec, clip)
    p = built.params
    dt = built.dt
    scale = 2.0**spec.frac_bits
    v_lo, v_hi = spec.v_range
    values = {
        "v_init": p["v_init"],
        "v_inf": p["v_rest"] + p["i_bias"],
        "v_thresh": p["v_thresh"],
        "v_reset": p["v_reset"],
    }
    ints = {
        k: q.fixed(k, "mV", v, scale=scale, lo=v_lo, hi=v_hi, width=f"{spec.v_bits}-bit v")
        for k, v in values.items()
    }
    ref_lo, ref_hi = 0, (1 << spec.refrac_bits) - 1
    ints["ref_steps"] = q.fixed(
        "t_ref",
        "ms",
        p["t_ref"],
        scale=1.0 / dt,
        lo=ref_lo,
        hi=ref_hi,
        width=f"{spec.refrac_bits}-bit counter",
    )
    coef_scale = float(1 << spec.coef_bits)
    delta = {"p_e": p["tau_syn_e"] == 0, "p_i": p["tau_syn_i"] == 0}  # delta synapses: p = 1.0
    for name, value in propagators(dt, p["tau_m"], p["tau_syn_e"], p["tau_syn_i"]).items():
        d = delta.get(name)
        if d is not None and d.any():  # p = 2^C exactly, one bit wider than coef_bits
            ints[name] = np.full(value.shape, 1 << spec.coef_bits, np.int64)
            if not d.all():
                ints[name][~d] = q.coefficient(name, value[~d], coef_scale)
        else:
            ints[name] = q.coefficient(name, value, coef_scale)
    shift = _weight_shift(built, spec) if weight_shift is None else weight_shift
    if not 0 <= shift <= spec.max_weight_shift:
        raise FitError(
            f"weights need a shift of {shift} bits into the current, beyond the {spec.max_weight_shift} that "
            f"i_bits={spec.i_bits} and weight_bits={spec.weight_bits} allow; scale the weights down"
        )
    w_lsb = 2.0 ** (shift - spec.frac_bits)
    w_lo, w_hi = spec.weight_range
    weight = q.fixed(
        "weight",
        "mV",
        built.syn_weight,
        scale=1.0 / w_lsb,
        lo=w_lo,
        hi=w_hi,
        width=f"{spec.weight_bits}-bit weight",
    )
    rules = [q.rule(i, rule, dt, w_lsb) for i, rule in enumerate(built.rules)]
    return QuantizedNetwork(
        spec=spec,
        built=built,
        weight_shift=shift,
        weight=weight,
        rules=rules,
        report=q.report,
        **ints,
    )


def _weight_shift(built: BuiltNetwork, spec: CoreSpec) -> int:
    """Smallest shift whose weight LSB still represents the largest weight or bound."""
    extremes = [np.abs(built.syn_weight).max(initial=0.0)]
    for rule in built.rules:
        extremes += [abs(rule.w_min), abs(rule.w_max)]
    largest = max(extremes)
    w_lo, w_hi = spec.weight_range
    for shift in range(spec.max_weight_shift + 1):
        lsb = 2.0 ** (shift - spec.frac_bits)
        if round(largest / lsb) <= w_hi:
            return shift
    return spec.max_weight_shift + 1  # refused by the caller with a clear message


class Quantizer:
    """Rounds float values to the core's integers, checks their ranges, and collects the
    quantization report; what :func:`quantize` uses for every parameter.

    ``Quantizer(spec, clip).fixed(name, unit, values, scale=..., lo=..., hi=..., width=...)``
    rounds ``values * scale`` (half away from zero) into ``[lo, hi]``: a value outside is
    refused with :class:`FitError` naming ``name``, ``unit`` and ``width``, or clipped with
    a :class:`QuantizationWarning` when ``clip``. ``report`` lists one row per call.
    """

    def __init__(self, spec: CoreSpec, clip: bool) -> None:
        self.spec = spec
        self.clip = clip
        self.report: list[ReportRow] = []

    def fixed(
        self, name: str, unit: str, values, *, scale: float, lo: int, hi: int, width: str, note: str = ""
    ) -> np.ndarray:
        """Round ``values*scale`` to integers in ``[lo, hi]`` (round half away from zero)."""
        values = np.asarray(values, np.float64)
        ints = _round(values * scale)
        if ints.size and (ints.min() < lo or ints.max() > hi):
            bad = values[(ints < lo) | (ints > hi)][0]
            msg = (
                f"{name} = {bad:g} {unit} does not fit the core's {width} "
                f"(range {lo / scale:g} .. {hi / scale:g} {unit})"
            )
            if not self.clip:
                raise FitError(msg + "; change the value or quantize with clip=True")
            warnings.warn(msg + "; clipped", QuantizationWarning, stacklevel=3)
            ints = np.clip(ints, lo, hi)
        self._row(name, unit, values, ints / scale, note)
        return ints

    def coefficient(self, name: str, value: np.ndarray, scale: float) -> np.ndarray:
        """A propagator coefficient in ``(0, 1)`` with ``coef_bits`` fraction bits."""
        ints = _round(value * scale)
        hi = int(scale) - 1
        if ints.size and ints.max() > hi:
            raise FitError(
                f"coefficient {name} rounds to 1.0 with coef_bits={self.spec.coef_bits} "
                "(a time constant is too long, or tau_m too short, for dt); increase coef_bits or change dt"
            )
        if ints.size and ints.min() < 1 and name in ("k_m", "p_e", "p_i"):
            raise FitError(
                f"coefficient {name} rounds to 0 with coef_bits={self.spec.coef_bits}: "
                "the time constants are too long for dt; increase coef_bits or dt"
            )
        self._row(name, "", value, ints / scale)
        return ints

    def rule(self, index: int, rule: STDPRule, dt: float, w_lsb: float) -> QuantizedRule:
        """Integer constants of one STDP rule."""
        spec = self.spec
        name = f"stdp[{index}]"
        w_lo, w_hi = spec.weight_range
        bounds = [
            int(v[0])
            for v in (
                self.fixed(
                    f"{name}.w_min", "mV", [rule.w_min], scale=1 / w_lsb, lo=w_lo, hi=w_hi, width="weight"
                ),
                self.fixed(
                    f"{name}.w_max", "mV", [rule.w_max], scale=1 / w_lsb, lo=w_lo, hi=w_hi, width="weight"
                ),
            )
        ]
        amp_hi = (1 << spec.stdp_amp_bits) - 1
        one = 1 << spec.trace_frac_bits
        if isinstance(rule, WindowSTDP):
            amps = [
                int(
                    self.fixed(
                        f"{name}.{k}",
                        "mV",
                        [getattr(rule, k)],
                        scale=1 / w_lsb,
                        lo=0,
                        hi=amp_hi,
                        width="amplitude",
                    )[0]
                )
                for k in ("dw_plus", "dw_minus")
            ]
            for k in ("window_pre", "window_post"):
                if getattr(rule, k) + 1 > spec.trace_max:
                    raise FitError(
                        f"{name}.{k} = {getattr(rule, k)} steps needs a trace above {spec.trace_max} "
                        f"(trace_bits={spec.trace_bits}); shorten the window or widen the traces"
                    )
            return QuantizedRule(
                kind="window",
                multiplicative=False,
                nearest=True,
                decay_pre=0,
                decay_post=0,
                bump_pre=rule.window_pre + 1,
                bump_post=rule.window_post + 1,
                amp_plus=amps[0],
                amp_minus=amps[1],
                w_min=bounds[0],
                w_max=bounds[1],
            )
        assert isinstance(rule, PairSTDP)
        multiplicative = rule.mode == "multiplicative"
        # multiplicative amplitudes are per LSB of distance to the bound: a/(w_max - w_min)
        unit_scale = (1.0 / (rule.w_max - rule.w_min)) if multiplicative else (1.0 / w_lsb)
        amp_scale = unit_scale * (1 << spec.stdp_frac_bits)
        amps = []
        for k in ("a_plus", "a_minus"):
            value = getattr(rule, k)
            amp = int(
                self.fixed(
                    f"{name}.{k}",
                    "mV",
                    [value],
                    scale=amp_scale,
                    lo=0,
                    hi=amp_hi,
                    width=f"{spec.stdp_amp_bits}-bit amplitude",
                )[0]
            )
            if value > 0 and amp == 0:
                warnings.warn(
                    f"{name}.{k} = {value:g} mV is below the STDP resolution and quantizes to 0; "
                    "increase stdp_frac_bits or the amplitude",
                    QuantizationWarning,
                    stacklevel=2,
                )
            amps.append(amp)
        decays = [
            int(
                self.coefficient(
                    f"{name}.decay_{side}", np.array([math.exp(-dt / tau)]), float(1 << spec.coef_bits)
                )[0]
            )
            for side, tau in (("pre", rule.tau_plus), ("post", rule.tau_minus))
        ]
        return QuantizedRule(
            kind="pair",
            multiplicative=multiplicative,
            nearest=rule.pairing == "nearest",
            decay_pre=decays[0],
            decay_post=decays[1],
            bump_pre=one,
            bump_post=one,
            amp_plus=amps[0],
            amp_minus=amps[1],
            w_min=bounds[0],
            w_max=bounds[1],
        )

    def _row(self, name, unit, exact, approx, note="") -> None:
        exact = np.asarray(exact, np.float64)
        err = np.abs(np.asarray(approx, np.float64) - exact)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(exact != 0, err / np.abs(exact), 0.0)
        self.report.append(
            ReportRow(
                name=name,
                unit=unit,
                max_abs_error=float(err.max(initial=0.0)),
                max_rel_error=float(rel.max(initial=0.0)),
                note=note,
            )
        )


def _round(x: np.ndarray) -> np.ndarray:
    """Round half away from zero (numpy's rint rounds half to even); beyond +-2**62 (far
    outside any register, so it saturates the same) the value is clipped: no int64 wrap."""
    x = np.clip(np.asarray(x, np.float64), -(2.0**62), 2.0**62)
    return (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.int64)


def fit_problems(network: Network | BuiltNetwork, spec: CoreSpec | None = None) -> list[str]:
    """Why the network's structure does not fit a core of ``spec`` (empty list: it fits).

    The core has a feed-forward matrix (``max_inputs`` sources x ``max_neurons``) and an
    all-to-all recurrent matrix (``max_neurons`` x ``max_neurons``): one weight per pair,
    delays up to ``max_delay``, and per matrix at most one STDP rule, enabled by a row
    (presynaptic) and a column (postsynaptic) mask.
    """
    spec = spec or CoreSpec()
    built = network if isinstance(network, BuiltNetwork) else network.build()
    problems = []
    if built.n_sources > spec.max_inputs:
        problems.append(f"{built.n_sources} spike sources exceed the core's {spec.max_inputs} inputs")
    if built.n_neurons > spec.max_neurons:
        problems.append(f"{built.n_neurons} LIF neurons exceed the core's {spec.max_neurons} neurons")
    if built.max_delay > spec.max_delay:
        problems.append(
            f"a synaptic delay of {built.max_delay} steps exceeds the core's maximum of {spec.max_delay}"
        )
    if built.rules and not spec.stdp:
        problems.append("the network uses STDP but the core has no learning engine (stdp=False)")
    for name in ("tau_syn_e", "tau_syn_i"):
        if built.params[name].size and built.params[name].min() == 0:
            problems.append(
                f"{name} = 0 (delta synapses) needs the propagator p = 2^coef_bits, one bit more than "
                "the core's coefficient registers hold; the simulators' fixed mode runs it"
            )
            break
    n = built.n_neurons
    pre = np.repeat(np.arange(built.syn_ptr.size - 1), np.diff(built.syn_ptr))
    for matrix, mask in (("recurrent", pre < n), ("feed-forward", pre >= n)):
        key = pre[mask] * max(n, 1) + built.syn_post[mask]
        if np.unique(key).size != key.size:
            problems.append(
                f"two projections connect the same pair in the {matrix} matrix; the core holds one weight per pair"
            )
        rule_ids = np.unique(built.syn_rule[mask])
        rule_ids = rule_ids[rule_ids >= 0]
        if rule_ids.size > 1:
            problems.append(
                f"the {matrix} matrix has {rule_ids.size} STDP rules; the core has one per matrix"
            )
        plastic = mask & (built.syn_rule >= 0)
        if plastic.any():
            rows, cols = np.unique(pre[plastic]), np.unique(built.syn_post[plastic])
            static = mask & (built.syn_rule < 0)
            covered = np.isin(pre[static], rows) & np.isin(built.syn_post[static], cols)
            if covered.any():
                problems.append(
                    f"static and plastic synapses in the {matrix} matrix share plastic rows and columns; "
                    "the core enables STDP per row and per column"
                )
            elif int(plastic.sum()) != rows.size * cols.size:
                # a missing synapse is a zero weight in the core, and STDP would grow it
                problems.append(
                    f"the plastic synapses of the {matrix} matrix do not fill their rows x columns; "
                    "the core enables STDP per row and per column, so make plastic projections all-to-all"
                )
    return problems
