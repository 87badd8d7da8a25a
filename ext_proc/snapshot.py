"""The compiled runtime configuration: immutable, replaced whole by reference.

`apply_update` is pure: it takes a snapshot and one `ConfigUpdate` and returns the next
snapshot. Readers take `holder.current` once per stream and never see a half-applied update.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ext_proc.budget import BudgetRule
from ext_proc.credentials.gcp import TokenSource
from ext_proc.credentials.schemes import UpstreamAuth, build_auth
from ext_proc.pricing import Price
from ext_proc.ratelimit import LimitPlan, plan_for
from ext_proc.translators.base import Target
from omg_common.providers import PASSTHROUGH_PROVIDERS
from protos import config_pb2

log = logging.getLogger("omg.ext_proc.config")

@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: resolved from an API key at request headers."""

    key_id: str
    tenant_id: str
    expires_at_ms: int
    allowed_models: frozenset[str]
    rpm_limit: int = 0  # the key's own limits; 0: none
    tpm_limit: int = 0
    limits: LimitPlan | None = None  # the key's and its tenant's, compiled; None: unlimited
    user_id: str = ""  # the member of a personal key
    budgets: tuple[BudgetRule, ...] = ()  # the key's, its member's and its tenant's

    def may_use(self, model: str, aliases: tuple[str, ...] = ()) -> bool:
        """`model` is a canonical name. Allowing any name of a model (its canonical name or
        one of its aliases) allows the model under all its names."""
        allowed = self.allowed_models
        return not allowed or model in allowed or any(a in allowed for a in aliases)


@dataclass(frozen=True, slots=True)
class Deployment:
    id: str
    name: str
    model: str
    provider: str
    cluster: str
    upstream_model: str
    weight: int
    priority: int
    upstream_headers: tuple[tuple[str, str], ...]  # set by the router level (passthrough only)
    target: Target
    auth: UpstreamAuth
    host: str = ""
    scheme: str = "http"
    context_window: int = 0  # tokens; 0: unknown
    prices: tuple[Price, ...] = ()  # the version in force and later ones, oldest first

    @property
    def translated(self) -> bool:
        """Translated and credentialed per attempt by the upstream-level stream."""
        return self.provider not in PASSTHROUGH_PROVIDERS


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    created_at_ms: int
    owned_by: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuntimeSnapshot:
    version: str
    principals: Mapping[str, Principal]  # by key hash
    models: Mapping[str, ModelInfo]
    routes: Mapping[str, tuple[Deployment, ...]]  # canonical model -> enabled deployments
    key_hash_by_id: Mapping[str, str] = field(default_factory=dict)
    deployments: Mapping[str, Deployment] = field(default_factory=dict)
    tenant_limits: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # (rpm, tpm)
    canonical: Mapping[str, str] = field(default_factory=dict)  # name or alias -> model name

    def model_named(self, name: str) -> ModelInfo | None:
        """The model a public name (canonical or alias) stands for."""
        return self.models.get(self.canonical.get(name, name))
    budgets: Mapping[str, BudgetRule] = field(default_factory=dict)  # by budget id


EMPTY = RuntimeSnapshot("", MappingProxyType({}), MappingProxyType({}), MappingProxyType({}))


NO_LIMITS = (0, 0)


def principal_from_proto(
    key: config_pb2.ApiKey, tenant_limits: Mapping[str, tuple[int, int]] | None = None
) -> Principal:
    limits = (tenant_limits or {}).get(key.tenant_id, NO_LIMITS)
    return Principal(
        key.id, key.tenant_id, key.expires_at_ms, frozenset(key.allowed_models),
        key.rpm_limit, key.tpm_limit,
        plan_for(key.id, key.tenant_id, (key.rpm_limit, key.tpm_limit), limits),
        user_id=key.user_id,
    )


def with_tenant_limits(principal: Principal, limits: tuple[int, int]) -> Principal:
    plan = plan_for(principal.key_id, principal.tenant_id,
                    (principal.rpm_limit, principal.tpm_limit), limits)
    return replace(principal, limits=plan)


def base_url_split(base_url: str) -> tuple[str, str, str]:
    """(scheme, host[:port], path prefix without trailing slash)."""
    parts = urlsplit(base_url)
    return parts.scheme or "http", parts.netloc, parts.path.rstrip("/")


