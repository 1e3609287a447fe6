"""Command line: ``python -m fer_engine {train,evaluate,analyze,video} ...``."""

from fer_engine.cli import main

raise SystemExit(main())
