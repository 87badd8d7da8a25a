"""The declarative config file of `omg apply` / `omg export` (YAML), as plain comparable data.

Pure: text and environment in, a `GatewayConfig` out (and back). A config is, per section, a
mapping from each object's identity to its fields; fields starting with `_` are bookkeeping
(ids, fingerprints) and never compared. Secrets are never written: a deployment's credential
is an environment reference, `api_key: ${OPENAI_API_KEY}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from control_plane.crypto import fingerprint
from omg_common.money import micro_to_price, price_to_micro

SECTIONS = ("models", "deployments", "users", "tenants", "memberships", "key_policies")
GatewayConfig = dict[str, dict[str, dict[str, Any]]]
_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
PERSONAL_PREFIX = "personal:"


class ConfigError(ValueError):
    pass


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSpec(_Spec):
    name: str
    owned_by: str = "omg"
    aliases: list[str] = Field(default_factory=list)
    retry_on: str = Field(default="", description="fail-over retry conditions; empty: default")
    num_retries: int | None = Field(default=None, ge=0, le=10)


class PriceSpec(_Spec):
    """USD per million tokens; `omg apply` adds a new price version when it changes."""

    input: str
    output: str
    cached_input: str | None = None
    reasoning: str | None = None

    @field_validator("input", "output", "cached_input", "reasoning", mode="before")
    @classmethod
    def _canonical(cls, value: Any) -> Any:
        # "2.50", 2.5 and "2.5" are one price; compare them as the API writes them.
        return None if value is None else micro_to_price(price_to_micro(str(value)))


class DeploymentSpec(_Spec):
    name: str
    model: str
    provider: str = "openai"
    base_url: str
    upstream_model: str = ""
    api_key: str = Field(default="", description="a ${ENV_VAR} reference (or a literal)")
    options: dict[str, str] = Field(default_factory=dict)
    weight: int = 1

    @field_validator("options", mode="before")
    @classmethod
    def _scalars_as_text(cls, value: Any) -> Any:
        # YAML reads `api_version: 2024-10-21` as a date; options are text for the provider.
        if isinstance(value, dict):
            return {k: v if isinstance(v, str) else str(v) for k, v in value.items()}
        return value
    priority: int = 0
    timeout_s: float = 600.0
    context_window: int | None = Field(default=None, ge=1)
    enabled: bool = True
    price: PriceSpec | None = None  # None: prices are not managed by the file


class UserSpec(_Spec):
    name: str
    email: str = ""
    platform_role: str | None = None


class TenantSpec(_Spec):
    name: str
    rpm_limit: int | None = Field(default=None, ge=1)
    tpm_limit: int | None = Field(default=None, ge=1)


class MembershipSpec(_Spec):
    tenant: str
    user: str
    role: str


class KeyPolicySpec(_Spec):
    tenant: str
    user: str | None = None
    max_keys: int | None = None
    max_rpm: int | None = None
    max_tpm: int | None = None
    allowed_models: list[str] = Field(default_factory=list)


class ConfigFile(_Spec):
    models: list[ModelSpec] = Field(default_factory=list)
    deployments: list[DeploymentSpec] = Field(default_factory=list)
    users: list[UserSpec] = Field(default_factory=list)
    tenants: list[TenantSpec] = Field(default_factory=list)
    memberships: list[MembershipSpec] = Field(default_factory=list)
    key_policies: list[KeyPolicySpec] = Field(default_factory=list)


def membership_key(tenant: str, user: str) -> str:
    return f"{tenant}/{user}"


def policy_key(tenant: str, user: str | None) -> str:
    return f"{tenant}/{user}" if user else tenant


def expand(text: str, env: Mapping[str, str], where: str) -> str:
    def value(match: re.Match[str]) -> str:
        if match.group(1) not in env:
            raise ConfigError(f"{where}: environment variable {match.group(1)} is not set")
        return env[match.group(1)]

    return _REF.sub(value, text)


def _expand_all(data: Any, env: Mapping[str, str], where: str) -> Any:
    if isinstance(data, dict):
        return {k: (v if (where.startswith("deployments[") and k == "api_key")
                    else _expand_all(v, env, f"{where}.{k}" if where else str(k)))
                for k, v in data.items()}
    if isinstance(data, list):
        return [_expand_all(v, env, f"{where}[{i}]") for i, v in enumerate(data)]
    return expand(data, env, where) if isinstance(data, str) else data


def credential(raw: str, env: Mapping[str, str]) -> dict[str, Any]:
    """What a deployment's `api_key` says: the variable it names, and its value if known."""
    whole = _REF.fullmatch(raw)
    if whole:
        name = whole.group(1)
        value = env.get(name)
        return {"api_key_env": name, "_api_key": value,
                "_fingerprint": None if value is None else fingerprint(value)}
    known = all(m.group(1) in env for m in _REF.finditer(raw))
    value = _REF.sub(lambda m: env.get(m.group(1), ""), raw) if known else None
    return {"api_key_env": "", "_api_key": value,
            "_fingerprint": None if value is None else fingerprint(value)}


