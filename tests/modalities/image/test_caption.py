"""PAMI for captioning: a tiny captioner trained in-test on synthetic scenes ("red cross left of blue
square"); each object word's map must sit on the object it names, all maps from one set of queries."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from captioner import dataset, train_captioner  # noqa: E402
from scipy.ndimage import binary_dilation  # noqa: E402
from skimage.segmentation import slic  # noqa: E402

from peephole import explain  # noqa: E402
from peephole.errors import InputError, ModelError  # noqa: E402
from peephole.models.caption import CaptionModel  # noqa: E402

OBJECT_WORDS = [(0, 0), (1, 0), (4, 1), (5, 1)]  # (token index, object index): colour and shape of each object


@pytest.fixture(scope="module")
def captioner():
    return train_captioner(seed=0)


@pytest.fixture(scope="module")
def scenes():
    return dataset(8, seed=123)


def slic_maps(image: np.ndarray) -> list[np.ndarray]:
    return [slic(image, n_segments=n, compactness=10, start_label=0, channel_axis=-1) for n in (16, 32, 64)]


def test_captioner_learned_the_task(captioner) -> None:
    held_out = dataset(100, seed=7)
    p = np.concatenate([captioner(s.image[None], s.caption) for s in held_out])
    assert p.shape == (100, 6) and p.mean() > 0.9


def test_each_word_map_sits_on_its_object(captioner, scenes) -> None:
    hits = total = 0
    for s in scenes:
        part = slic_maps(s.image)
        distinct = {(m == lab).tobytes() for m in part for lab in np.unique(m)}
        e = explain(CaptionModel(captioner, " ".join(s.caption)), s.image, "pami", partition=part, masker="black")
        # one set of queries (every distinct part once, plus the unperturbed image) gives all six word maps
        assert e.n_queries == len(distinct) + 1
        assert e.maps.shape == (6, 32, 32) and e.class_names == s.caption and e.targets == list(range(6))
        for t, obj in OBJECT_WORDS:
            m = e.maps[t]
            named, other = s.masks[obj], s.masks[1 - obj]
            assert m[named].mean() > m[other].mean(), (s.caption, s.caption[t])
            peak = np.unravel_index(np.argmax(m), m.shape)
            hits += bool(binary_dilation(named, iterations=2)[peak])
            total += 1
    # measured 77/80 on 20 scenes; the peak of a shape word sometimes falls just outside a triangle
    assert hits >= 0.9 * total, f"{hits}/{total} word maps peak on their object"


def test_window_partition_and_facade(captioner, scenes) -> None:
    s = scenes[0]
    e = explain(
        CaptionModel(captioner, " ".join(s.caption)),
        s.image,
        method="pami",
        partition="window",
        radius=8,
        stride=4,
        masker="black",
    )
    assert e.n_queries == e.partition.n_parts + 1
    for t, obj in OBJECT_WORDS[::2]:  # colour words
        assert e.maps[t][s.masks[obj]].mean() > e.maps[t][s.masks[1 - obj]].mean()


def test_caption_errors(captioner, scenes) -> None:
    img = scenes[0].image
    # the caption is the CaptionModel's: it must be given, and explain takes no caption of its own
    with pytest.raises(TypeError, match="caption"):
        CaptionModel(captioner)
    with pytest.raises(InputError, match=r"unknown option 'caption'"):
        explain(captioner, img, caption="red cross left of blue square", output="probs")
    with pytest.raises(InputError, match="empty"):
        CaptionModel(captioner, "  ")

    def wrong(images: np.ndarray, tokens: list[str]) -> np.ndarray:
        return np.full((len(images), len(tokens) - 1), 0.5)

    with pytest.raises(ModelError, match="expected"):
        explain(CaptionModel(wrong, "red cross left of blue square"), img, partition="window", radius=8, stride=4)
    m = CaptionModel(captioner, ["red", "cross"])
    assert m(img[None]).shape == (1, 2)
    with pytest.raises(InputError, match=r"unknown option 'caption'"):
        explain(m, img, caption="blue square")


def test_training_is_seeded() -> None:
    a, b, c = (train_captioner(n=128, epochs=1, seed=s) for s in (3, 3, 4))
    img = dataset(4, seed=9)
    ta, tb, tc = (m(np.stack([s.image for s in img]), img[0].caption) for m in (a, b, c))
    assert np.array_equal(ta, tb) and not np.allclose(ta, tc)
