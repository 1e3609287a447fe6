"""The decision-time levers benchmark: its test-time views and its per-class bias search."""

import numpy as np

from benchmarks.decision_levers import balanced_recall, fit_class_bias, warp
from fer_engine.labels import EMOTIONS, NEUTRAL

FEAR = EMOTIONS.index("fear")


def _under_called_fear(n_per_class: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities that are right for every class but fear, whose faces lean to "neutral"."""
    truth = np.repeat(np.arange(len(EMOTIONS)), n_per_class)
    probs = np.full((len(truth), len(EMOTIONS)), 0.05)
    probs[np.arange(len(truth)), truth] = 0.7
    fear = truth == FEAR
    probs[fear, FEAR], probs[fear, NEUTRAL] = 0.3, 0.45
    return probs / probs.sum(axis=1, keepdims=True), truth


def test_balanced_recall_weighs_every_class_alike():
    probs, truth = _under_called_fear()
    # Six classes fully right, fear never.
    assert balanced_recall(probs, truth) == 6 / 7
    rare = np.concatenate([truth[truth != FEAR], truth[truth == FEAR][:3]])
    rare_probs = np.concatenate([probs[truth != FEAR], probs[truth == FEAR][:3]])
    assert balanced_recall(rare_probs, rare) == 6 / 7  # not diluted by how few fear faces there are


def test_bias_search_lifts_the_class_the_model_under_calls():
    probs, truth = _under_called_fear()
    bias = fit_class_bias([(probs, truth)], balanced_recall)
    assert np.exp(bias[FEAR] - bias[NEUTRAL]) > 0.45 / 0.3  # fear now beats neutral on fear faces
    assert balanced_recall(probs * np.exp(bias), truth) == 1.0


def test_views_shift_zoom_and_keep_the_face():
    crops = np.zeros((1, 48, 48), np.uint8)
    crops[0, 20:28, 20:28] = 255
    assert np.array_equal(warp(crops, 1.0, 0, 0, 0), crops)
    moved = warp(crops, 1.0, 2, 0, 0)[0]
    assert moved[20:28, 22:30].min() == 255 and moved[20:28, 20:22].max() == 0
    zoomed = warp(crops, 1.5, 0, 0, 0)[0]
    assert (zoomed > 128).sum() > (crops[0] > 128).sum()