def deployment_from_proto(
    d: config_pb2.Deployment, tokens: dict[str, TokenSource] | None = None
) -> Deployment:
    scheme, host, base_path = base_url_split(d.base_url)
    options = dict(d.options)
    auth = build_auth(d.provider, d.credential, options, {} if tokens is None else tokens)
    passthrough = d.provider in PASSTHROUGH_PROVIDERS
    return Deployment(
        d.id, d.name, d.model, d.provider, d.cluster, d.upstream_model, d.weight, d.priority,
        upstream_headers=auth.static_headers() if passthrough else (),
        target=Target(d.provider, d.upstream_model, base_path, MappingProxyType(options)),
        auth=auth,
        host=host,
        scheme=scheme,
        context_window=d.context_window,
        prices=tuple(price_from_proto(p) for p in d.prices),
    )


def price_from_proto(p: config_pb2.Price) -> Price:
    return Price(p.effective_from_ms, p.input, p.output,
                 p.cached_input if p.HasField("cached_input") else None,
                 p.reasoning if p.HasField("reasoning") else None)


def _zone(name: str, budget_id: str) -> str:
    """The API only accepts IANA zones; one that is not (edited by hand) must not fail every
    request of the budget's keys, so it counts as UTC."""
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        log.error("budget %s: unknown time zone %r, periods counted in UTC", budget_id, name)
        return "UTC"
    return name


def budget_from_proto(b: config_pb2.Budget) -> BudgetRule:
    return BudgetRule(b.id, b.tenant_id, b.scope, b.subject_id, b.limit_pico, b.period,
                      _zone(b.timezone or "UTC", b.id), b.override_limit_pico,
                      b.override_expires_at_ms, b.seed_spent_pico, b.seed_period_start_ms)


def budgets_of(principal: Principal, rules: Iterable[BudgetRule]) -> tuple[BudgetRule, ...]:
    """The budgets one key answers to: its own, its member's (personal keys) and its tenant's."""
    key_id = principal.key_id.partition(":")[0]  # a rotated key's old secret shares them
    subjects = {("key", key_id), ("tenant", principal.tenant_id)}
    if principal.user_id:
        subjects.add(("user", principal.user_id))
    return tuple(r for r in rules if r.tenant_id == principal.tenant_id
                 and (r.scope, r.subject_id) in subjects)


def _budgets(
    snap: RuntimeSnapshot, update: config_pb2.ConfigUpdate
) -> tuple[dict[str, BudgetRule], bool]:
    """The merged budgets, and whether any changed."""
    base = {} if update.full else dict(snap.budgets)
    merged = _merge(base, ((b.id, budget_from_proto(b)) for b in update.upsert_budgets),
                    update.delete_budgets)
    return merged, merged != base  # type: ignore[return-value]


def _rebudget(
    principals: dict[str, Principal], rules: Mapping[str, BudgetRule], hashes: Iterable[str]
) -> None:
    """Recompile the budgets of these keys (all of them when budgets changed: that is rare)."""
    by_tenant: dict[str, list[BudgetRule]] = {}
    for rule in rules.values():
        by_tenant.setdefault(rule.tenant_id, []).append(rule)
    for key_hash in list(hashes):
        principal = principals.get(key_hash)
        if principal is None:
            continue
        found = budgets_of(principal, by_tenant.get(principal.tenant_id, ()))
        if found != principal.budgets:
            principals[key_hash] = replace(principal, budgets=found)


def _buildable(
    deployments: Iterable[config_pb2.Deployment], tokens: dict[str, TokenSource] | None
) -> Iterator[tuple[str, Deployment]]:
    """Deployments that can be built; one with an unusable credential is left out (logged),
    so it cannot stop every other change from applying."""
    for d in deployments:
        try:
            yield d.id, deployment_from_proto(d, tokens)
        except ValueError as exc:
            log.error("deployment %s (%s) left out of the config: %s", d.name, d.id, exc)


def _merge(
    base: Mapping[str, object], upserts: Iterable[tuple[str, object]], deletes: Iterable[str]
) -> dict[str, object]:
    merged = dict(base)
    for key in deletes:
        merged.pop(key, None)
    merged.update(upserts)
    return merged


def _routes(deployments: Mapping[str, Deployment]) -> dict[str, tuple[Deployment, ...]]:
    routes: dict[str, list[Deployment]] = {}
    for dep in deployments.values():
        routes.setdefault(dep.model, []).append(dep)
    return {m: tuple(sorted(deps, key=lambda d: (d.priority, d.id))) for m, deps in routes.items()}


