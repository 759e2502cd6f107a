"""Every metric a Prometheus rule (deploy/prometheus/rules/*.yml) or a Grafana panel
(deploy/grafana/dashboards/*.json) queries exists: the names in their PromQL are compared with what the four
services and Asterisk export on ``/metrics`` (their ``# TYPE`` lines and samples) and with the recorded
names the rule files define. The PromQL name extraction is tested on its own first."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULE_FILES = sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml"))
DASHBOARDS = sorted((REPO / "deploy" / "grafana" / "dashboards").glob("*.json"))

# Series Prometheus makes itself: per target, and for alerts.
PROMETHEUS_SERIES = {
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
    "ALERTS",
    "ALERTS_FOR_STATE",
}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
SERIES_SUFFIXES = {
    "counter": ("", "_total", "_created"),
    "gauge": ("",),
    "untyped": ("",),
    "unknown": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
}

TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<braces>\{)
  | (?P<brackets>\[[^\]]*\])
  | (?P<variable>\$\{[^}]*\}|\$\w+|\[\[\w+\]\])
  | (?P<number>0x[0-9a-fA-F]+|\d[\w.]*(?:[eE][+-]?\d+)?)
  | (?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<other>\S)
    """,
    re.VERBOSE,
)
NAME_MATCHER = re.compile(r"""__name__\s*=\s*(?:"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)')""")


def _label_block_end(expr: str, start: int) -> int:
    """Index after the ``}`` closing the matcher block opened at ``start`` (strings may hold braces)."""
    position = start + 1
    while position < len(expr) and expr[position] != "}":
        if expr[position] in "\"'`":
            closing = TOKEN.match(expr, position)
            position = closing.end() if closing else len(expr)
        else:
            position += 1
    return position + 1


def _called(expr: str, position: int) -> bool:
    """The name ending at ``position`` is a function or an aggregation: ``(`` or ``by``/``without``
    (``sum by (job) (x)``) follows it."""
    rest = expr[position:].lstrip()
    return rest.startswith("(") or re.match(r"(?i)(by|without)\W", rest) is not None


def _skip_label_list(expr: str, position: int) -> int:
    """After ``by``/``on``/...: the position after its ``( labels )``, or ``position`` if none follows."""
    rest = expr[position:]
    stripped = rest.lstrip()
    if not stripped.startswith("("):
        return position
    return position + (len(rest) - len(stripped)) + stripped.index(")") + 1


def metric_names(expr: str) -> set[str]:
    """The metric names (and recorded-rule names) a PromQL expression selects: not functions, keywords,
    label names, strings, durations, numbers or Grafana variables; ``{__name__="x"}`` selects ``x``."""
    names: set[str] = set()
    position = 0
    while (token := TOKEN.search(expr, position)) is not None:
        kind, text, position = token.lastgroup, token.group(), token.end()
        if kind == "braces":
            end = _label_block_end(expr, token.start())
            names.update(a or b for a, b in NAME_MATCHER.findall(expr[token.start() : end]))
            position = end
        elif kind == "name" and text.lower() in LABEL_LIST_KEYWORDS:
            position = _skip_label_list(expr, position)
        elif kind == "name" and text.lower() not in KEYWORDS and not _called(expr, position):
            names.add(text)
    return names


def exported_names(exposition: str) -> set[str]:
    """Series names a ``/metrics`` text exposes: its samples, and for each ``# TYPE`` line the series that
    type has (a histogram's ``_bucket``/``_sum``/``_count``, a counter's ``_total``)."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(maxsplit=3)
            names.update(family + suffix for suffix in SERIES_SUFFIXES.get(kind.strip(), ("",)))
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names


def rule_queries() -> Iterator[tuple[str, str, str]]:
    """(file, rule, expression) of every rule."""
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                what = f"alert {rule['alert']}" if "alert" in rule else f"record {rule['record']}"
                yield path.relative_to(REPO).as_posix(), what, rule["expr"]


def panel_targets(node: Any, panel: str = "") -> Iterator[tuple[str, str]]:
    """(panel title, expression) of every query target, in panels nested at any depth (rows too)."""
    if isinstance(node, dict):
        panel = str(node.get("title", panel))
        for target in node.get("targets") or []:
            if isinstance(target, dict) and isinstance(target.get("expr"), str) and target["expr"].strip():
                yield panel, target["expr"]
        for key, value in node.items():
            if key != "targets":
                yield from panel_targets(value, panel)
    elif isinstance(node, list):
        for item in node:
            yield from panel_targets(item, panel)


def dashboard_queries() -> Iterator[tuple[str, str, str]]:
    for path in DASHBOARDS:
        for panel, expr in panel_targets(json.loads(path.read_text())):
            yield path.relative_to(REPO).as_posix(), f"panel {panel!r}", expr


def recorded_names() -> set[str]:
    return {
        rule["record"]
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (trunk, le) (rate(dialplane_x_bucket{trunk=~"a|b", le!="+Inf"}[5m] offset 1h))',
            {"dialplane_x_bucket"},
        ),
        (
            "histogram_quantile(0.95, sum(rate(foo_seconds_bucket[$__rate_interval])) by (le)) > bool 1e3",
            {"foo_seconds_bucket"},
        ),
        (
            'a_total / on (job) group_left (version) dialplane_service_info{version!=""}',
            {"a_total", "dialplane_service_info"},
        ),
        ('{__name__="named_total", job="x"} unless ignoring(instance) b', {"named_total", "b"}),
        ('count_over_time(up{job="by (x)", q="}"}[1h:5m]) # sum(commented_out)', {"up"}),
        ('label_replace(x, "dst", "$1", "src", "(.*)")', {"x"}),
        ("sum without (instance) (rate(x[5m])) and topk($n, y) or ${other}", {"x", "y"}),
        (
            "trunk:dialplane_call_answer_seizure:ratio_rate5m > 0.5 * on() vector(1)",
            {"trunk:dialplane_call_answer_seizure:ratio_rate5m"},
        ),
        ("max(z) @ end() - max(w offset 5m) + NaN + Inf - time()", {"z", "w"}),
        ('sum(rate(http_total{route="/calls/{id}"}[5m])) by (job) * 100', {"http_total"}),
    ],
)
def test_metric_names_are_read_from_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_exported_names_resolve_histograms_and_counters_from_their_type() -> None:
    exposition = "\n".join(
        [
            "# HELP d_seconds Time.",
            "# TYPE d_seconds histogram",
            "# TYPE d_calls counter",
            "# TYPE asterisk_core_uptime_seconds counter",
            'asterisk_core_uptime_seconds{eid="x"} 12',
            "# TYPE g gauge",
        ]
    )
    names = exported_names(exposition)
    assert {"d_seconds_bucket", "d_seconds_count", "d_calls_total", "g"} <= names
    assert "asterisk_core_uptime_seconds" in names
    assert "d_seconds" not in names and "d_calls_bucket" not in names


@pytest.mark.asterisk
def test_every_metric_a_rule_or_a_dashboard_queries_is_exported(expositions: dict[str, str]) -> None:
    known = PROMETHEUS_SERIES | recorded_names()
    for text in expositions.values():
        known |= exported_names(text)
    queries = [*rule_queries(), *dashboard_queries()]
    assert len(queries) >= len(recorded_names())
    missing = [
        f"{file}: {what}: {name}"
        for file, what, expr in queries
        for name in sorted(metric_names(expr) - known)
    ]
    assert missing == [], "queried but exported by no service nor Asterisk:\n" + "\n".join(missing)