def _deployment(spec: DeploymentSpec, env: Mapping[str, str]) -> dict[str, Any]:
    fields = spec.model_dump(exclude={"api_key"})
    fields["base_url"] = fields["base_url"].rstrip("/")
    return {**fields, **credential(spec.api_key, env)}


def _unique(section: str, keys: list[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise ConfigError(f"{section}: {key!r} is declared twice")
        seen.add(key)


def _validated(data: Any) -> ConfigFile:
    try:
        return ConfigFile.model_validate(data or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {first['msg']}") from None


def config_from_file(parsed: ConfigFile, env: Mapping[str, str]) -> GatewayConfig:
    config: GatewayConfig = {
        "models": {m.name: {**m.model_dump(), "aliases": sorted(m.aliases)}
                   for m in parsed.models},
        "deployments": {d.name: _deployment(d, env) for d in parsed.deployments},
        "users": {u.name: u.model_dump() for u in parsed.users},
        "tenants": {t.name: t.model_dump() for t in parsed.tenants},
        # A user's ownership of their personal tenant is implied, never declared.
        "memberships": {membership_key(m.tenant, m.user): m.model_dump()
                        for m in parsed.memberships
                        if m.tenant != f"{PERSONAL_PREFIX}{m.user}"},
        "key_policies": {policy_key(p.tenant, p.user): {**p.model_dump(),
                                                        "allowed_models": sorted(p.allowed_models)}
                         for p in parsed.key_policies},
    }
    return config


def load_config(text: str, env: Mapping[str, str]) -> GatewayConfig:
    """Parse, expand `${VAR}` references, validate; raise ConfigError with where and why."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {' '.join(str(exc).split())}") from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping of sections")
    parsed = _validated(_expand_all(data or {}, env, ""))
    _unique("models", [m.name for m in parsed.models])
    _unique("deployments", [d.name for d in parsed.deployments])
    _unique("users", [u.name for u in parsed.users])
    _unique("tenants", [t.name for t in parsed.tenants])
    _unique("memberships", [membership_key(m.tenant, m.user) for m in parsed.memberships])
    _unique("key_policies", [policy_key(p.tenant, p.user) for p in parsed.key_policies])
    return config_from_file(parsed, env)


def placeholder_env(deployment_name: str) -> str:
    return "OMG_DEPLOYMENT_" + re.sub(r"[^A-Za-z0-9]", "_", deployment_name).upper() + "_API_KEY"


def _export_deployment(fields: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in fields.items() if not k.startswith("_") and k != "api_key_env"
           and not (k == "price" and v is None)}
    env = fields.get("api_key_env") or (placeholder_env(fields["name"])
                                        if fields.get("_fingerprint") else "")
    out["api_key"] = f"${{{env}}}" if env else ""
    return out


def export_document(config: GatewayConfig) -> dict[str, list[dict[str, Any]]]:
    """The file form of a config, in a stable order, without bookkeeping fields or secrets."""
    document: dict[str, list[dict[str, Any]]] = {}
    for section in SECTIONS:
        rows = [config[section][key] for key in sorted(config[section])]
        if section == "deployments":
            document[section] = [_export_deployment(r) for r in rows]
        else:
            document[section] = [{k: v for k, v in r.items() if not k.startswith("_")}
                                 for r in rows]
    return document


def dump_yaml(config: GatewayConfig) -> str:
    return yaml.safe_dump(export_document(config), sort_keys=False, default_flow_style=False)
