"""Loading is data only: every damaged or hostile ``.npz`` is one :class:`InputError` naming the file — fast, and
without allocating what the file declares (sizes are checked before anything is read or built)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import RegionModel, textured_image

import peephole
from peephole.errors import InputError

S = 32


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    e = peephole.explain(
        RegionModel((slice(8, 20), slice(10, 24))), textured_image(S, S), "pami", partition="window", radius=6, stride=6
    )
    return e.save(tmp_path_factory.mktemp("good") / "e.npz")


def contents(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(str(arrays.pop("__meta__"))), arrays


def write(path: Path, meta: object, arrays: dict[str, np.ndarray]) -> Path:
    with open(path, "wb") as f:
        np.savez_compressed(f, __meta__=np.array(meta if isinstance(meta, str) else json.dumps(meta)), **arrays)
    return path


def refused(path: Path, match: str | None = None) -> InputError:
    with pytest.raises(InputError, match=match) as info:
        peephole.load(path)
    assert str(path) in str(info.value)
    return info.value


def test_the_intact_file_loads(saved):
    assert peephole.load(saved).partition.n_parts > 1


@pytest.mark.parametrize("keep", [0, 1, 22, 100, 0.5, -1])
def test_a_truncated_file(saved, tmp_path, keep):
    data = saved.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else (keep if keep >= 0 else len(data) + keep)
    (tmp_path / "cut.npz").write_bytes(data[:n])
    refused(tmp_path / "cut.npz")


def test_not_a_zip(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all" * 10)
    refused(tmp_path / "junk.npz", "not a saved explanation")


def test_bit_flips_are_an_input_error_or_harmless(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    rng = np.random.default_rng(0)
    errors = 0
    for pos in rng.choice(len(data), 150, replace=False):
        flipped = bytearray(data)
        flipped[pos] ^= 1 << int(rng.integers(8))
        (tmp_path / "flip.npz").write_bytes(flipped)
        try:
            peephole.load(tmp_path / "flip.npz")  # a flip in a timestamp or padding is harmless
        except InputError as exc:
            assert str(tmp_path / "flip.npz") in str(exc)
            errors += 1
    assert errors > 100  # most flips hit compressed data (bad CRC) or headers


def test_zeroed_bytes(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 64] = bytes(64)
    (tmp_path / "zeroed.npz").write_bytes(data)
    refused(tmp_path / "zeroed.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    refused(tmp_path / "empty.npz")


def test_missing_entries(saved, tmp_path):
    meta, arrays = contents(saved)
    refused(write(tmp_path / "a.npz", meta, {k: v for k, v in arrays.items() if k != "maps"}), "'maps' is missing")
    refused(write(tmp_path / "b.npz", {k: v for k, v in meta.items() if k != "targets"}, arrays), "no 'targets'")
    refused(write(tmp_path / "c.npz", meta, {k: v for k, v in arrays.items() if k != "probabilities"}), "'probabilities'")
    with open(tmp_path / "d.npz", "wb") as f:
        np.savez(f, **arrays)
    refused(tmp_path / "d.npz", "not a saved Peephole explanation")


def test_bad_json(saved, tmp_path):
    _, arrays = contents(saved)
    refused(write(tmp_path / "a.npz", '{"format": "peephole.explanation", ', arrays), "not JSON")
    refused(write(tmp_path / "b.npz", "[" * 100_000 + "]" * 100_000, arrays))
    refused(write(tmp_path / "c.npz", "[1, 2]", arrays), "not a saved Peephole explanation")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("targets", "1"),
        ("targets", [1.5]),
        ("targets", [True]),
        ("targets", [7]),  # no such class
        ("class_names", [1, 2]),
        ("n_queries", "many"),
        ("version", "1"),
        ("timings", {"total": "soon"}),
        ("extras", [3]),
        ("input", "pickle"),
        ("aggregator", {"class": "peephole.core.aggregate:Eq1Aggregator", "params": {"shell": "rm"}}),
        ("aggregator", {"class": "peephole.__main__:main", "params": {}}),
        ("aggregator", "Eq1Aggregator"),
        ("partition", {"class": "peephole.modalities.image.windows:SlidingWindows", "params": [], "arrays": []}),
    ],
)
def test_wrong_types_in_the_metadata(saved, tmp_path, key, value):
    meta, arrays = contents(saved)
    refused(write(tmp_path / "m.npz", {**meta, key: value}, arrays))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("maps", np.array(["a", "b"])),  # strings
        ("maps", np.zeros((3, S, S), np.float32)),  # 3 maps for 1 target
        ("maps", np.float32(1.0)),
        ("probabilities", np.zeros((2, 2))),
        ("scores", np.zeros(5)),
        ("first_run_maps", np.zeros((1, 4, 4), np.float32)),
        ("partition/nothing", np.zeros(1)),  # an array the metadata does not name is ignored: the file loads
    ],
)
def test_arrays_of_the_wrong_dtype_or_shape(saved, tmp_path, key, value):
    meta, arrays = contents(saved)
    path = write(tmp_path / "a.npz", meta, {**arrays, key: value})
    if key == "partition/nothing":
        assert peephole.load(path).maps.shape == arrays["maps"].shape
    else:
        refused(path)


def test_a_member_declaring_more_than_it_holds(saved, tmp_path):
    """A ``.npy`` header may declare any shape: it is checked against the member's size before allocation."""
    meta, arrays = contents(saved)
    path = write(tmp_path / "a.npz", meta, arrays)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("huge.npy", header.getvalue() + bytes(64))
    refused(path, "declares 8000000000000 bytes")


