"""Gradient-based methods for differentiable torch models: Captum's attributions (table-driven) and Score-CAM."""
