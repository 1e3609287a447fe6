"""Telegram update handlers, one module per job; ``bot.app`` registers them."""
