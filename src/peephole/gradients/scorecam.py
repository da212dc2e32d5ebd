"""Score-CAM (Wang et al., CVPR-W 2020) on the engine: the CAM layer's channels, upsampled and min–max
normalised, are soft masks blending x towards mid-grey; each channel is weighted by the increase of
the class probability over the all-grey input, and the weighted sum of the channels (ReLU) is the map.
The activations need a torch model; the masked queries can go to any black box of the same network.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

import numpy as np

from peephole.core.aggregate import ScoresOnly
from peephole.core.partition import FunctionPartition
from peephole.core.perturb import SoftMasker
from peephole.core.run import run
from peephole.errors import InputError
from peephole.gradients.differentiable import Differentiable, cam_layer, setup_image
from peephole.pipeline import Request, build
from peephole.result import Explanation
from peephole.tasks import classification_query


def _activations(net: Any, layer: Any, layer_input: bool, x: Any) -> np.ndarray:
    """The CAM layer's (C, h, w) activations on x (one forward pass)."""
    import torch

    got: list[Any] = []
    handle = layer.register_forward_hook(lambda m, i, o: got.append((i[0] if layer_input else o).detach()))
    try:
        with torch.no_grad():
            net(x)
    finally:
        handle.remove()
    a = got[-1][0].float().cpu().numpy()
    if a.ndim != 3:
        raise InputError(f"the CAM layer gives activations of shape {tuple(got[-1].shape)}, not (N, C, h, w)")
    return a


def _upsample(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    up = [cv2.resize(c, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR) for c in a.astype(np.float32)]
    return np.stack(up) if up else np.zeros((0, *shape), np.float32)  # a batch of one holds only the all-hidden query


def _black_box(dm: Differentiable) -> Any:
    import torch

    from peephole.models.callable import CallableModel

    device = dm.device

    def fn(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2))).to(device)
            return dm.logits(x).detach().float().cpu().numpy()

    return CallableModel(fn, output="logits")


def scorecam(req: Request, layer: str | None = None, black_box: Any = None, masker: Any = "grey") -> Explanation:
    """Score-CAM maps; ``black_box`` answers the masked queries (e.g. the ONNX export of the same network);
    ``masker``: what the channel masks blend towards (Score-CAM: mid-grey; any image masker name)."""
    t0 = perf_counter()
    s = setup_image(req, "scorecam")
    lay, inp = cam_layer(s.dm.module, layer)
    acts = _activations(s.net, lay, inp, s.x)
    lo, hi = acts.min(axis=(1, 2)), acts.max(axis=(1, 2))
    keep = np.flatnonzero(hi > lo)  # constant channels carry no spatial information
    shape = s.image.shape[:2]

    def masks(start: int, stop: int) -> np.ndarray:  # part 0 hides everything (x_b); part k shows channel k
        idx = keep[np.arange(max(start, 1), stop) - 1]
        up = np.clip(_upsample((acts[idx] - lo[idx, None, None]) / (hi - lo)[idx, None, None], shape), 0, 1)
        return np.concatenate([np.zeros((1, *shape), np.float32), up]) if start == 0 else up

    model = black_box if black_box is not None else _black_box(s.dm)
    query = classification_query(model, getattr(model, "output", "logits"))
    res = run(
        query,
        s.image,
        FunctionPartition(shape, len(keep) + 1, masks),
        SoftMasker(req.modality.masker(masker)),
        s.targets,
        req.batch_size or 16,
        req.progress,
        ScoresOnly,
        desc="Score-CAM",
    )
    alpha = res.scores[1:, s.targets] - res.scores[:1, s.targets]  # (C', K): p_c(x∘H_k) − p_c(x_b)
    cams = np.maximum(np.tensordot(alpha.T, acts[keep], axes=1), 0)  # (K, h, w)
    return build(
        "scorecam",
        "image",
        s.image,
        _upsample(cams, shape),
        s.targets,
        s.probabilities,
        s.dm.class_names,
        n_queries=2 + res.n_queries,
        scores=res.scores,
        timings={**res.timings, "total": perf_counter() - t0},
        params={"layer": layer, "masker": masker if isinstance(masker, str) else type(masker).__name__, "seed": req.seed},
    )
