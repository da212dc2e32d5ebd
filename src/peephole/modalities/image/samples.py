"""Real photos that installed packages ship, addressed as ``PACKAGE:NAME``.

``skimage:chelsea`` (cat), ``skimage:coffee``, ``skimage:rocket``, ``skimage:astronaut``,
``skimage:motorcycle``; ``sklearn:china`` and ``sklearn:flower``; ``matplotlib:grace_hopper``.
"""

from __future__ import annotations

import numpy as np

from peephole.errors import InputError

SAMPLES = (
    "skimage:chelsea",
    "skimage:coffee",
    "skimage:rocket",
    "skimage:astronaut",
    "skimage:motorcycle",
    "sklearn:china",
    "sklearn:flower",
    "matplotlib:grace_hopper",
)


def is_sample(spec: str) -> bool:
    return spec.split(":", 1)[0] in ("skimage", "sklearn", "matplotlib") and ":" in spec


def sample_image(spec: str) -> np.ndarray:
    """The photo named by ``spec`` as an H×W×3 uint8 array."""
    if spec not in SAMPLES:
        raise InputError(f"unknown sample photo {spec!r}; available: {', '.join(SAMPLES)}")
    pkg, name = spec.split(":", 1)
    try:
        if pkg == "skimage":
            from skimage import data

            return data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
        if pkg == "sklearn":
            from sklearn.datasets import load_sample_image

            return load_sample_image(f"{name}.jpg")
        import matplotlib.cbook as cbook
        from PIL import Image

        with cbook.get_sample_data(f"{name}.jpg") as f:
            return np.asarray(Image.open(f).convert("RGB"))
    except ImportError as exc:
        raise InputError(f"sample {spec!r} needs the package {pkg!r} installed") from exc
