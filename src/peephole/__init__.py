"""Peephole: black-box explanations of model predictions with PAMI (Shi et al., Pattern Recognition 2024).

```pycon
>>> import peephole
>>> e = peephole.explain("efficientnet-lite0", image)            # PAMI path, the default on images
>>> e.top_classes(3), e.maps.shape, e.n_queries
>>> e.save("cat.npz"); peephole.load("cat.npz").map_for(281)
```
"""

from peephole.api import explain
from peephole.batch import open_run, run
from peephole.errors import InputError, ModelError, NothingToExplain, PeepholeError
from peephole.modalities.image.io import load_image
from peephole.models import load_model
from peephole.registry import METHODS
from peephole.result import Explanation
from peephole.store import load
from peephole.version import __version__

__all__ = [
    "METHODS",
    "Explanation",
    "InputError",
    "ModelError",
    "NothingToExplain",
    "PeepholeError",
    "__version__",
    "explain",
    "load",
    "load_image",
    "load_model",
    "open_run",
    "run",
]
