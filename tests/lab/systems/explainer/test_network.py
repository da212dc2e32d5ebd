"""Explainer architectures: the small U-Net and the wrapper for any segmentation network (DeepLabV3 in the paper)."""

from __future__ import annotations

import pytest
import torch

from peephole.errors import InputError
from peephole_lab.systems.explainer import BackboneExplainer, ExplainerNet, SegmentationExplainer, load_explainer, save_explainer


@pytest.mark.parametrize("size", [24, 25, 31])
def test_unet_returns_one_full_size_channel_per_class(size):
    net = ExplainerNet(n_classes=5, in_channels=3, width=4, depth=2)
    assert net(torch.rand(2, 3, size, size)).shape == (2, 5, size, size)


def test_segmentation_wrapper_upsamples_dict_outputs():
    class Seg(torch.nn.Module):  # DeepLabV3-like: stride-4 logits in a dict under "out"
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 7, 4, stride=4)

        def forward(self, x):
            return {"out": self.conv(x)}

    out = SegmentationExplainer(Seg())(torch.rand(1, 3, 32, 32))
    assert out.shape == (1, 7, 32, 32)


def test_save_load_round_trip_and_bad_files(tmp_path):
    net = ExplainerNet(3, 1, width=4, depth=1).eval()
    x = torch.rand(1, 1, 16, 16)
    back = load_explainer(save_explainer(net, tmp_path / "e.pt"))
    torch.testing.assert_close(back(x), net(x))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not an Explainer"):
        load_explainer(tmp_path / "junk.pt")
    with pytest.raises(InputError, match="no such"):
        load_explainer(tmp_path / "missing.pt")
    with pytest.raises(InputError, match="bad Explainer config"):
        ExplainerNet(0)


def test_backbone_explainer_starts_as_the_classifiers_class_activation_map(tmp_path):
    from peephole_lab.data import SmallCNN

    torch.manual_seed(0)
    clf = SmallCNN(3, 6, 8, "max", 32, batchnorm=True, stages=3).eval()
    net = BackboneExplainer(clf, width=4).eval()
    x = torch.rand(2, 3, 32, 32)
    out = net(x)
    assert out.shape == (2, 6, 32, 32)
    with torch.no_grad():  # the refinement head starts at 0: the output is the CAM (Linear at every position)
        feats = clf[:15](x)  # the conv stages and the head conv, before the global pooling
        cam = torch.einsum("kc,nchw->nkhw", clf[17].weight, feats) + clf[17].bias[:, None, None]
        up = torch.nn.functional.interpolate(cam, size=(32, 32), mode="bilinear", align_corners=False)
    torch.testing.assert_close(out, up)
    net.train()
    out.sum().backward()
    assert all(p.grad is None for p in clf.parameters())  # the classifier itself is not trained
    path = save_explainer(net, tmp_path / "bb.pt")
    torch.testing.assert_close(load_explainer(path)(x), net.eval()(x))
    with pytest.raises(InputError, match="global pooling"):
        BackboneExplainer(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)))
