"""The int8 person model `yolox_nano_int8.onnx`, made from the pinned `yolox_nano_416.onnx`.

A reproducible conversion: models/models.toml pins the result's sha256 and
scripts/derive-models.sh runs `convert` in a virtual environment with the package versions of
scripts/models/requirements.txt, then checks that hash.

  convert SRC.onnx RANGES.json OUT.onnx
      1. input height and width made symbolic (the network is fully convolutional), output
         anchors symbolic, opset 11 -> 13 (per-channel quantization needs 13), constant
         folding and shape inference (onnxruntime's quant_pre_process);
      2. QDQ quantization of every operator onnxruntime can quantize: int8 weights per
         output channel (computed from the weights alone), uint8 activations with the ranges
         in RANGES.json. Everything before the FLOAT_CONVS+1-th convolution (the input slicing
         and the first FLOAT_CONVS convolutions with their SiLU) stays float: they see raw
         0-255 pixels through tiny weights and their outputs span hundreds, so 8 bits lose most
         of what later layers need (measured on 1080p tiles: quantizing them lost 80% of the
         confident anchors; with them float, 4%). The ranges are committed
         (scripts/models/yolox_nano_int8.ranges.json) rather than measured at conversion time
         because float inference differs in its last bits between CPUs, and so would a
         re-measured range and the file's hash.

  calibrate SRC.onnx RANGES.json FRAMES.yuv WIDTH HEIGHT [FRAMES.yuv WIDTH HEIGHT ...]
      Measures the activation ranges (MinMax) on frames decoded by FFmpeg as raw yuv420p,
      converted to BGR with integer BT.601 arithmetic and letterboxed as Obscura does
      (top-left, pad 114). Run once by a maintainer (scripts/models/calibrate.sh); the result
      is committed.
"""

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import version_converter
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantType
from onnxruntime.quantization.calibrate import TensorsData, create_calibrator
from onnxruntime.quantization.qdq_quantizer import QDQQuantizer
from onnxruntime.quantization.quant_utils import load_model_with_shape_infer
from onnxruntime.quantization.registry import QDQRegistry, QLinearOpsRegistry
from onnxruntime.quantization.shape_inference import quant_pre_process


def prepared(src: str, work: Path) -> Path:
    """Symbolic sizes, opset 13, pre-processed: the float model that gets quantized."""
    model = onnx.load(src)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    model.graph.output[0].type.tensor_type.shape.dim[1].dim_param = "anchors"
    # Shapes recorded for the fixed 416x416 input would contradict the symbolic ones.
    del model.graph.value_info[:]
    model = version_converter.convert_version(model, 13)
    op13, pre = work / "op13.onnx", work / "pre.onnx"
    onnx.save(model, op13)
    quant_pre_process(str(op13), str(pre), skip_symbolic_shape=True)
    return pre


def bgr_frames(path: str, w: int, h: int) -> np.ndarray:
    """Raw yuv420p frames -> HWC BGR uint8, integer BT.601 limited range."""
    raw = np.fromfile(path, np.uint8).reshape(-1, h * w * 3 // 2)
    out = []
    for f in raw:
        y = f[: h * w].reshape(h, w).astype(np.int32) - 16
        u = f[h * w : h * w * 5 // 4].reshape(h // 2, w // 2).repeat(2, 0).repeat(2, 1).astype(np.int32) - 128
        v = f[h * w * 5 // 4 :].reshape(h // 2, w // 2).repeat(2, 0).repeat(2, 1).astype(np.int32) - 128
        r = (298 * y + 409 * v + 128) >> 8
        g = (298 * y - 100 * u - 208 * v + 128) >> 8
        b = (298 * y + 516 * u + 128) >> 8
        out.append(np.clip(np.stack([b, g, r], -1), 0, 255).astype(np.uint8))
    return np.stack(out)


def letterbox(frame: np.ndarray) -> np.ndarray:
    """HWC BGR uint8 -> NCHW float32 padded with 114 up to multiples of 32 (bottom/right)."""
    h, w, _ = frame.shape
    ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
    canvas = np.full((ph, pw, 3), 114, np.uint8)
    canvas[:h, :w] = frame
    return np.ascontiguousarray(canvas.transpose(2, 0, 1)[None].astype(np.float32))


class Frames(CalibrationDataReader):
    """Feeds each frame once."""

    def __init__(self, frames: np.ndarray, input_name: str):
        self.items = iter([{input_name: letterbox(f)} for f in frames])

    def get_next(self):
        return next(self.items, None)


FLOAT_CONVS = 3


def calibrate(src: str, ranges: str, *clips: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pre = prepared(src, Path(tmp))
        name = onnx.load(pre).graph.input[0].name
        cal = create_calibrator(pre, augmented_model_path=str(Path(tmp) / "aug.onnx"), calibrate_method=CalibrationMethod.MinMax)
        for i in range(0, len(clips), 3):
            frames, width, height = clips[i : i + 3]
            cal.collect_data(Frames(bgr_frames(frames, int(width), int(height)), name))
        data = cal.compute_data()
        # float32 values as lists of their shape; json round-trips them exactly.
        table = {k: [np.asarray(v, np.float32).tolist() for v in data[k].range_value] for k in sorted(data.data)}
    lines = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in table.items()]
    Path(ranges).write_text("{\n" + ",\n".join(lines) + "\n}\n")


def convert(src: str, ranges: str, out: str) -> None:
    table = json.loads(Path(ranges).read_text())
    data = TensorsData(
        CalibrationMethod.MinMax,
        {k: (np.array(lo, np.float32), np.array(hi, np.float32)) for k, (lo, hi) in table.items()},
    )
    with tempfile.TemporaryDirectory() as tmp:
        model = load_model_with_shape_infer(prepared(src, Path(tmp)))
        nodes = list(model.graph.node)
        convs = [i for i, n in enumerate(nodes) if n.op_type == "Conv"]
        float_nodes = [n.name for n in nodes[: convs[FLOAT_CONVS]]]
        # What quantize_static quantizes by default: every op type it knows.
        ops = sorted(set(QLinearOpsRegistry) | set(QDQRegistry))
        q = QDQQuantizer(model, True, False, QuantType.QInt8, QuantType.QUInt8, data, [], float_nodes, ops, {})
        q.quantize_model()
        q.model.save_model_to_file(out, False)


if __name__ == "__main__":
    modes = {"convert": convert, "calibrate": calibrate}
    if len(sys.argv) < 2 or sys.argv[1] not in modes:
        sys.exit(__doc__)
    modes[sys.argv[1]](*sys.argv[2:])
