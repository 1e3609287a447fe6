"""The Telegram side of MoodLens: handlers, button data, rate limits, history charts and the entry point.

Data flows one way: a Telegram update -> a handler in ``bot.handlers`` -> fer_engine / dialogs / catalog /
storage -> a reply.  The lower layers never import ``bot``.
"""
