"""The packer: several threads' model calls joined into shared calls of at most ``batch_size`` rows, each thread
given its own rows back; a failing request is that request's error only."""

from __future__ import annotations

import numpy as np
import pytest

from peephole.core.pack import Packed, Packer


def test_rows_of_every_thread_are_joined_capped_at_batch_size_and_handed_back_in_order():
    calls: list[int] = []

    def model(batch):
        calls.append(len(batch))
        return np.asarray(batch).sum(axis=1, keepdims=True) * 10

    packer = Packer(model, batch_size=5)
    jobs = [lambda i=i: [packer(np.full((3, 2), i, float)), packer(np.full((1, 2), -i, float))] for i in range(4)]
    got = packer.map(jobs, workers=4)
    for i, (first, second) in enumerate(got):
        np.testing.assert_array_equal(first, np.full((3, 1), 20.0 * i))
        np.testing.assert_array_equal(second, np.full((1, 1), -20.0 * i))
    assert max(calls) <= 5 and sum(calls) == 16
    assert len(calls) == packer.n_calls < 8  # fewer calls than the 8 requests


def test_a_request_the_model_fails_on_is_that_requests_error_and_the_others_go_through():
    def model(batch):
        if (np.asarray(batch) < 0).any():
            raise ValueError("negative input")
        return np.asarray(batch) * 2

    packer = Packer(model)
    got = packer.map([lambda: packer(np.ones((2, 1))), lambda: packer(-np.ones((2, 1))), lambda: packer(np.zeros((1, 1)))])
    np.testing.assert_array_equal(got[0], 2 * np.ones((2, 1)))
    assert isinstance(got[1], ValueError) and "negative input" in str(got[1])
    np.testing.assert_array_equal(got[2], np.zeros((1, 1)))


def test_outputs_that_cannot_be_split_and_inputs_that_cannot_be_joined_are_sent_one_request_at_a_time():
    packer = Packer(lambda batch: float(np.asarray(batch).sum()))  # one number per call: not one row per input
    assert packer.map([lambda: packer(np.ones((2, 3))), lambda: packer(np.ones((1, 3)))]) == [6.0, 3.0]
    sizes = Packer(lambda batch: np.asarray(batch).reshape(len(batch), -1).mean(1))  # different image sizes
    got = sizes.map([lambda: sizes(np.ones((1, 4, 4))), lambda: sizes(np.zeros((2, 3, 3)))])
    np.testing.assert_array_equal(got[0], [1.0])
    np.testing.assert_array_equal(got[1], [0.0, 0.0])


def test_torch_batches_are_joined_with_torch_and_a_packed_model_keeps_the_adapters_attributes():
    torch = pytest.importorskip("torch")

    class Adapter:
        output, class_names, preferred_batch_size = "scores", ["a"], None

        def __call__(self, batch):
            assert isinstance(batch, torch.Tensor)
            return batch.sum(1, keepdim=True)

    packer = Packer(Adapter())
    packed = Packed(packer.model, packer)
    assert packed.output == "scores" and packed.class_names == ["a"]
    got = packer.map([lambda: packed(torch.ones(2, 3)), lambda: packed(torch.zeros(1, 3))])
    assert got[0].tolist() == [[3.0], [3.0]] and got[1].tolist() == [[0.0]] and packer.n_calls == 1


def test_requests_whose_rows_joined_would_pass_the_memory_bound_are_sent_alone(monkeypatch):
    """With a batch_size of 100000 every waiting image's batch was joined into one array (up to 16 images × their
    batches, before the model was called): requests whose rows together pass MAX_BATCH_BYTES go one at a time."""
    import peephole.core.pack as pack

    monkeypatch.setattr(pack, "MAX_BATCH_BYTES", 5 * 2 * 8)  # five rows of two float64
    calls: list[int] = []

    def model(batch):
        calls.append(len(batch))
        return np.asarray(batch).sum(axis=1, keepdims=True)

    packer = Packer(model, batch_size=100_000)
    jobs = [lambda i=i: packer(np.full((3, 2), i, float)) for i in range(4)]
    got = packer.map(jobs, workers=4)
    for i, out in enumerate(got):
        np.testing.assert_array_equal(out, np.full((3, 1), 2.0 * i))
    assert calls == [3, 3, 3, 3]  # never two requests' 6 rows (96 bytes) in one call
