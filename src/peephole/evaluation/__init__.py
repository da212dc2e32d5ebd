"""The evaluation harness: PAMI and the baselines on real photos, scored by insertion, deletion and
the pointing game (PAMI, Table 4), and the report card (:mod:`peephole.evaluation.card`, ``--card``).
``peephole benchmark`` is its command line. A benchmark's output folder is a
run store (:mod:`peephole.store.runs`): one Explanation per (image, method), ``peephole.load(OUT, item=item_id(image,
method))``, its scores in the item's metrics; the tables and figures are views of it (:mod:`peephole.evaluation.runner`)."""

from peephole.evaluation.card import make_card, paired_card, run_card
from peephole.evaluation.coco_imagenet import COCO_TO_IMAGENET
from peephole.evaluation.data import CocoSample, ImagenetSample, read_coco_boxes, read_imagenet_sample
from peephole.evaluation.methods import METHOD_NAMES, MapMaker
from peephole.evaluation.runner import item_id, run_insertion_deletion, run_pointing

__all__ = [
    "COCO_TO_IMAGENET",
    "METHOD_NAMES",
    "CocoSample",
    "ImagenetSample",
    "MapMaker",
    "item_id",
    "make_card",
    "paired_card",
    "read_coco_boxes",
    "read_imagenet_sample",
    "run_card",
    "run_insertion_deletion",
    "run_pointing",
]
