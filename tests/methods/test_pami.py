"""PAMI on black boxes whose true importance region is known, for both strategies and image shapes."""

import numpy as np
import pytest
from conftest import RegionModel, mass_inside, textured_image

import peephole
from peephole.modalities.image.superpixels import Segmentation

CASES = {
    "square": (112, 112, (slice(20, 50), slice(60, 95))),
    # Wide image, region near the right border: with rows and columns swapped when placing window
    # centres (a defect of the authors' code) these columns would never be kept.
    "wide": (96, 200, (slice(50, 85), slice(150, 195))),
    "tall": (200, 90, (slice(150, 190), slice(10, 45))),
}
# Minimum ratio of mean map value inside the region to outside (after shifting the minimum to 0).
CONTRAST = {"window": 4.0, "superpixels": 1.5}
# How far outside the region the peak may lie: a superpixel that holds the region may reach beyond it.
MARGIN = {"window": 0, "superpixels": 10}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("strategy", ["window", "superpixels"])
def test_map_concentrates_on_the_region(case, strategy):
    h, w, region = CASES[case]
    model = RegionModel(region)
    window = {"radius": 16, "stride": 4} if strategy == "window" else {}  # superpixels take no window options
    e = peephole.explain(model, textured_image(h, w), "pami", partition=strategy, targets=1, **window)
    heat = e.maps[0]
    assert heat.shape == (h, w)
    peak = np.unravel_index(np.argmax(heat), heat.shape)
    m = MARGIN[strategy]
    assert region[0].start - m <= peak[0] < region[0].stop + m, peak
    assert region[1].start - m <= peak[1] < region[1].stop + m, peak
    inside, outside = mass_inside(heat, region)
    assert inside > CONTRAST[strategy] * outside, (inside, outside)


def test_several_targets_cost_no_extra_queries():
    h, w, region = CASES["wide"]
    img = textured_image(h, w)
    both = peephole.explain(RegionModel(region), img, "pami", partition="window", targets=[1, 0], radius=16, stride=8)
    singles = [
        peephole.explain(RegionModel(region), img, "pami", partition="window", targets=t, radius=16, stride=8) for t in (1, 0)
    ]
    np.testing.assert_allclose(both.maps[0], singles[0].maps[0], atol=1e-6)
    np.testing.assert_allclose(both.maps[1], singles[1].maps[0], atol=1e-6)
    n_parts = both.params["n_parts"]
    assert both.n_queries == singles[0].n_queries == n_parts + 1  # parts + the unperturbed image
    # Any other class, afterwards: no query at all.
    np.testing.assert_allclose(singles[0].map_for(0), both.maps[1], atol=1e-6)


def test_window_map_equals_brute_force_eq1():
    """Independent re-implementation: loop over windows, blur outside, average where covered."""
    import cv2

    h, w, region = 40, 56, (slice(5, 20), slice(30, 50))
    img = textured_image(h, w)
    model = RegionModel(region)
    e = peephole.explain(model, img, "pami", partition="window", targets=1, radius=6, stride=5, batch_size=7)
    blur = cv2.GaussianBlur(img, (49, 49), 100, borderType=cv2.BORDER_REFLECT_101)
    num, den = np.zeros((h, w)), np.zeros((h, w))
    yy, xx = np.mgrid[0:h, 0:w]
    for cy in [*range(0, h, 5), h - 1] if (h - 1) % 5 else range(0, h, 5):
        for cx in [*range(0, w, 5), w - 1] if (w - 1) % 5 else range(0, w, 5):
            keep = (yy - cy) ** 2 + (xx - cx) ** 2 <= 36
            xj = np.where(keep[..., None], img, blur)
            z = model(xj[None])[0]
            p1 = np.exp(z[1]) / np.exp(z).sum()
            num += p1 * keep
            den += keep
    np.testing.assert_allclose(e.maps[0], num / den, atol=1e-5)


def test_superpixel_scores_match_captum_feature_ablation():
    """Captum's FeatureAblation with the blurred image as input and the original as baseline
    gives f(blurred) - f(x_j) per superpixel, i.e. PAMI's keep-one scores (an independent oracle)."""
    import torch
    from captum.attr import FeatureAblation

    h, w, region = CASES["square"]
    img = textured_image(h, w)
    model = RegionModel(region)
    labels = Segmentation("slic", {"n_segments": 30, "compactness": 20})(img.astype(np.float64))
    e = peephole.explain(model, img, "pami", partition=labels, targets=1)

    def probs(t):
        z = torch.from_numpy(model(t.numpy()))
        return torch.softmax(z, dim=1)

    blur = peephole.modalities.image.BlurMasker().baseline(img)
    fa = FeatureAblation(probs)
    attr = fa.attribute(
        torch.from_numpy(blur[None]),
        baselines=torch.from_numpy(img[None]),
        target=1,
        feature_mask=torch.from_numpy(labels[None, ..., None]),
    )[0, ..., 0].numpy()
    f_blur = probs(torch.from_numpy(blur[None]))[0, 1].item()
    np.testing.assert_allclose(e.maps[0], f_blur - attr, atol=1e-5)


