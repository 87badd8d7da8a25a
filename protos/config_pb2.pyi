from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ApiKey(_message.Message):
    __slots__ = ("id", "key_hash", "tenant_id", "expires_at_ms", "allowed_models", "name", "rpm_limit", "tpm_limit")
    ID_FIELD_NUMBER: _ClassVar[int]
    KEY_HASH_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    id: str
    key_hash: str
    tenant_id: str
    expires_at_ms: int
    allowed_models: _containers.RepeatedScalarFieldContainer[str]
    name: str
    rpm_limit: int
    tpm_limit: int
    def __init__(self, id: _Optional[str] = ..., key_hash: _Optional[str] = ..., tenant_id: _Optional[str] = ..., expires_at_ms: _Optional[int] = ..., allowed_models: _Optional[_Iterable[str]] = ..., name: _Optional[str] = ..., rpm_limit: _Optional[int] = ..., tpm_limit: _Optional[int] = ...) -> None: ...

class TenantLimits(_message.Message):
    __slots__ = ("tenant_id", "rpm_limit", "tpm_limit")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    rpm_limit: int
    tpm_limit: int
    def __init__(self, tenant_id: _Optional[str] = ..., rpm_limit: _Optional[int] = ..., tpm_limit: _Optional[int] = ...) -> None: ...

class Deployment(_message.Message):
    __slots__ = ("id", "name", "model", "provider", "base_url", "upstream_model", "credential", "weight", "priority", "timeout_s", "cluster", "options", "context_window")
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
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., base_url: _Optional[str] = ..., upstream_model: _Optional[str] = ..., credential: _Optional[str] = ..., weight: _Optional[int] = ..., priority: _Optional[int] = ..., timeout_s: _Optional[float] = ..., cluster: _Optional[str] = ..., options: _Optional[_Mapping[str, str]] = ..., context_window: _Optional[int] = ...) -> None: ...

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
    __slots__ = ("version", "full", "upsert_keys", "delete_keys", "upsert_deployments", "delete_deployments", "upsert_models", "delete_models", "upsert_tenant_limits", "delete_tenant_limits")
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
    def __init__(self, version: _Optional[str] = ..., full: _Optional[bool] = ..., upsert_keys: _Optional[_Iterable[_Union[ApiKey, _Mapping]]] = ..., delete_keys: _Optional[_Iterable[str]] = ..., upsert_deployments: _Optional[_Iterable[_Union[Deployment, _Mapping]]] = ..., delete_deployments: _Optional[_Iterable[str]] = ..., upsert_models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ..., delete_models: _Optional[_Iterable[str]] = ..., upsert_tenant_limits: _Optional[_Iterable[_Union[TenantLimits, _Mapping]]] = ..., delete_tenant_limits: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    def __init__(self, node_id: _Optional[str] = ...) -> None: ...
