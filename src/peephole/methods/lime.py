"""LIME (Ribeiro et al., KDD 2016) on the engine, for every modality: a linear surrogate over the parts.

Sample ``i`` keeps a random subset of the parts (each on with probability 1/2, drawn from the seeded
generator ``(seed, i)``; sample 0 keeps all of them, as in LIME); the hidden parts take the masker's
values. A weighted ridge regression (scikit-learn, ``alpha=1``) of the class output on the on/off
vectors z, with LIME's kernel ``π(z) = sqrt(exp(−d²/w²))``, ``d`` the cosine distance to the all-on
vector and ``w = 0.25``, gives one weight per part; the map paints it on the part's features.

Parts: on images one SLIC segmentation of ~50 superpixels (the image modality's ``'slic'``, one of PAMI's
Table 3 settings, about as many as LIME's quickshift), on texts the words, on sequences the modality's
windows. Any partition works. A partition of several groups (PAMI's overlapping segmentations) splits the
``n_samples`` among the groups: each group gets its own block of coalitions of its own parts (see
:func:`~peephole.methods.surrogate.grouped_samples`) and its own fit, and the groups' maps are averaged
(as Eq. 1 averages them).
``density=True`` paints ``w_j / |part j|`` instead of ``w_j``: the linear surrogate's weight per
feature, which ranks a small part with the same weight as a large one first. ``weigh_groups=True``
averages the groups' maps weighted by how well each group's surrogate explains its outputs,
``M = Σ_g R²_g M_g / Σ_g R²_g`` (R²_g the kernel-weighted coefficient of determination of group g's
fit, clipped at 0; equal weights when every R²_g is 0), for groups that tile the input.

Written on the engine rather than with the ``lime`` package: its ``LimeImageExplainer`` runs its own
loop over the classifier (no shared batching, no query count) and segments with quickshift; the
regression is the few lines of :meth:`~peephole.methods.surrogate.LimeFit.fit`. :mod:`peephole.methods.kernel_shap` swaps only
the sampling, the kernel and the fit (as Captum's ``KernelShap(Lime)``).
"""

from __future__ import annotations

from dataclasses import dataclass

from peephole.core.options import require, require_finite
from peephole.methods.surrogate import KERNEL_WIDTH, LimeFit, Surrogate, SurrogateOptions, lime_samples


@dataclass(frozen=True)
class LimeOptions(SurrogateOptions):
    kernel_width: float = KERNEL_WIDTH  #: w of LIME's kernel
    alpha: float = 1.0  #: the ridge penalty

    def __post_init__(self) -> None:
        super().__post_init__()
        require("kernel_width", self.kernel_width, "> 0", lambda v: v > 0)
        require_finite("alpha", self.alpha, 0)  # scikit-learn's Ridge refuses inf, after every query was made


class Lime(Surrogate):
    """LIME weights of the parts (``n_samples`` queries, the all-on sample included)."""

    name = "lime"
    Options = LimeOptions
    sample = staticmethod(lime_samples)
    fit = LimeFit
