"""Classes named in saved files are resolved only inside Peephole, and only as the expected kind."""

import contextlib
import json

import numpy as np
import pytest

import peephole
from peephole.core.aggregate import Aggregator, Eq1Aggregator
from peephole.core.partition import MaskPartition, Partition
from peephole.core.state import SAVED, class_path, resolve
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
    [
        "os:system",
        "subprocess:Popen",
        "builtins:object",
        "peepholes.engine.partition:MaskPartition",
        "peephole",
        "",
        "peephole.__main__:X",  # importing it would run the CLI
        "peephole.errors:InputError",
        "peephole.core.run:run",
        "peephole.core.partition:Partition",
        "peephole.core.partition:FunctionPartition",  # a Peephole partition that is never saved
        "peephole.core.partition:NoSuchPartition",
        "peephole.no_such_module:Thing",
        "peephole.engine.partition:MaskPartition.__init__",
        ["peephole.core.partition:MaskPartition"],
        None,
    ],
)
def test_only_the_saved_kinds_are_resolved_and_nothing_else_is_imported(path):
    import sys

    before = set(sys.modules)
    with pytest.raises(InputError, match="refusing to load"):
        resolve(path, Partition)
    assert set(sys.modules) == before


@pytest.mark.parametrize(
    ("path", "base"),
    [
        ("peephole.core.aggregate:Eq1Aggregator", Partition),  # a saved kind of the other sort
        ("peephole.modalities.image.windows:SlidingWindows", Aggregator),
    ],
)
def test_saved_kinds_of_the_wrong_sort_are_refused(path, base):
    with pytest.raises(InputError, match=f"is not a {base.__name__}"):
        resolve(path, base)


def test_old_paths_are_read_as_the_classes_new_place():
    from peephole.core.partition import GroupSubset
    from peephole.methods.surrogate import LimeFit

    assert resolve("peephole.engine.partition:GroupSubset", Partition) is GroupSubset
    assert resolve("peephole.engine.aggregate:Eq1Aggregator", Aggregator) is Eq1Aggregator
    assert resolve("peephole.methods.lime:LimeFit", Aggregator) is LimeFit


def _subclasses(base):
    for sub in base.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_kind_a_method_can_save_is_in_the_table():
    """A new partition or aggregator kind cannot be forgotten: after importing every module of the package,
    each partition that can be saved (it defines state()) and each aggregator (its class is saved with every
    perturbation result) is in SAVED, and every table entry resolves to the class of that path."""
    import importlib
    import pkgutil

    for m in pkgutil.walk_packages(peephole.__path__, "peephole."):
        if not m.name.endswith("__main__"):
            with contextlib.suppress(ImportError):  # an optional dependency missing
                importlib.import_module(m.name)
    saveable = [c for c in _subclasses(Partition) if c.__module__.startswith("peephole.") and c.state is not Partition.state]
    saveable += [c for c in _subclasses(Aggregator) if c.__module__.startswith("peephole.")]
    assert len(saveable) >= 17
    missing = [class_path(c) for c in saveable if SAVED.get(class_path(c)) != class_path(c)]
    assert not missing, f"add these to peephole.core.state.KINDS: {missing}"
    for path, target in SAVED.items():
        cls = resolve(path, Aggregator if "aggregate" in target or "Fit" in target or "Aggregator" in target else Partition)
        assert class_path(cls) == target


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
