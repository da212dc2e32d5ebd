"""Whether the lab extra is here: one skip with the install line when it is not, else its pieces load."""

from __future__ import annotations

import importlib.util

import pytest

LAB = importlib.util.find_spec("torch") is not None


@pytest.mark.skipif(not LAB, reason="the 'lab' extra is not installed: pip install -e '.[lab]' (tests/lab not run)")
def test_the_lab_loads_and_its_methods_run_through_the_registry() -> None:
    from peephole.registry import get_method

    for name in ("input-agnostic", "fill-in-the-blanks", "explainer"):
        assert callable(get_method(name).function)
