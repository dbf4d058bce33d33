"""The shape of Alertmanager's configuration file: which keys each part allows and of
which type, the receiver kinds tenantwatch sends to, and the secrets that may come from
files. The loader (alertmanager/config_loader.py) checks a file against these tables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
TWILIO_URL = "https://api.twilio.com"

# -- the shape of the file ---------------------------------------------------------------------
# A spec maps each allowed key to a type: "str", "bool", "uint", "url", "hostport",
# "duration", "strlist", "strmap", "any", a nested spec (dict) or [spec] (a list of them).

Spec = Mapping[str, Any]


def _keys(names: str) -> dict[str, str]:
    """String-valued keys, given space-separated."""
    return dict.fromkeys(names.split(), "str")


def _names(names: str) -> list[str]:
    return names.split()


TLS: Spec = {
    "ca_file": "str",
    "cert_file": "str",
    "key_file": "str",
    "server_name": "str",
    "insecure_skip_verify": "bool",
    "min_version": "str",
    "max_version": "str",
}
HTTP: Spec = {
    "basic_auth": {"username": "str", "password": "str", "password_file": "str"},
    "authorization": {"type": "str", "credentials": "str", "credentials_file": "str"},
    "oauth2": {
        "client_id": "str",
        "client_secret": "str",
        "client_secret_file": "str",
        "scopes": "strlist",
        "token_url": "str",
        "endpoint_params": "strmap",
        "tls_config": TLS,
        "proxy_url": "url",
        "proxy_connect_header": "any",
    },
    "bearer_token": "str",
    "bearer_token_file": "str",
    "tls_config": TLS,
    "proxy_url": "url",
    "proxy_connect_header": "any",
    "follow_redirects": "bool",
    "enable_http2": "bool",
}
GLOBAL: Spec = {
    "resolve_timeout": "duration",
    "http_config": HTTP,
    "smtp_from": "str",
    "smtp_hello": "str",
    "smtp_smarthost": "hostport",
    "smtp_auth_username": "str",
    "smtp_auth_password": "str",
    "smtp_auth_password_file": "str",
    "smtp_auth_secret": "str",
    "smtp_auth_identity": "str",
    "smtp_require_tls": "bool",
    "slack_api_url": "url",
    "slack_api_url_file": "str",
    "pagerduty_url": "url",
    "opsgenie_api_url": "url",
    "opsgenie_api_key": "str",
    "opsgenie_api_key_file": "str",
    "wechat_api_url": "url",
    "wechat_api_secret": "str",
    "wechat_api_corp_id": "str",
    "victorops_api_url": "url",
    "victorops_api_key": "str",
    "victorops_api_key_file": "str",
    "telegram_api_url": "url",
    "webex_api_url": "url",
}
_COMMON: Spec = {"send_resolved": "bool", "http_config": HTTP}
KIND_SPECS: dict[str, Spec] = {
    "webhook": {**_COMMON, "url": "url", "max_alerts": "uint", "hmac_secret": "str"},
    "slack": {
        **_COMMON,
        "api_url": "url",
        "api_url_file": "str",
        **_keys(
            "channel username color title title_link pretext text footer fallback callback_id icon_emoji icon_url image_url thumb_url"
        ),
        "fields": [{"title": "str", "value": "str", "short": "bool"}],
        "short_fields": "bool",
        "link_names": "bool",
        "mrkdwn_in": "strlist",
        "actions": [
            {
                **_keys("type text url style name value"),
                "confirm": _keys("text title ok_text dismiss_text"),
            }
        ],
        "layout": "str",
    },
    "email": {
        "send_resolved": "bool",
        **_keys(
            "to from hello auth_username auth_password auth_password_file auth_secret auth_identity html text subject body"
        ),
        "smarthost": "hostport",
        "headers": "strmap",
        "require_tls": "bool",
        "tls_config": TLS,
        "layout": "str",
    },
    "pagerduty": {
        **_COMMON,
        **_keys(
            "service_key service_key_file routing_key routing_key_file client client_url description source severity class component group"
        ),
        "url": "url",
        "details": "strmap",
        "images": [{"src": "str", "alt": "str", "href": "str"}],
        "links": [{"href": "str", "text": "str"}],
    },
    "msteams": {
        **_COMMON,
        "webhook_url": "url",
        "webhook_url_file": "str",
        "title": "str",
        "summary": "str",
        "text": "str",
    },
    "twilio": {
        **_COMMON,
        **_keys("account_sid auth_token from to message"),
        "url": "url",
    },
    "apprise": {"send_resolved": "bool", "urls": "strlist", "title": "str", "body": "str"},
}
SEND_RESOLVED = {
    "webhook": True,
    "slack": False,
    "email": False,
    "pagerduty": True,
    "msteams": True,
    "twilio": False,
    "apprise": False,
}
UNSUPPORTED = _names(
    "opsgenie_configs victorops_configs pushover_configs sns_configs telegram_configs webex_configs wechat_configs discord_configs"
)
ROUTE_KEYS = _names(
    "receiver group_by continue match match_re matchers group_wait group_interval repeat_interval mute_time_intervals active_time_intervals routes"
)
INHIBIT: Spec = {
    "source_match": "strmap",
    "source_match_re": "strmap",
    "source_matchers": "strlist",
    "target_match": "strmap",
    "target_match_re": "strmap",
    "target_matchers": "strlist",
    "equal": "strlist",
}
TOP_KEYS = _names(
    "global route receivers inhibit_rules time_intervals mute_time_intervals templates"
)
# tenantwatch's own `layout:` values per kind (Alertmanager's layout when unset)
LAYOUTS = {"slack": "seed002", "email": "tenantwatch"}
# secrets that may come from a file instead: the file key, the key its content fills
FILE_KEYS = {
    "api_url_file": "api_url",
    "routing_key_file": "routing_key",
    "service_key_file": "service_key",
    "auth_password_file": "auth_password",
    "webhook_url_file": "webhook_url",
    "bearer_token_file": "bearer_token",
    "password_file": "password",
    "credentials_file": "credentials",
}
