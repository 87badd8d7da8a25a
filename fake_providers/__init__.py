"""Fake upstream providers speaking each provider's real wire format, for demos and tests.

`FAKES` maps a provider name to a factory of its raw ASGI app; run one with
``python -m fake_providers <provider> --port N``.
"""

from __future__ import annotations

from collections.abc import Callable

from fake_providers import anthropic, bedrock
from fake_providers.asgi import ASGIApp

FAKES: dict[str, Callable[[], ASGIApp]] = {
    "anthropic": anthropic.create_app,
    "bedrock": bedrock.create_app,
}
