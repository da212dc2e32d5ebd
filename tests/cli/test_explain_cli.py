"""The `peephole explain` command: outputs per image and target; bad images do not stop the others."""

import peephole
from peephole.cli import main


def test_explain_writes_overlays_and_maps_and_survives_bad_images(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    code = main(
        [
            "explain",
            str(tmp_path / "missing.jpg"),
            "skimage:coffee",
            str(tmp_path / "notes.txt"),
            "--strategy",
            "window",
            "--stride",
            "24",
            "--top-k",
            "2",
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "missing.jpg: no such file" in captured.err
    assert "notes.txt: not an image file" in captured.err
    assert "2 of 3 images failed" in captured.err
    assert "espresso" in captured.out
    # per target an overlay; the maps of both targets in one saved result
    pngs, npzs = sorted(out.glob("coffee_top*.png")), sorted(out.glob("coffee*.npz"))
    assert len(pngs) == 2 and [p.name for p in npzs] == ["coffee.npz"]
    e = peephole.load(npzs[0])
    assert len(e.targets) == 2 and e.maps[0].shape == (224, 224)


def test_explain_reports_a_bad_target_per_image(tmp_path, capsys):
    code = main(
        ["explain", "skimage:chelsea", "--target", "1000", "--strategy", "window", "--stride", "40", "--out", str(tmp_path)]
    )
    assert code == 1
    assert "target class 1000 is out of range: the model has 1000 classes" in capsys.readouterr().err


def test_unknown_model(capsys):
    assert main(["explain", "skimage:chelsea", "--model", "nothing-like-it"]) == 2
    assert "unknown model" in capsys.readouterr().err


def test_the_default_method_is_pami_path_and_a_flag_it_does_not_take_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["explain", "skimage:chelsea", "--size", "48", "--top-k", "1", "--out", str(out)]) == 0
    assert peephole.load(out / "chelsea.npz").method == "pami-path"
    # PAMI's second run is not an option of pami-path: an error before any work, not a flag silently dropped
    assert main(["explain", "skimage:chelsea", "--second-run", "--out", str(tmp_path / "o2")]) == 2
    assert "--second-run is not an option of --method pami-path" in capsys.readouterr().err
    assert not (tmp_path / "o2" / "chelsea.npz").exists()


def test_device_loads_a_named_torch_model_there_and_is_refused_for_onnx(tmp_path, capsys):
    args = [
        "explain",
        "skimage:chelsea",
        "--size",
        "48",
        "--method",
        "pami",
        "--strategy",
        "window",
        "--radius",
        "12",
        "--stride",
        "16",
    ]
    assert main([*args, "--device", "cpu", "--out", str(tmp_path / "onnx")]) == 2
    assert "device= is for torch models; a OnnxModel runs where it is (for efficientnet-lite0: backend='torch')" in (
        capsys.readouterr().err
    )
    assert main([*args, "--backend", "torch", "--device", "cpu", "--out", str(tmp_path / "torch")]) == 0
    assert peephole.load(tmp_path / "torch" / "chelsea.npz").maps.shape[1:] == (48, 48)


def test_the_partition_flag_names_every_partition_of_every_input_kind():
    """``--partition``'s help lists the partitions the modalities offer (it is written out, not built at parse time)."""
    from peephole.cli import build_parser
    from peephole.modalities import MODALITIES, get_modality

    explain = build_parser()._subparsers._group_actions[0].choices["explain"]
    flag = next(a for a in explain._actions if "--partition" in a.option_strings)
    for kind in MODALITIES:
        for name in get_modality(kind).partitions:
            assert name in flag.help.replace(",", " ").replace(";", " ").replace(")", " ").split(), (kind, name)
