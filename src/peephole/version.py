"""The package version, in one place (read by ``peephole.__version__``, saved results and run settings)."""

__version__ = "0.1.0"
