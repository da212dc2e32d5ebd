"""The Explainer's loss, term by term as in the authors' code (Stalder et al., NeurIPS 2022,
github.com/stevenstalder/NN-Explainer).

``L = L_cls(f(m⊙x)) + λ_e·mean(p log p)[f((1−m)⊙x)] + λ_tv·(TV(m) + TV(n)) + λ_a·area + λ_m·mean(m) + λ_n·mean(n)``
with m = σ(max over present classes of the Explainer's logits), n likewise over absent classes.
Where the authors' code is undefined (no absent class, or no present class, in an image) the mask is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def extract_masks(seg: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Target mask ``σ(max_{k present} seg_k)`` and non-target mask ``σ(max_{k absent} seg_k)``, (N, H, W) each."""
    present = (labels > 0.5)[:, :, None, None]
    neg = torch.finfo(seg.dtype).min
    t = torch.where(present, seg, neg).amax(1)
    n = torch.where(~present, seg, neg).amax(1)
    has_t, has_n = present.any(1), (~present).any(1)
    return torch.where(has_t, t.sigmoid(), 0.0), torch.where(has_n, n.sigmoid(), 0.0)


def tv_loss(mask: torch.Tensor) -> torch.Tensor:
    """Total variation: ``mean(|m[i,j] − m[i,j+1]| + |m[i,j] − m[i+1,j]|)`` with reflect padding (3×3 conv in the code)."""
    m = F.pad(mask.unsqueeze(1), (1, 1, 1, 1), mode="reflect")[:, 0]
    right = m[:, 1:-1, 1:-1] - m[:, 1:-1, 2:]
    down = m[:, 1:-1, 1:-1] - m[:, 2:, 1:-1]
    return (right.abs() + down.abs()).mean()


def entropy_loss(logits: torch.Tensor) -> torch.Tensor:
    """``mean(p log p)`` of the softmax (probabilities clamped at 1e-16): minimising it maximises entropy."""
    p = F.softmax(logits, dim=-1).clamp(min=1e-16)
    return (p * p.log()).mean()


def area_loss(seg: torch.Tensor, labels: torch.Tensor, min_area: float = 0.05, max_area: float = 0.3) -> torch.Tensor:
    """Per present class: sort σ(seg_k) descending; the top ``min_area``·N values are pushed to 1
    (``relu(1 − v)``), those beyond the top ``max_area``·N to 0 (``relu(v)``); each class's term is the mean
    over the N = H·W entries; summed over present classes, averaged over the batch."""
    b, k, h, w = seg.shape
    n = h * w
    v = seg.sigmoid().reshape(b, k, n).sort(dim=-1, descending=True).values
    rank = torch.arange(n, device=seg.device)
    term = seg.new_zeros(b, k, n)
    if min_area > 0:
        term = term + F.relu((rank < int(n * min_area)).to(seg.dtype) - v)
    if max_area < 1:
        term = term + F.relu(v - (rank < int(n * max_area)).to(seg.dtype))
    return (term.mean(-1) * (labels > 0.5).to(seg.dtype)).sum() / b


def classification_loss(logits: torch.Tensor, labels: torch.Tensor, multilabel: bool) -> torch.Tensor:
    """BCE-with-logits on multi-hot labels (multi-label) or cross-entropy on the label index (single-label)."""
    if multilabel:
        return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
    return F.cross_entropy(logits, labels.argmax(1) if labels.ndim == 2 else labels)


