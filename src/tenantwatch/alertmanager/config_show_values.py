"""Values as Alertmanager 0.25's configuration prints them (for /api/v2/status): durations,
secrets, host:port, maps, http_config and tls_config, and the YAML layout of Go's yaml.v2."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from tenantwatch.domain.durations import parse_duration

SECRET = "<secret>"  # noqa: S105  (what Alertmanager prints in a secret's place)
Raw = Mapping[str, Any]
Out = dict[str, Any]


class Flow(list[str]):
    """A list Alertmanager writes in flow style: [monday:friday, saturday]."""


class _Dumper(yaml.SafeDumper):
    pass


def _flow(dumper: yaml.SafeDumper, value: Flow) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(value), flow_style=True)


_Dumper.add_representer(Flow, _flow)


def dump_yaml(data: Mapping[str, Any]) -> str:
    """YAML in Go's yaml.v2 layout: keys in the given order, block style, lists not indented."""
    return yaml.dump(
        dict(data),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=10_000,
    )


def go_duration(text: Any) -> str:
    """A duration as Prometheus' model.Duration prints it: years and weeks only when exact
    ("90d", not "12w6d"), then d h m s ms ("1h30m"); "0s" for zero."""
    ms = 0 if str(text) == "0" else round(parse_duration(str(text)) * 1000)
    if ms == 0:
        return "0s"
    out = ""
    for unit, size, exact in (
        ("y", 31_536_000_000, True),
        ("w", 604_800_000, True),
        ("d", 86_400_000, False),
        ("h", 3_600_000, False),
        ("m", 60_000, False),
        ("s", 1000, False),
        ("ms", 1, False),
    ):
        if exact and ms % size:
            continue
        if count := ms // size:
            out += f"{count}{unit}"
            ms -= count * size
    return out


def secret(value: Any) -> str | None:
    return SECRET if value not in (None, "") else None


def host_port(text: Any) -> str:
    """host:port as Alertmanager prints it (brackets of an IPv6 host dropped, as Go does)."""
    host, _, port = str(text).rpartition(":")
    return f"{host.strip('[]')}:{port}"


def sorted_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in sorted((value or {}).items(), key=lambda kv: str(kv[0]))}


def put(out: Out, key: str, value: Any) -> None:
    """Set key unless value is empty (Go's omitempty)."""
    if value not in (None, "", [], {}, False, 0):
        out[key] = value


def only(raw: Any, keys: Sequence[str]) -> Out:
    out: Out = {}
    for key in keys:
        put(out, key, (raw or {}).get(key))
    return out


def shown_http(raw: Raw | None) -> Out:
    """An http_config with the library's defaults (follow_redirects, enable_http2 on) and a
    bearer_token shown as the Authorization it becomes."""
    raw = dict(raw or {})
    out: Out = {}
    if basic := raw.get("basic_auth"):
        auth: Out = {"username": str(basic.get("username") or "")}
        put(auth, "password", secret(basic.get("password")))
        put(auth, "password_file", basic.get("password_file"))
        out["basic_auth"] = auth
    authorization = dict(raw.get("authorization") or {})
    if raw.get("bearer_token") and not authorization:
        authorization = {"credentials": raw["bearer_token"]}
    if raw.get("bearer_token_file") and not authorization:
        authorization = {"credentials_file": raw["bearer_token_file"]}
    if authorization:
        shown: Out = {"type": str(authorization.get("type") or "").strip() or "Bearer"}
        put(shown, "credentials", secret(authorization.get("credentials")))
        put(shown, "credentials_file", authorization.get("credentials_file"))
        out["authorization"] = shown
    if oauth := raw.get("oauth2"):
        out["oauth2"] = _oauth2(oauth)
    put(out, "proxy_url", raw.get("proxy_url"))
    put(out, "tls_config", shown_tls(raw.get("tls_config")))
    out["follow_redirects"] = bool(raw.get("follow_redirects", True))
    out["enable_http2"] = bool(raw.get("enable_http2", True))
    return out


def _oauth2(raw: Raw) -> Out:
    out: Out = {
        "client_id": str(raw.get("client_id") or ""),
        "client_secret": secret(raw.get("client_secret")),
        "client_secret_file": str(raw.get("client_secret_file") or ""),
    }
    put(out, "scopes", [str(s) for s in raw.get("scopes") or []])
    out["token_url"] = str(raw.get("token_url") or "")
    put(out, "endpoint_params", sorted_map(raw.get("endpoint_params")))
    put(out, "proxy_url", raw.get("proxy_url"))
    out["tls_config"] = shown_tls(raw.get("tls_config")) or {"insecure_skip_verify": False}
    return out


def shown_tls(raw: Raw | None) -> Out:
    """A tls_config, or {} when every field is empty (Alertmanager then leaves it out)."""
    raw = raw or {}
    out: Out = {}
    for key in ("ca_file", "cert_file", "key_file", "server_name"):
        put(out, key, raw.get(key))
    skip = bool(raw.get("insecure_skip_verify", False))
    for key in ("min_version", "max_version"):
        put(out, key, raw.get(key))
    if not out and not skip:
        return {}
    versions: Out = {k: out.pop(k) for k in ("min_version", "max_version") if k in out}
    return {**out, "insecure_skip_verify": skip, **versions}