def windows_9000(saved: Path, path: Path) -> Path:
    meta, arrays = contents(saved)
    meta["partition"]["params"].update(height=9000, width=9000, stride=1)
    return write(path, meta, arrays)


def main_class(saved: Path, path: Path) -> Path:
    meta, arrays = contents(saved)
    meta["partition"]["class"] = "peephole.__main__:X"
    return write(path, meta, arrays)


def test_a_declared_9000x9000_window_partition_is_refused_before_it_is_built(saved, tmp_path):
    refused(windows_9000(saved, tmp_path / "w.npz"), "more than Peephole loads")


def test_a_class_path_naming_peephole_main_runs_nothing(saved, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["peephole", "--help"])  # what the CLI would act on
    modules = set(sys.modules)
    refused(main_class(saved, tmp_path / "m.npz"), "refusing to load 'peephole.__main__:X'")
    assert "peephole.__main__" not in set(sys.modules) - modules


@pytest.mark.parametrize(
    ("params", "arrays"),
    [
        ({"shape": [9000, 9000], "n_masks": 10**9, "cells": 7, "p": 0.5, "seed": 0}, {}),
        ({"shape": [32, 32], "n_masks": 10, "cells": 10**6, "p": 0.5, "seed": 0}, {}),
        ({"shape": [32], "n_masks": 10, "cells": 7, "p": 0.5, "seed": 0}, {}),
    ],
)
def test_declared_rise_masks_are_checked(saved, tmp_path, params, arrays):
    meta, saved_arrays = contents(saved)
    meta["partition"] = {"class": "peephole.methods.rise:RiseMasks", "params": params, "arrays": sorted(arrays)}
    keep = {k: v for k, v in saved_arrays.items() if not k.startswith("partition/")}
    refused(write(tmp_path / "r.npz", meta, {**keep, **{f"partition/{k}": v for k, v in arrays.items()}}))


