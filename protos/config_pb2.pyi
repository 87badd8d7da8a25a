from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ApiKey(_message.Message):
    __slots__ = ("id", "key_hash", "tenant_id", "expires_at_ms", "allowed_models", "name", "rpm_limit", "tpm_limit", "user_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    KEY_HASH_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    key_hash: str
    tenant_id: str
    expires_at_ms: int
    allowed_models: _containers.RepeatedScalarFieldContainer[str]
    name: str
    rpm_limit: int
    tpm_limit: int
    user_id: str
    def __init__(self, id: _Optional[str] = ..., key_hash: _Optional[str] = ..., tenant_id: _Optional[str] = ..., expires_at_ms: _Optional[int] = ..., allowed_models: _Optional[_Iterable[str]] = ..., name: _Optional[str] = ..., rpm_limit: _Optional[int] = ..., tpm_limit: _Optional[int] = ..., user_id: _Optional[str] = ...) -> None: ...

class TenantLimits(_message.Message):
    __slots__ = ("tenant_id", "rpm_limit", "tpm_limit")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    rpm_limit: int
    tpm_limit: int
    def __init__(self, tenant_id: _Optional[str] = ..., rpm_limit: _Optional[int] = ..., tpm_limit: _Optional[int] = ...) -> None: ...

class Price(_message.Message):
    __slots__ = ("effective_from_ms", "input", "output", "cached_input", "reasoning")
    EFFECTIVE_FROM_MS_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    CACHED_INPUT_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    effective_from_ms: int
    input: int
    output: int
    cached_input: int
    reasoning: int
    def __init__(self, effective_from_ms: _Optional[int] = ..., input: _Optional[int] = ..., output: _Optional[int] = ..., cached_input: _Optional[int] = ..., reasoning: _Optional[int] = ...) -> None: ...

class Budget(_message.Message):
    __slots__ = ("id", "tenant_id", "scope", "subject_id", "limit_pico", "period", "timezone", "override_limit_pico", "override_expires_at_ms", "seed_spent_pico", "seed_period_start_ms")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PICO_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_LIMIT_PICO_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SEED_SPENT_PICO_FIELD_NUMBER: _ClassVar[int]
    SEED_PERIOD_START_MS_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    scope: str
    subject_id: str
    limit_pico: int
    period: str
    timezone: str
    override_limit_pico: int
    override_expires_at_ms: int
    seed_spent_pico: int
    seed_period_start_ms: int
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., scope: _Optional[str] = ..., subject_id: _Optional[str] = ..., limit_pico: _Optional[int] = ..., period: _Optional[str] = ..., timezone: _Optional[str] = ..., override_limit_pico: _Optional[int] = ..., override_expires_at_ms: _Optional[int] = ..., seed_spent_pico: _Optional[int] = ..., seed_period_start_ms: _Optional[int] = ...) -> None: ...

class Deployment(_message.Message):
    __slots__ = ("id", "name", "model", "provider", "base_url", "upstream_model", "credential", "weight", "priority", "timeout_s", "cluster", "options", "context_window", "prices")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_MODEL_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    PRICES_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    model: str
    provider: str
    base_url: str
    upstream_model: str
    credential: str
    weight: int
    priority: int
    timeout_s: float
    cluster: str
    options: _containers.ScalarMap[str, str]
    context_window: int
    prices: _containers.RepeatedCompositeFieldContainer[Price]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., base_url: _Optional[str] = ..., upstream_model: _Optional[str] = ..., credential: _Optional[str] = ..., weight: _Optional[int] = ..., priority: _Optional[int] = ..., timeout_s: _Optional[float] = ..., cluster: _Optional[str] = ..., options: _Optional[_Mapping[str, str]] = ..., context_window: _Optional[int] = ..., prices: _Optional[_Iterable[_Union[Price, _Mapping]]] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("name", "created_at_ms", "owned_by", "aliases", "retry_on", "num_retries")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    OWNED_BY_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    RETRY_ON_FIELD_NUMBER: _ClassVar[int]
    NUM_RETRIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    created_at_ms: int
    owned_by: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    retry_on: str
    num_retries: int
    def __init__(self, name: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., owned_by: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ..., retry_on: _Optional[str] = ..., num_retries: _Optional[int] = ...) -> None: ...

class ConfigUpdate(_message.Message):
    __slots__ = ("version", "full", "upsert_keys", "delete_keys", "upsert_deployments", "delete_deployments", "upsert_models", "delete_models", "upsert_tenant_limits", "delete_tenant_limits", "upsert_budgets", "delete_budgets")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FULL_FIELD_NUMBER: _ClassVar[int]
    UPSERT_KEYS_FIELD_NUMBER: _ClassVar[int]
    DELETE_KEYS_FIELD_NUMBER: _ClassVar[int]
    UPSERT_DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    DELETE_DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    UPSERT_MODELS_FIELD_NUMBER: _ClassVar[int]
    DELETE_MODELS_FIELD_NUMBER: _ClassVar[int]
    UPSERT_TENANT_LIMITS_FIELD_NUMBER: _ClassVar[int]
    DELETE_TENANT_LIMITS_FIELD_NUMBER: _ClassVar[int]
    UPSERT_BUDGETS_FIELD_NUMBER: _ClassVar[int]
    DELETE_BUDGETS_FIELD_NUMBER: _ClassVar[int]
    version: str
    full: bool
    upsert_keys: _containers.RepeatedCompositeFieldContainer[ApiKey]
    delete_keys: _containers.RepeatedScalarFieldContainer[str]
    upsert_deployments: _containers.RepeatedCompositeFieldContainer[Deployment]
    delete_deployments: _containers.RepeatedScalarFieldContainer[str]
    upsert_models: _containers.RepeatedCompositeFieldContainer[Model]
    delete_models: _containers.RepeatedScalarFieldContainer[str]
    upsert_tenant_limits: _containers.RepeatedCompositeFieldContainer[TenantLimits]
    delete_tenant_limits: _containers.RepeatedScalarFieldContainer[str]
    upsert_budgets: _containers.RepeatedCompositeFieldContainer[Budget]
    delete_budgets: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, version: _Optional[str] = ..., full: _Optional[bool] = ..., upsert_keys: _Optional[_Iterable[_Union[ApiKey, _Mapping]]] = ..., delete_keys: _Optional[_Iterable[str]] = ..., upsert_deployments: _Optional[_Iterable[_Union[Deployment, _Mapping]]] = ..., delete_deployments: _Optional[_Iterable[str]] = ..., upsert_models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ..., delete_models: _Optional[_Iterable[str]] = ..., upsert_tenant_limits: _Optional[_Iterable[_Union[TenantLimits, _Mapping]]] = ..., delete_tenant_limits: _Optional[_Iterable[str]] = ..., upsert_budgets: _Optional[_Iterable[_Union[Budget, _Mapping]]] = ..., delete_budgets: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    def __init__(self, node_id: _Optional[str] = ...) -> None: ...
