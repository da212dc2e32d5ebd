"""Fill in the blanks (Deelaka et al., 2024): Δx, Δx₂, T, progressive masks, class prototypes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from systems_fixtures import clean_cnn, generic_pool, single_thread  # noqa: F401

import peephole
from peephole.errors import InputError
from peephole.gradients.differentiable import as_differentiable
from peephole_lab.systems.fill_in_blanks import (
    blank,
    delta_x,
    hessian_diagonal,
    patch_mask,
    progressive_masks,
    prototypes,
    threshold,
)

pytestmark = pytest.mark.usefixtures("single_thread")


def progressive_fill(model, image, **options):
    """``peephole.explain(model, image, method='fill-in-the-blanks', ...)``."""
    return peephole.explain(model, image, method="fill-in-the-blanks", **options)


def tiny_model() -> torch.nn.Module:
    """A smooth (tanh) 2-layer model on 1×4×4 inputs, float64, so finite differences are accurate."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    return net


def test_patch_mask_ratio_and_patches():
    m = patch_mask(28, 28, ratio=0.5, patch_size=7, seed=1)
    assert m.sum() == 8 * 49  # 8 of the 16 7×7 patches
    blocks = m.reshape(4, 7, 4, 7).transpose(0, 2, 1, 3).reshape(16, 49)
    assert set(blocks.all(1) | ~blocks.any(1)) == {True}  # whole patches only
    assert not np.array_equal(m, patch_mask(28, 28, 0.5, 7, seed=2))
    with pytest.raises(InputError, match="ratio"):
        patch_mask(28, 28, ratio=0)


