"""Which figures are self-graded: computed with the fill and the regions the method searched with.

A method that hides parts with a fill while it searches (PAMI path's greedy keep-and-hide path, LIME's coalitions,
HSIC's designs) is graded on its own objective when an insertion/deletion curve or µFidelity then fills with the
same masker over the same regions, as LiMA, Opti-CAM and Learn-to-Rank are on the curves they optimise. Such a
figure must be labelled "self-graded"; a *held-out* fill (maps made with blur scored on grey, and the reverse, or
ROAD's imputation) is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The fill a map made with a masker is scored with when the fill must be held out (blur <-> grey).
HELD_OUT = {"blur": "grey", "grey": "blur", "mean": "blur", "black": "blur", "white": "blur"}


def held_out_fill(method_masker: Any) -> str:
    """A fill other than the one a method searched with: blur <-> grey; 'blur' for any other (or no) masker."""
    return HELD_OUT.get(method_masker, "blur") if isinstance(method_masker, str) else "blur"


def self_graded(method_params: Mapping[str, Any], metric_params: Mapping[str, Any]) -> bool:
    """True when a figure (``metric_params``: its ``fill``, its ``regions`` and their ``region_options``) was
    computed with the fill and the regions the method (``method_params``: an Explanation's ``params``) searched with.

    ``regions='pixels'`` (insertion/deletion curves) matches every method: a curve follows the map's own ranking,
    which is constant on the method's parts, so it revisits the regions the method searched. Other regions (a grid,
    superpixels) match when the method used that partition with the same options. A method without a masker
    (gradients) searched with no fill and is never self-graded."""
    fill = method_params.get("masker")
    if fill is None or metric_params.get("fill") != fill:
        return False
    regions = metric_params.get("regions", "pixels")
    if regions == "pixels":
        return True
    options = metric_params.get("region_options") or {}
    return regions == method_params.get("partition") and all(method_params.get(k) == v for k, v in options.items())
