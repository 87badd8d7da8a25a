"""Model aliases, `/v1/models` per key, and context windows, through the real stack."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from cli.gateway import mock_base_url
from tests.integration.conftest import Gateway, wait_for

pytestmark = pytest.mark.integration

USER = [{"role": "user", "content": "hello there"}]
NAMES = {"alias-canon", "alias-short", "alias-other"}


def create_model(admin: httpx.Client, gateway: Gateway, name: str, aliases: list[str],
                 **deployment: Any) -> None:
    response = admin.post("/api/v1/models", json={"name": name, "aliases": aliases})
    if response.status_code == 409:
        return  # an earlier test on this backend created it
    assert response.status_code == 201, response.text
    created = admin.post("/api/v1/deployments", json={
        "name": f"{name}-mock", "model": name, "upstream_model": "mock-gpt",
        "base_url": mock_base_url(gateway.settings), **deployment})
    assert created.status_code == 201, created.text


def key_for(admin: httpx.Client, allowed: list[str]) -> str:
    created = admin.post("/api/v1/tenants/demo/keys",
                         json={"name": f"only-{allowed[0]}", "allowed_models": allowed})
    assert created.status_code == 201, created.text
    return str(created.json()["secret"])


def listed(gateway: Gateway, key: str) -> set[str]:
    return {m.id for m in gateway.client(api_key=key).models.list()}


@pytest.fixture
def aliased(gateway: Gateway) -> Gateway:
    with gateway.admin() as admin:
        create_model(admin, gateway, "alias-canon", ["alias-short", "alias-other"])
    wait_for(lambda: {m.id for m in gateway.client().models.list()} >= NAMES, timeout=5)
    return gateway


def test_alias_routes_to_the_model_and_usage_names_the_model(aliased: Gateway) -> None:
    raw = aliased.client().chat.completions.with_raw_response.create(
        model="alias-short", messages=USER)
    assert raw.parse().model == "mock-gpt"
    [record] = wait_for(lambda: aliased.usage(raw.headers["x-request-id"]))
    assert record["model"] == "alias-canon" and record["attempts"] == 1
    model = aliased.client().models.retrieve("alias-other")
    assert model.id == "alias-other" and model.model_extra == {"alias_of": "alias-canon"}


def test_models_lists_every_name_a_key_may_use(aliased: Gateway) -> None:
    with aliased.admin() as admin:
        by_alias = key_for(admin, ["alias-other"])
        other = key_for(admin, ["mock-gpt"])
    # Allowing one name of a model allows all its names, and nothing else.
    assert wait_for(lambda: listed(aliased, by_alias) == NAMES, timeout=5)
    ok = aliased.client(api_key=by_alias).chat.completions.create(model="alias-canon",
                                                                    messages=USER)
    assert ok.choices[0].message.content
    assert listed(aliased, other) == {"mock-gpt"}
    with pytest.raises(openai.NotFoundError) as denied:
        aliased.client(api_key=other).chat.completions.create(model="alias-short",
                                                              messages=USER)
    assert denied.value.code == "model_not_found"


def test_a_public_name_belongs_to_one_model(aliased: Gateway) -> None:
    with aliased.admin() as admin:
        taken = admin.post("/api/v1/models", json={"name": "alias-short"})
        assert taken.status_code == 409, taken.text
        clash = admin.post("/api/v1/models", json={"name": "alias-x", "aliases": ["alias-canon"]})
        assert clash.status_code == 409 and "alias-canon" in clash.text
        bad_retry = admin.post("/api/v1/models", json={"name": "alias-y", "retry_on": "never"})
        assert bad_retry.status_code == 422


def test_context_window_is_shown_and_enforced(gateway: Gateway) -> None:
    with gateway.admin() as admin:
        create_model(admin, gateway, "small-window", [], context_window=64)
    wait_for(lambda: "small-window" in {m.id for m in gateway.client().models.list()})
    assert gateway.client().models.retrieve("small-window").model_extra == {
        "context_window": 64}
    with pytest.raises(openai.BadRequestError) as refused:
        gateway.client().chat.completions.create(model="small-window", messages=USER,
                                                 max_tokens=100)
    assert refused.value.code == "context_length_exceeded"
    fits = gateway.client().chat.completions.create(model="small-window", messages=USER,
                                                    max_tokens=5)
    assert fits.choices[0].message.content
