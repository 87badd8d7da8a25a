"""How the conformance suite sets up each provider: its fake, base URL, options, credential."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class ProviderSetup:
    base_path: str = ""
    options: dict[str, str] = field(default_factory=dict)
    credential: str = ""
    saw_auth_prefix: str = ""  # what the fake must have seen in its auth header
    embedding_model: str = ""  # upstream model for embeddings when chat models cannot embed


def service_account_json(token_uri: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return json.dumps({
        "type": "service_account", "project_id": "omg-test", "private_key_id": "k1",
        "private_key": pem, "client_email": "gateway@omg-test.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": token_uri,
    })


AWS_CREDENTIAL = json.dumps({"access_key_id": "AKIDEXAMPLE",
                             "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"})


def provider_setup(provider: str, fake_url: str) -> ProviderSetup:
    """`fake_url` is http://127.0.0.1:PORT of the provider's fake."""
    bearer = f"key-{provider}"
    setups = {
        "openai": ProviderSetup("/v1", credential=bearer, saw_auth_prefix=f"Bearer {bearer}"),
        "azure": ProviderSetup("", {"api_version": "2024-10-21"}, bearer, bearer),
        "mistral": ProviderSetup("/v1", credential=bearer, saw_auth_prefix=f"Bearer {bearer}"),
        "groq": ProviderSetup("/openai/v1", credential=bearer,
                              saw_auth_prefix=f"Bearer {bearer}"),
        "openrouter": ProviderSetup("/api/v1", credential=bearer,
                                    saw_auth_prefix=f"Bearer {bearer}"),
        "cerebras": ProviderSetup("/v1", credential=bearer, saw_auth_prefix=f"Bearer {bearer}"),
        "gemini": ProviderSetup("", credential=bearer, saw_auth_prefix=bearer),
        "vertex": ProviderSetup("", {"project": "omg-test", "location": "us-central1"},
                                service_account_json(f"{fake_url}/token"), "Bearer ya29.fake-"),
        "anthropic": ProviderSetup("", {"anthropic_version": "2023-06-01"}, bearer, bearer),
        "bedrock": ProviderSetup("", {"region": "us-east-1"}, AWS_CREDENTIAL,
                                 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/",
                                 embedding_model="amazon.titan-embed-text-v2:0"),
    }
    return setups[provider]
