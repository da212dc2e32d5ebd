"""``peephole.run``: explain every item of a dataset into a resumable store, on this machine or on Ray.

The local engine loads the model once and explains a perturbation method's items several at a time, their
queries packed into shared model calls (:mod:`peephole.core.pack`); other methods' items one after another, a
small thread pool reading and decoding the next items while the current one's queries run. Each finished or
failed item is committed to the store as soon as it is done (see :mod:`peephole.store.runs`), so a killed run loses
only the items in flight, and running the same call again resumes: done items are skipped, failed ones retried (or,
with ``retry_failed=False``, reported as they are). An item whose result file cannot be written (a full disk, a
file size limit) is that item's failure; the run goes on. Each item is claimed in the store before it is
explained, so several runs over one folder share the work instead of repeating it.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from peephole.batch.datasets import Dataset, Item, open_dataset
from peephole.batch.work import Job, check_job, check_task_targets, explain_item, load_input, model_id, resolve_model
from peephole.core.options import require_count, require_finite
from peephole.core.pack import PACK_WORKERS, Packed, Packer
from peephole.errors import InputError
from peephole.modalities import get_modality
from peephole.modalities.items import NotThisKind
from peephole.models.base import use_device
from peephole.registry import DEFAULT_METHODS
from peephole.result import Explanation
from peephole.store import load
from peephole.store.runs import ClaimSession, Store
from peephole.terminal import safe

ENGINES = ("local", "ray")


@dataclass
class Result:
    """One item's outcome as it is committed: its table row and (when it succeeded) its explanation."""

    row: dict[str, Any]
    explanation: Explanation | None

    @property
    def id(self) -> str:
        return self.row["id"]

    @property
    def ok(self) -> bool:
        return self.row["status"] == "done"

    @property
    def error(self) -> str | None:
        return self.row.get("error")


