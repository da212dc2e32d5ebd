"""The Explainer's loss terms (Stalder et al., NeurIPS 2022) against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from peephole_lab.systems.explainer.losses import (
    ExplainerLoss,
    PreserveDestroyLoss,
    area_loss,
    classification_loss,
    entropy_loss,
    extract_masks,
    fill_image,
    median_fill,
    tv_loss,
)


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_tv_uses_reflect_padding():
    corner = torch.zeros(1, 3, 3)
    corner[0, 0, 0] = 1.0
    centre = torch.zeros(1, 3, 3)
    centre[0, 1, 1] = 1.0
    # corner: one right and one down difference of 1 -> 2/9; centre: with reflect padding the last
    # column/row differences (m[1,2] - m[1,1]) also count -> 6/9 (zero or replicate padding gives 4/9)
    assert float(tv_loss(corner)) == pytest.approx(2 / 9)
    assert float(tv_loss(centre)) == pytest.approx(6 / 9)
    assert float(tv_loss(torch.full((2, 5, 5), 0.7))) == 0.0


def test_entropy_loss_is_mean_p_log_p():
    assert float(entropy_loss(torch.zeros(1, 2))) == pytest.approx(0.5 * math.log(0.5))
    two = torch.tensor([[0.0, math.log(3.0)], [0.0, 0.0]])
    expected = ((0.25 * math.log(0.25) + 0.75 * math.log(0.75)) + 2 * 0.5 * math.log(0.5)) / 4
    assert float(entropy_loss(two)) == pytest.approx(expected)


def test_area_loss_by_hand():
    values = [0.9, 0.8, 0.5, 0.5, 0.5, 0.5] + [0.2] * 14  # N = 20: top 5% = 1 entry, top 30% = 6 entries
    seg = torch.zeros(2, 2, 4, 5)
    seg[0, 0] = torch.tensor([logit(v) for v in values[::-1]]).view(4, 5)  # order must not matter
    seg[0, 1] = 5.0  # absent class: not counted
    labels = torch.tensor([[1.0, 0.0], [0.0, 0.0]])  # the second image has no present class
    # class 0: relu(1 - 0.9) = 0.1 for the top entry; the 14 beyond the top 6 pushed to 0: 14 * 0.2 = 2.8
    expected = (0.1 + 2.8) / 20 / 2
    assert float(area_loss(seg, labels)) == pytest.approx(expected, rel=1e-5)
    # two present classes add up
    seg[0, 1] = seg[0, 0]
    labels[0, 1] = 1.0
    assert float(area_loss(seg, labels)) == pytest.approx(2 * expected, rel=1e-5)


def test_target_and_non_target_masks():
    seg = torch.tensor([[[[0.0, 2.0]], [[3.0, -1.0]], [[1.0, -4.0]]]])  # (1, 3, 1, 2)
    m, n = extract_masks(seg, torch.tensor([[1.0, 0.0, 1.0]]))
    torch.testing.assert_close(m, torch.sigmoid(torch.tensor([[[1.0, 2.0]]])))
    torch.testing.assert_close(n, torch.sigmoid(torch.tensor([[[3.0, -1.0]]])))
    m, n = extract_masks(seg, torch.ones(1, 3))  # no absent class: the non-target mask is 0
    assert float(n.abs().max()) == 0.0


def test_classification_loss_bce_and_ce():
    logits = torch.tensor([[2.0, -1.0]])
    bce = -(math.log(1 / (1 + math.exp(-2.0))) + math.log(1 - 1 / (1 + math.exp(1.0)))) / 2
    assert float(classification_loss(logits, torch.tensor([[1.0, 0.0]]), True)) == pytest.approx(bce)
    ce = -math.log(math.exp(2.0) / (math.exp(2.0) + math.exp(-1.0)))
    assert float(classification_loss(logits, torch.tensor([[1.0, 0.0]]), False)) == pytest.approx(ce)


def test_total_loss_is_the_weighted_sum_with_the_paper_defaults():
    torch.manual_seed(0)
    clf = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 3))
    x = torch.rand(2, 3, 4, 4)
    seg = torch.randn(2, 3, 4, 4)
    labels = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    loss = ExplainerLoss()
    assert (loss.lambda_e, loss.lambda_tv, loss.lambda_a, loss.lambda_m, loss.lambda_n) == (1.0, 1.0, 1.0, 0.1, 0.3)
    total, terms = loss(seg, labels, clf, x)
    with torch.no_grad():
        m, n = extract_masks(seg, labels)
        p = torch.sigmoid(clf(m.unsqueeze(1) * x))
        bce = float(-(labels * p.log() + (1 - labels) * (1 - p).log()).mean())
        q = torch.softmax(clf((1 - m).unsqueeze(1) * x), 1)
        ent = float((q * q.log()).mean())
    assert terms["classification"] == pytest.approx(bce, rel=1e-5)
    assert terms["entropy"] == pytest.approx(ent, rel=1e-5)
    expected = (
        bce + ent + float(tv_loss(m) + tv_loss(n)) + float(area_loss(seg, labels)) + 0.1 * float(m.mean()) + 0.3 * float(n.mean())
    )
    assert float(total.detach()) == pytest.approx(expected, rel=1e-5)


def test_median_fill_removes_a_thin_stroke_and_keeps_the_background():
    x = torch.full((1, 3, 12, 12), 0.6)
    x[0, 1] = 0.2  # each channel its own background
    stroke = x.clone()
    stroke[0, :, 2:10, 3] = 1.0  # a 1-px vertical stroke
    stroke[0, :, 6, 1:11] = 0.0  # and a 1-px horizontal one crossing it
    torch.testing.assert_close(median_fill(stroke), x)
    blob = x.clone()
    blob[0, :, 2:10, 2:10] = 1.0  # an 8×8 blob is wider than half the window: it stays
    assert float(median_fill(blob)[0, 0, 5, 5]) == 1.0
    torch.testing.assert_close(fill_image(stroke, "black"), torch.zeros_like(stroke))
    torch.testing.assert_close(fill_image(x, "blur"), x)  # a constant per channel stays
    with pytest.raises(ValueError, match="unknown fill"):
        fill_image(x, "noise")


@pytest.mark.parametrize(("multilabel", "torchscript"), [(True, False), (False, False), (True, True)])
def test_preserve_destroy_loss_is_the_formula_per_present_class(multilabel, torchscript):
    torch.manual_seed(0)
    clf = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 3))
    clf = torch.jit.script(clf) if torchscript else clf
    x = torch.rand(2, 3, 8, 8)
    seg = torch.randn(2, 3, 8, 8)
    labels = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    loss = PreserveDestroyLoss(lambda_tv=0.5, lambda_a=2.0, lambda_d=5.0, lambda_p=0.3, lambda_n=1.5, multilabel=multilabel)
    with torch.no_grad():  # every present class (training draws one per image: below)
        total, terms = loss(seg, labels, clf, x)
    b = median_fill(x)
    keep, gone, tv, area = [], [], [], []
    with torch.no_grad():
        for i, k in ((0, 0), (0, 2), (1, 1)):  # the present (image, class) pairs, each with its own mask
            m = torch.sigmoid(seg[i, k])
            out_keep, out_gone = clf((m * x[i] + (1 - m) * b[i])[None])[0], clf(((1 - m) * x[i] + m * b[i])[None])[0]
            prob = torch.sigmoid if multilabel else (lambda z: torch.softmax(z, 0))
            keep.append(-float(prob(out_keep)[k].log()))
            gone.append(float(prob(out_gone)[k]) ** 0.3)
            tv.append(float(tv_loss(m[None])))
            area.append(float(m.mean()))
        absent = float(torch.sigmoid(torch.stack([seg[0, 1], seg[1, 0], seg[1, 2]])).mean())
    assert terms["preserve"] == pytest.approx(sum(keep) / 3, rel=1e-5)
    assert terms["destroy"] == pytest.approx(sum(gone) / 3, rel=1e-5)
    assert terms["tv"] == pytest.approx(sum(tv) / 3, rel=1e-5) and terms["area"] == pytest.approx(sum(area) / 3, rel=1e-5)
    assert terms["absent"] == pytest.approx(absent, rel=1e-5)
    expected = sum(keep) / 3 + 5 * sum(gone) / 3 + 0.5 * sum(tv) / 3 + 2 * sum(area) / 3 + 1.5 * absent
    assert float(total.detach()) == pytest.approx(expected, rel=1e-5)
    seg.requires_grad_(True)
    torch.manual_seed(1)
    drawn, dterms = loss(seg, labels, clf, x)
    drawn.backward()
    assert seg.grad is not None and float(seg.grad[0, 1].abs().sum()) > 0  # an absent class's mask is pushed too
    # training: one present class per image, so image 0 counts class 0 or class 2 (never both, never class 1)
    singles = {(keep[j] + keep[2]) / 2 for j in (0, 1)}
    assert min(abs(dterms["preserve"] - v) for v in singles) < 1e-5 * max(singles), (dterms, singles)
    grad = seg.grad.abs().sum((2, 3))
    assert (float(grad[0, 0]) > 1e-3) != (float(grad[0, 2]) > 1e-3)  # exactly one of the two present masks was scored
    assert float(grad[1, 1]) > 1e-3
