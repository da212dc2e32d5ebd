"""Kept segmentations: the same image, setting and seed again reuse the label maps, and every map stays the same."""

import numpy as np
import pytest
from conftest import RegionModel, textured_image

import peephole
from peephole.modalities.image.segment_cache import SEGMENTS, SegmentCache
from peephole.modalities.image.segmenters import SEGMENTERS
from peephole.modalities.image.superpixels import PAPER_SEGMENTATIONS, Segmentation, Superpixels

REGION = (slice(10, 40), slice(20, 60))


@pytest.fixture
def calls(monkeypatch):
    """Every segmenter counts its calls (by algorithm name); the kept maps start and end empty."""
    counted = {}
    for name, fn in list(SEGMENTERS.items()):

        def spy(img, _fn=fn, _name=name, **kw):
            counted[_name] = counted.get(_name, 0) + 1
            return _fn(img, **kw)

        monkeypatch.setitem(SEGMENTERS, name, spy)
    SEGMENTS.clear()
    yield counted
    SEGMENTS.clear()


def explain(img, seed=0, **options):
    return peephole.explain(RegionModel(REGION), img, "pami", partition="superpixels", seed=seed, top_k=2, **options)


def test_a_second_explanation_segments_nothing_and_gives_the_same_maps(calls, monkeypatch):
    img = textured_image(64, 80)
    monkeypatch.setattr(SEGMENTS, "max_bytes", 0)  # nothing kept: the reference
    plain = explain(img)
    assert sum(calls.values()) == 20 and len(SEGMENTS) == 0
    monkeypatch.setattr(SEGMENTS, "max_bytes", 64 * 2**20)
    first, again = explain(img), explain(img)
    assert sum(calls.values()) == 40  # the second explanation segmented nothing
    for e in (first, again):
        np.testing.assert_array_equal(e.maps, plain.maps)
        np.testing.assert_array_equal(e.scores, plain.scores)
        for a, b in zip(e.partition.label_maps, plain.partition.label_maps, strict=True):
            assert a.dtype == b.dtype == np.int64
            np.testing.assert_array_equal(a, b)
    # adaptive PAMI on the same photo reuses them too, and its maps are those of a run that segments afresh
    adaptive = explain(img, max_queries=30)
    assert sum(calls.values()) == 40
    SEGMENTS.clear()
    np.testing.assert_array_equal(adaptive.maps, explain(img, max_queries=30).maps)


def test_another_image_setting_or_seed_is_segmented_afresh(calls):
    img = textured_image(64, 80)
    slic = [s for s in PAPER_SEGMENTATIONS if s.method == "slic"]
    Superpixels.from_image(img, slic[:3], seed=0)
    Superpixels.from_image(img, slic[1:4], seed=0)  # two kept, one new setting
    assert calls == {"slic": 4}
    Superpixels.from_image(img, slic[:1], seed=1)
    changed = img.copy()
    changed[0, 0, 0] += 0.01
    Superpixels.from_image(changed, slic[:1], seed=0)
    Superpixels.from_image(img, [Segmentation("slic", {"n_segments": 10, "compactness": 21})], seed=0)
    assert calls == {"slic": 7}
    Superpixels.from_image(img, slic[:1])  # no seed: OpenCV's generator untouched, nothing reused or kept
    assert calls == {"slic": 8} and len(SEGMENTS) == 7


def test_callables_and_array_parameters_are_never_kept(calls):
    img = textured_image(64, 64)
    n = []

    def halves(im):
        n.append(1)
        return (np.arange(im.shape[1])[None, :] >= im.shape[1] // 2).repeat(im.shape[0], 0).astype(int)

    settings = [Segmentation(halves), Segmentation("watershed", {"markers": np.array(10)})]  # a 0-d array
    for _ in range(2):
        sp = Superpixels.from_image(img, settings, seed=0)
    assert len(n) == 2 and calls == {"watershed": 2} and len(SEGMENTS) == 0
    assert sp.n_groups == 2 and sp.n_parts == 2 + len(np.unique(sp.label_maps[1]))


def test_least_recently_used_maps_go_first_and_kept_maps_cannot_be_changed():
    cache = SegmentCache(max_bytes=2 * 64 * 64)  # two 64×64 maps of uint8 labels
    maps = [np.arange(64 * 64).reshape(64, 64) % (k + 3) for k in range(3)]
    cache.put("a", maps[0])
    cache.put("b", maps[1])
    assert cache.get("a") is not None  # "a" used last: "b" goes when "c" comes
    cache.put("c", maps[2])
    assert cache.get("b") is None and len(cache) == 2
    got = cache.get("a")
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, maps[0])
    got[:] = 99
    np.testing.assert_array_equal(cache.get("a"), maps[0])
    cache.put("big", np.arange(64 * 64).reshape(64, 64) * 100)  # uint32: more than the whole budget, not kept
    assert cache.get("big") is None and len(cache) == 2
    negative = -np.ones((4, 4), np.int64)
    cache.put("neg", negative)
    np.testing.assert_array_equal(cache.get("neg"), negative)