def test_nested_partitions_are_checked(saved, tmp_path):
    """GroupSubset naming one group a million times, Coalitions whose on/off vectors do not match their parts."""
    meta, arrays = contents(saved)
    window = meta["partition"]
    meta["partition"] = {
        "class": "peephole.core.partition:GroupSubset",
        "params": {"inner": window["class"], "inner_params": window["params"], "groups": [0] * 10**6},
        "arrays": [],
    }
    refused(write(tmp_path / "g.npz", meta, arrays), "groups must be distinct")
    labels = np.arange(200 * 200, dtype=np.int32).reshape(1, 200, 200)  # 40 000 parts, one on/off column
    meta["partition"] = {
        "class": "peephole.core.partition:Coalitions",
        "params": {"parts": "peephole.core.partition:LabelPartition", "parts_params": {}},
        "arrays": ["coalitions", "labels", "row_groups"],
    }
    parts = {"partition/labels": labels, "partition/coalitions": np.ones((1, 1), bool), "partition/row_groups": np.zeros(1, int)}
    refused(write(tmp_path / "c.npz", meta, {**arrays, **parts}), r"coalitions must be \(n_samples, 40000\)")


def zip_bomb(path: Path, n_floats: int = 600_000_000) -> Path:
    """A ~2.3 MB ``.npz`` whose one array is 2.4 GB of zeros (built in seconds: one deflated chunk, repeated)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (n_floats,)})
    chunk = bytes(1 << 24)
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = raw.compress(chunk) + raw.flush(zlib.Z_FULL_FLUSH)

    class Repeat:  # each zero chunk is the same self-contained (fully flushed) deflate block
        def compress(self, data: bytes) -> bytes:
            return block if data is chunk else raw.compress(data) + raw.flush(zlib.Z_FULL_FLUSH)

        def flush(self) -> bytes:
            return raw.flush()

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, z.open("maps.npy", "w", force_zip64=True) as f:
        f._compressor = Repeat()
        f.write(header.getvalue())
        for _ in range(n_floats * 4 // len(chunk)):
            f.write(chunk)
        f.write(bytes(n_floats * 4 % len(chunk)))
    return path


def test_hostile_files_are_refused_within_a_memory_cap(saved, tmp_path):
    """Under a 1.5 GB address-space cap, the zip bomb, the 9000×9000 windows and ``peephole.__main__`` are each an
    InputError: nothing they declare is allocated (no MemoryError, no kill, no SystemExit)."""
    files = [zip_bomb(tmp_path / "bomb.npz"), windows_9000(saved, tmp_path / "w.npz"), main_class(saved, tmp_path / "m.npz")]
    assert files[0].stat().st_size < 5_000_000
    script = textwrap.dedent(
        """
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
        import peephole
        for path in sys.argv[1:]:
            try:
                peephole.load(path)
                print("loaded")
            except BaseException as exc:
                print(type(exc).__name__, str(exc)[:300].replace(chr(10), " "))
        """
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", script, *map(str, files)], capture_output=True, text=True, timeout=120, env=env)
    lines = out.stdout.splitlines()
    assert out.returncode == 0 and len(lines) == 3, out.stdout + out.stderr
    for line, path in zip(lines, files):
        assert line.startswith("InputError") and str(path) in line, line
    assert "more than Peephole loads" in lines[0] and "more than Peephole loads" in lines[1]


def test_a_bracket_flipped_in_an_array_header_is_an_input_error(saved, tmp_path):
    """'(32, 32, 3)' -> '132, 32, 3)': numpy's header parser raised tokenize.TokenError (a bit flip that
    test_bit_flips_are_an_input_error_or_harmless hit now and then, as the file's timings moved its bytes)."""
    with zipfile.ZipFile(saved) as z:
        members = {m: z.read(m) for m in z.namelist()}
    name = next(m for m, data in members.items() if b"'shape': (32, 32, 3)" in data)
    members[name] = members[name].replace(b"'shape': (32, 32, 3)", b"'shape': 132, 32, 3)")
    with zipfile.ZipFile(tmp_path / "h.npz", "w") as z:
        for m, data in members.items():
            z.writestr(m, data)
    refused(tmp_path / "h.npz", "not a saved explanation")
