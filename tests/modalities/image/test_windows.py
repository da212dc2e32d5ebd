"""Strategy I: sliding windows."""

import numpy as np
import pytest
from partition_fixtures import roundtrip

import peephole
from peephole.core.partition import Complement
from peephole.errors import InputError
from peephole.modalities.image.windows import SlidingWindows, max_stride, window_centres


@pytest.mark.parametrize(("h", "w"), [(224, 224), (100, 257), (257, 100), (81, 81)])
def test_windows_cover_every_pixel_of_any_shape(h, w):
    p = SlidingWindows(h, w, radius=40, stride=6)
    cover = np.zeros((h, w), int)
    for s in range(0, p.n_parts, 50):
        cover += p.masks(s, min(s + 50, p.n_parts)).sum(axis=0)
    assert cover.min() >= 1
    assert p.masks(0, 1).shape == (1, h, w)


def test_centres_reach_both_borders():
    np.testing.assert_array_equal(window_centres(20, 6), [0, 6, 12, 18, 19])
    np.testing.assert_array_equal(window_centres(19, 6), [0, 6, 12, 18])
    p = SlidingWindows(100, 257, radius=40, stride=6)
    assert p.centres[:, 0].max() == 99 and p.centres[:, 1].max() == 256


def test_circle_and_square_windows():
    circle = SlidingWindows(101, 101, radius=40, stride=56).masks(0, 1)[0]  # centre (0, 0): a quarter
    square = SlidingWindows(101, 101, radius=40, stride=80, shape="square").masks(0, 1)[0]
    assert square.sum() == 41 * 41
    # quarter disc of radius 40, pixel-counted
    yy, xx = np.mgrid[0:41, 0:41]
    assert circle.sum() == ((yy**2 + xx**2) <= 1600).sum()
    assert circle[0, 40] and not circle[40, 40]


def test_lazy_masks_match_any_slicing():
    p = SlidingWindows(90, 120, radius=20, stride=9)
    all_at_once = p.masks(0, p.n_parts)
    pieces = np.concatenate([p.masks(s, min(s + 7, p.n_parts)) for s in range(0, p.n_parts, 7)])
    np.testing.assert_array_equal(all_at_once, pieces)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"height": 30, "width": 224}, "smaller than the window"),
        ({"height": 224, "width": 224, "stride": 90}, "outside every circle window"),
        ({"height": 224, "width": 224, "stride": 80}, "use stride <= 57"),
        ({"height": 224, "width": 224, "stride": 82, "shape": "square"}, "use stride <= 81"),
        ({"height": 224, "width": 224, "shape": "hexagon"}, "circle"),
        ({"height": 224, "width": 224, "radius": 0}, "radius"),
    ],
)
def test_bad_window_settings(kwargs, message):
    with pytest.raises(InputError, match=message):
        SlidingWindows(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"height": 40, "width": 57, "radius": 6, "stride": 5},
        {"height": 57, "width": 40, "radius": 9, "stride": 4, "shape": "square"},
    ],
)
def test_windows_round_trip_through_their_state(kwargs):
    p = SlidingWindows(**kwargs)
    q = roundtrip(p)
    assert (q.radius, q.stride, q.window) == (p.radius, p.stride, p.window)
    np.testing.assert_array_equal(q.centres, p.centres)
    # occlusion saves its windows inside a Complement
    c = roundtrip(Complement(p))
    assert type(c.inner) is SlidingWindows and c.inner.window == p.window


@pytest.mark.parametrize("shape", ["circle", "square"])
@pytest.mark.parametrize("radius", [1, 2, 5, 13, 40])
def test_every_accepted_stride_covers_every_pixel_and_the_next_is_refused(radius, shape):
    """Coverage rule: a pixel is covered iff some centre is within the window. radius=40, stride=80 used to
    zero 15.8 % of a 224×224 map; now the largest accepted stride covers all, one more is refused."""
    s = max_stride(radius, shape)
    size = max(2 * radius + 1, 3 * s + 7)
    p = SlidingWindows(size, size + 5, radius=radius, stride=s, shape=shape)
    assert p.masks(0, p.n_parts).any(axis=0).all()
    with pytest.raises(InputError, match="outside every"):
        SlidingWindows(size, size + 5, radius=radius, stride=s + 1, shape=shape)


def test_unset_window_sizes_scale_with_the_image_so_any_size_runs_with_the_defaults():
    """Radius 40 and stride 6 at the paper's 224 px (1,521 windows), in proportion to the shorter side elsewhere: a
    32×32 image runs with the defaults (an 81-px window did not fit it) and a 640×480 photo is not 11,664 queries."""
    from conftest import RegionModel, mass_inside, textured_image

    import peephole

    def default_windows(h: int, w: int) -> dict:
        x = textured_image(h, w)
        e = peephole.explain(RegionModel((slice(0, h // 3), slice(0, w // 3))), x, "occlusion", targets=[1], batch_size=256)
        return {k: e.params[k] for k in ("radius", "stride", "n_parts")} | {"map": e.maps[0]}

    at = {size: default_windows(*size) for size in [(224, 224), (32, 32), (120, 100), (640, 480)]}
    assert {k: at[224, 224][k] for k in ("radius", "stride", "n_parts")} == {"radius": 40, "stride": 6, "n_parts": 1521}
    assert (at[32, 32]["radius"], at[32, 32]["stride"]) == (6, 1)  # the result records the sizes it used
    assert (at[640, 480]["radius"], at[640, 480]["stride"]) == (86, 13)
    assert all(1000 <= a["n_parts"] <= 2000 for a in at.values())  # about the same number of windows at any size
    for (h, w), a in at.items():  # and the map still finds the region the model reads
        inside, outside = mass_inside(a["map"], (slice(0, h // 3), slice(0, w // 3)))
        assert inside > 2 * outside, (h, w)


def test_a_given_radius_keeps_an_unset_stride_within_what_covers_every_pixel():
    from peephole.modalities.image.windows import WindowOptions

    assert WindowOptions(radius=3).sized(224, 224) == WindowOptions(radius=3, stride=5)  # 6 would leave pixels out
    assert WindowOptions(radius=3).sized(224, 224).stride == max_stride(3)
    assert WindowOptions(stride=2).sized(56, 300) == WindowOptions(radius=10, stride=2)  # the shorter side decides
    assert WindowOptions(radius=8, stride=7).sized(32, 32) == WindowOptions(radius=8, stride=7)  # given: as given
    with pytest.raises(InputError, match="radius must be >= 1"):
        WindowOptions(radius=0)


def test_the_largest_covering_stride_is_found_without_a_search_over_strides():
    """max_stride walked every stride up to radius·√2: a radius of 2**40 (the option-dict fuzz's) ran for hours."""
    from peephole.modalities.image.windows import uncovered_gap

    for shape in ("circle", "square"):
        for radius in range(1, 400):
            s = max_stride(radius, shape)
            assert not uncovered_gap(radius, s, shape) and uncovered_gap(radius, s + 1, shape)
    assert max_stride(2**40, "square") == 2**41 + 1
    image = np.random.default_rng(0).random((24, 30, 3)).astype(np.float32)
    with pytest.raises(InputError, match="smaller than the window"):
        peephole.explain(lambda b: np.stack([b.mean((1, 2, 3)), 1 - b.mean((1, 2, 3))], 1), image, "occlusion",
                         output="probs", radius=2**40)  # fmt: skip
