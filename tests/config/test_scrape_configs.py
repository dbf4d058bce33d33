"""scrape_configs: and metrics: sections: defaults, secrets, and file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantwatch.config.errors import ConfigError
from tenantwatch.configuration import parse_config

FILE = "tw.yml"
TENANTS = "tenants:\n  - {id: acme, name: Acme, tier: basic}\n"  # lines 1-2


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, FILE, {})
    return [str(issue) for issue in info.value.issues]


def test_a_scrape_job_gets_prometheus_defaults() -> None:
    config = parse_config(
        "scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['app:9100']\n",
        FILE,
        {},
    )
    [job] = config.scrape_configs
    assert job.metrics_path == "/metrics"
    assert job.scheme == "http"
    assert (job.honor_labels, job.honor_timestamps) == (False, True)
    assert job.interval(config.metrics) == 15.0
    assert job.timeout(config.metrics) == 10.0


def test_the_metrics_section_sets_the_default_interval_and_timeout() -> None:
    config = parse_config(
        "metrics:\n  scrape_interval: 30s\n  scrape_timeout: 20s\n"
        "scrape_configs:\n  - job_name: app\n",
        FILE,
        {},
    )
    job = config.scrape_configs[0]
    assert (job.interval(config.metrics), job.timeout(config.metrics)) == (30.0, 20.0)


def test_a_default_timeout_never_exceeds_a_short_job_interval() -> None:
    config = parse_config("scrape_configs:\n  - job_name: app\n    scrape_interval: 5s\n", FILE, {})
    assert config.scrape_configs[0].timeout(config.metrics) == 5.0


def test_a_full_job_reads_every_field() -> None:
    config = parse_config(
        TENANTS + "scrape_configs:\n"
        "  - job_name: api\n"
        "    scheme: https\n"
        "    metrics_path: /internal/metrics\n"
        "    honor_labels: true\n"
        "    params: {module: [http_2xx]}\n"
        "    basic_auth: {username: scraper, password: s3cret}\n"
        "    tls_config: {insecure_skip_verify: true}\n"
        "    static_configs:\n"
        "      - targets: ['api-1:8443', '[::1]:8443']\n"
        "        labels: {tenant: acme, env: prod}\n",
        FILE,
        {},
    )
    job = config.scrape_configs[0]
    assert job.scheme == "https"
    assert job.static_configs[0].targets == ["api-1:8443", "[::1]:8443"]
    assert job.static_configs[0].labels == {"tenant": "acme", "env": "prod"}
    assert job.basic_auth is not None
    assert job.basic_auth.password is not None
    assert job.basic_auth.password.get_secret_value() == "s3cret"
    assert job.params == {"module": ["http_2xx"]}


def test_secrets_never_show_in_the_repr_of_the_config() -> None:
    config = parse_config(
        "metrics:\n  backend: remote\n  url: http://prom:9090\n  auth:\n    bearer_token: tok-123\n"
        "scrape_configs:\n  - job_name: app\n    basic_auth: {username: u, password: pw-456}\n"
        "  - job_name: other\n    authorization: {credentials: cred-789}\n",
        FILE,
        {},
    )
    text = repr(config) + str(config) + config.model_dump_json()
    for secret in ("tok-123", "pw-456", "cred-789"):
        assert secret not in text


def test_the_bearer_token_shorthand_is_an_authorization() -> None:
    config = parse_config("scrape_configs:\n  - job_name: app\n    bearer_token: abc\n", FILE, {})
    authz = config.scrape_configs[0].effective_authorization()
    assert authz is not None
    assert authz.type == "Bearer"
    assert authz.credentials is not None
    assert authz.credentials.get_secret_value() == "abc"


def test_the_remote_backend_forwards_writes_by_default() -> None:
    config = parse_config("metrics:\n  backend: remote\n  url: http://prom:9090\n", FILE, {})
    assert config.metrics.forwards_writes
    config = parse_config(
        "metrics:\n  backend: remote\n  url: http://prom:9090\n  remote_write_forward: false\n",
        FILE,
        {},
    )
    assert not config.metrics.forwards_writes
    assert not parse_config("", FILE, {}).metrics.forwards_writes


def test_a_password_file_is_a_path(tmp_path: Path) -> None:
    config = parse_config(
        "scrape_configs:\n  - job_name: app\n    basic_auth:\n      username: u\n"
        f"      password_file: {tmp_path / 'pw'}\n",
        FILE,
        {},
    )
    assert config.scrape_configs[0].basic_auth is not None
    assert config.scrape_configs[0].basic_auth.password_file == tmp_path / "pw"


# --- errors -----------------------------------------------------------------------------


def test_it_reports_a_duplicate_job_name_on_the_line_of_the_second() -> None:
    text = "scrape_configs:\n  - job_name: app\n  - job_name: db\n  - job_name: app\n"
    assert problems(text) == [
        "tw.yml:4: duplicate job_name 'app'; each scrape job needs its own name"
    ]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("app", "target 'app' must be host:port with a port from 1 to 65535, e.g. 'app:9100'"),
        ("app:0", "target 'app:0' must be host:port with a port from 1 to 65535, e.g. 'app:9100'"),
        (
            "app:http",
            "target 'app:http' must be host:port with a port from 1 to 65535, e.g. 'app:9100'",
        ),
        (
            "http://app:9100/metrics",
            "target 'http://app:9100/metrics' must be host:port; put the scheme in 'scheme:' "
            "and the path in 'metrics_path:'",
        ),
        (
            "::1:9100",
            "target '::1:9100': '::1' is not a host name or IP address (write IPv6 addresses "
            "in brackets, e.g. '[::1]:9100')",
        ),
        (
            "bad host:9100",
            "target 'bad host:9100': 'bad host' is not a host name or IP address (write IPv6 "
            "addresses in brackets, e.g. '[::1]:9100')",
        ),
    ],
)
def test_it_reports_a_bad_target_on_its_line(target: str, message: str) -> None:
    text = (
        "scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets:\n"
        "          - ok:9100\n"
        f"          - '{target}'\n"
    )
    assert problems(text) == [f"tw.yml:6: scrape_configs.0.static_configs.0.targets.1: {message}"]


def test_it_reports_a_timeout_longer_than_the_interval_on_the_timeout_line() -> None:
    text = "scrape_configs:\n  - job_name: app\n    scrape_interval: 10s\n    scrape_timeout: 15s\n"
    assert problems(text) == [
        "tw.yml:4: job 'app': scrape_timeout (15s) is longer than its scrape_interval (10s); "
        "lower the timeout or raise the interval"
    ]


def test_a_job_timeout_is_checked_against_the_default_interval() -> None:
    text = "metrics:\n  scrape_interval: 10s\nscrape_configs:\n  - job_name: app\n    scrape_timeout: 12s\n"
    assert problems(text) == [
        "tw.yml:5: job 'app': scrape_timeout (12s) is longer than its scrape_interval (10s); "
        "lower the timeout or raise the interval"
    ]


def test_it_reports_a_default_timeout_longer_than_the_default_interval() -> None:
    assert problems("metrics:\n  scrape_interval: 5s\n  scrape_timeout: 8s\n") == [
        "tw.yml:3: metrics.scrape_timeout (8s) is longer than metrics.scrape_interval (5s); "
        "a scrape must end before the next one starts, so lower the timeout or raise the interval"
    ]


def test_it_reports_a_tenant_label_naming_an_undeclared_tenant() -> None:
    text = TENANTS + (
        "scrape_configs:\n"
        "  - job_name: app\n"
        "    static_configs:\n"
        "      - targets: ['a:1']\n"
        "        labels:\n"
        "          env: prod\n"
        "          tenant: globex\n"
    )
    assert problems(text) == [
        "tw.yml:9: job 'app': tenant label 'globex' is not a tenant declared under 'tenants:' "
        "(declared: acme); fix the id or declare the tenant"
    ]


def test_a_tenant_label_of_a_declared_tenant_is_accepted() -> None:
    text = TENANTS + (
        "scrape_configs:\n  - job_name: app\n    static_configs:\n"
        "      - targets: ['a:1']\n        labels: {tenant: acme}\n"
    )
    assert (
        parse_config(text, FILE, {}).scrape_configs[0].static_configs[0].labels["tenant"] == "acme"
    )


def test_it_takes_reserved_target_label_names_for_relabelling_as_prometheus_does() -> None:
    text = (
        "scrape_configs:\n  - job_name: app\n    static_configs:\n"
        "      - targets: ['a:1']\n        labels: {__metrics_path__: /probe, __meta_zone: eu}\n"
    )
    [static] = parse_config(text, FILE, {}).scrape_configs[0].static_configs
    assert static.labels == {"__metrics_path__": "/probe", "__meta_zone": "eu"}


def test_it_reports_an_invalid_target_label_name() -> None:
    text = (
        "scrape_configs:\n  - job_name: app\n    static_configs:\n"
        "      - targets: ['a:1']\n        labels: {1zone: x}\n"
    )
    assert problems(text) == [
        "tw.yml:5: scrape_configs.0.static_configs.0.labels: invalid label name '1zone': "
        "use letters, digits and '_', not starting with a digit"
    ]


def test_it_reports_an_unknown_scheme_and_a_relative_metrics_path() -> None:
    text = "scrape_configs:\n  - job_name: app\n    scheme: ftp\n    metrics_path: metrics\n"
    reported = problems(text)
    assert reported[0].startswith(
        "tw.yml:3: scrape_configs.0.scheme: Input should be 'http' or 'https'"
    )
    assert reported[1] == (
        "tw.yml:4: scrape_configs.0.metrics_path: metrics_path 'metrics' must be a path "
        "starting with '/', e.g. '/metrics'; put query parameters under 'params:'"
    )


def test_it_reports_two_ways_of_authenticating_at_once() -> None:
    text = (
        "scrape_configs:\n  - job_name: app\n    bearer_token: t\n"
        "    basic_auth: {username: u, password: p}\n"
    )
    assert problems(text) == [
        "tw.yml:2: scrape_configs.0: give at most one of basic_auth, authorization, "
        "bearer_token and bearer_token_file (found basic_auth, bearer_token)"
    ]


def test_it_reports_a_password_given_twice_without_showing_it() -> None:
    text = (
        "scrape_configs:\n  - job_name: app\n    basic_auth:\n      username: u\n"
        "      password: hunter2\n      password_file: /run/pw\n"
    )
    reported = problems(text)
    assert reported == [
        "tw.yml:3: scrape_configs.0.basic_auth: give either password or password_file, not both"
    ]
    assert "hunter2" not in "".join(reported)


def test_it_reports_a_remote_backend_without_a_url_on_the_backend_line() -> None:
    assert problems("metrics:\n  flush_interval: 5s\n  backend: remote\n") == [
        "tw.yml:3: metrics.backend 'remote' needs metrics.url, e.g. url: http://prometheus:9090"
    ]


def test_it_reports_an_unknown_backend_and_a_bad_url() -> None:
    reported = problems("metrics:\n  backend: cloud\n  url: prom:9090\n")
    assert reported[0].startswith(
        "tw.yml:2: metrics.backend: Input should be 'embedded' or 'remote'"
    )
    assert (
        reported[1] == "tw.yml:3: metrics.url: url 'prom:9090' must be an http:// or https:// URL"
    )


def test_it_reports_an_unknown_key_in_a_scrape_job() -> None:
    assert problems("scrape_configs:\n  - job_name: app\n    scrape_intervall: 5s\n") == [
        "tw.yml:3: unknown key 'scrape_intervall'; check its spelling and indentation"
    ]


def test_it_reports_a_zero_interval() -> None:
    assert problems("scrape_configs:\n  - job_name: app\n    scrape_interval: 0s\n") == [
        "tw.yml:3: scrape_configs.0.scrape_interval: Input should be greater than 0"
    ]