@pytest.mark.parametrize("patch", [1, 4, 7])
def test_four_progressive_masks_are_disjoint_cover_and_quarter(patch):
    ms = progressive_masks(28, 28, patch_size=patch, n=4, seed=0)
    assert ms.shape == (4, 28, 28)
    assert (ms.sum(0) == 1).all()  # disjoint and covering
    n_patches = (28 // patch) ** 2
    for m in ms:  # 25% of the patches each (±1 patch when they do not split evenly)
        assert abs(m.sum() / patch**2 - n_patches / 4) <= 1


def test_delta_x_is_zero_outside_the_mask_and_not_inside():
    dm = as_differentiable(clean_cnn(), "test")
    x = torch.from_numpy(generic_pool()[:8])
    masks = torch.from_numpy(np.stack([patch_mask(28, 28, 0.5, 4, seed=s) for s in range(8)]))
    y = torch.arange(8) % 10
    for order in (1, 2):
        d = delta_x(dm, x, y, masks, order=order, n_probes=2)[:, 0]
        assert d.shape == (8, 28, 28)
        assert (d[~masks] == 0).all()
        assert (d[masks] != 0).float().mean() > 0.5
    # the first-order term is minus the loss gradient at the blanked input
    xm = blank(x, masks).requires_grad_(True)
    torch.nn.functional.cross_entropy(clean_cnn()(xm), y, reduction="sum").backward()
    torch.testing.assert_close(delta_x(dm, x, y, masks)[:, 0], (-xm.grad[:, 0] * masks).float())


@pytest.mark.parametrize("keep", [0.1, 0.25, 0.5, 1.0])
def test_threshold_keeps_the_intended_fraction_of_the_largest(keep):
    torch.manual_seed(0)
    d = torch.randn(3, 1, 16, 16)
    masks = torch.from_numpy(np.stack([patch_mask(16, 16, 0.5, 2, seed=s) for s in range(3)]))
    d = d * masks.unsqueeze(1)
    t = threshold(d, masks, keep)
    for i in range(3):
        n_masked = int(masks[i].sum())
        kept = t[i, 0] != 0
        assert int(kept.sum()) == round(keep * n_masked)
        assert not (kept & ~masks[i]).any()
        if keep < 1:  # what is kept is the largest: every kept |Δx| >= every dropped masked |Δx|
            dropped = masks[i] & ~kept
            assert d[i, 0][kept].abs().min() >= d[i, 0][dropped].abs().max()


def test_second_order_term_matches_finite_differences():
    net = tiny_model()
    dm = as_differentiable(net, "test")
    x = torch.rand(1, 1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    mask = torch.from_numpy(patch_mask(4, 4, 0.5, 1, seed=0))
    y = torch.tensor([2])
    xm = blank(x, mask)

    def loss(z: torch.Tensor) -> float:
        return float(torch.nn.functional.cross_entropy(net(z), y, reduction="sum"))

    h, l0 = 1e-4, loss(xm)
    fd_diag = torch.zeros_like(x)
    fd_grad = torch.zeros_like(x)
    for i in mask.flatten().nonzero().flatten().tolist():
        e = torch.zeros_like(x).flatten()
        e[i] = h
        e = e.view_as(x)
        lp, lm = loss(xm + e), loss(xm - e)
        fd_diag.view(-1)[i] = (lp - 2 * l0 + lm) / h**2
        fd_grad.view(-1)[i] = (lp - lm) / (2 * h)
    exact = hessian_diagonal(dm, xm, y, mask, "exact")
    torch.testing.assert_close(exact, fd_diag, rtol=1e-4, atol=1e-6)
    hd = fd_diag.abs()
    lam = 1e-3 * float(hd[0, 0][mask].mean()) + 1e-8
    expected = -fd_grad / (hd + lam) * mask
    d2 = delta_x(dm, x, y, mask, order=2, hessian="exact")
    torch.testing.assert_close(d2, expected, rtol=1e-4, atol=1e-6)
    # Hutchinson's estimate converges to the exact diagonal
    hutch = hessian_diagonal(dm, xm, y, mask, "hutchinson", n_probes=4000, seed=0)
    assert float((hutch - exact).abs().max()) < 0.15 * float(exact.abs().max())


def test_prototypes_of_a_trained_cnn_are_classified_as_their_class():
    e = prototypes(clean_cnn(), generic_pool()[:200], n_masks=2, ratio=0.5, patch_size=4, keep=0.2, seed=0)
    images = e.extras["images"]
    assert images.shape == (10, 1, 28, 28) and e.maps.shape == (10, 28, 28)
    pred = e.extras["prototype_probabilities"].argmax(1)
    assert (pred == np.arange(10)).sum() >= 8, pred
    assert images.min() >= 0 and images.max() == pytest.approx(1.0)


def test_progressive_fill_draws_the_target_from_a_blank_canvas():
    blank_img = np.zeros((1, 28, 28), np.float32)
    e = progressive_fill(clean_cnn(), blank_img, targets=list(range(10)), patch_size=4, seed=0)
    images = e.extras["images"]
    assert images.shape == (10, 5, 1, 28, 28)
    with torch.no_grad():
        pred = clean_cnn()(torch.from_numpy(images[:, -1])).argmax(1).numpy()
    assert (pred == np.arange(10)).sum() >= 8, pred
    masks = progressive_masks(28, 28, 4, 4, 0)
    for j in range(4):  # stage j+1 changes only the pixels of mask j
        changed = np.abs(images[:, j + 1, 0] - images[:, j, 0]).max(0) > 0
        assert not (changed & ~masks[j]).any()


def test_black_boxes_are_refused_and_method_registered():
    with pytest.raises(InputError, match="differentiable torch model"):
        prototypes(lambda x: np.zeros((len(x), 10)), generic_pool()[:4])
    x = generic_pool()[0]
    e = peephole.explain(clean_cnn(), x, method="fill-in-the-blanks", top_k=2)
    assert len(e.targets) == 2 and e.maps.shape == (2, 28, 28) and e.input.shape == (28, 28, 3)


def test_progressive_fill_on_a_colour_model_maps_sum_the_channels():
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 5))
    img = np.random.default_rng(0).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    e = progressive_fill(net, img, targets=[1, 3], patch_size=2)
    images = e.extras["images"]
    assert images.shape == (2, 5, 3, 8, 8) and e.maps.shape == (2, 8, 8)
    np.testing.assert_allclose(e.maps, np.abs(images[:, -1] - images[:, 0]).sum(1), rtol=1e-6)
