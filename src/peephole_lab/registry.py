"""The lab's rows of Peephole's method table, read through the ``peephole.methods`` entry point."""

from __future__ import annotations

from peephole.registry import MethodSpec

LAB = (("torch", "lab"),)

ROWS = (
    MethodSpec(
        "input-agnostic",
        "peephole_lab.systems.input_agnostic:input_agnostic",
        "system",
        ("image",),
        "class maps without input",
        LAB,
    ),
    MethodSpec(
        "fill-in-the-blanks",
        "peephole_lab.systems.fill_in_blanks:progressive_fill",
        "system",
        ("image",),
        "blank and refill patches",
        LAB,
    ),
    MethodSpec(
        "explainer", "peephole_lab.systems.explainer.infer:explainer", "system", ("image",), "trained Explainer network", LAB
    ),
)
