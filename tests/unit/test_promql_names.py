"""The PromQL reading behind the dashboard test: which metric names a query selects."""

from __future__ import annotations

from tests.integration.promql import (
    parse_exposition,
    query_label_names,
    query_metric_names,
    sample_total,
)


def test_functions_labels_ranges_and_grouping_are_not_metric_names() -> None:
    expr = ('histogram_quantile(0.95, sum by (le, model) (rate(gen_ai_server_request_duration'
            '_bucket{model=~"$model", status_class!="5xx"}[$__rate_interval]))) / '
            'sum(increase(omg_cost_usd_total[1h] offset 5m)) * 3600')
    assert query_metric_names(expr) == {"gen_ai_server_request_duration_bucket",
                                        "omg_cost_usd_total"}


def test_declared_families_count_as_exported() -> None:
    text = ("# HELP h x\n# TYPE h histogram\n# HELP c x\n# TYPE c counter\n"
            'g{a="1"} 2.0\ng{a="2"} 3.0\n')
    assert parse_exposition(text) == {"h_bucket", "h_sum", "h_count", "c_total", "g"}
    assert sample_total(text, "g") == 5.0
    assert sample_total(text, "g", a="2") == 3.0


def test_selector_and_grouping_labels() -> None:
    expr = ('sum by (model, token_type) (rate(gen_ai_client_token_usage_sum'
            '{model=~"$model",token_type!="x"}[5m])) / sum(omg_requests_total)')
    matched, grouped = query_label_names(expr)
    assert matched == {"gen_ai_client_token_usage_sum": {"model", "token_type"}}
    assert grouped == {"model", "token_type"}
