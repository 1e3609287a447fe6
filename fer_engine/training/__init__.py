"""Training, augmentation and export of the emotion CNN: everything that needs TensorFlow.

Serving (``fer_engine`` itself: decode, detect, align, crop, classify, quality) never imports
this package, so the bot runs on LiteRT alone.
"""
