"""A local stand-in for the Telegram Bot API plus a control API to act as users (see sandbox.server)."""

from sandbox.server import RunningServer, create_app, start_server
from sandbox.state import ApiError, Event, Message, SandboxConfig, SandboxState

__all__ = [
    "ApiError",
    "Event",
    "Message",
    "RunningServer",
    "SandboxConfig",
    "SandboxState",
    "create_app",
    "start_server",
]
