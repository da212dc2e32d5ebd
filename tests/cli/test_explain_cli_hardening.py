"""`peephole explain` on what a user may give it: bad flags, URLs, colliding names, a used or unusable
--out, write errors, Ctrl-C. Each is one clear error (no traceback) and nothing already computed is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from onnx_fixtures import tiny_onnx
from PIL import Image

from peephole.cli import main

FAST = ["--method", "pami", "--strategy", "window", "--radius", "6", "--stride", "8", "--size", "32", "--top-k", "1"]


def handle_sigint() -> None:
    """In the child before exec: SIGINT handled, even when this test runs where it is ignored (a shell's
    background job), so that Python in the child installs its KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def tiny(tmp_path) -> str:
    return str(tiny_onnx(tmp_path / "tiny.onnx"))


def photo(path: Path, seed: int = 0) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.random.default_rng(seed).random((40, 40, 3)) * 255).astype(np.uint8)).save(path)
    return str(path)


def test_help_shows_defaults_and_version(capsys):
    with pytest.raises(SystemExit):
        main(["explain", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 224)" in out and "efficientnet-lite0" in out and "--modality" in out
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("peephole 0.")


@pytest.mark.parametrize(("flag", "value"), [("--size", "-5"), ("--top-k", "0"), ("--stride", "0"), ("--batch-size", "0")])
def test_bad_numbers_are_one_error_before_any_work(tmp_path, tiny, capsys, flag, value):
    assert main(["explain", "skimage:chelsea", "--model", tiny, flag, value, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{flag} must be >=" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_a_url_is_not_fetched_and_the_other_images_go_through(tmp_path, tiny, capsys):
    out = tmp_path / "o"
    assert main(["explain", "https://example.com/cat.jpg", "skimage:chelsea", "--model", tiny, *FAST, "--out", str(out)]) == 1
    assert "URLs are not fetched" in capsys.readouterr().err
    assert (out / "chelsea.npz").is_file()


FACTORIES = """
def raises():
    raise RuntimeError("boom")
def returns_none():
    return None
def needs_an_argument(x):
    return x
def the_model():
    return (lambda b: b.mean(axis=(1, 2)))
not_a_function = 5
"""


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("factories:raises", "model factory factories:raises raised RuntimeError: boom"),
        ("factories:returns_none", "model factory factories:returns_none returned None, not a model"),
        ("factories:needs_an_argument", "factories:needs_an_argument raised TypeError: .*missing 1 required"),
        ("factories:not_a_function", "factories:not_a_function is a int, not a function of no arguments"),
        ("factories:nonesuch", r"cannot import model factory factories:nonesuch \(AttributeError"),
        ("broken:f", r"cannot import model factory broken:f \(SyntaxError"),
    ],
)
def test_a_model_factory_that_fails_is_one_error_naming_it(tmp_path, monkeypatch, capsys, spec, message):
    """``--model package.module:factory``: a factory that raised, took an argument, was no function or whose module
    did not compile was a traceback; one returning None was silently replaced by the default model (EfficientNet-Lite0
    explained in the user's model's place). Each is one error line; a factory that works is explained."""
    import re

    (tmp_path / "factories.py").write_text(FACTORIES)
    (tmp_path / "broken.py").write_text("def f(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["explain", "skimage:chelsea", "--model", spec, *FAST, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o").exists()
    argv = ["explain", "skimage:chelsea", "--model", "factories:the_model", "--output", "scores", *FAST]
    assert main([*argv, "--out", str(tmp_path / "ok")]) == 0 and (tmp_path / "ok" / "chelsea.npz").is_file()


@pytest.mark.parametrize("kind", ["file", "under-a-file"])
def test_an_unusable_out_folder_is_one_error_before_any_work(tmp_path, tiny, capsys, kind):
    (tmp_path / "f").write_text("x")
    out = tmp_path / "f" if kind == "file" else tmp_path / "f" / "sub"
    assert main(["explain", "skimage:chelsea", "--model", tiny, *FAST, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "cannot use" in err and "output folder" in err and "Traceback" not in err


def test_inputs_with_the_same_stem_get_their_own_files_and_the_manifest_says_which(tmp_path, tiny):
    a, b, c = photo(tmp_path / "a" / "cat.png", 1), photo(tmp_path / "b" / "cat.png", 2), photo(tmp_path / "cat.jpg", 3)
    out = tmp_path / "o"
    assert main(["explain", a, b, c, "--model", tiny, *FAST, "--out", str(out)]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "complete" and [i["stem"] for i in m["items"]] == ["cat", "cat-2", "cat-3"]
    assert [i["input"] for i in m["items"]] == [a, b, c]
    for item in m["items"]:
        assert all((out / f).is_file() for f in item["files"]) and f"{item['stem']}.npz" in item["files"]
    import peephole

    loaded = [peephole.load(out / f"{s}.npz") for s in ("cat", "cat-2", "cat-3")]
    assert not np.array_equal(loaded[0].input, loaded[1].input)  # three results, none overwritten


def test_a_rerun_into_a_used_folder_removes_only_the_previous_runs_files(tmp_path, tiny):
    out = tmp_path / "o"
    first = [photo(tmp_path / "x.png", 1), photo(tmp_path / "y.png", 2)]
    assert main(["explain", *first, "--model", tiny, *FAST, "--out", str(out)]) == 0
    (out / "mine.txt").write_text("the user's own file")
    assert main(["explain", photo(tmp_path / "z.png", 3), "--model", tiny, *FAST, "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert not any(n.startswith(("x", "y")) for n in names) and "mine.txt" in names
    m = json.loads((out / "manifest.json").read_text())
    assert "x.npz" in m["removed_from_previous_run"] and [i["stem"] for i in m["items"]] == ["z"]


def test_a_write_error_is_reported_and_the_next_image_still_goes_through(tmp_path, tiny, capsys):
    out = tmp_path / "o"
    (out / "p1_figure.png").mkdir(parents=True)  # the figure of the first image cannot be written
    imgs = [photo(tmp_path / "p1.png", 1), photo(tmp_path / "p2.png", 2)]
    assert main(["explain", *imgs, "--model", tiny, *FAST, "--figure", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "p1.png: cannot write" in err and "Traceback" not in err
    m = json.loads((out / "manifest.json").read_text())
    assert [i["status"] for i in m["items"]] == ["error", "ok"] and (out / "p2_figure.png").is_file()


def test_target_by_name(tmp_path, real_model, capsys):
    code = main(["explain", "skimage:chelsea", "--target", "tabby", *FAST, "--out", str(tmp_path)])
    assert code == 0 and "*" in capsys.readouterr().out
    assert json.loads((tmp_path / "manifest.json").read_text())["items"][0]["targets"] == [281]


def test_ctrl_c_stops_a_long_run_cleanly_and_keeps_what_was_done(tmp_path, tiny):
    """A real SIGINT to a subprocess: exit 130 promptly, no traceback, the manifest says 'interrupted'.

    "Promptly" is relative to the machine's speed (a loaded machine slows the exit too): within 10 s or
    twice the time the run took to start and write its first manifest, whichever is longer; the 40 items
    take many times that."""
    out = tmp_path / "o"
    images = [photo(tmp_path / f"i{k}.png", k) for k in range(40)]
    cmd = [sys.executable, "-m", "peephole", "explain", *images, "--model", tiny, "--method", "pami", "--strategy", "window"]
    cmd += ["--radius", "2", "--stride", "2", "--size", "96", "--batch-size", "4", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=handle_sigint)
    try:
        started = time.monotonic()
        deadline = started + 60
        while not (out / "manifest.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        startup = time.monotonic() - started
        time.sleep(1.0)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        _, err = proc.communicate(timeout=20)
        assert time.monotonic() - t0 < max(10.0, 2 * startup)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted:" in err and "Traceback" not in err
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "interrupted" and m["finished"] and len(m["items"]) < len(images)
    assert all((out / f).is_file() for i in m["items"] for f in i["files"])


def test_a_ctrl_c_swallowed_by_a_finaliser_still_stops_the_run_at_the_next_image(tmp_path, tiny, monkeypatch, capsys):
    """Python reports a KeyboardInterrupt raised inside a ``__del__`` or weakref callback as "Exception ignored"
    (a traceback on stderr) and goes on; the run must stop anyway, without that traceback (it used to go on:
    1 real Ctrl-C in 4 was lost that way)."""
    import peephole

    real, calls, finished, reported = peephole.explain, [], [], []

    class Finaliser:
        def __del__(self) -> None:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C while a finaliser runs: the handler raises in here
            for _ in range(100):
                pass
            finished.append(True)  # not reached when the interrupt was raised (and swallowed) in here

    def explain_then_ctrl_c(*args, **kwargs):
        e = real(*args, **kwargs)
        if not calls:
            Finaliser()  # collected at once
        calls.append(e)
        return e

    def hook(u) -> None:
        reported.append(u.exc_type)

    monkeypatch.setattr(peephole, "explain", explain_then_ctrl_c)
    monkeypatch.setattr(sys, "unraisablehook", hook)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # handled, as in a terminal
    images = [photo(tmp_path / f"i{k}.png", k) for k in range(3)]
    try:
        code = main(["explain", *images, "--model", tiny, *FAST, "--out", str(tmp_path / "o")])
        restored = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, before)
    assert finished == []  # the interrupt really was raised inside the finaliser
    assert code == 130 and len(calls) == 1, "the run went on after Ctrl-C"
    assert reported == []  # not printed as "Exception ignored ... Traceback"
    assert "interrupted: 1 of 3 images done" in capsys.readouterr().err
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["status"] == "interrupted" and [i["input"] for i in m["items"]] == images[:1]
    assert restored is signal.default_int_handler and sys.unraisablehook is hook  # the guard put both back


def test_the_interrupt_guard_still_reports_every_other_unraisable_exception(monkeypatch):
    from peephole.interrupts import InterruptGuard

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_type))

    class Broken:
        def __del__(self) -> None:
            raise RuntimeError("a finaliser's own bug")

    with InterruptGuard() as guard:
        Broken()
        guard.check()  # no Ctrl-C: nothing raised
    assert reported == [RuntimeError]


def test_the_interrupt_guard_leaves_an_ignored_sigint_ignored():
    """A shell starts background jobs with SIGINT ignored: the guard must not make them interruptible."""
    from peephole.interrupts import InterruptGuard

    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with InterruptGuard():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with InterruptGuard():  # where SIGINT is handled, the guard's own handler is in place
            assert signal.getsignal(signal.SIGINT) not in (signal.default_int_handler, signal.SIG_IGN)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)


def test_benchmark_without_captum_stops_before_any_work(tmp_path, monkeypatch, capsys):
    """The default method set includes gradcam (Captum, the gradients extra): it used to fail after 28 s of work."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "captum" else real(name, *a))
    started = time.monotonic()
    assert main(["benchmark", "--data", str(tmp_path), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "'gradcam' needs the gradients extra" in err and "pip install 'peephole[gradients]'" in err
    assert time.monotonic() - started < 5 and not (tmp_path / "b").exists()


def test_a_file_whose_name_is_no_utf8_is_explained_and_its_files_named_in_utf8(tmp_path, tiny, capsys):
    """A file name of bytes that are no UTF-8 was explained, then ``manifest.json`` could not be written (a lone
    surrogate: UnicodeEncodeError, a traceback). Its output files and the manifest write the bytes as ``\\xff``; a
    re-run into the folder finds and replaces them."""
    odd = photo(tmp_path / os.fsdecode(b"caf\xe9-\xff.png"))
    out = tmp_path / "o"
    for _ in range(2):
        assert main(["explain", odd, "--model", tiny, *FAST, "--out", str(out)]) == 0
        assert "Traceback" not in capsys.readouterr().err
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        (item,) = manifest["items"]
        assert item["stem"] == "caf\\xe9-\\xff" and item["input"].endswith("caf\\xe9-\\xff.png")
        assert sorted(p.name for p in out.iterdir()) == sorted([*item["files"], "manifest.json"])
        assert "caf\\xe9-\\xff.npz" in item["files"]
    assert manifest["removed_from_previous_run"] == item["files"]


def test_stdin_holding_an_images_bytes_is_one_error_and_its_lines_are_read_as_file_names(tmp_path, tiny, monkeypatch, capsys):
    """``cat photo.png | peephole explain -`` made 92 "inputs" of the PNG's byte runs, each failing on its own line;
    it is one error saying what ``-`` reads. Lines are decoded as file names are: a name of bytes that are no UTF-8
    (``ls | peephole explain -``) is found (a UTF-8 stdin raised UnicodeDecodeError on it)."""
    import io
    import types

    png = Path(photo(tmp_path / "p.png"))
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO(png.read_bytes())))
    assert main(["explain", "-", "--model", tiny, *FAST, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "error: stdin holds NUL bytes: it is read as one input (a path or a text) per line" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
    odd = png.rename(tmp_path / os.fsdecode(b"caf\xe9.png"))
    lines = b"\n  \n" + os.fsencode(odd) + b"\n"
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO(lines)))
    assert main(["explain", "-", "--model", tiny, *FAST, "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "caf\\xe9.npz").is_file()
