"""Connectivity rules: which (pre, post) pairs a projection connects.

Each rule turns population sizes and a random generator into COO index arrays
``(pre, post)``. Rules with randomness draw only from the generator they are given, so
the same seed gives the same synapses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .errors import NetworkError


class Connectivity:
    """Base class of connectivity rules.

    ``sorted_pairs``: the rule lists its pairs sorted by (pre, post) (the build then
    places them without sorting; a rule may also offer ``chunks``, see FixedProbability).
    """

    rule: ClassVar[str] = ""
    sorted_pairs: ClassVar[bool] = False

    def pairs(
        self, n_pre: int, n_post: int, same: bool, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(pre, post)`` int64 arrays. ``same``: pre and post are one population."""
        raise NotImplementedError

    def check(self, where: str, n_pre: int, n_post: int) -> None:
        """Validate against the population sizes (raise :class:`NetworkError`)."""

    def params(self) -> dict:
        """Parameters for the file format (without the rule name)."""
        return {}


@dataclass(frozen=True)
class AllToAll(Connectivity):
    """Every pre connects to every post (a dense matrix; weights may be ``(n_pre, n_post)``)."""

    allow_self: bool = True
    rule: ClassVar[str] = "all_to_all"
    sorted_pairs: ClassVar[bool] = True

    def pairs(self, n_pre, n_post, same, rng):
        """See :meth:`Connectivity.pairs`."""
        pre = np.repeat(np.arange(n_pre, dtype=np.int64), n_post)
        post = np.tile(np.arange(n_post, dtype=np.int64), n_pre)
        return _drop_self(pre, post, same and not self.allow_self)

    def params(self) -> dict:
        """See :meth:`Connectivity.params`."""
        return {"allow_self": self.allow_self}


@dataclass(frozen=True)
class OneToOne(Connectivity):
    """Pre ``i`` connects to post ``i``; both populations have the same size."""

    rule: ClassVar[str] = "one_to_one"
    sorted_pairs: ClassVar[bool] = True

    def check(self, where, n_pre, n_post):
        """See :meth:`Connectivity.check`."""
        if n_pre != n_post:
            raise NetworkError(
                f"{where}: one_to_one needs populations of equal size, got {n_pre} and {n_post}"
            )

    def pairs(self, n_pre, n_post, same, rng):
        """See :meth:`Connectivity.pairs`."""
        idx = np.arange(n_pre, dtype=np.int64)
        return idx, idx.copy()


