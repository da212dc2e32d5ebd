"""The ONNX export cache is verified by the SHA-256 recorded beside it; a planted, truncated or unhashed
file is re-exported with a warning saying why (a planted file used to be used silently)."""

from __future__ import annotations

import warnings

import pytest
from onnx_fixtures import tiny_onnx

import peephole.models.efficientnet as eff
from peephole.errors import InputError


@pytest.fixture
def fake_export(monkeypatch):
    """export_onnx writing a tiny valid graph (and its hash) instead of the 19 MB network: counts calls."""
    calls = []

    def export(path):
        calls.append(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tiny_onnx(path)
        eff.digest_path(path).write_text(eff.sha256(path))
        return path

    monkeypatch.setattr(eff, "export_onnx", export)
    return calls


def test_a_verified_export_is_reused_without_a_warning(tmp_path, fake_export):
    path = tmp_path / eff.ONNX_NAME
    eff.cached_export(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert eff.cached_export(path) == path
    assert len(fake_export) == 1


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda p: p.write_bytes(b"planted" + p.read_bytes()[7:]), "does not match its recorded SHA-256"),
        (lambda p: p.write_bytes(p.read_bytes()[:50]), "does not match its recorded SHA-256"),
        (lambda p: eff.digest_path(p).unlink(), "no recorded hash"),
    ],
    ids=["planted", "truncated", "unhashed"],
)
def test_a_changed_export_is_re_exported_with_a_warning(tmp_path, fake_export, damage, reason):
    path = tmp_path / eff.ONNX_NAME
    eff.cached_export(path)
    good = path.read_bytes()
    damage(path)
    with pytest.warns(UserWarning, match=f"re-exporting EfficientNet-Lite0: .*{reason}"):
        eff.cached_export(path)
    assert len(fake_export) == 2 and path.read_bytes() == good


def test_a_cache_path_that_is_a_file_is_one_input_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="PEEPHOLE_CACHE"):
        eff.cached_export(tmp_path / "file" / eff.ONNX_NAME)
