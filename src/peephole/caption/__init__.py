"""PAMI for captioners: one image map per caption word from one set of queries."""

from peephole.caption.adapter import CaptionModel

__all__ = ["CaptionModel"]
