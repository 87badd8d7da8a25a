"""OpenAI's x-ratelimit-* response headers, shared by ext_proc (values) and xDS (route config).

ext_proc does not see response headers (the filter SKIPs them to save one gRPC message per
request): it puts each value into the request's dynamic metadata under `QUOTA_NAMESPACE`,
and the route table adds the headers from there (an absent value adds no header).
"""

from __future__ import annotations

QUOTA_NAMESPACE = "omg"
QUOTA_KINDS = ("requests", "tokens")
QUOTA_FIELDS = ("limit", "remaining", "reset")
QUOTA_HEADER_NAMES = tuple(
    f"x-ratelimit-{field}-{kind}" for kind in QUOTA_KINDS for field in QUOTA_FIELDS
)
