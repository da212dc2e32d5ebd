"""BaselineMasker: x_j = m_j·x + (1 − m_j)·b(x) exactly, whichever way it fills (small, half or large parts;
small or large inputs)."""

import numpy as np
import pytest

from peephole.core.perturb import ROW_LOOP_MIN_SIZE, BaselineMasker
from peephole.errors import InputError


class Noise(BaselineMasker):
    def baseline(self, x: np.ndarray) -> np.ndarray:
        return np.random.default_rng(1).random(x.shape).astype(x.dtype)


@pytest.mark.parametrize("shape", [(48, 64, 3), (24, 32, 3), (2048, 3), (50, 4), (40,)])
def test_every_kept_fraction_gives_the_mixing_formula(shape: tuple[int, ...]) -> None:
    """Inputs at and above ROW_LOOP_MIN_SIZE values take the per-row path, smaller ones the batch copy."""
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    b = Noise().baseline(x)
    mask_shape = shape[:2] if len(shape) == 3 else shape[:1]
    rng = np.random.default_rng(2)
    keep = np.stack([rng.random(mask_shape) < f for f in (0.0, 0.03, 0.2, 0.3, 0.5, 0.7, 0.8, 0.97, 1.0)])
    keep[1:-1].reshape(7, -1)[:, 0] ^= True  # no row is accidentally all on or all off
    out = Noise().bind(x)(keep)
    m = keep.reshape(keep.shape + (1,) * (x.ndim - keep.ndim + 1)).astype(np.float32)
    np.testing.assert_array_equal(out, m * x + (1 - m) * b)
    assert out.dtype == x.dtype and out.shape == (len(keep), *shape)
    assert out.flags.owndata  # a fresh buffer: the query hands it to the model without another copy
    assert (x.size >= ROW_LOOP_MIN_SIZE) == (shape in ((48, 64, 3), (2048, 3)))  # both paths are covered
    with pytest.raises(InputError):
        Noise().bind(x)(np.ones((2, 3), bool))
    with pytest.raises(InputError, match="boolean keep-masks"):  # a soft mask is not silently rounded
        Noise().bind(x)(keep.astype(np.float32))


def test_methods_that_run_many_times_on_one_input_bind_their_masker_once():
    """PAMI path's steps and adaptive PAMI's groups are many engine runs on one input: the masker's
    baseline (the 49×49 blur for the default masker) is computed once, not once per run."""
    import peephole
    from peephole.core.perturb import BoundOnce

    class Counting(BaselineMasker):
        binds = 0

        def baseline(self, x):
            Counting.binds += 1
            return np.zeros_like(x)

    img = np.random.default_rng(0).random((32, 40, 3)).astype(np.float32)

    def model(b):
        return np.stack([b[:, :16].mean((1, 2, 3)), b[:, 16:].mean((1, 2, 3))], 1)

    grid = (np.arange(32)[:, None] // 8) * 5 + np.arange(40)[None, :] // 8  # 20 blocks
    e = peephole.explain(
        model, img, "pami-path", output="scores", masker=Counting(), partition=grid, n_samples=20, max_queries=120
    )
    assert Counting.binds == 1 and e.params["path_steps"][0] > 3
    Counting.binds = 0
    e = peephole.explain(model, img, "pami", output="scores", masker=Counting(), max_queries=60)
    assert Counting.binds == 1 and e.partition.n_groups > 1
    with pytest.raises(ValueError, match="bound to another input"):
        BoundOnce(Counting(), img).bind(img.copy())
