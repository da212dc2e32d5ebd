"""Classes named in saved files are resolved only inside Peephole, and only as the expected kind."""

import json

import numpy as np
import pytest

import peephole
from peephole.core.aggregate import Aggregator, Eq1Aggregator
from peephole.core.partition import MaskPartition, Partition
from peephole.core.state import class_path, resolve
from peephole.errors import InputError
from peephole.modalities.image.windows import SlidingWindows


def test_class_path_names_the_defining_module():
    assert class_path(SlidingWindows) == "peephole.modalities.image.windows:SlidingWindows"
    assert class_path(SlidingWindows(9, 9, radius=2, stride=2)) == class_path(SlidingWindows)


@pytest.mark.parametrize("cls", [SlidingWindows, MaskPartition])
def test_a_peephole_partition_resolves_to_its_class(cls):
    assert resolve(class_path(cls), Partition) is cls


@pytest.mark.parametrize(
    "path",
    ["os:system", "subprocess:Popen", "builtins:object", "peepholes.engine.partition:MaskPartition", "peephole", ""],
)
def test_classes_outside_peephole_are_refused(path):
    with pytest.raises(InputError, match="refusing to load"):
        resolve(path, Partition)


@pytest.mark.parametrize(
    ("path", "base"),
    [
        ("peephole.core.aggregate:Eq1Aggregator", Partition),  # a Peephole class of another kind
        ("peephole.modalities.image.windows:SlidingWindows", Aggregator),
        ("peephole.errors:InputError", Partition),
        ("peephole.core.run:run", Aggregator),  # a function, not a class
        ("peephole.core.partition:Partition", Aggregator),
    ],
)
def test_peephole_classes_of_the_wrong_kind_are_refused(path, base):
    with pytest.raises(InputError, match=f"is not a {base.__name__}"):
        resolve(path, base)


def test_missing_peephole_classes_get_an_input_error():
    with pytest.raises(InputError, match="cannot find"):
        resolve("peephole.core.partition:NoSuchPartition", Partition)
    with pytest.raises(InputError, match="cannot find"):
        resolve("peephole.no_such_module:Thing", Partition)
    assert resolve(class_path(Eq1Aggregator), Aggregator) is Eq1Aggregator


def test_a_saved_explanation_naming_a_foreign_class_is_refused(tmp_path):
    def model(b):
        m = np.asarray(b).reshape(len(b), -1).mean(1)
        return np.stack([m, 1 - m], 1)

    e = peephole.explain(
        model, np.full((16, 16, 3), 0.5, np.float32), "pami", partition="window", radius=4, stride=4, output="probs"
    )
    path = e.save(tmp_path / "e.npz")
    assert peephole.load(path).partition.n_parts == e.partition.n_parts
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    meta["partition"]["class"] = "os:system"
    with open(tmp_path / "bad.npz", "wb") as f:
        np.savez_compressed(f, __meta__=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(InputError, match="refusing to load 'os:system'"):
        peephole.load(tmp_path / "bad.npz")
