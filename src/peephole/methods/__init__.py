"""Explanation methods, one file each; :func:`peephole.explain` dispatches on their names."""
