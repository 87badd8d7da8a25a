"""Which credential scheme each provider uses, and the headers it produces per attempt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ext_proc.credentials.gcp import TokenSource
from ext_proc.credentials.sigv4 import AwsCredentials, parse_aws_credentials, sigv4_headers

BEARER = "bearer"
AWS_SIGV4 = "aws-sigv4"
GCP_OAUTH = "gcp-oauth"

# provider -> scheme: a header name carries the key as is, or one of the schemes above.
SCHEMES: dict[str, str] = {
    "openai": BEARER,
    "mistral": BEARER,
    "groq": BEARER,
    "openrouter": BEARER,
    "cerebras": BEARER,
    "azure": "api-key",
    "anthropic": "x-api-key",
    "gemini": "x-goog-api-key",
    "vertex": GCP_OAUTH,
    "bedrock": AWS_SIGV4,
}


class UnknownScheme(KeyError):
    pass


def scheme_for(provider: str) -> str:
    try:
        return SCHEMES[provider]
    except KeyError:
        raise UnknownScheme(f"no credential scheme for provider {provider!r}") from None


@dataclass(frozen=True, slots=True)
class UpstreamAuth:
    """A deployment's credential, parsed once per config version."""

    scheme: str
    secret: str
    region: str = ""
    aws: AwsCredentials | None = None
    tokens: TokenSource | None = None

    def static_headers(self) -> tuple[tuple[str, str], ...]:
        if not self.secret or self.scheme in (AWS_SIGV4, GCP_OAUTH):
            return ()
        if self.scheme == BEARER:
            return (("authorization", f"Bearer {self.secret}"),)
        return ((self.scheme, self.secret),)

    async def headers(
        self, *, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[tuple[str, str], ...]:
        """Credential headers for one attempt (SigV4 signs the final URL, headers and body)."""
        if self.aws is not None:
            return sigv4_headers(self.aws, region=self.region, service="bedrock", method=method,
                                 url=url, headers=headers, body=body)
        if self.tokens is not None:
            return (("authorization", f"Bearer {await self.tokens.token()}"),)
        return self.static_headers()


def build_auth(
    provider: str, secret: str, options: Mapping[str, str], tokens: dict[str, TokenSource]
) -> UpstreamAuth:
    """`tokens` caches GCP token sources by secret so a config update keeps cached tokens.

    Azure takes its key in `api-key`, or an Entra ID token as a bearer (`auth=entra`).
    """
    scheme = scheme_for(provider)
    if provider == "azure" and options.get("auth") == "entra":
        scheme = BEARER
    region = options.get("region", "")
    if not secret:
        return UpstreamAuth(scheme, "")
    if scheme == AWS_SIGV4:
        return UpstreamAuth(scheme, secret, region, aws=parse_aws_credentials(secret))
    if scheme == GCP_OAUTH:
        source = tokens.get(secret) or TokenSource(secret)
        tokens[secret] = source
        return UpstreamAuth(scheme, secret, tokens=source)
    return UpstreamAuth(scheme, secret)
