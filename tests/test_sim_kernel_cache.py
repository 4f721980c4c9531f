"""numba's cached kernels are deleted when any kernel source changes (snn/sim/kernel_cache.py)."""

from __future__ import annotations

from snn.sim import kernel_cache


def _cache_files(folder):
    names = ["kernels_float.run_chunk-173.py311.nbi", "kernels_float.run_chunk-173.py311.1.nbc",
             "kernels_common.propagate_part-164.py311.nbi", "prefetch.prefetch_rows-50.py311.1.nbc"]  # fmt: skip
    for name in names:
        (folder / name).write_bytes(b"old machine code")
    (folder / "other.thing-1.py311.nbi").write_bytes(b"not ours")
    return names


def test_stale_cache_is_deleted_and_stamped(tmp_path):
    names = _cache_files(tmp_path)
    assert kernel_cache.refresh(tmp_path, digest="new sources")
    assert not any((tmp_path / n).exists() for n in names)
    assert (tmp_path / "other.thing-1.py311.nbi").exists()  # another module's cache is left
    assert (tmp_path / kernel_cache.STAMP).read_text() == "new sources"


def test_fresh_cache_is_kept(tmp_path):
    (tmp_path / kernel_cache.STAMP).write_text("same sources")
    names = _cache_files(tmp_path)
    assert not kernel_cache.refresh(tmp_path, digest="same sources")
    assert all((tmp_path / n).exists() for n in names)


def test_digest_covers_every_kernel_source(tmp_path):
    for name in kernel_cache.KERNEL_MODULES:
        (tmp_path / f"{name}.py").write_text(f"# {name}\n")
    before = kernel_cache.sources_digest(tmp_path)
    for name in kernel_cache.KERNEL_MODULES:
        (tmp_path / f"{name}.py").write_text(f"# {name} edited\n")
        after = kernel_cache.sources_digest(tmp_path)
        assert after != before, name
        before = after


def test_every_cached_kernel_module_is_listed():
    from pathlib import Path

    import snn.sim

    folder = Path(snn.sim.__file__).parent
    cached = {p.stem for p in folder.glob("*.py") if "@njit(cache=True" in p.read_text()}
    assert cached == set(kernel_cache.KERNEL_MODULES)
