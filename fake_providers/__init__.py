"""Fake upstream providers speaking each provider's real wire format (shipped, tested code).

Run one with ``python -m fake_providers <provider> --port N``. Each fake validates requests
like the real provider, answers deterministically (see `fake_providers.script`), takes the
``x-mock-*`` knobs of `mock_provider.knobs` plus a few of its own, and echoes the credential
header it saw in ``x-mock-saw-auth`` so tests can prove credential injection.
"""

from __future__ import annotations

from collections.abc import Callable

from fake_providers import anthropic, bedrock, gemini, openai_compat
from fake_providers.asgi import ASGIApp

FAKES: dict[str, Callable[[], ASGIApp]] = {}
# Google Gemini: one fake serves both the AI Studio and the Vertex AI paths.
FAKES["gemini"] = gemini.create_app
FAKES["vertex"] = gemini.create_app
# OpenAI-compatible family: one parameterised fake.
for _flavor in openai_compat.FLAVORS:
    FAKES[_flavor] = openai_compat.app_factory(_flavor)
FAKES["anthropic"] = anthropic.create_app
FAKES["bedrock"] = bedrock.create_app
