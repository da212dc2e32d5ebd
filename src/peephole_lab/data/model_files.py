"""One reader for every model file the lab's commands take: TorchScript (``torch.jit.save``), a file of
:func:`~peephole_lab.data.classifiers.save_classifier`, a bare state dict of one of the lab's architectures, or
(only when trusted) a ``torch.save``'d module — else one :class:`~peephole.errors.InputError` naming the kinds."""

from __future__ import annotations

import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

from peephole.errors import InputError
from peephole_lab.data.classifiers import ARCHITECTURES, _torch, check_config, load_classifier

KINDS = (
    "a TorchScript file (torch.jit.save), a file of peephole_lab.data.save_classifier ('peephole train-mnist', "
    f"'peephole zoo'), a state dict of one of the lab's architectures {tuple(ARCHITECTURES)}, or a torch.save'd "
    "module with trust_pickle=True (--trust-pickle)"
)
#: the help of the lab commands' MODEL.pt argument and --trust-pickle flag
MODEL_HELP = (
    "a TorchScript file, a classifier saved by 'peephole train-mnist' / 'peephole zoo', or a state dict of a lab architecture"
)
TRUST_HELP = "also read a torch.save'd module (runs code from the file: trusted files only)"
#: (C, H, W) tried for a state dict of unknown input size (MNIST, CIFAR-like, the canvases)
SIZES = (28, 32, 24, 48)


def is_torchscript(path: Path) -> bool:
    """A TorchScript archive holds compiled ``code/``; a ``torch.save`` archive holds only ``data.pkl`` and tensors."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any("/code/" in n or n.endswith("constants.pkl") for n in z.namelist())


def load_model(path: str | Path, trust_pickle: bool = False) -> Any:
    """The model in ``path`` (module doc), in eval mode on the CPU; ``.meta`` is set where the file has one.

    A pickled module runs code from the file while loading, so it is read only with ``trust_pickle=True``."""
    torch = _torch()
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such model file")
    if is_torchscript(p):
        try:
            with warnings.catch_warnings():  # torch 2.9+ deprecates TorchScript; these files still exist
                warnings.simplefilter("ignore", DeprecationWarning)
                return torch.jit.load(str(p), map_location="cpu").eval()
        except RuntimeError as exc:
            raise InputError(f"{p}: a damaged TorchScript file ({str(exc).splitlines()[0][:120]})") from exc
    try:
        d = torch.load(p, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        if "unsupported global" not in str(exc).lower():  # not a pickle of Python objects
            raise InputError(f"{p}: not a model file; the lab reads {KINDS}") from exc
        if not trust_pickle:
            raise InputError(
                f"{p}: holds pickled Python objects (a torch.save'd module?); loading it runs code from the file. "
                "If you trust it pass --trust-pickle (trust_pickle=True), or save it with torch.jit.save"
            ) from exc
        return _pickled_module(p)
    except (RuntimeError, EOFError, ValueError) as exc:
        raise InputError(f"{p}: not a model file; the lab reads {KINDS}") from exc
    if isinstance(d, dict) and "config" in d and "state_dict" in d:
        return load_classifier(p)
    if isinstance(d, dict) and d and all(isinstance(v, torch.Tensor) for v in d.values()):
        return _from_state_dict(d, p)
    raise InputError(f"{p}: not a model file; the lab reads {KINDS}")


def _pickled_module(p: Path) -> Any:
    torch = _torch()
    try:
        net = torch.load(p, weights_only=False, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - any failure of unpickling user code is the file's fault
        raise InputError(f"{p}: could not unpickle the module ({type(exc).__name__}: {exc})") from exc
    if not isinstance(net, torch.nn.Module):
        raise InputError(f"{p}: holds a {type(net).__name__}, not a torch.nn.Module; the lab reads {KINDS}")
    return net.eval()


def _candidates(sd: dict[str, Any]) -> list[dict[str, Any]]:
    """Configs of :data:`ARCHITECTURES` whose sizes the weights suggest (first and last weight, :data:`SIZES`)."""
    weights = [v for k, v in sd.items() if k.endswith("weight")]
    if not weights:
        return []
    first, last = weights[0], weights[-1]
    n_classes = int(last.shape[0])
    out: list[dict[str, Any]] = []
    if first.ndim == 4:
        cin, width = int(first.shape[1]), int(first.shape[0])
        for size in SIZES:
            for pool in ("flatten", "max"):
                for bn in (False, True):
                    for stages in (2, 3):
                        kw = {"pool": pool, "batchnorm": bn, "stages": stages}
                        out.append(
                            {"arch": "cnn", "in_channels": cin, "n_classes": n_classes, "width": width, "size": size, **kw}
                        )
            out.append({"arch": "deep-cnn", "in_channels": cin, "n_classes": n_classes, "width": width, "size": size})
    elif first.ndim == 2:
        for cin in (1, 3):
            for size in SIZES:
                if cin * size * size == first.shape[1]:
                    out.append(
                        {"arch": "mlp", "in_channels": cin, "n_classes": n_classes, "size": size, "hidden": int(first.shape[0])}
                    )
    return out


def _from_state_dict(sd: dict[str, Any], p: Path) -> Any:
    """The first candidate architecture whose parameter names and shapes are exactly the state dict's."""
    torch = _torch()
    want = {k: tuple(v.shape) for k, v in sd.items()}
    for cfg in _candidates(sd):
        try:
            cfg = check_config(cfg, str(p))
        except InputError:
            continue
        arch = dict(cfg)
        with torch.device("meta"):
            shapes = {k: tuple(v.shape) for k, v in ARCHITECTURES[arch.pop("arch")](**arch).state_dict().items()}
        if shapes == want:
            net = ARCHITECTURES[cfg["arch"]](**{k: v for k, v in cfg.items() if k != "arch"})
            net.load_state_dict(sd)
            net.meta = {}
            return net.eval()
    raise InputError(
        f"{p}: a state dict of no architecture the lab knows {tuple(ARCHITECTURES)} (sizes tried: {SIZES}); "
        "save the model with torch.jit.save, or as a torch.save'd module and pass --trust-pickle"
    )
