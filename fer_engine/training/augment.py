"""Training-time augmentation: one random affine warp per image (rotation, shear, zoom, shift, flip),
light and occlusion changes, and the marks other cameras leave (gamma, low resolution, noise)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class AugmentSettings:
    rotation_deg: float = 15.0
    shift: float = 0.1  # fraction of the image side
    zoom: float = 0.15  # scale in [1 - zoom, 1 + zoom]
    shear_deg: float = 8.0
    flip: bool = True
    brightness: float = 0.2  # added to [0, 1] intensities
    contrast: float = 0.3  # contrast factor in [1 - c, 1 + c]
    erase_prob: float = 0.25  # chance of blanking one random rectangle (occlusion robustness)
    # Other cameras: FER2013's faces are web photos; people send phone selfies, webcams, film stills.
    gamma: float = 0.0  # gamma in [1/(1+g), 1+g], log-uniform: under- and over-exposed sensors
    lowres_prob: float = 0.0  # chance of a down-and-up resize to 40-65% of the side: small or soft faces
    noise_std: float = 0.0  # Gaussian sensor noise, std up to this many grey levels
    jpeg_prob: float = 0.0  # chance of a JPEG round trip at a quality in JPEG_QUALITY: messenger photos


#: JPEG qualities drawn for ``jpeg_prob`` (uniform, inclusive): from a messenger's recompression
#: down to the blocky stills of old web video.
JPEG_QUALITY = (15, 75)


#: The camera augmentations switched on (the first model was trained without them).
CAMERA_AUGMENT = {"gamma": 0.5, "lowres_prob": 0.3, "noise_std": 6.0}


def augment_batch(images, settings: AugmentSettings):
    """Augment a float32 batch (B, H, W, 1) of 0..255 grey faces; returns the same shape."""
    import tensorflow as tf

    batch = tf.shape(images)[0]
    size = tf.cast(tf.shape(images)[1], tf.float32)

    def uniform(low, high):
        return tf.random.uniform([batch], low, high)

    angle = uniform(-1.0, 1.0) * settings.rotation_deg * math.pi / 180
    shear = uniform(-1.0, 1.0) * settings.shear_deg * math.pi / 180
    scale = uniform(1 - settings.zoom, 1 + settings.zoom)
    flip = tf.where(uniform(0.0, 1.0) < 0.5, -1.0, 1.0) if settings.flip else tf.ones([batch])
    tx = uniform(-1.0, 1.0) * settings.shift * size
    ty = uniform(-1.0, 1.0) * settings.shift * size

    # Inverse map output->input about the image centre: A = R(angle) @ Shear @ diag(flip, 1) / scale.
    cos, sin, tan = tf.cos(angle), tf.sin(angle), tf.tan(shear)
    a0 = cos * flip / scale
    a1 = (cos * tan - sin) / scale
    b0 = sin * flip / scale
    b1 = (sin * tan + cos) / scale
    centre = (size - 1) / 2
    a2 = centre - a0 * centre - a1 * centre + tx
    b2 = centre - b0 * centre - b1 * centre + ty
    zeros = tf.zeros([batch])
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )

    mean = tf.reduce_mean(out, axis=[1, 2, 3], keepdims=True)
    contrast = tf.reshape(uniform(1 - settings.contrast, 1 + settings.contrast), [-1, 1, 1, 1])
    brightness = tf.reshape(uniform(-settings.brightness, settings.brightness) * 255.0, [-1, 1, 1, 1])
    out = (out - mean) * contrast + mean + brightness

    if settings.erase_prob > 0:
        out = _random_erase(out, settings.erase_prob)
    out = tf.clip_by_value(out, 0.0, 255.0)
    if settings.gamma > 0:
        log_gamma = tf.reshape(uniform(-1.0, 1.0) * math.log1p(settings.gamma), [-1, 1, 1, 1])
        out = 255.0 * tf.pow(out / 255.0 + 1e-6, tf.exp(log_gamma))
    if settings.lowres_prob > 0:
        out = _random_lowres(out, settings.lowres_prob)
    if settings.noise_std > 0:
        std = tf.reshape(uniform(0.0, settings.noise_std), [-1, 1, 1, 1])
        out = out + tf.random.normal(tf.shape(out)) * std
    out = tf.clip_by_value(out, 0.0, 255.0)
    if settings.jpeg_prob > 0:
        out = _random_jpeg(out, settings.jpeg_prob)
    return out


def _random_jpeg(images, prob: float):
    """JPEG-compress and decode a random subset of the batch, each at its own random quality."""
    import tensorflow as tf

    def maybe_round_trip(args):
        image, quality, chosen = args
        # tf.cond: only the chosen faces pay for the encoder (the op takes one image at a time).
        return tf.cond(chosen, lambda: tf.image.adjust_jpeg_quality(image / 255.0, quality) * 255.0, lambda: image)

    batch = tf.shape(images)[0]
    quality = tf.random.uniform([batch], JPEG_QUALITY[0], JPEG_QUALITY[1] + 1, dtype=tf.int32)
    chosen = tf.random.uniform([batch]) < prob
    return tf.map_fn(maybe_round_trip, (images, quality, chosen), fn_output_signature=tf.float32)


def _random_lowres(images, prob: float):
    """Down-and-up resize a random subset of the batch (one random size per batch: resize needs a static one)."""
    import tensorflow as tf

    size = tf.shape(images)[1:3]
    factor = tf.random.uniform([], 0.4, 0.65)
    small = tf.cast(tf.cast(size, tf.float32) * factor, tf.int32)
    soft = tf.image.resize(tf.image.resize(images, small, method="area"), size, method="bilinear")
    chosen = tf.random.uniform([tf.shape(images)[0], 1, 1, 1]) < prob
    return tf.where(chosen, soft, images)


def rectangle_masks(height, width, top, bottom, left, right):
    """(batch, H, W) bool masks, True for the pixels whose centres lie in [top, bottom) x [left, right);
    the bounds are one per image, in pixels (float, or int: then exactly rows top..bottom-1)."""
    import tensorflow as tf

    def inside(length, low, high):
        centres = tf.range(tf.cast(length, tf.float32))[None, :] + 0.5
        return (centres >= tf.cast(low, tf.float32)[:, None]) & (centres < tf.cast(high, tf.float32)[:, None])

    return inside(height, top, bottom)[:, :, None] & inside(width, left, right)[:, None, :]


def _random_erase(images, prob: float):
    """Blank one rectangle (1/8 to 1/3 of the side) in a random subset of the images."""
    import tensorflow as tf

    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    side = tf.cast(height, tf.float32)
    h = tf.cast(tf.random.uniform([batch], side / 8, side / 3), tf.int32)
    w = tf.cast(tf.random.uniform([batch], side / 8, side / 3), tf.int32)
    y0 = tf.cast(tf.random.uniform([batch]) * tf.cast(height - h, tf.float32), tf.int32)
    x0 = tf.cast(tf.random.uniform([batch]) * tf.cast(width - w, tf.float32), tf.int32)
    inside = rectangle_masks(height, width, y0, y0 + h, x0, x0 + w)
    chosen = tf.random.uniform([batch]) < prob
    mask = inside & chosen[:, None, None]
    fill = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return tf.where(mask[..., None], fill, images)
