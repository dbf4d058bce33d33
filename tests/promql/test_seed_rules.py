"""The seeds' alert rule expressions run unchanged, with Prometheus' answers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tenantwatch.metrics.head import Head
from tenantwatch.promql.engine import Engine
from tenantwatch.promql.model import VectorResult, labels_of

RULES = Path(__file__).parent.parent / "fixtures" / "seed-rules"
M = 60_000


def _expressions() -> list[tuple[str, str]]:
    out = []
    for path in sorted(RULES.glob("*.rules.yml")):
        doc = yaml.safe_load(path.read_text())
        for group in doc.get("groups", doc.get("spec", {}).get("groups", [])):
            for rule in group["rules"]:
                out.append((f"{path.name}:{rule.get('alert') or rule.get('record')}", rule["expr"]))
    return out


EXPRESSIONS = _expressions()


def test_every_seed_file_contributes() -> None:
    assert {name.split(":")[0] for name, _ in EXPRESSIONS} == {
        "seed-000.rules.yml",
        "seed-003.rules.yml",
        "seed-004.rules.yml",
    }


@pytest.mark.parametrize(("name", "expr"), EXPRESSIONS, ids=[n for n, _ in EXPRESSIONS])
def test_seed_expression_evaluates(name: str, expr: str) -> None:
    engine = Engine(_platform())
    result = engine.instant(expr, 30 * M)
    assert isinstance(result.value, VectorResult)


def _platform() -> Head:
    """Two tenants; acme has 6 % errors, slow requests and a token budget near its limit."""
    head = Head()
    les = ("0.1", "0.5", "1.0", "2.5", "5.0", "+Inf")
    for tenant, err, slow in (("acme", 6.0, True), ("globex", 1.0, False)):
        ok = labels_of(
            {
                "__name__": "ai_shifu_requests_total",
                "tenant": tenant,
                "status": "success",
                "method": "GET",
                "endpoint": "/chat",
            }
        )
        bad = labels_of(
            {
                "__name__": "ai_shifu_requests_total",
                "tenant": tenant,
                "status": "error",
                "method": "GET",
                "endpoint": "/chat",
            }
        )
        up = labels_of(
            {"__name__": "up", "job": "ai-shifu-api", "tenant": tenant, "instance": f"{tenant}:80"}
        )
        tokens = labels_of(
            {
                "__name__": "ai_shifu_llm_tokens_total",
                "tenant": tenant,
                "model": "gpt",
                "type": "prompt",
            }
        )
        limit = labels_of({"__name__": "ai_shifu_tenant_token_limit", "tenant": tenant})
        for i in range(0, 31 * 4):
            t = i * 15_000
            head.append(ok, t, i * 15 * (100.0 - err))
            head.append(bad, t, i * 15 * err)
            head.append(up, t, 0.0 if tenant == "acme" and i > 100 else 1.0)
            head.append(tokens, t, i * 15 * 95.0)
            head.append(limit, t, 100.0 * 3600)
            for le in les:
                fast = {"0.1": 0.5, "0.5": 0.97}.get(le, 1.0)
                share = (0.5 if le not in ("5.0", "+Inf") else 1.0) if slow else fast
                bucket = labels_of(
                    {
                        "__name__": "ai_shifu_request_duration_seconds_bucket",
                        "tenant": tenant,
                        "le": le,
                    }
                )
                head.append(bucket, t, i * 15 * 100.0 * share)
    return head


def _by_tenant(expr: str) -> dict[str, float]:
    result = Engine(_platform()).instant(expr, 30 * M)
    assert isinstance(result.value, VectorResult)
    return {dict(s.labels).get("tenant", ""): s.v for s in result.value.samples}


def test_application_down_fires_for_the_tenant_whose_target_is_down() -> None:
    assert _by_tenant('up{job="ai-shifu-api"} == 0') == {"acme": 0.0}


def test_high_error_rate_matches_like_prometheus() -> None:
    # one-to-one matching on all labels but the name: an error series only meets itself
    # in the denominator, so the ratio is 1 wherever there are errors (as in Prometheus)
    expr = next(e for n, e in EXPRESSIONS if n == "seed-000.rules.yml:HighErrorRate")
    assert _by_tenant(expr) == {"acme": 1.0, "globex": 1.0}
    fixed = (
        'sum by (tenant) (rate(ai_shifu_requests_total{status="error"}[5m]))'
        " / sum by (tenant) (rate(ai_shifu_requests_total[5m])) > 0.05"
    )
    assert _by_tenant(fixed) == pytest.approx({"acme": 0.06})


def test_high_response_time_p95() -> None:
    got = _by_tenant(
        "histogram_quantile(0.95, rate(ai_shifu_request_duration_seconds_bucket[5m])) > 2"
    )
    # acme: half the requests above 2.5 s; p95 interpolates inside (2.5, 5]
    assert got == pytest.approx({"acme": 2.5 + 2.5 * (0.95 - 0.5) / 0.5})


def test_token_budget_against_the_tenants_own_limit() -> None:
    got = _by_tenant(
        "rate(ai_shifu_llm_tokens_total[5m]) > on(tenant) ai_shifu_tenant_token_limit / 3600 * 0.9"
    )
    assert got == pytest.approx({"acme": 95.0, "globex": 95.0})
