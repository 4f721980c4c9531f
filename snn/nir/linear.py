"""NIR's stateless nodes as matrices: each maps a flattened (C-order) input to its output.

``transfer(node, shape, dt)`` returns ``(T, bias, out_shape, delays)``: ``y = x @ T + bias``
for a row vector ``x`` of ``prod(shape)`` elements (``T`` None: the identity; 1-D: a
diagonal); ``delays`` (timesteps per output element) only for ``Delay`` nodes. Convolutions and pooling are expanded into (dense)
matrices with PyTorch's conventions, which both exporters use.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import NetworkError

LINEAR_TYPES = ("Affine", "Linear", "Scale", "Flatten", "Delay", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d")


def _pair(value, ndim: int) -> tuple[int, ...]:
    arr = np.atleast_1d(np.asarray(value)).astype(np.int64).ravel()
    if arr.size == 1:
        arr = np.repeat(arr, ndim)
    if arr.size != ndim:
        raise ValueError(f"expected {ndim} values, got {arr.size}")
    return tuple(int(a) for a in arr)


def _padding(padding, kernel: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """Padding before each spatial axis ('same' pads like PyTorch: the extra one after)."""
    if isinstance(padding, (str, bytes)):
        mode = padding.decode() if isinstance(padding, bytes) else padding
        if mode == "valid":
            return tuple(0 for _ in kernel)
        if mode == "same":
            return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
        raise ValueError(f"padding {mode!r} (expected an int, 'same' or 'valid')")
    return _pair(padding, len(kernel))


def _window_matrix(shape, weight, stride, padding, dilation, groups, same: bool):
    """Matrix of a grouped convolution over ``shape = (C, *spatial)``; ``weight`` (C_out, C_in/g, *k)."""
    c_in, spatial = shape[0], tuple(shape[1:])
    nd = len(spatial)
    c_out, c_per = weight.shape[0], weight.shape[1]
    kernel = tuple(weight.shape[2:])
    if c_per * groups != c_in:
        raise ValueError(
            f"weight takes {c_per} x {groups} groups = {c_per * groups} channels, input has {c_in}"
        )
    stride, dilation = _pair(stride, nd), _pair(dilation, nd)
    pad = _padding(padding, kernel, dilation)
    if same:
        out_sp = spatial
    else:
        out_sp = tuple(
            (spatial[a] + 2 * pad[a] - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1 for a in range(nd)
        )
    if min(out_sp) < 1:
        raise ValueError(f"output size {out_sp} from input {spatial}: the kernel does not fit")
    n_in, n_out = c_in * math.prod(spatial), c_out * math.prod(out_sp)
    t = np.zeros((n_in, n_out))
    out_grid = np.stack(np.meshgrid(*[np.arange(s) for s in out_sp], indexing="ij"), 0).reshape(nd, -1)
    out_flat = np.arange(math.prod(out_sp))
    out_per_group = c_out // groups
    for co in range(c_out):
        g = co // out_per_group
        for cp in range(c_per):
            ci = g * c_per + cp
            for koff in np.ndindex(*kernel):
                w = weight[(co, cp, *koff)]
                if w == 0:
                    continue
                pos = [out_grid[a] * stride[a] - pad[a] + koff[a] * dilation[a] for a in range(nd)]
                ok = np.ones(out_flat.size, bool)
                for a in range(nd):
                    ok &= (pos[a] >= 0) & (pos[a] < spatial[a])
                idx = np.ravel_multi_index([p[ok] for p in pos], spatial)
                np.add.at(t, (ci * math.prod(spatial) + idx, co * math.prod(out_sp) + out_flat[ok]), w)
    return t, (c_out, *out_sp)


def transfer(name: str, node, shape: tuple[int, ...], dt: float):
    """``(T, bias or None, out_shape, delays or None)`` of a stateless node (see module docstring)."""
    kind = type(node).__name__
    n_in = math.prod(shape)
    try:
        if kind in ("Affine", "Linear"):
            w = np.asarray(node.weight, np.float64)
            if w.ndim != 2 or w.shape[1] != n_in:
                raise ValueError(f"weight {w.shape} does not take the {n_in} inputs of shape {shape}")
            bias = np.asarray(node.bias, np.float64).ravel() if kind == "Affine" else None
            return w.T, bias, (w.shape[0],), None
        if kind == "Scale":
            s = np.asarray(node.scale, np.float64).ravel()
            if s.size not in (1, n_in):
                raise ValueError(f"{s.size} scale values for {n_in} inputs")
            return np.broadcast_to(s, (n_in,)).copy(), None, shape, None  # a diagonal
        if kind == "Flatten":
            nd = len(shape)
            start, end = node.start_dim % nd if nd else 0, node.end_dim % nd if nd else 0
            out = (*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])
            return None, None, out, None  # the identity
        if kind == "Delay":
            d = np.broadcast_to(np.asarray(node.delay, np.float64).ravel(), (n_in,))
            steps = np.rint(d / dt)
            if np.any(np.abs(steps * dt - d) > 1e-6 * np.maximum(np.abs(d), dt)) or np.any(steps < 0):
                raise ValueError(f"delays {d.min():g}..{d.max():g} are not whole timesteps of dt = {dt:g}")
            return None, None, shape, steps.astype(np.int64)
        if kind in ("Conv1d", "Conv2d"):
            nd = 1 if kind == "Conv1d" else 2
            w = np.asarray(node.weight, np.float64)
            shape = _spatial_shape(node, shape, nd, w.shape[1] * int(node.groups))
            same = isinstance(node.padding, str) and node.padding == "same"
            t, out = _window_matrix(
                shape, w, node.stride, node.padding, node.dilation, int(node.groups), same
            )
            bias = np.asarray(node.bias, np.float64).ravel()
            return t, np.repeat(bias, math.prod(out[1:])) if bias.size else None, out, None
        if kind in ("SumPool2d", "AvgPool2d"):
            if len(shape) != 3:
                raise ValueError(f"needs a (C, H, W) input, got shape {shape}")
            k = _pair(node.kernel_size, 2)
            value = 1.0 if kind == "SumPool2d" else 1.0 / (k[0] * k[1])
            c = shape[0]
            w = np.zeros((c, 1, *k))
            w[:] = value
            t, out = _window_matrix(shape, w, node.stride, node.padding, 1, c, False)
            return t, None, out, None
    except (ValueError, TypeError) as exc:
        raise NetworkError(f"NIR node {name!r} ({kind}): {exc}") from None
    raise NetworkError(f"NIR node {name!r}: type {kind} is not a stateless node")  # pragma: no cover


def _spatial_shape(node, shape, nd: int, channels: int) -> tuple[int, ...]:
    """The (C, *spatial) input shape of a convolution from the flowing shape or its input_shape."""
    if len(shape) == nd + 1:
        return tuple(shape)
    given = getattr(node, "input_shape", None)
    if given is not None:
        spatial = _pair(given, nd)
        if channels * math.prod(spatial) == math.prod(shape):
            return (channels, *spatial)
    raise ValueError(f"input of shape {shape} is not (C, {'L' if nd == 1 else 'H, W'}); give input_shape")