def test_second_run_exposes_both_maps_and_stays_on_the_region():
    h, w, region = CASES["square"]
    img = textured_image(h, w)
    e = peephole.explain(RegionModel(region), img, "pami", partition="superpixels", targets=1, second_run=True)
    # maps are the second run's; first_run_maps keeps the first run's (the maps of a plain run)
    assert e.first_run_maps is not None
    np.testing.assert_array_equal(e.first_run_maps, peephole.explain(RegionModel(region), img, "pami", targets=1).maps)
    np.testing.assert_allclose(e.map_for(1), e.first_run_maps[0], atol=1e-6)
    assert not np.allclose(e.first_run_maps, e.maps)
    inside, outside = mass_inside(e.maps[0], region)
    assert inside > 1.5 * outside
    assert e.n_queries > e.params["n_parts"] + 1  # the second run made its own queries


def test_same_call_same_map():
    h, w, region = CASES["wide"]
    img = textured_image(h, w)
    a = peephole.explain(RegionModel(region), img, "pami", targets=1, seed=3)
    b = peephole.explain(RegionModel(region), img, "pami", targets=1, seed=3)
    np.testing.assert_array_equal(a.maps, b.maps)


@pytest.mark.parametrize("masker", ["black", "white", "grey", "mean"])
def test_constant_maskers_also_find_the_region(masker):
    h, w, region = CASES["square"]
    e = peephole.explain(
        RegionModel(region), textured_image(h, w), "pami", partition="window", masker=masker, targets=1, radius=16, stride=8
    )
    inside, outside = mass_inside(e.maps[0], region)
    assert inside > 2 * outside


def test_adaptive_budget_is_never_exceeded_and_a_full_budget_is_plain_pami():
    img = textured_image(96, 96, seed=3)
    model = RegionModel((slice(20, 44), slice(50, 80)))
    full = peephole.explain(model, img, "pami", targets=1)
    for budget in (17, 60, 150, full.n_queries - 1):
        e = peephole.explain(model, img, "pami", targets=1, max_queries=budget)
        assert e.n_queries <= budget and len(e.scores) == e.partition.n_parts
    every = peephole.explain(model, img, "pami", targets=1, max_queries=10_000)
    np.testing.assert_allclose(every.maps, full.maps, rtol=1e-5, atol=1e-7)
    assert every.n_queries == full.n_queries
    with pytest.raises(peephole.InputError, match="max_queries must be >= 2"):
        peephole.explain(model, img, "pami", max_queries=1)
    with pytest.raises(peephole.InputError, match="too small for any group"):
        peephole.explain(model, img, "pami", partition="window", radius=8, stride=8, max_queries=5)  # one group of 144 parts


