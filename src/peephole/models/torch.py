"""Adapter for a torch ``nn.Module`` (eval mode, inference mode, the module's device, channels-last batches).

The user's module is used where it is and as it is: never moved (``.to``), never left in another mode. Inputs
go to the module's device; outputs come back detached, on the CPU (the Captum / Grad-CAM convention).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from peephole.core.perturb import Arrays
from peephole.core.query import OUTPUT_KINDS, to_numpy
from peephole.errors import InputError
from peephole.models.preprocess import LUMA, ImagePreprocess


class TorchModel:
    """Calls ``module`` on preprocessed batches under ``torch.inference_mode()`` on ``device``.

    The batch is resized in NumPy (when needed), then normalised in torch on ``device``. A channels-first
    module gets it in channels-last memory layout — the same tensor values, stored N·H·W·C, which is the
    N×H×W×3 batch itself, permuted without a copy — and PyTorch's convolutions run that layout faster
    (EfficientNet-Lite0 on this 2-core CPU: 1.2–1.5× per forward pass, ``experiments/torch_layout.py``).
    The module's weights are not touched, and neither are its device and mode: it runs on the device its
    parameters (else buffers) are on, in eval mode during each call only. ``device``: where inputs go; for a
    module with parameters it must be theirs (an :class:`InputError` otherwise: Peephole does not move a
    module; move it yourself, ``module.to(device)``). The first batch runs both ways: if the channels-last call
    raises (e.g. a ``view`` that needs the default strides) or its output differs beyond 1e-4 (relative),
    the adapter keeps the default layout. ``channels_last=False`` never tries it. Maskers build the perturbed
    batches on the module's device when it is not the CPU (:attr:`arrays`; only the keep-masks cross);
    ``device_masks=True`` / ``False`` forces it / never does it. A one-channel module (MNIST-style, 1×28×28) takes
    ``preprocess=ImagePreprocess(size=(28, 28), grey=True)``: the image's luma, as an ONNX file of one channel gets.
    """

    modality = "image"  #: inputs are N×H×W×3 float32 RGB images in [0, 1]

    def __init__(
        self,
        module: Any,
        output: str,
        preprocess: ImagePreprocess | None = None,
        device: Any = None,
        class_names: Sequence[str] | None = None,
        batch_size: int | None = None,
        channels_last: bool = True,
        device_masks: bool | None = None,
    ) -> None:
        if output not in OUTPUT_KINDS:
            raise InputError(f"output must be one of {OUTPUT_KINDS}, got {output!r}")
        self.module = module
        self.output = output
        self.device: Any = module_device(module, device)
        self.preprocess = preprocess or ImagePreprocess()
        self.class_names = list(class_names) if class_names is not None else None
        self.preferred_batch_size = batch_size
        self.channels_last: bool | None = None if channels_last else False  #: None: not checked yet
        self.device_masks = device_masks

    @property
    def arrays(self) -> Arrays | None:
        """Where maskers build this model's batches: torch tensors on its device when it is not the CPU (or with
        ``device_masks=True``); None — NumPy on the host, copied to the device each batch — on the CPU (measured
        as fast or faster there, docs/devices.md), with ``device_masks=False`` or without ``array-api-compat``."""
        if self.device_masks is False or (self.device_masks is None and self.device.type == "cpu"):
            return None
        try:
            import array_api_compat.torch as xp
        except ImportError:
            return None
        return Arrays(xp, self.device)

    def use_device(self, device: Any) -> None:
        """Send inputs to ``device``: the module's own (checked: it is never moved)."""
        self.device = module_device(self.module, device)

    def __call__(self, batch: Any) -> np.ndarray:
        import torch

        pre = self.preprocess
        if hasattr(batch, "detach"):  # a batch a masker built on the device (:attr:`arrays`): resized there
            x = batch.to(self.device, torch.float32)
            if pre.size is not None and tuple(x.shape[1:3]) != tuple(pre.size):
                x = torch.nn.functional.interpolate(x.permute(0, 3, 1, 2), size=tuple(pre.size), mode="bilinear")
                x = x.permute(0, 2, 3, 1)  # bilinear, half-pixel centres: OpenCV's INTER_LINEAR, as on the host
        else:
            x = torch.from_numpy(pre.resize(batch)).to(self.device)
        if pre.grey:  # a one-channel module: the image's luma
            x = (x @ torch.tensor(LUMA, dtype=torch.float32, device=self.device))[..., None]
        if pre.channels_first:
            x = x.permute(0, 3, 1, 2)  # channels-last strides
        if pre.normalises:
            x = (x - self._constant(pre.mean, pre.channels_first)) / self._constant(pre.std, pre.channels_first)
        with torch.inference_mode(), evaluating(self.module):
            if not pre.channels_first or self.channels_last is False:
                return _numpy(self.forward(x.contiguous()))
            if self.channels_last:
                return _numpy(self.forward(x.contiguous(memory_format=torch.channels_last)))
            out = _numpy(self.forward(x.contiguous()))
            self.channels_last = self._same(out, x.contiguous(memory_format=torch.channels_last))
            return out

    def forward(self, x: Any) -> Any:
        """The module's scores on the preprocessed batch ``x``, given in the module's own floating type (a half or
        bfloat16 module failed on float32; the cast keeps the gradient methods' graph)."""
        return self.scores_of(self.module(x.to(module_dtype(self.module))))

    def scores_of(self, out: Any) -> Any:
        """The scores in what the module returns (an adapter whose module returns more, e.g. an output object,
        overrides it; the gradient methods read the module's output through it too)."""
        return out

    def _constant(self, values: Sequence[float], channels_first: bool) -> Any:
        """Per-channel mean or std as a tensor on the device, broadcasting over the batch's layout."""
        import torch

        shape = (1, -1, 1, 1) if channels_first else (1, 1, 1, -1)
        return torch.tensor(values, dtype=torch.float32, device=self.device).view(shape)

    def _same(self, out: np.ndarray, fast: Any) -> bool:
        """Whether the module gives the same output on the channels-last copy of the batch."""
        if not isinstance(out, np.ndarray):  # several outputs: the task refuses them
            return False
        try:
            alt = _numpy(self.forward(fast))
        except Exception:  # noqa: BLE001 - any failure means: keep the default layout
            return False
        scale = float(np.abs(out).max()) if out.size else 0.0
        return alt.shape == out.shape and bool(np.allclose(alt, out, rtol=1e-4, atol=1e-4 * max(scale, 1.0)))


