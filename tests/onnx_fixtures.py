"""Tiny ONNX image classifiers built with onnx.helper: channel means -> 4 scores, optionally a final Softmax."""

from __future__ import annotations

from pathlib import Path

import numpy as np

WEIGHTS = np.array([[2.0, -1.0, 0.5, 0.0], [0.0, 1.0, -2.0, 1.0], [1.0, 0.0, 1.0, -1.0]], np.float32)


def tiny_onnx(path: Path, layout: str = "nchw", softmax: bool = False, metadata: dict[str, str] | None = None) -> Path:
    import onnx
    from onnx import TensorProto, helper

    shape = ["N", 3, 8, 8] if layout == "nchw" else ["N", 8, 8, 3]
    axes = [2, 3] if layout == "nchw" else [1, 2]
    nodes = [
        helper.make_node("ReduceMean", ["x", "axes"], ["m"], keepdims=0),
        helper.make_node("MatMul", ["m", "w"], ["z" if softmax else "y"]),
    ]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["z"], ["y"], axis=1))
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
        initializer=[
            helper.make_tensor("axes", TensorProto.INT64, [2], axes),
            helper.make_tensor("w", TensorProto.FLOAT, list(WEIGHTS.shape), WEIGHTS.ravel().tolist()),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    for k, v in (metadata or {}).items():
        model.metadata_props.add(key=k, value=v)
    onnx.save(model, str(path))
    return path


def expected_scores(batch: np.ndarray, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)) -> np.ndarray:
    """What the tiny graph returns on an N×H×W×3 [0, 1] batch normalised with ``mean``/``std``."""
    x = (np.asarray(batch, np.float64) - np.asarray(mean)) / np.asarray(std)
    return x.mean(axis=(1, 2)) @ WEIGHTS.astype(np.float64)
