"""Peephole's research lab (``pip install 'peephole[lab]'``): gradient-based class-level systems on small torch
models — input-agnostic saliency with backdoor detection, Neural Cleanse, fill-in-the-blanks prototypes, the
trained Explainer network — with their MNIST data, the seeded trojan zoo and eight CLI commands.

It plugs into the library through entry points (``peephole.methods``, ``peephole.commands`` in pyproject.toml);
the library never imports it.
"""