@dataclass(frozen=True)
class ExplainerLoss:
    """The paper's total loss with its default weights."""

    lambda_e: float = 1.0
    lambda_tv: float = 1.0
    lambda_a: float = 1.0
    lambda_m: float = 0.1
    lambda_n: float = 0.3
    min_area: float = 0.05
    max_area: float = 0.3
    multilabel: bool = True

    def __call__(
        self, seg: torch.Tensor, labels: torch.Tensor, classifier: torch.nn.Module, x: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Total loss and its terms, for Explainer logits ``seg`` on images ``x`` with multi-hot ``labels``."""
        m, n = extract_masks(seg, labels)
        cls = classification_loss(classifier(m.unsqueeze(1) * x), labels, self.multilabel)
        ent = entropy_loss(classifier((1 - m).unsqueeze(1) * x))
        tv = tv_loss(m) + tv_loss(n)
        area = area_loss(seg, labels, self.min_area, self.max_area)
        terms = {"classification": cls, "entropy": ent, "tv": tv, "area": area, "mask": m.mean(), "non_target": n.mean()}
        total = (
            cls
            + self.lambda_e * ent
            + self.lambda_tv * tv
            + self.lambda_a * area
            + self.lambda_m * terms["mask"]
            + self.lambda_n * terms["non_target"]
        )
        return total, {k: float(v.detach()) for k, v in terms.items()}


def median_fill(x: torch.Tensor, window: int = 7) -> torch.Tensor:
    """Each pixel's median over a ``window``×``window`` neighbourhood (reflect padding), per channel: the image with
    strokes thinner than about half the window removed, i.e. an estimate of the background behind them."""
    r = window // 2
    p = F.pad(x, (r, r, r, r), mode="reflect")
    return p.unfold(2, window, 1).unfold(3, window, 1).reshape(*x.shape, -1).median(-1).values


def fill_image(x: torch.Tensor, fill: str, window: int = 7) -> torch.Tensor:
    """What a removed pixel shows: ``'median'`` (:func:`median_fill`, an in-fill of the background as in Chang et al.,
    ICLR 2019), ``'blur'`` (a box blur of the same window) or ``'black'`` (0)."""
    if fill == "median":
        return median_fill(x, window)
    if fill == "blur":
        r = window // 2
        return F.avg_pool2d(F.pad(x, (r, r, r, r), mode="reflect"), window, 1)
    if fill == "black":
        return torch.zeros_like(x)
    raise ValueError(f"unknown fill {fill!r}; use 'median', 'blur' or 'black'")


@dataclass(frozen=True)
class PreserveDestroyLoss:
    """The real-time saliency objective of Dabkowski & Gal (NeurIPS 2017, eq. 5) with one mask per class (their
    class selector is the channel): for each present class k with mask m_k = σ(seg_k) and
    Φ(x, m) = m⊙x + (1−m)⊙fill(x),

    ``λ_tv·TV(m_k) + λ_a·mean(m_k) − log p_k(Φ(x, m_k)) + λ_d·p_k(Φ(x, 1−m_k))^λ_p``

    (preserve: the class survives on the mask alone; destroy: it is gone once the mask is removed), averaged over
    the present (image, class) pairs, plus ``λ_n·mean(m_j)`` averaged over the absent ones (their "fake class":
    area only, the mask should be empty). ``p_k`` is σ of the classifier's logit (multi-label) or its softmax.
    ``one_class``: while gradients are recorded (training), one present class per image, drawn uniformly, stands for
    all (their class selector: one pair of classifier passes per image instead of one per digit); validation scores
    every present class. The defaults here are generic; the digit experiment sets its own (``ExplainerConfig``)."""

    lambda_tv: float = 0.05
    lambda_a: float = 1.0
    lambda_d: float = 5.0
    lambda_p: float = 0.3
    lambda_n: float = 1.0
    fill: str = "median"
    window: int = 7
    multilabel: bool = True
    one_class: bool = True

    def __call__(
        self, seg: torch.Tensor, labels: torch.Tensor, classifier: torch.nn.Module, x: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Total loss and its terms, for Explainer logits ``seg`` on images ``x`` with multi-hot ``labels``."""
        masks = seg.sigmoid()
        present = labels > 0.5
        img, cls = present.nonzero(as_tuple=True)
        if self.one_class and torch.is_grad_enabled():
            draw = torch.where(present, torch.rand(present.shape, device=seg.device), -1.0)
            img = present.any(1).nonzero()[:, 0]
            cls = draw.argmax(1)[img]
        zero = seg.new_zeros(())
        if len(img):
            m = masks[img, cls].unsqueeze(1)
            xs, bs = x[img], fill_image(x, self.fill, self.window)[img]
            out = classifier(torch.cat([m * xs + (1 - m) * bs, (1 - m) * xs + m * bs]))
            logp = F.logsigmoid(out) if self.multilabel else F.log_softmax(out, 1)
            logp = logp[torch.arange(len(out), device=out.device), torch.cat([cls, cls])]
            keep, gone = logp[: len(img)], logp[len(img) :]
            preserve, destroy = -keep.mean(), gone.exp().pow(self.lambda_p).mean()
            tv, area = tv_loss(m[:, 0]), m.mean()
        else:
            preserve = destroy = tv = area = zero
        absent = masks[~present].mean() if (~present).any() else zero
        terms = {"preserve": preserve, "destroy": destroy, "tv": tv, "area": area, "absent": absent}
        total = preserve + self.lambda_d * destroy + self.lambda_tv * tv + self.lambda_a * area + self.lambda_n * absent
        return total, {k: float(v.detach()) for k, v in terms.items()}
