"""Just enough PromQL and exposition-format reading to check dashboards against a scrape."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_VARIABLES = re.compile(r"\$\{?\w+\}?")
_NUMBERS = re.compile(r"\b\d+(?:\.\d+)?(?:ms|[smhdwy])?\b")  # 0.95, 5m, 3600
# PromQL functions, aggregations and keywords: identifiers that are not metric names.
_WORDS = """
sum min max avg count stddev stdvar topk bottomk quantile count_values group
rate irate increase delta idelta deriv histogram_quantile histogram_count histogram_sum
clamp clamp_min clamp_max abs ceil floor round exp ln log2 log10 sqrt sort sort_desc
label_replace label_join vector scalar time timestamp absent absent_over_time
sum_over_time avg_over_time max_over_time min_over_time count_over_time last_over_time
changes resets predict_linear and or unless bool offset inf nan
"""
PROMQL_WORDS = frozenset(_WORDS.split())


def query_metric_names(expr: str) -> set[str]:
    """Metric names an expression selects (labels, strings, ranges, functions removed)."""
    text = _VARIABLES.sub("1m", _STRINGS.sub("", expr))
    text = _GROUPING.sub("", _RANGES.sub("", _MATCHERS.sub("", text)))
    text = _NUMBERS.sub("", text)
    return {name for name in _IDENT.findall(text) if name.lower() not in PROMQL_WORDS}


_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^{}]*)\}")
_MATCHER_NAMES = re.compile(r"(\w+)\s*(?:=~|!~|!=|=)")
_BY = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def query_label_names(expr: str) -> tuple[dict[str, set[str]], set[str]]:
    """({metric: labels its selector matches on}, labels named in by/without clauses)."""
    text = _STRINGS.sub('""', expr)
    matched: dict[str, set[str]] = {}
    for metric, body in _SELECTOR.findall(text):
        matched.setdefault(metric, set()).update(_MATCHER_NAMES.findall(body))
    grouped = {name.strip() for body in _BY.findall(text) for name in body.split(",")}
    return matched, grouped - {""}


def panel_targets(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield from node.get("targets", [])
        for value in node.values():
            if isinstance(value, dict | list):
                yield from panel_targets(value)
    elif isinstance(node, list):
        for item in node:
            yield from panel_targets(item)


def dashboard_exprs(path: Path) -> list[str]:
    dashboard = json.loads(path.read_text())
    exprs = [t["expr"] for t in panel_targets(dashboard.get("panels", [])) if t.get("expr")]
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if variable.get("type") == "query" and isinstance(query, str):
            exprs.append(_label_values_selector(query))
    return exprs


def _label_values_selector(query: str) -> str:
    """`label_values(metric{...}, label)` -> `metric{...}`."""
    match = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", query)
    return match.group(1) if match else query


def dashboard_metric_names(path: Path) -> set[str]:
    return {name for expr in dashboard_exprs(path) for name in query_metric_names(expr)}


def parse_exposition(text: str) -> set[str]:
    """Every series name in a Prometheus text scrape, plus names declared by # TYPE lines."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            names.update(_declared_series(name, kind))
        elif line and not line.startswith("#"):
            names.add(_IDENT.match(line).group(0))  # type: ignore[union-attr]
    return names


def _declared_series(name: str, kind: str) -> set[str]:
    if kind == "histogram":
        return {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    if kind == "counter":
        return {name if name.endswith("_total") else f"{name}_total"}
    return {name}


def exported_names(*scrapes: str) -> set[str]:
    return set().union(*(parse_exposition(text) for text in scrapes))


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def exported_labels(*scrapes: str) -> dict[str, set[str]]:
    """Label names seen on each series name (histogram buckets add `le`)."""
    labels: dict[str, set[str]] = {}
    for text in scrapes:
        for line in text.splitlines():
            match = _SAMPLE.match(line)
            if match is not None and not line.startswith("#"):
                names = {k for k, _ in _LABEL.findall(match.group(2) or "")}
                labels.setdefault(match.group(1), set()).update(names)
    return labels


def sample_total(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None or match.group(1) != name:
            continue
        found = dict(_LABEL.findall(match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(3))
    return total
