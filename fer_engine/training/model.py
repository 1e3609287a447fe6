"""The emotion CNN, defined in Keras (used only for training and export)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fer_engine.labels import NUM_CLASSES
from fer_engine.preprocess import INPUT_SIZE

#: (filters, convolutions, downsample-after) per stage.  Early stages stay narrow and shrink
#: the image fast, because the cost of a 3x3 convolution grows with the pixels it slides over.
DEFAULT_STAGES: tuple[tuple[int, int, bool], ...] = (
    (32, 1, True),
    (64, 2, True),
    (128, 2, True),
    (256, 2, False),
)
#: The same net at about 0.6 of the width: 0.4 of the multiply-adds, for the 0.3 ms-per-face budget.
#: Measured int8, one thread: 0.54 ms (default) against 0.25 ms (this).  Made by ``resize_weights``
#: from a trained default-width model, then trained on (recipe ``slim`` in ``train.py``).
SLIM_STAGES: tuple[tuple[int, int, bool], ...] = (
    (24, 1, True),
    (40, 2, True),
    (80, 2, True),
    (160, 2, False),
)
#: Wider late stages (1.5x the filters where the maps are 12x12 and 6x6, 1.75x the multiply-adds,
#: 2.6 M parameters): more room for the small muscle movements of faint expressions.  Made by
#: ``resize_weights`` from a trained default-width model, then trained on (recipe ``wide``).
WIDE_STAGES: tuple[tuple[int, int, bool], ...] = (
    (32, 1, True),
    (64, 2, True),
    (192, 2, True),
    (384, 2, False),
)


def build_model(stages=DEFAULT_STAGES, dropout: float = 0.4, input_size: int = INPUT_SIZE):
    """VGG-style CNN: 3x3 conv + BN + ReLU stages, global average pooling, softmax over 7 classes.

    Input: float32 grey values 0..255, shape (input_size, input_size, 1); scaling happens inside.
    """
    import keras
    from keras import layers

    inputs = keras.Input((input_size, input_size, 1), name="face")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    for stage, (filters, convs, downsample) in enumerate(DEFAULT_STAGES if stages is None else stages):
        for i in range(convs):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"s{stage}_conv{i}")(x)
            x = layers.BatchNormalization(name=f"s{stage}_bn{i}")(x)
            x = layers.ReLU(name=f"s{stage}_relu{i}")(x)
        if downsample:
            x = layers.MaxPooling2D(2, name=f"s{stage}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(256, use_bias=False, name="fc")(x)
    x = layers.BatchNormalization(name="fc_bn")(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(dropout / 2)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name="fer_cnn")


def stages_of(weights_path) -> tuple[tuple[int, int, bool], ...]:
    """The stages a model folder's weights were trained with (its ``metadata.json``), else the default."""
    meta = Path(weights_path).with_name("metadata.json")
    stages = json.loads(meta.read_text()).get("settings", {}).get("stages") if meta.exists() else None
    return tuple((int(f), int(n), bool(d)) for f, n, d in stages) if stages else DEFAULT_STAGES


def load_keras_model(weights_path, stages=None):
    """Rebuild the architecture (from the folder's metadata unless given) and load trained weights."""
    model = build_model(stages or stages_of(weights_path))
    model.load_weights(weights_path)
    return model


def mean_weights(models: list) -> list[np.ndarray]:
    """The layer-by-layer mean of the weights of models of one architecture (soups, weight averaging)."""
    return [np.mean(layer, axis=0) for layer in zip(*(model.get_weights() for model in models), strict=True)]


def resize_weights(source, target, seed: int = 0) -> None:
    """Start ``target``, the same stage layout and layer names as the trained ``source`` with other
    filter counts, from ``source``'s weights; the dense head keeps its size.  Layer by layer:

    - narrower: the channels whose batch-norm scale |gamma| is largest (network slimming: a small
      gamma means a channel that contributes little after normalisation);
    - wider, as the same function (Net2WiderNet, Chen et al. 2016): every channel, plus copies of
      random ones (kernel and batch norm); the next layer's weights from a channel and its copies
      are split between them by random shares that sum to one, so the sum it sees is unchanged.
      The random split, not an even one, lets the copies learn different things.
    """
    rng = np.random.default_rng(seed)
    src_in, shares = np.arange(1), np.ones(1, np.float32)  # the grey input channel, as it is
    for layer in target.layers:
        name = layer.name
        if name.startswith("s") and "_conv" in name:
            kernel = source.get_layer(name).get_weights()[0]
            bn = source.get_layer(name.replace("_conv", "_bn"))
            src_out = _channel_sources(np.abs(bn.get_weights()[0]), layer.filters, rng)
            layer.set_weights([kernel[:, :, src_in][:, :, :, src_out] * shares[None, None, :, None]])
            target.get_layer(bn.name).set_weights([w[src_out] for w in bn.get_weights()])
            src_in, shares = src_out, _split_shares(src_out, rng)
        elif name == "fc":
            layer.set_weights([source.get_layer(name).get_weights()[0][src_in] * shares[:, None]])
        elif name in ("fc_bn", "emotion"):
            layer.set_weights(source.get_layer(name).get_weights())


def _channel_sources(gamma: np.ndarray, filters: int, rng: np.random.Generator) -> np.ndarray:
    """The source channel of each of ``filters`` target channels: the largest |gamma| when fewer
    (in their original order), else every channel followed by random copies."""
    if filters <= len(gamma):
        return np.sort(np.argsort(gamma)[::-1][:filters])
    return np.concatenate([np.arange(len(gamma)), rng.integers(0, len(gamma), filters - len(gamma))])


def _split_shares(src: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For channels taken from ``src`` (source index per channel): random positive shares that sum to
    one over each source channel's copies (exactly 1.0 for a channel with no copy)."""
    raw = rng.uniform(0.5, 1.5, len(src)).astype(np.float32)
    totals = np.bincount(src, weights=raw)
    return (raw / totals[src]).astype(np.float32)


def predict_proba(model, x: np.ndarray, batch_size: int = 512, flip: bool = False) -> np.ndarray:
    """Keras probabilities for uint8 (N, 48, 48) crops, optionally averaged with the mirrored face."""
    batch = x[..., None].astype(np.float32)
    probs = model.predict(batch, batch_size=batch_size, verbose=0)
    if flip:
        probs = (probs + model.predict(batch[:, :, ::-1], batch_size=batch_size, verbose=0)) / 2
    return probs
