"""A partition saved and rebuilt as an explanation file does it, shared by the partition tests."""

from __future__ import annotations

import io
import json

import numpy as np

from peephole.engine.partition import Partition
from peephole.engine.state import class_path, resolve


def roundtrip(p: Partition) -> Partition:
    """``p`` rebuilt from its state (JSON params, .npz arrays, class by import path); checked equal to ``p``."""
    params, arrays = p.state()
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    q = resolve(class_path(p), Partition).from_state(json.loads(json.dumps(params)), arrays)
    assert type(q) is type(p)
    assert q.shape == p.shape and q.n_parts == p.n_parts and q.n_groups == p.n_groups
    np.testing.assert_array_equal(q.groups, p.groups)
    np.testing.assert_array_equal(q.masks(0, q.n_parts), p.masks(0, p.n_parts))
    if p.n_parts >= 3:
        np.testing.assert_array_equal(q.masks(1, 3), p.masks(1, 3))
    return q
