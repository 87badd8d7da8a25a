from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UsageRecord(_message.Message):
    __slots__ = ("request_id", "created_at_ms", "tenant_id", "api_key_id", "model", "deployment_id", "provider", "status", "prompt_tokens", "completion_tokens", "total_tokens", "latency_ms", "ttft_ms", "stream", "endpoint", "error_type", "cached_tokens", "reasoning_tokens", "attempts", "cost_pico", "refused_by_budget")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    API_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    ERROR_TYPE_FIELD_NUMBER: _ClassVar[int]
    CACHED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REASONING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    COST_PICO_FIELD_NUMBER: _ClassVar[int]
    REFUSED_BY_BUDGET_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    created_at_ms: int
    tenant_id: str
    api_key_id: str
    model: str
    deployment_id: str
    provider: str
    status: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    latency_ms: float
    ttft_ms: float
    stream: bool
    endpoint: str
    error_type: str
    cached_tokens: int
    reasoning_tokens: int
    attempts: int
    cost_pico: int
    refused_by_budget: str
    def __init__(self, request_id: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., tenant_id: _Optional[str] = ..., api_key_id: _Optional[str] = ..., model: _Optional[str] = ..., deployment_id: _Optional[str] = ..., provider: _Optional[str] = ..., status: _Optional[int] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., total_tokens: _Optional[int] = ..., latency_ms: _Optional[float] = ..., ttft_ms: _Optional[float] = ..., stream: _Optional[bool] = ..., endpoint: _Optional[str] = ..., error_type: _Optional[str] = ..., cached_tokens: _Optional[int] = ..., reasoning_tokens: _Optional[int] = ..., attempts: _Optional[int] = ..., cost_pico: _Optional[int] = ..., refused_by_budget: _Optional[str] = ...) -> None: ...

class FailedAttempt(_message.Message):
    __slots__ = ("request_id", "created_at_ms", "deployment_id", "provider", "model", "status", "latency_ms")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    created_at_ms: int
    deployment_id: str
    provider: str
    model: str
    status: int
    latency_ms: float
    def __init__(self, request_id: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., deployment_id: _Optional[str] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., status: _Optional[int] = ..., latency_ms: _Optional[float] = ...) -> None: ...

class UsageBatch(_message.Message):
    __slots__ = ("records", "failed_attempts")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    FAILED_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[UsageRecord]
    failed_attempts: _containers.RepeatedCompositeFieldContainer[FailedAttempt]
    def __init__(self, records: _Optional[_Iterable[_Union[UsageRecord, _Mapping]]] = ..., failed_attempts: _Optional[_Iterable[_Union[FailedAttempt, _Mapping]]] = ...) -> None: ...

class UsageAck(_message.Message):
    __slots__ = ("inserted", "duplicates")
    INSERTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    inserted: int
    duplicates: int
    def __init__(self, inserted: _Optional[int] = ..., duplicates: _Optional[int] = ...) -> None: ...
