"""Label maps already computed, kept for the next explanation of the same image.

Segmenting a 224×224 photo with the paper's 20 settings (Table 3) costs about a seventh of Strategy II's bare
forward time on a CPU (docs/pami.md, "Time"); explaining the same photo again (another method, budget, target
or seed of a method that does not segment, the second run's parts) reuses the maps instead. A key is the image's
bytes, shape and dtype, the setting (algorithm name and parameters) and OpenCV's seed, so a hit returns what the
segmenter would have returned: the same labels, the same maps. Settings with a callable algorithm are never kept
(what a callable returns may depend on more than its arguments).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from hashlib import blake2b

import numpy as np


def image_digest(img: np.ndarray) -> bytes:
    """A digest of the image's bytes, shape and dtype (what a cached label map is keyed on)."""
    h = blake2b(digest_size=16)
    h.update(f"{img.shape}{img.dtype.str}".encode())
    h.update(np.ascontiguousarray(img).data)
    return h.digest()


class SegmentCache:
    """Least-recently-used label maps within ``max_bytes`` (stored in the smallest integer type that holds them;
    0 keeps nothing). Safe to share between threads."""

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._maps: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> np.ndarray | None:
        """The int64 label map kept under ``key`` (a fresh array), or None."""
        with self._lock:
            kept = self._maps.get(key)
            if kept is None:
                return None
            self._maps.move_to_end(key)
        return kept.astype(np.int64)

    def put(self, key: tuple, labels: np.ndarray) -> None:
        """Keep ``labels`` under ``key``, dropping the least recently used maps beyond ``max_bytes``."""
        small = labels.astype(np.min_scalar_type(int(labels.max()))) if labels.size and labels.min() >= 0 else labels.copy()
        with self._lock:
            if key in self._maps:
                self._bytes -= self._maps.pop(key).nbytes
            if small.nbytes > self.max_bytes:
                return
            self._maps[key] = small
            self._bytes += small.nbytes
            while self._bytes > self.max_bytes:
                self._bytes -= self._maps.popitem(last=False)[1].nbytes

    def clear(self) -> None:
        """Forget every kept map."""
        with self._lock:
            self._maps.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._maps)


#: The label maps :meth:`Superpixels.from_image <peephole.modalities.image.superpixels.Superpixels.from_image>`
#: keeps (64 MiB: about 60 photos' 20 segmentations at 224×224). ``SEGMENTS.max_bytes = 0`` turns keeping off.
SEGMENTS = SegmentCache()
