"""Curated catalog of movies, songs, books and activities, and a pure recommender over it."""

from catalog.loader import LINK_TEMPLATES, Catalog, CatalogError, build_link, load_catalog
from catalog.models import EMOTIONS, INTENTS, KINDS, MIXED, MOODS, Item
from catalog.recommender import MAX_COUNT, MIN_COUNT, recommend, score_items

__all__ = [
    "EMOTIONS",
    "INTENTS",
    "KINDS",
    "MIXED",
    "MOODS",
    "LINK_TEMPLATES",
    "MAX_COUNT",
    "MIN_COUNT",
    "Catalog",
    "CatalogError",
    "Item",
    "build_link",
    "load_catalog",
    "recommend",
    "score_items",
]
