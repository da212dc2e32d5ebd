"""Peephole: black-box explanations of model predictions with PAMI (Shi et al., Pattern Recognition 2024).

>>> import peephole
>>> e = peephole.explain("efficientnet-lite0", image, partition="superpixels")
>>> e.top_classes(3), e.maps.shape, e.n_queries
"""

from peephole.api import METHODS, explain
from peephole.errors import InputError, ModelError, PeepholeError
from peephole.explanation import Explanation
from peephole.models import load_model

__version__ = "0.1.0"
__all__ = ["METHODS", "Explanation", "InputError", "ModelError", "PeepholeError", "explain", "load_model"]
