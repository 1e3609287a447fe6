"""Emotion label order and the mapping from FER2013 / FER+ annotations to training targets."""

from __future__ import annotations

import numpy as np

#: The fixed order of every probability vector this package returns (the FER2013 convention).
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES = len(EMOTIONS)
#: Index of "neutral", the answer a model falls back on when unsure: its share is watched on the dev sets.
NEUTRAL = EMOTIONS.index("neutral")

#: FER+ vote columns: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt,
#: unknown, not-a-face.  For each of our classes, the FER+ column that holds its votes.
FERPLUS_COLUMN_OF_CLASS: tuple[int, ...] = (4, 5, 6, 1, 3, 2, 0)
FERPLUS_EMOTION_COLUMNS = 7  # columns 7.. (contempt, unknown, not-a-face) have no class of ours


def ferplus_distribution(votes: np.ndarray) -> np.ndarray:
    """FER+ votes (N, 10) -> (N, 7) vote shares in our class order; rows without emotion votes are 0."""
    emotion_votes = votes[:, list(FERPLUS_COLUMN_OF_CLASS)].astype(np.float32)
    totals = emotion_votes.sum(axis=1, keepdims=True)
    return np.divide(emotion_votes, totals, out=np.zeros_like(emotion_votes), where=totals > 0)


def ferplus_majority(votes: np.ndarray) -> np.ndarray:
    """FER+ majority label in our class order, or -1 where the image has no usable majority.

    An image has no usable majority when its most voted FER+ column is contempt, unknown or
    not-a-face (our seven classes cannot express it) or when it got no emotion votes at all.
    Ties between emotions go to the first class in ``EMOTIONS`` order.
    """
    dist = ferplus_distribution(votes)
    labels = dist.argmax(axis=1)
    top_column = votes.argmax(axis=1)
    usable = (top_column < FERPLUS_EMOTION_COLUMNS) & (dist.sum(axis=1) > 0)
    return np.where(usable, labels, -1)


def mixed_targets(y: np.ndarray, votes: np.ndarray | None, ferplus_weight: float) -> np.ndarray:
    """Soft training targets: ``w`` x FER+ vote shares + ``(1 - w)`` x one-hot FER2013 label.

    Images without FER+ emotion votes fall back to the FER2013 label alone.
    """
    onehot = np.eye(NUM_CLASSES, dtype=np.float32)[y]
    if votes is None or ferplus_weight <= 0:
        return onehot
    dist = ferplus_distribution(votes)
    has_votes = dist.sum(axis=1, keepdims=True) > 0
    mixed = ferplus_weight * dist + (1.0 - ferplus_weight) * onehot
    return np.where(has_votes, mixed, onehot).astype(np.float32)
