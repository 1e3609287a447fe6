"""Generated images with no face in them (a screenshot, textures), for tests and benchmarks."""

from __future__ import annotations

import cv2
import numpy as np


def screenshot(width: int = 900, height: int = 1600) -> np.ndarray:
    """A phone-screenshot-like image: a header bar, chat bubbles and lines of text."""
    image = np.full((height, width, 3), 245, np.uint8)
    cv2.rectangle(image, (0, 0), (width, 140), (120, 80, 40), -1)
    cv2.putText(image, "Chats  12:41", (30, 95), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (255, 255, 255), 4)
    rng = np.random.default_rng(7)
    y = 200
    while y < height - 150:
        left = bool(rng.integers(0, 2))
        x0 = 40 if left else width // 3
        cv2.rectangle(image, (x0, y), (x0 + width // 2, y + 110), (230, 230, 230) if left else (200, 240, 200), -1)
        words = " ".join(rng.choice(["hello", "see you", "at 5", "ok!", "lunch?", "sure", "the report"], 3))
        cv2.putText(image, words, (x0 + 20, y + 70), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (30, 30, 30), 3)
        y += 170
    return image


def textures() -> dict[str, np.ndarray]:
    """A few face-free scenes: flat grey, noise, gradient, checkerboard, random shapes."""
    rng = np.random.default_rng(3)
    gradient = np.tile(np.linspace(0, 255, 800, dtype=np.uint8), (600, 1))
    checker = ((np.indices((600, 800)) // 50).sum(axis=0) % 2 * 255).astype(np.uint8)
    shapes = np.full((600, 800, 3), 200, np.uint8)
    for _ in range(25):
        centre = tuple(int(v) for v in rng.integers(0, 800, 2))
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.circle(shapes, centre, int(rng.integers(10, 90)), colour, -1)
    return {
        "grey": np.full((480, 640, 3), 128, np.uint8),
        "noise": rng.integers(0, 256, (480, 640, 3), dtype=np.uint8),
        "gradient": cv2.cvtColor(gradient, cv2.COLOR_GRAY2BGR),
        "checkerboard": cv2.cvtColor(checker, cv2.COLOR_GRAY2BGR),
        "shapes": shapes,
        "screenshot": screenshot(),
    }
