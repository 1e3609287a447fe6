"""Face detector back-ends.  Each ``detect(image, settings)`` returns raw candidate boxes in the
pixels of the image it was given; ``fer_engine.faces`` picks a back-end, scales and sorts."""
