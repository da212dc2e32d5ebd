"""COCO classes with a clear ImageNet-1k counterpart, for the pointing game with an ImageNet model.

The pointing game explains, for each COCO class present in an image, the ImageNet class of the set
below that the model scores highest on that image. Left out on purpose: classes with no ImageNet
class (person, giraffe, kite, frisbee, skateboard, book, knife, spoon, ...) or only a loose one
(chair: ImageNet has barber/folding/rocking chairs and thrones; stop sign: "street sign"; horse:
only "sorrel"; oven: "rotisserie"; bed: "four-poster"). Indices are the standard 0..999 ImageNet order.
"""

from __future__ import annotations

_R = range

#: COCO class name -> ImageNet class indices (names in the comments).
COCO_TO_IMAGENET: dict[str, tuple[int, ...]] = {
    "bicycle": (444, 671),  # bicycle-built-for-two, mountain bike
    "car": (407, 436, 468, 511, 609, 627, 656, 661, 717, 751, 817),  # ambulance, beach wagon, cab, convertible, jeep, ...
    "motorcycle": (665, 670),  # moped, motor scooter
    "airplane": (404, 895),  # airliner, warplane
    "bus": (654, 779, 874),  # minibus, school bus, trolleybus
    "train": (466, 547, 565, 705, 820),  # bullet train, electric locomotive, freight car, passenger car, steam locomotive
    "truck": (555, 569, 675, 717, 864, 867),  # fire engine, garbage truck, moving van, pickup, tow truck, trailer truck
    "boat": (472, 484, 510, 554, 576, 625, 628, 724, 780, 814, 871, 914),  # canoe, catamaran, container ship, ... yawl
    "traffic light": (920,),
    "bench": (703,),  # park bench
    "bird": (*_R(7, 25), *_R(80, 101), *_R(127, 147)),  # cock..great grey owl, black grouse..black swan, stork..albatross
    "cat": tuple(_R(281, 286)),  # tabby, tiger cat, Persian, Siamese, Egyptian cat
    "dog": tuple(_R(151, 269)),  # Chihuahua .. Mexican hairless (all dog breeds)
    "elephant": (101, 385, 386),  # tusker, Indian elephant, African elephant
    "bear": (294, 295, 296, 297),  # brown, American black, ice, sloth bear
    "zebra": (340,),
    "backpack": (414,),
    "umbrella": (879,),
    "tie": (457, 906),  # bow tie, Windsor tie
    "sports ball": (429, 430, 522, 574, 722, 768, 805, 852, 890),  # baseball .. volleyball
    "skis": (795,),
    "cup": (504, 968),  # coffee mug, cup
    "banana": (954,),
    "orange": (950,),
    "broccoli": (937,),
    "hot dog": (934,),
    "pizza": (963,),
    "couch": (831,),  # studio couch
    "dining table": (532,),
    "toilet": (861,),  # toilet seat
    "tv": (664, 782, 851),  # monitor, screen, television
    "laptop": (620, 681),  # laptop, notebook
    "mouse": (673,),  # computer mouse
    "remote": (761,),  # remote control
    "cell phone": (487,),  # cellular telephone
    "microwave": (651,),
    "toaster": (859,),
    "refrigerator": (760,),
    "clock": (409, 530, 892),  # analog, digital, wall clock
    "vase": (883,),
    "teddy bear": (850,),
    "bottle": (440, 720, 737, 898, 907),  # beer, pill, pop, water, wine bottle
}