def _canonical(models: Iterable[ModelInfo]) -> dict[str, str]:
    """Every alias to its model; names win over aliases (the admin API keeps them apart)."""
    names = {alias: m.name for m in models for alias in m.aliases}
    names.update((m.name, m.name) for m in models)
    return names


def _tenant_limits(
    snap: RuntimeSnapshot, update: config_pb2.ConfigUpdate
) -> tuple[dict[str, tuple[int, int]], frozenset[str]]:
    """The merged tenant limits, and the tenants whose limits changed."""
    base = {} if update.full else dict(snap.tenant_limits)
    merged = _merge(base, ((t.tenant_id, (t.rpm_limit, t.tpm_limit))
                           for t in update.upsert_tenant_limits), update.delete_tenant_limits)
    changed = frozenset(t for t in {*base, *merged} if base.get(t) != merged.get(t))
    return merged, changed  # type: ignore[return-value]


def _relimit(
    principals: dict[str, Principal], limits: Mapping[str, tuple[int, int]],
    tenants: frozenset[str],
) -> None:
    """Recompile the plans of the keys of tenants whose limits changed (rare: a full pass)."""
    if not tenants:
        return
    for key_hash, principal in principals.items():
        if principal.tenant_id in tenants:
            principals[key_hash] = with_tenant_limits(
                principal, limits.get(principal.tenant_id, NO_LIMITS))


def _principals(
    snap: RuntimeSnapshot, update: config_pb2.ConfigUpdate,
    tenant_limits: Mapping[str, tuple[int, int]], changed_tenants: frozenset[str],
) -> tuple[dict[str, Principal], dict[str, str]]:
    by_id = {} if update.full else dict(snap.key_hash_by_id)
    principals = {} if update.full else dict(snap.principals)
    _relimit(principals, tenant_limits, changed_tenants)
    for key_id in update.delete_keys:
        old_hash = by_id.pop(key_id, None)
        if old_hash is not None:
            principals.pop(old_hash, None)
    for key in update.upsert_keys:
        old_hash = by_id.get(key.id)
        if old_hash is not None:
            principals.pop(old_hash, None)
        by_id[key.id] = key.key_hash
        principals[key.key_hash] = principal_from_proto(key, tenant_limits)
    return principals, by_id


def apply_update(
    snap: RuntimeSnapshot,
    update: config_pb2.ConfigUpdate,
    tokens: dict[str, TokenSource] | None = None,
) -> RuntimeSnapshot:
    base = EMPTY if update.full else snap
    tenant_limits, changed_tenants = _tenant_limits(snap, update)
    principals, by_id = _principals(snap, update, tenant_limits, changed_tenants)
    budgets, budgets_changed = _budgets(snap, update)
    if budgets_changed:
        _rebudget(principals, budgets, principals.keys())
    elif budgets:
        _rebudget(principals, budgets, (k.key_hash for k in update.upsert_keys))
    deployments = _merge(
        base.deployments,
        _buildable(update.upsert_deployments, tokens),
        [*update.delete_deployments, *(d.id for d in update.upsert_deployments)],
    )
    models = _merge(
        base.models,
        ((m.name, ModelInfo(m.name, m.created_at_ms, m.owned_by, tuple(m.aliases)))
         for m in update.upsert_models),
        update.delete_models,
    )
    typed_deps: dict[str, Deployment] = deployments  # type: ignore[assignment]
    return RuntimeSnapshot(
        version=update.version,
        principals=MappingProxyType(principals),
        models=MappingProxyType(models),  # type: ignore[arg-type]
        routes=MappingProxyType(_routes(typed_deps)),
        key_hash_by_id=MappingProxyType(by_id),
        deployments=MappingProxyType(typed_deps),
        tenant_limits=MappingProxyType(tenant_limits),
        canonical=MappingProxyType(_canonical(models.values())),  # type: ignore[arg-type]
        budgets=MappingProxyType(budgets),
    )


class SnapshotHolder:
    """The one mutable cell: swapped by reference, read once per stream."""

    __slots__ = ("current", "ready", "tokens")

    def __init__(self) -> None:
        self.current: RuntimeSnapshot = EMPTY
        self.ready = False
        self.tokens: dict[str, TokenSource] = {}  # GCP token caches outlive config versions

    def apply(self, update: config_pb2.ConfigUpdate) -> None:
        self.current = apply_update(self.current, update, self.tokens)
        self.ready = True
