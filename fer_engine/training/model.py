"""The emotion CNN, defined in Keras (used only for training and export)."""

from __future__ import annotations

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


def load_keras_model(weights_path, stages=DEFAULT_STAGES):
    """Rebuild the architecture and load trained weights (for evaluation and feature maps)."""
    model = build_model(stages)
    model.load_weights(weights_path)
    return model


def predict_proba(model, x: np.ndarray, batch_size: int = 512, flip: bool = False) -> np.ndarray:
    """Keras probabilities for uint8 (N, 48, 48) crops, optionally averaged with the mirrored face."""
    batch = x[..., None].astype(np.float32)
    probs = model.predict(batch, batch_size=batch_size, verbose=0)
    if flip:
        probs = (probs + model.predict(batch[:, :, ::-1], batch_size=batch_size, verbose=0)) / 2
    return probs
