"""The evaluation harness: PAMI and the baselines on real photos, scored by insertion, deletion and
the pointing game (PAMI, Table 4). ``peephole benchmark`` is its command line."""

from peephole.evaluation.coco_imagenet import COCO_TO_IMAGENET
from peephole.evaluation.data import CocoSample, ImagenetSample, read_coco_boxes, read_imagenet_sample
from peephole.evaluation.methods import METHOD_NAMES, MapMaker
from peephole.evaluation.runner import run_insertion_deletion, run_pointing

__all__ = [
    "COCO_TO_IMAGENET",
    "METHOD_NAMES",
    "CocoSample",
    "ImagenetSample",
    "MapMaker",
    "read_coco_boxes",
    "read_imagenet_sample",
    "run_insertion_deletion",
    "run_pointing",
]