def test_adaptive_finds_a_small_region_with_a_quarter_of_the_queries(tmp_path):
    img = textured_image(128, 128, seed=5)
    region = (slice(80, 104), slice(16, 40))
    model = RegionModel(region)
    full = peephole.explain(model, img, "pami", targets=1)
    quarter = peephole.explain(model, img, "pami", targets=1, max_queries=full.n_queries // 4)
    assert quarter.n_queries <= full.n_queries // 4
    inside, outside = mass_inside(quarter.maps[0], region)
    assert inside > 2 * outside
    peak = np.unravel_index(np.argmax(quarter.maps[0]), quarter.maps[0].shape)
    near = 8  # superpixels straddle the region's border
    assert region[0].start - near <= peak[0] < region[0].stop + near and region[1].start - near <= peak[1] < region[1].stop + near
    # the used segmentations mix the algorithms (interleaved), and the result saves and rebuilds other classes
    names = [quarter.partition.inner.names[g] for g in quarter.partition.group_ids]
    assert len({n.split("(")[0] for n in names}) >= 3
    # the refined parts were chosen for class 1; another class's map is Eq. 1 over the same parts: with
    # two classes p0 = 1 − p1 on every query (f(∅) included), so class 0's map is 1 − class 1's
    again = peephole.load(quarter.save(tmp_path / "adaptive.npz"))
    np.testing.assert_allclose(again.map_for(1), quarter.maps[0], rtol=1e-6)
    np.testing.assert_allclose(again.map_for(0), 1 - quarter.maps[0], rtol=1e-5, atol=1e-6)


def test_tolerance_stops_once_the_averaged_map_is_stable():
    img = textured_image(64, 64, seed=1)

    def flat(batch):
        return np.tile([0.3, 0.7], (len(batch), 1))

    e = peephole.explain(flat, img, "pami", output="probs", tolerance=1e-6)
    assert e.partition.n_groups == 2  # the second segmentation changed nothing: stop
    moving = peephole.explain(RegionModel((slice(10, 30), slice(10, 30))), img, "pami", targets=1, tolerance=1e-9)
    assert moving.partition.n_groups == 20


def test_merging_near_repeats_reuses_the_outputs_of_earlier_parts_and_saves_their_queries(tmp_path):
    """Two segmentations of a 20×24 image: part (1, 0) covers part (0, 0) but one column (IoU 0.95)."""
    from peephole.core.partition import LabelPartition, iou_matrix, near_repeats
    from peephole.core.run import aggregate

    a = np.zeros((20, 24), np.int64)
    a[:, 12:] = 1
    a[10:, 12:] = 2
    b = np.zeros((20, 24), np.int64)
    b[:, 11:] = 1  # its part 0 is a's part 0 less one column: IoU 220/240
    b[:, 20:] = 2
    img = textured_image(20, 24, seed=2)
    model = RegionModel((slice(0, 10), slice(6, 16)))  # column 11 is in the region: the merge changes the map
    plain = peephole.explain(model, img, "pami", targets=[0, 1], partition=[a, b])
    merged = peephole.explain(model, img, "pami", targets=[0, 1], partition=[a, b], merge_iou=0.9)
    reuse = near_repeats(LabelPartition([a, b]), 0.9)
    assert reuse.tolist() == [0, 1, 2, 0, 4, 5]  # only b's part 0 is a near-repeat (of a's part 0)
    assert merged.n_queries == plain.n_queries - 1
    # Eq. 1 over all six parts, each with its own mask, b's part 0 with a's part 0's output
    expected = aggregate(plain.partition, plain.scores[reuse][:, [0, 1]])
    np.testing.assert_allclose(merged.maps, expected, rtol=1e-6, atol=1e-7)
    assert not np.allclose(merged.maps, plain.maps)
    np.testing.assert_allclose(peephole.load(merged.save(tmp_path / "m.npz")).map_for(1), merged.maps[1], rtol=1e-6)
    # merge_iou=1 merges exact repeats only: what the engine already queries once
    exact = peephole.explain(model, img, "pami", targets=1, partition=[a, b], merge_iou=1.0)
    np.testing.assert_allclose(exact.maps[0], plain.maps[1], rtol=1e-6)
    assert exact.n_queries == plain.n_queries
    # the label-pair count gives the same IoU as comparing masks
    masks = LabelPartition([a, b]).masks(0, 6).reshape(6, -1).astype(float)
    inter = masks @ masks.T
    np.testing.assert_allclose(iou_matrix(LabelPartition([a, b])), inter / (inter.diagonal()[:, None] + inter.diagonal() - inter))
    with pytest.raises(peephole.InputError, match="merge_iou must be in"):
        peephole.explain(model, img, "pami", partition=[a, b], merge_iou=0)
    with pytest.raises(peephole.InputError, match="full run"):
        peephole.explain(model, img, "pami", partition=[a, b], merge_iou=0.9, max_queries=5)


def test_adaptive_refinement_spends_the_exact_budget_on_the_parts_the_coarse_map_ranks_highest():
    """Coarse groups fill ``coarse_share`` of the budget; the rest goes to the other groups' parts in the
    order of the coarse map's largest value on them, and one query to the empty input; the map is Eq. 1
    over exactly those parts, f(∅) where a touched group has no queried part."""
    from peephole.core.partition import GroupSubset
    from peephole.core.query import softmax
    from peephole.methods.pami_adaptive import interleaved
    from peephole.modalities.image.maskers import BlurMasker

    img = textured_image(128, 128, seed=5)
    region = (slice(80, 104), slice(16, 40))
    model = RegionModel(region)
    full = peephole.explain(model, img, "pami", targets=1)
    budget = full.n_queries // 4
    e = peephole.explain(model, img, "pami", targets=1, max_queries=budget, coarse_share=0.5)
    assert e.n_queries == budget  # the refinement spends the budget exactly (no exact repeats here)
    inner, used = e.partition.inner, e.partition.index
    assert e.partition.empty and not e.partition.masks(e.partition.n_parts - 1, e.partition.n_parts).any()
    # stage 1, recomputed from the full run's outputs: whole groups in interleaved order while the queries
    # (the input, then each distinct keep-mask once: segmentations share some superpixels) fit half the budget
    masks = inner.masks(0, inner.n_parts)
    whole, distinct = [], set()
    for g in interleaved(inner):
        new = {masks[j].tobytes() for j in np.flatnonzero(inner.groups == g)} - distinct
        if 1 + len(distinct) + int((inner.groups == g).sum()) <= budget // 2:
            whole.append(g)
            distinct |= new
    spent = 1 + len(distinct)
    coarse_parts = GroupSubset(inner, whole).index
    np.testing.assert_array_equal(used[: len(coarse_parts)], coarse_parts)
    # stage 2: every other part ranked by the coarse map's maximum on it; the top ones are the refined parts
    per_part = full.scores[:, 1]
    coarse = np.mean([(per_part[inner.groups == g][:, None, None] * masks[inner.groups == g]).sum(0) for g in whole], axis=0)
    rest = np.flatnonzero(~np.isin(inner.groups, whole))
    priority = np.array([coarse[masks[j]].max() for j in rest])
    refined = set(used[len(coarse_parts) :].tolist())
    assert len(refined) == budget - spent - 1
    assert priority[np.isin(rest, list(refined))].min() >= priority[~np.isin(rest, list(refined))].max()
    # the map: per group, f(keep part) on its queried parts and f(∅) elsewhere, averaged over the groups touched
    f0 = softmax(model(BlurMasker().baseline(img)[None].astype(np.float32)))[0, 1]
    groups = list(dict.fromkeys(inner.groups[used].tolist()))
    expect = np.mean([sum((per_part[j] - f0) * masks[j] for j in used if inner.groups[j] == g) + f0 for g in groups], axis=0)
    np.testing.assert_allclose(e.maps[0], expect, rtol=1e-5, atol=1e-6)
    # the refinement goes where the region is: the refined parts touch it far more often than the others
    touches = np.array([masks[j][region].any() for j in rest])
    picked = np.isin(rest, list(refined))
    assert touches[picked].mean() > 2 * touches[~picked].mean(), (touches[picked].mean(), touches[~picked].mean())
    with pytest.raises(peephole.InputError, match="coarse_share must be in"):
        peephole.explain(model, img, "pami", max_queries=50, coarse_share=0)


def test_part_subsets_keep_their_parts_and_round_trip():
    from peephole.core.partition import GroupSubset, LabelPartition, Partition, PartSubset
    from peephole.core.state import class_path, resolve

    a = np.arange(24).reshape(4, 6) % 3
    b = (np.arange(24).reshape(4, 6) // 6) % 2
    inner = LabelPartition([a, b])  # parts 0..2 in group 0, 3..4 in group 1
    sub = PartSubset(inner, [4, 0, 2])
    assert sub.group_ids == [1, 0] and sub.groups.tolist() == [0, 1, 1]
    np.testing.assert_array_equal(sub.masks(0, 3), inner.masks(0, 5)[[4, 0, 2]])
    with_empty = PartSubset(inner, [4, 0, 2], empty=True)  # one more part: nothing kept, a group of its own
    assert with_empty.n_parts == 4 and with_empty.groups.tolist() == [0, 1, 1, 2]
    assert not with_empty.masks(2, 4)[1].any() and with_empty.masks(2, 4)[0].any()
    for p in (sub, with_empty, GroupSubset(inner, [1])):
        again = resolve(class_path(p), Partition).from_state(*p.state())
        assert type(again) is type(p)
        np.testing.assert_array_equal(again.masks(0, again.n_parts), p.masks(0, p.n_parts))
        assert again.groups.tolist() == p.groups.tolist()
    with pytest.raises(peephole.InputError, match="listed twice"):
        PartSubset(inner, [1, 1])
    with pytest.raises(peephole.InputError, match="part indices"):
        PartSubset(inner, [5])


@pytest.mark.parametrize("block", [1, 400, 1 << 22])
def test_refinement_priority_is_each_parts_largest_coarse_value_whatever_the_blocks(block, monkeypatch):
    """Read from blocks of sparse masks (reduceat over each part's features); parts covering nothing: -inf."""
    import peephole.core.partition as partition
    from peephole.core.partition import MaskPartition
    from peephole.methods.pami_adaptive import normalised, priority

    monkeypatch.setattr(partition, "BLOCK_ELEMENTS", block)
    rng = np.random.default_rng(0)
    for _ in range(10):
        m = rng.random((40, 12, 13)) < rng.uniform(0.005, 0.3)
        m[rng.integers(0, 40, 5)] = False  # some parts empty, the last one among them sometimes
        coarse = rng.normal(size=(2, 12, 13))
        parts = np.sort(rng.choice(40, 15, replace=False))
        dense = np.where(m[parts].reshape(len(parts), -1), normalised(coarse), -np.inf).max(axis=1)
        np.testing.assert_array_equal(priority(MaskPartition(m, np.arange(40) % 4), parts, coarse), dense)
