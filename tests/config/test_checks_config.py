"""checks: in tenantwatch.yml: kinds, defaults and file:line errors."""

from __future__ import annotations

import pytest

from tenantwatch.config.errors import ConfigError
from tenantwatch.configuration import parse_config

FILE = "tw.yml"
TENANTS = "tenants:\n  - {id: acme, name: Acme, tier: basic}\n"  # lines 1-2


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, FILE, {})
    return [str(issue) for issue in info.value.issues]


def test_every_kind_loads_with_defaults() -> None:
    config = parse_config(
        TENANTS
        + """checks:
  - {id: web, tenant: acme, kind: http, url: "https://acme.example/health",
     conditions: ["[STATUS] == 200", "[CERTIFICATE_EXPIRATION] > 72h"]}
  - {id: smtp, tenant: acme, kind: tcp, host: mail, port: 25, expect: "220"}
  - {id: dns, tenant: acme, kind: dns, query_name: acme.example, record_type: MX}
  - {id: cert, tenant: acme, kind: tls, host: acme.example}
  - {id: db, tenant: acme, kind: postgres, dsn: "postgresql://u:p@db/app"}
  - {id: cache, tenant: acme, kind: redis, url: "redis://cache:6379/0"}
  - {id: backup, tenant: acme, kind: heartbeat, cron: "0 3 * * *", tz: Europe/Berlin,
     grace: 1h}
  - {id: orders, tenant: acme, kind: python, target: "app.checks:orders_flow", interval: 2m}
""",
        FILE,
        {},
    )
    kinds = [c.model_dump()["kind"] for c in config.checks]
    assert kinds == ["http", "tcp", "dns", "tls", "postgres", "redis", "heartbeat", "python"]
    web = config.checks[0]
    assert (web.failure_threshold, web.success_threshold, web.timeout) == (3, 2, 10.0)
    assert web.interval is None  # the tier's
    assert config.checks[6].failure_threshold == 1  # heartbeats: the grace is the protection
    assert config.checks[7].interval == 120.0


def test_a_bad_condition_points_at_its_line() -> None:
    text = TENANTS + (
        "checks:\n"  # 3
        "  - id: web\n"  # 4
        "    tenant: acme\n"  # 5
        "    kind: http\n"  # 6
        "    url: http://acme/\n"  # 7
        "    conditions:\n"  # 8
        '      - "[STATUS] == 200"\n'  # 9
        '      - "[STAT] == 200"\n'  # 10
    )
    [problem] = problems(text)
    assert problem.startswith("tw.yml:10: ")
    assert "unknown placeholder [STAT]" in problem and "column 1" in problem


def test_cross_entry_problems() -> None:
    text = TENANTS + (
        "checks:\n"  # 3
        "  - {id: a, tenant: acme, kind: tcp, host: h, port: 1}\n"  # 4
        "  - {id: a, tenant: acme, kind: tcp, host: h, port: 1}\n"  # 5
        "  - {id: b, tenant: nobody, kind: tcp, host: h, port: 1}\n"  # 6
        "  - {tenant: acme, kind: tcp, host: h, port: 1}\n"  # 7
        "  - {id: c, tenant: acme, kind: tcp, host: h, port: 0}\n"  # 8
        "  - {id: d, tenant: acme, kind: http, url: 'http://x', timeout: 1m, interval: 30s}\n"
    )
    found = problems(text)
    assert any(p.startswith("tw.yml:5: ") and "duplicate check id 'a'" in p for p in found)
    assert any(p.startswith("tw.yml:6: ") and "'nobody' is not declared" in p for p in found)
    assert any(p.startswith("tw.yml:7: ") and "needs an 'id'" in p for p in found)
    assert any(p.startswith("tw.yml:8: ") and "port" in p for p in found)
    assert any(p.startswith("tw.yml:9: ") and "longer than interval" in p for p in found)


def test_a_dotted_check_id_belongs_to_its_own_tenants_namespace() -> None:
    text = TENANTS + (
        "  - {id: bravo, name: Bravo, tier: basic}\n"  # 3
        "checks:\n"  # 4
        "  - {id: acme.web, tenant: acme, kind: tcp, host: h, port: 1}\n"  # 5
        "  - {id: bravo.web, tenant: acme, kind: tcp, host: h, port: 1}\n"  # 6
    )
    [problem] = problems(text)
    assert problem.startswith("tw.yml:6: ") and "write 'acme.web'" in problem


def test_the_check_runner_allow_list_is_parsed_at_load() -> None:
    config = parse_config(
        TENANTS + "check_runner:\n  allow_private_targets: [10.20.0.0/16, db.internal]\n",
        FILE,
        {},
    )
    assert config.check_runner.allow_private_targets == ["10.20.0.0/16", "db.internal"]
    text = TENANTS + "check_runner:\n  allow_private_targets: [10.0.0.0/99]\n"  # 3-4
    [problem] = problems(text)
    assert problem.startswith("tw.yml:4: ") and "neither a CIDR" in problem
