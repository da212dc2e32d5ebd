"""The Ray engine of a run (optional extra ``peephole[ray]``): items explained on Ray Data actors.

``map_batches`` runs an actor pool of ``num_actors`` actors; each actor loads the model once (from its
name or ``module:factory`` spec, or the pickled model object) and explains the items it is given with the
same per-item code as the local engine (:func:`peephole.batch.work.explain_item`), so the maps are the
same for the same seed. Each actor reserves ``num_cpus`` CPUs and ``num_gpus`` GPUs: with ``num_gpus=1``
Ray places one actor per GPU and sets ``CUDA_VISIBLE_DEVICES`` for it, so a torch model built by the
factory on ``"cuda"`` lands on that actor's GPU. Results come back to the driver as the saved ``.npz``
bytes plus the item's row, and the driver commits each into the run's store as it arrives — resuming works
exactly as with the local engine.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from peephole.batch.datasets import Item
from peephole.batch.work import Job, explain_item, resolve_model
from peephole.errors import InputError
from peephole.modalities.items import BadRow


class _Explainer:
    """One Ray actor: the model, loaded once, and the run's settings."""

    def __init__(self, model: Any, job: Job, output: str | None, class_names: Sequence[str] | None) -> None:
        self.job = job
        self.model = resolve_model(model, job.modality, output, class_names, job.loader() or None, task=job.task)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows, blobs = [], []
        for raw in batch["item"]:
            d = json.loads(str(raw))
            source = d["source"] if isinstance(d["source"], str) else base64.b64decode(d["source"]["bytes"])
            row, e = explain_item(self.model, self.job, Item(d["id"], source, d["label"]), d["seq"])
            rows.append(json.dumps(row))
            blobs.append(_npz_bytes(e) if e is not None else b"")
        return {"row": np.array(rows, dtype=object), "npz": np.array(blobs, dtype=object)}


def _sent(source: str | bytes) -> Any:
    """An item's source as JSON sends it to a worker: a path or text as it is, an embedded image's bytes in base64."""
    return source if isinstance(source, str) else {"bytes": base64.b64encode(source).decode("ascii")}


def _npz_bytes(e: Any) -> bytes:
    buf = io.BytesIO()
    e.dump(buf)
    return buf.getvalue()


def explain_on_ray(
    model: Any,
    job: Job,
    todo: Sequence[tuple[int, Item]],
    *,
    address: str | None = None,
    num_actors: int = 2,
    num_cpus: float = 1,
    num_gpus: float = 0,
    class_names: Sequence[str] | None = None,
) -> Iterator[tuple[dict[str, Any], bytes | None]]:
    """``(row, npz bytes or None)`` of each item of ``todo``, in the order they finish on the cluster.

    Connects to the cluster at ``address`` unless Ray is already initialised (call ``ray.init`` yourself
    for a ``runtime_env``); without an address Ray starts a local cluster.
    """
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise InputError("the Ray engine needs Ray: pip install 'peephole[ray]'") from exc
    if not todo:
        return
    bad = [item.id for _, item in todo if not isinstance(item.source, (str, bytes, BadRow))]
    if bad:
        raise InputError(f"the Ray engine reads datasets of files or sentences; item {bad[0]!r} is an in-memory array")
    for seq, item in todo:  # a row that holds no input fails here, as it would on a worker; the others go on
        if isinstance(item.source, BadRow):
            yield explain_item(None, job, item, seq, error=InputError(f"{item.source.where}: {item.source.why}"))[0], None
    todo = [(s, i) for s, i in todo if not isinstance(i.source, BadRow)]
    if not todo:
        return
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    items = [{"item": json.dumps({"seq": s, "id": i.id, "source": _sent(i.source), "label": i.label})} for s, i in todo]
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    out = ds.map_batches(
        _Explainer,
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=max(1, min(num_actors, len(items)))),
        fn_constructor_kwargs={"model": model, "job": job, "output": job.output, "class_names": class_names},
        num_cpus=num_cpus,
        num_gpus=num_gpus,
    )
    for batch in out.iter_batches(batch_size=1, prefetch_batches=0):
        for raw, blob in zip(batch["row"], batch["npz"]):
            yield json.loads(str(raw)), (bytes(blob) or None)