class Run:
    """A run over a dataset: iterate it to explain the items still to do (each :class:`Result` is already
    committed when you receive it), or call :meth:`complete`. ``summary`` counts done / failed items."""

    def __init__(self, store: Store, job: Job, dataset: Dataset, model: Any, engine: str, **settings: Any) -> None:
        self.store, self.job, self.dataset, self._model, self.engine = store, job, dataset, model, engine
        self.retry_failed: bool = settings.pop("retry_failed", True)
        self.progress: bool = settings.pop("progress", True)
        self.prefetch: int = settings.pop("prefetch", 2)
        self._engine_options = settings
        self.summary: dict[str, Any] = {}

    @property
    def path(self) -> Path:
        return self.store.path

    def status(self) -> dict[str, str]:
        """The store's status of each item, files checked, without the done items whose file has changed since
        they were explained (another picture under the same name): those are explained again."""
        status = self.store.status(check_files=True)
        changed = self.store.changed({i.id: i.source for i in self.dataset if isinstance(i.source, str)})
        return {k: v for k, v in status.items() if k not in changed}

    def todo(self, status: dict[str, str] | None = None) -> list[tuple[int, Item]]:
        """``(position, item)`` of the items this call will explain (not done, or done but their result file is
        missing or damaged or their own file changed since; failed ones when retrying; never a skipped one, which
        had nothing to explain).
        ``status``: the store's, with files checked."""
        status = self.status() if status is None else status
        return [
            (seq, item)
            for seq, item in enumerate(self.dataset)
            if status.get(item.id) not in ("done", "skipped") and (self.retry_failed or item.id not in status)
        ]

    def __iter__(self) -> Iterator[Result]:
        from tqdm.auto import tqdm

        seen = self.store.attempts()  # read before the status: an item committed in between is not claimed again
        status = self.status()
        todo = self.todo(status)
        ids = {i.id for i in self.dataset}
        done_before = sum(1 for k, v in status.items() if v == "done" and k in ids)
        empty_before = sum(1 for k, v in status.items() if v == "skipped" and k in ids)
        bar = tqdm(
            total=len(self.dataset), initial=done_before + empty_before, desc="explain", unit="item", disable=not self.progress
        )
        session = self.store.start_session(self.engine)
        counts = {"done": 0, "failed": 0, "skipped": 0, "elsewhere": 0}
        t0 = time.perf_counter()
        claims = ClaimSession(self.store)  # this session's claims, renewed until closed

        def claim(item: Item) -> bool:
            if claims.claim(item.id, seen.get(item.id)):
                return True
            counts["elsewhere"] += 1  # another run holds it, or committed it since this one listed its work
            return False

        results = self._local(todo, claim) if self.engine == "local" else self._ray([t for t in todo if claim(t[1])])

        def finish(fut: Future) -> Result:
            path, row, explanation = fut.result()  # committed: only now is the result handed out
            counts[row["status"]] += 1
            bar.update(1)
            bar.set_postfix(failed=counts["failed"], refresh=False)
            if row["status"] == "failed" and self.progress:
                bar.write(safe(failure_line(row)))
            if explanation is None and path is not None:
                explanation = load(path)
            return Result(row, explanation)

        # Item k is committed by a writer thread while item k+1 is explained (its .npz compression and fsync
        # overlap the model's queries); k is handed out once its commit is done.
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="peephole-commit")
        pending = None  # the item whose commit is in flight, not yet handed out
        try:
            for row, explanation, npz in results:
                fut = writer.submit(self._commit, row, explanation, npz)
                ready, pending = pending, fut
                if ready is not None:
                    yield finish(ready)
            if pending is not None:
                last, pending = pending, None
                yield finish(last)
        finally:
            writer.shutdown(wait=True)  # stopped early: the commit in flight finishes
            if pending is not None and pending.exception() is None:  # committed, so counted, though not handed out
                counts[pending.result()[1]["status"]] += 1
            seconds = time.perf_counter() - t0
            bar.close()
            done, failed = counts["done"], counts["failed"]
            claims.close()
            self.store.end_session(session, done, failed, seconds)
            final = self.store.status()
            self.summary = {
                "total": len(self.dataset),
                "done": sum(1 for k, v in final.items() if v == "done" and k in ids),
                "failed": sum(1 for k, v in final.items() if v == "failed" and k in ids),
                "skipped": done_before,
                "nothing_to_explain": sum(1 for k, v in final.items() if v == "skipped" and k in ids),
                "explained_now": done,
                "failed_now": failed,
                "elsewhere": counts["elsewhere"],
                "seconds": seconds,
                "items_per_second": (done + failed) / seconds if seconds > 0 else 0.0,
            }

    def _commit(
        self, row: dict[str, Any], explanation: Explanation | None, npz: bytes | None
    ) -> tuple[Path | None, dict[str, Any], Explanation | None]:
        """Commit one item; a result file that cannot be written (``OSError``: a full disk, a file size limit, a
        permission) makes the item failed, with the reason, and the run goes on."""
        try:
            return self.store.commit(row, explanation, npz), row, explanation
        except OSError as exc:
            kept = {k: row[k] for k in ("id", "seq", "source", "label", "seconds") if k in row}
            failed = {**kept, "status": "failed", "error": f"cannot write its result file: {exc}"}
            return self.store.commit(failed), failed, None

    def complete(self) -> dict[str, Any]:
        """Run to the end; the summary: ``total``, ``done``, ``failed``, ``skipped`` (done before this call),
        ``nothing_to_explain`` (items with no target: a detector found no boxes), ``items_per_second``..."""
        for _ in self:
            pass
        return self.summary

    def _local(
        self, todo: list[tuple[int, Item]], claim: Callable[[Item], bool]
    ) -> Iterator[tuple[dict, Explanation | None, None]]:
        """Explain in this process the items of ``todo`` that ``claim`` grants: a perturbation method's items
        :data:`~peephole.core.pack.PACK_WORKERS` at a time, their queries packed into shared model calls (each item
        loaded in its own thread); other methods' one after another, a thread decoding up to ``prefetch`` items ahead
        of the current one."""
        from peephole.registry import get_method

        if get_method(self.job.method).family == "perturbation":
            packer = Packer(self._model, self.job.batch_size)
            packed = Packed(self._model, packer)
            queue = iter(todo)
            while chunk := list(islice(queue, PACK_WORKERS)):
                window = [(seq, item) for seq, item in chunk if claim(item)]
                jobs = [lambda s=seq, i=item: explain_item(packed, self.job, i, s) for seq, item in window]
                for row, e in packer.map(jobs) if jobs else ():
                    yield row, e, None
            return

        def read(item: Item) -> tuple[Any, BaseException | None]:
            try:
                return load_input(item, self.job), None
            except Exception as exc:  # noqa: BLE001 - recorded as the item's failure
                return None, exc

        pending: deque[tuple[int, Item, Future]] = deque()
        queue = iter(todo)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="peephole-prefetch") as pool:

            def fill() -> None:
                while len(pending) < max(1, self.prefetch):
                    nxt = next(queue, None)
                    if nxt is None:
                        return
                    if not claim(nxt[1]):
                        continue
                    pending.append((nxt[0], nxt[1], pool.submit(read, nxt[1])))

            fill()
            while pending:
                seq, item, fut = pending.popleft()
                x, err = fut.result()
                fill()  # the next items decode while this one is explained
                row, e = explain_item(self._model, self.job, item, seq, x, err)
                yield row, e, None

    def _ray(self, todo: list[tuple[int, Item]]) -> Iterator[tuple[dict, None, bytes | None]]:
        from peephole.batch.ray_engine import explain_on_ray

        for row, npz in explain_on_ray(self._model, self.job, todo, **self._engine_options):
            yield row, None, npz


