"""``python -m sandbox``: run the Telegram Bot API sandbox until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os

from sandbox.server import start_server
from sandbox.state import DEFAULT_TOKEN

log = logging.getLogger("sandbox")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults also from SANDBOX_* environment variables)."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8081")))
    parser.add_argument("--token", default=os.environ.get("SANDBOX_TOKEN", DEFAULT_TOKEN))
    parser.add_argument("--max-upload-mb", type=float, default=50.0)
    parser.add_argument("--no-privacy", action="store_true", help="deliver every group message to the bot")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Start the server and wait forever."""
    server = await start_server(
        args.host,
        args.port,
        token=args.token,
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        privacy_mode=not args.no_privacy,
    )
    log.info("bot base_url:      %s", server.base_url)
    log.info("bot base_file_url: %s", server.base_file_url)
    log.info("control API:       %s/sandbox/status", server.url)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
