"""The real EfficientNet-Lite0 (ImageNet) on photos that installed packages ship."""

import numpy as np
import pytest

import peephole
from peephole.modalities.image.io import load_image

# ImageNet classes that are a right answer for each shipped photo.
EXPECTED = {
    "skimage:chelsea": set(range(281, 286)),  # tabby, tiger cat, Persian, Siamese, Egyptian cat
    "skimage:coffee": {967, 968, 504},  # espresso, cup, coffee mug
    "skimage:motorcycle": {665, 670},  # moped, motor scooter
}
# The cup and saucer of skimage:coffee resized to 224×336 (rows, columns), drawn by hand.
COFFEE_CUP = (slice(10, 150), slice(80, 235))


@pytest.mark.parametrize("spec", sorted(EXPECTED))
def test_classifies_shipped_photos(real_model, spec):
    probs = real_model(load_image(spec, size=224)[None])
    assert int(np.argmax(probs)) in EXPECTED[spec]
    assert real_model.class_names[int(np.argmax(probs))] in {
        "tabby",
        "tiger cat",
        "Egyptian cat",
        "espresso",
        "cup",
        "coffee mug",
        "moped",
        "motor scooter",
        "Persian cat",
        "Siamese cat",
    }


def test_torch_and_onnx_backends_agree(real_model):
    """Also through PAMI's own loop, where the torch backend's default batches of 4 end with a partial one."""
    from peephole.models.efficientnet import DEFAULT_BATCH_SIZE, efficientnet_lite0

    img = load_image("skimage:chelsea", size=224)[None]
    torch_model = peephole.load_model("efficientnet-lite0", "torch")
    np.testing.assert_allclose(torch_model(img), real_model(img), atol=2e-3)
    assert torch_model.preferred_batch_size == DEFAULT_BATCH_SIZE["torch"] < real_model.preferred_batch_size
    assert efficientnet_lite0("torch", batch_size=7).preferred_batch_size == 7
    windows = {"partition": "window", "radius": 60, "stride": 60}  # 26 queries: 6 batches of 4, then 2
    eager, ort = (peephole.explain(m, img[0], "pami", targets=281, **windows) for m in (torch_model, real_model))
    assert eager.params["batch_size"] == 4 and ort.params["batch_size"] == 16
    np.testing.assert_allclose(eager.maps, ort.maps, atol=2e-3)


@pytest.mark.parametrize("strategy", ["superpixels", "window"])
def test_pami_map_of_top_class_peaks_on_the_object(real_model, strategy):
    img = load_image("skimage:coffee", size=224, crop=False)
    assert img.shape == (224, 336, 3)
    # stride 12 instead of 6 keeps the window test at ~560 queries; the map is the same kind (superpixels take no stride).
    window = {"stride": 12} if strategy == "window" else {}
    e = peephole.explain(real_model, img, "pami", partition=strategy, top_k=3, **window)
    assert e.targets[0] in EXPECTED["skimage:coffee"]
    assert e.n_queries == e.params["n_parts"] + 1  # three maps from one set of queries
    peak = np.unravel_index(np.argmax(e.maps[0]), e.maps[0].shape)
    rows, cols = COFFEE_CUP
    assert rows.start <= peak[0] < rows.stop and cols.start <= peak[1] < cols.stop, peak
    inside = np.zeros(e.maps[0].shape, bool)
    inside[COFFEE_CUP] = True
    assert e.maps[0][inside].mean() > e.maps[0][~inside].mean()


def test_peepholes_own_export_loads_right_as_a_plain_onnx_file(real_model):
    """Its metadata says NHWC, no normalisation, logits: load_model(path) used to assume NCHW + ImageNet mean/std."""
    from peephole.models.efficientnet import ONNX_NAME, cache_dir

    plain = peephole.load_model(str(cache_dir() / ONNX_NAME))
    assert plain.settings == {"output": "logits", "layout": "nhwc", "normalise": "none"}
    img = load_image("skimage:chelsea", size=224)[None]
    np.testing.assert_allclose(plain(img), real_model(img), atol=1e-5)