def _numpy(out: Any) -> Any:
    """A tensor output as a float NumPy array; a tuple or dict of them (a module's ``(logits, features)``) as NumPy
    item by item, for the task to name."""
    return out.detach().float().cpu().numpy() if hasattr(out, "detach") else to_numpy(out)


def module_dtype(module: Any) -> Any:
    """The floating type a module computes in: its first floating parameter's (float16, bfloat16, ...; else its
    buffers'), float32 when it holds none."""
    import torch

    tensors = [*module.parameters(), *module.buffers()] if hasattr(module, "parameters") else []
    return next((t.dtype for t in tensors if t.is_floating_point()), torch.float32)


def module_device(module: Any, device: Any = None) -> Any:
    """The ``torch.device`` a module runs on: its parameters' (else its buffers'; else ``device``, else the CPU).

    ``device`` given for a module whose parameters are elsewhere is an :class:`InputError`: Peephole never moves
    the user's module (a copy would double its memory; moving it in place would change the caller's object).
    """
    import torch

    tensors = [*module.parameters(), *module.buffers()] if hasattr(module, "parameters") else []
    own = {t.device for t in tensors}
    try:
        wanted = None if device is None else torch.device(device)
    except (TypeError, RuntimeError, ValueError) as exc:
        raise InputError(
            f"device must be None, a device name such as 'cpu' or 'cuda:0', or a torch.device; got {device!r}"
        ) from exc
    if not own:
        return wanted or torch.device("cpu")
    if len(own) > 1:  # a model split over devices: its own forward moves activations; inputs go to the first
        first = tensors[0].device
        if wanted is not None and wanted not in own:
            raise InputError(f"device={str(wanted)!r}, but the module's parameters are on {sorted(map(str, own))}")
        return wanted or first
    (home,) = own
    if wanted is not None and not _same_device(wanted, home):
        raise InputError(
            f"device={str(wanted)!r}, but the module's parameters are on {str(home)!r}; Peephole does not move your "
            f"module: call module.to({str(wanted)!r}) first, or leave device= unset to run it where it is"
        )
    return home


def _same_device(a: Any, b: Any) -> bool:
    """``cuda`` and ``cuda:0`` (the current device) are the same place."""
    if a.type != b.type:
        return False
    if a.index is None or b.index is None:
        import torch

        current = torch.cuda.current_device() if a.type == "cuda" and torch.cuda.is_available() else 0
        return (a.index if a.index is not None else current) == (b.index if b.index is not None else current)
    return a.index == b.index


#: Modules in :func:`evaluating` now, by id: how many callers are inside, and the modes to restore when the last leaves
_EVALUATING: dict[int, list[Any]] = {}
_EVALUATING_LOCK = threading.Lock()


@contextmanager
def evaluating(module: Any) -> Iterator[None]:
    """``module`` in eval mode inside (each submodule's ``training`` flag, what ``Module.eval`` sets, without calling
    the user's ``eval``), its own mode (train or eval, per submodule) restored after. Safe across threads: the first
    caller in saves the modes and the last one out restores them (a second thread saved the first's eval mode as
    the module's own, and the first restored train mode under it: dropout in the second's forward pass)."""
    key = id(module)
    with _EVALUATING_LOCK:
        entry = _EVALUATING.get(key)
        if entry is None:
            modes = [(m, m.training) for m in module.modules()] if hasattr(module, "modules") else []
            for m, _ in modes:
                m.training = False
            entry = _EVALUATING[key] = [0, modes]
        entry[0] += 1
    try:
        yield
    finally:
        with _EVALUATING_LOCK:
            entry[0] -= 1
            if entry[0] == 0:
                for m, training in entry[1]:
                    m.training = training
                del _EVALUATING[key]
