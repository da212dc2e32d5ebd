"""Class-level systems on differentiable torch models: input-agnostic saliency and backdoor detection,
fill-in-the-blanks prototypes, and the trained Explainer network."""
