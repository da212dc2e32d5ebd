"""Strategy II: superpixels, the paper's Table 3 settings, user label maps."""

import numpy as np
import pytest
from conftest import textured_image
from partition_fixtures import roundtrip

from peephole.core.partition import Coalitions, LabelPartition
from peephole.errors import InputError
from peephole.modalities.image.segmenters import SEGMENTERS
from peephole.modalities.image.superpixels import PAPER_SEGMENTATIONS, Segmentation, Superpixels


def test_paper_settings_are_table_3():
    by = {}
    for s in PAPER_SEGMENTATIONS:
        by.setdefault(s.method, []).append(dict(s.params))
    assert [p["scale"] for p in by["felzenszwalb"]] == [250, 200, 150, 100, 70, 50]
    assert all(p["sigma"] == 0.8 and p["min_size"] == 784 for p in by["felzenszwalb"])
    assert [p["n_segments"] for p in by["slic"]] == list(range(10, 90, 10))
    assert all(p["compactness"] == 20 for p in by["slic"])
    assert [p["num_superpixels"] for p in by["seeds"]] == [10, 20, 30]
    assert all(p["num_levels"] == 5 and p["n_iter"] == 10 for p in by["seeds"])
    assert [p["markers"] for p in by["watershed"]] == [10, 20, 30]
    assert all(p["compactness"] == 1e-4 for p in by["watershed"])


@pytest.mark.parametrize("name", sorted(SEGMENTERS))
@pytest.mark.parametrize("shape", [(64, 64, 3), (60, 150, 3), (150, 60, 3), (64, 80)])
def test_each_segmenter_labels_every_pixel(name, shape):
    img = textured_image(shape[0], shape[1]).astype(np.float64)
    if len(shape) == 2:  # the second run segments a smooth importance map in [0, 1]
        yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
        img = np.exp(-((yy - 20) ** 2 + (xx - 50) ** 2) / 300) + 0.5 * np.exp(-((yy - 45) ** 2 + (xx - 15) ** 2) / 200)
    labels = SEGMENTERS[name](img)
    assert labels.shape == shape[:2]
    assert labels.min() == 0 and len(np.unique(labels)) >= 2


def test_superpixels_are_one_group_per_setting():
    img = textured_image(64, 96)
    settings = PAPER_SEGMENTATIONS[:2] + PAPER_SEGMENTATIONS[-1:]
    sp = Superpixels.from_image(img, settings)
    assert sp.n_groups == 3
    masks = sp.masks(0, sp.n_parts)
    for g in range(3):  # inside a group the parts tile the image exactly once
        np.testing.assert_array_equal(masks[sp.groups == g].sum(axis=0), np.ones((64, 96)))
    assert sp.names[0].startswith("felzenszwalb(scale=250")


def test_user_label_maps_and_segmenter():
    labels = np.zeros((10, 12), int)
    labels[:, 6:] = 7
    sp = Superpixels([labels, np.arange(120).reshape(10, 12) % 3])
    assert sp.n_parts == 2 + 3
    custom = Segmentation(lambda im, k: (np.arange(im.shape[1])[None, :] // k).repeat(im.shape[0], 0), {"k": 4})
    assert len(np.unique(custom(np.zeros((5, 12, 3))))) == 3


def test_bad_segmentations():
    with pytest.raises(InputError, match="unknown segmentation method 'quickshift'"):
        Segmentation("quickshift")(np.zeros((8, 8, 3)))
    with pytest.raises(InputError, match="returned labels of shape"):
        Segmentation(lambda im: np.zeros((3, 3), int))(np.zeros((8, 8, 3)))
    with pytest.raises(InputError, match="disagree in shape"):
        LabelPartition([np.zeros((4, 4), int), np.zeros((4, 5), int)])
    with pytest.raises(InputError, match="integers"):
        LabelPartition(np.zeros((4, 4)))
    with pytest.raises(InputError, match="at least one"):
        Superpixels.from_image(np.zeros((8, 8, 3)), [])


def test_threaded_segmentation_equals_serial():
    img = textured_image(64, 80)
    serial = Superpixels.from_image(img, PAPER_SEGMENTATIONS, workers=1)
    threaded = Superpixels.from_image(img, PAPER_SEGMENTATIONS, workers=4)
    assert serial.names == threaded.names
    for a, b in zip(serial.label_maps, threaded.label_maps, strict=True):
        np.testing.assert_array_equal(a, b)


def test_superpixels_round_trip_through_their_state():
    sp = Superpixels.from_image(textured_image(48, 64), PAPER_SEGMENTATIONS[:1] + PAPER_SEGMENTATIONS[6:7])
    q = roundtrip(sp)
    assert q.n_groups == 2 and q.names == sp.names
    for a, b in zip(q.label_maps, sp.label_maps, strict=True):
        np.testing.assert_array_equal(a, b)
    # LIME and KernelSHAP save their superpixels inside Coalitions
    z = np.random.default_rng(0).random((6, sp.n_parts)) > 0.5
    c = roundtrip(Coalitions(sp, z))
    assert type(c.parts) is Superpixels and c.parts.names == sp.names
    np.testing.assert_array_equal(c.z, z)