@dataclass(frozen=True)
class FixedProbability(Connectivity):
    """Each pair is connected independently with probability ``p``."""

    p: float
    allow_self: bool = True
    rule: ClassVar[str] = "fixed_probability"
    sorted_pairs: ClassVar[bool] = True

    def check(self, where, n_pre, n_post):
        """See :meth:`Connectivity.check`."""
        if isinstance(self.p, bool) or not isinstance(self.p, (int, float)) or not 0.0 <= self.p <= 1.0:
            raise NetworkError(f"{where}: fixed_probability p must be in [0, 1], got {self.p!r}")

    def pairs(self, n_pre, n_post, same, rng):
        """See :meth:`Connectivity.pairs`."""
        parts = list(self.chunks(n_pre, n_post, same, rng, None))
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate([c[0] for c in parts]), np.concatenate([c[1] for c in parts])

    def chunks(self, n_pre, n_post, same, rng, size):
        """:meth:`pairs` in pieces of at most ``size`` pairs (None: unlimited), in order.

        The same pairs and the same draws from ``rng`` as one call of :meth:`pairs` (each
        gap takes its own draws, in order), so a build can hold one piece at a time.
        """
        total = n_pre * n_post
        if self.p == 0.0 or total == 0:
            return
        if self.p == 1.0:
            yield AllToAll(self.allow_self).pairs(n_pre, n_post, same, rng)
            return
        # Bernoulli(p) over the flattened matrix by geometric skips: cost follows the
        # number of synapses, not n_pre * n_post. Gaps come in blocks of ``expected``
        # (drawn in pieces of ``size``) until a block passes the end.
        pos = -1
        expected = int(total * self.p * 1.1) + 64
        step = expected if size is None else max(int(size), 1)
        done = False
        while not done:
            for lo in range(0, expected, step):
                # a tiny p draws gaps up to the int64 maximum: clipped to total + 1 (beyond the end
                # either way), no sum overflows before the first position past the end
                gaps = np.minimum(rng.geometric(self.p, size=min(step, expected - lo)), total + 1)
                if done:  # the rest of the block: drawn, as a draw of the whole block would
                    continue
                idx = pos + np.cumsum(gaps)
                past = idx >= total
                if past.any():
                    idx = idx[: int(np.argmax(past))]
                    done = True
                else:
                    pos = int(idx[-1])
                if idx.size:
                    yield _drop_self(idx // n_post, idx % n_post, same and not self.allow_self)

    def params(self) -> dict:
        """See :meth:`Connectivity.params`."""
        return {"p": float(self.p), "allow_self": self.allow_self}


@dataclass(frozen=True)
class FixedInDegree(Connectivity):
    """Each post receives exactly ``k`` distinct pres, chosen at random."""

    k: int
    allow_self: bool = True
    rule: ClassVar[str] = "fixed_indegree"

    def check(self, where, n_pre, n_post):
        """See :meth:`Connectivity.check`."""
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 0:
            raise NetworkError(f"{where}: fixed_indegree k must be an integer >= 0, got {self.k!r}")
        if self.k > n_pre:
            raise NetworkError(
                f"{where}: fixed_indegree k={self.k} exceeds the {n_pre} neurons of the pre population"
            )

    def pairs(self, n_pre, n_post, same, rng):
        """See :meth:`Connectivity.pairs`."""
        k = int(self.k)
        exclude_self = same and not self.allow_self
        if exclude_self and k > n_pre - 1:
            raise NetworkError(
                f"fixed_indegree k={k} needs {k + 1} neurons when self-connections are excluded"
            )
        pool = n_pre - 1 if exclude_self else n_pre
        pre = np.empty((n_post, k), np.int64)
        for j in range(n_post):
            chosen = rng.choice(pool, size=k, replace=False)
            if exclude_self:
                chosen[chosen >= j] += 1  # skip j itself
            pre[j] = np.sort(chosen)
        post = np.repeat(np.arange(n_post, dtype=np.int64), k)
        return pre.ravel(), post

    def params(self) -> dict:
        """See :meth:`Connectivity.params`."""
        return {"k": int(self.k), "allow_self": self.allow_self}


@dataclass(frozen=True)
class Sparse(Connectivity):
    """Explicit synapse list in COO form: ``pre[s] -> post[s]``."""

    pre: np.ndarray
    post: np.ndarray
    rule: ClassVar[str] = "sparse"

    def __post_init__(self) -> None:
        for attr in ("pre", "post"):
            arr = np.asarray(getattr(self, attr))
            if arr.size and not np.issubdtype(arr.dtype, np.integer):
                raise NetworkError(f"sparse connectivity: {attr} must be integers, got {arr.dtype}")
            object.__setattr__(self, attr, arr.astype(np.int64).ravel())

    @classmethod
    def from_csr(cls, indptr: np.ndarray, indices: np.ndarray) -> Sparse:
        """Build from CSR arrays (row = pre, ``indices`` = post)."""
        indptr = np.asarray(indptr, np.int64)
        pre = np.repeat(np.arange(indptr.size - 1, dtype=np.int64), np.diff(indptr))
        return cls(pre, np.asarray(indices, np.int64))

    def check(self, where, n_pre, n_post):
        """See :meth:`Connectivity.check`."""
        if self.pre.shape != self.post.shape:
            raise NetworkError(
                f"{where}: shape mismatch, sparse pre has {self.pre.size} entries, post {self.post.size}"
            )
        for arr, n, side in ((self.pre, n_pre, "pre"), (self.post, n_post, "post")):
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                bad = arr[(arr < 0) | (arr >= n)][0]
                raise NetworkError(f"{where}: {side} index {bad} out of range [0, {n})")
        if self.pre.size:
            key = self.pre * n_post + self.post
            if np.unique(key).size != key.size:
                raise NetworkError(f"{where}: duplicate (pre, post) pairs in the sparse synapse list")

    def pairs(self, n_pre, n_post, same, rng):
        """See :meth:`Connectivity.pairs`."""
        return self.pre.copy(), self.post.copy()

    def params(self) -> dict:
        """See :meth:`Connectivity.params`."""
        return {"pre": self.pre, "post": self.post}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Sparse)
            and np.array_equal(self.pre, other.pre)
            and np.array_equal(self.post, other.post)
        )

    __hash__ = None  # type: ignore[assignment]


RULES: dict[str, type[Connectivity]] = {
    cls.rule: cls for cls in (AllToAll, OneToOne, FixedProbability, FixedInDegree, Sparse)
}


def _drop_self(pre: np.ndarray, post: np.ndarray, drop: bool) -> tuple[np.ndarray, np.ndarray]:
    if not drop:
        return pre, post
    keep = pre != post
    return pre[keep], post[keep]