def failure_line(row: dict[str, Any]) -> str:
    """``failed: ID: ERROR`` naming the item once: where the error already names the item's file (a reader's
    message starts with its path), the path gives way to the item's id. (A text's source is its sentence: kept.)"""
    error, source = str(row["error"]), row.get("source")
    if source and os.path.isabs(source) and source in error:
        return f"failed: {error.replace(source, row['id'])}"
    return f"failed: {row['id']}: {error}"


def rate(items_per_second: float) -> str:
    """A rate people read at a glance: items/s from 1 item/s up, seconds per item below."""
    if items_per_second >= 1:
        return f"{items_per_second:.2f} items/s"
    return f"{1 / items_per_second:.1f} s/item" if items_per_second > 0 else "no items"


def run(
    model: Any,
    dataset: Any,
    method: str | None = None,
    *,
    out: str | Path,
    targets: Any = "predicted",
    top_k: int = 1,
    modality: str | None = None,
    column: str | None = None,
    label_column: str | None = None,
    size: int | None = 224,
    crop: bool = True,
    batch_size: int | None = None,
    device: Any = None,
    seed: int = 0,
    metrics: Sequence[str] = (),
    output: str | None = None,
    class_names: Sequence[str] | None = None,
    task: Any = None,
    queries: Sequence[str] | None = None,
    template: str | None = None,
    model_name: str | None = None,
    retry_failed: bool = True,
    progress: bool = True,
    prefetch: int = 2,
    engine: str = "local",
    address: str | None = None,
    num_actors: int = 2,
    num_cpus: float = 1,
    num_gpus: float = 0,
    **options: Any,
) -> Run:
    """Explain every item of ``dataset`` with ``method`` (unset: the input kind's default, as for
    :func:`peephole.explain`) into the run folder ``out``; returns a :class:`Run`.

    ``dataset``: a folder or file that a modality reads (images: a folder, recursive, or a CSV of paths;
    texts: a CSV column or a ``.txt`` file of lines; sequences: an ``.npy`` / ``.npz`` array, a folder of
    ``.npy`` files or a CSV of rows; ``column`` names a CSV's inputs, ``label_column`` its true labels), or a
    list of inputs. The input kind is ``modality``, else what the model declares, else the first modality
    that reads the dataset. ``size`` / ``crop``: the work size, where the modality has one (images). ``targets``:
    ``'predicted'`` (the ``top_k`` predicted classes), ``'true'`` (each item's label) or class indices.
    ``metrics``: per-item ``'insertion'`` / ``'deletion'`` AUCs of the first target's map (where the
    modality has curves: :meth:`~peephole.modalities.Modality.curve_masker`).
    ``model``: as for :func:`peephole.explain`, or ``'module:factory'``; a model object is named in the
    run's settings by ``model_name`` (default: its type's import path). Method options (``partition=``,
    ``masker=``, ...) as for :func:`peephole.explain`. ``device``: where a torch model runs (a model named here is
    loaded there; a module given must already be there: it is never moved); unset, where its parameters are.
    ``task``: what the model's output means, as for :func:`peephole.explain` (unset: what the model declares; a
    detector's items are explained box by box, their boxes, labels and scores kept in each result's ``extras``).
    ``queries``: what a text-prompted model named by its folder tells apart or finds (CLIP, OWL-ViT, an NLI model:
    ``peephole.load_model(folder, queries=...)``), recorded with the settings; ``template``: the prompt each of them
    goes into (CLIP, SigLIP, NLI), recorded too.

    The settings are checked and recorded (or, for an existing run folder, compared: a difference is an
    :class:`~peephole.store.runs.SettingsMismatch`) before anything is explained. Nothing runs until the
    returned :class:`Run` is iterated or :meth:`Run.complete` is called. ``engine='ray'`` runs the items on
    Ray Data with ``num_actors`` actors, each loading the model once and reserving ``num_cpus`` CPUs and
    ``num_gpus`` GPUs (``address``: the cluster's, e.g. ``'ray://head:10001'``; default: a local one).
    """
    from peephole.modalities import declared_modality

    if engine not in ENGINES:
        raise InputError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "ray":  # Ray's own errors for these come after the run folder is made, as tracebacks
        require_count("num_actors", num_actors, 1)
        require_finite("num_cpus", num_cpus, 0, strict=True)
        require_finite("num_gpus", num_gpus, 0)
    declared = declared_modality(model)
    if modality is not None and declared is not None and declared != modality:
        raise InputError(f"the model takes {declared} inputs, but modality={modality!r} was asked for")
    try:
        ds = open_dataset(dataset, column=column, label_column=label_column, modality=modality or declared)
    except NotThisKind as exc:
        raise InputError(f"the model takes {declared} inputs, but {exc}" if modality is None else str(exc)) from exc
    mod = get_modality(ds.modality)
    job = Job(
        method=DEFAULT_METHODS[mod.name] if method is None else method,
        model=model_name or model_id(model),
        modality=mod.name,
        dataset=ds.spec,
        options=dict(options),
        targets=list(targets) if isinstance(targets, (list, tuple)) else targets,
        top_k=top_k,
        seed=seed,
        batch_size=batch_size,
        size=size if mod.resizes else None,
        crop=crop,
        metrics=tuple(metrics),
        output=output,
        task=task,
        queries=None if queries is None else list(queries),
        template=template,
    )
    if (queries is not None or template is not None) and not isinstance(model, str):
        raise InputError("queries= and template= are for a model named by its folder; give a model object its own")
    check_job(job)
    if job.targets == "true" and not ds.has_labels:
        raise InputError(
            f"targets='true' but {ds.spec} has no true labels: a folder is labelled by its sub-folders when every image "
            "sits in one (DATASET/<class>/x.jpg; an image at its top level leaves it unlabelled), a CSV by a label "
            "column (label, class or target, or label_column=)"
        )
    if engine != "local" and device is not None:
        raise InputError("device= is for the local engine; on Ray, give each actor its GPUs with num_gpus=")
    store = Store(out, job.settings(), total=len(ds))
    if engine == "local":
        loader = job.loader() | ({"device": device} if device is not None else {})
        loaded = resolve_model(model, mod, output, class_names, loader or None, task)
        check_task_targets(job, loaded)
        use_device(loaded, device)
        return Run(store, job, ds, loaded, engine, retry_failed=retry_failed, progress=progress, prefetch=prefetch)
    return Run(
        store,
        job,
        ds,
        model,
        engine,
        retry_failed=retry_failed,
        progress=progress,
        address=address,
        num_actors=num_actors,
        num_cpus=num_cpus,
        num_gpus=num_gpus,
        class_names=class_names,
    )


def open_run(path: str | Path) -> Store:
    """An existing run folder, to read: ``rows()``, ``load(item_id)``, ``export('table.parquet')``, ``settings``."""
    return Store(path)
