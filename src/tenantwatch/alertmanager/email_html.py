"""`email.default.html`: the page Alertmanager 0.25 sends when an email config sets no
`html`, so an email from tenantwatch looks the same as one from Alertmanager.

The markup (a 600 px card with inline styles, as e-mail clients need) follows the one
Alertmanager renders, whose styling comes from Mailgun's MIT-licensed transactional email
templates. Rendered as an html template: printed values are HTML-escaped.
"""

from __future__ import annotations

_FONT = "font-family: 'Helvetica Neue', Helvetica, Arial, sans-serif; box-sizing: border-box;"
_BASE = f"margin: 0; {_FONT} font-size: 14px;"
_TD_TOP = f'style="{_BASE} vertical-align: top;" valign="top"'
_ROW = f'<tr style="{_BASE}">'
_BLOCK = f'<td class="content-block" style="{_BASE} vertical-align: top; padding: 0 0 20px;" valign="top">'
_STRONG = f'<strong style="{_BASE}">'
_BR = f'<br style="{_BASE}">'
_LINK = f"{_BASE} color: #348eda; text-decoration: underline;"
_BUTTON = (
    f"{_BASE} text-decoration: none; color: #FFF; background-color: #348eda; border: solid "
    "#348eda; border-width: 10px 20px; line-height: 2em; font-weight: bold; text-align: center; "
    "cursor: pointer; display: inline-block; border-radius: 5px; text-transform: capitalize;"
)

_MEDIA = """@media only screen and (max-width: 640px) {
  body {
    padding: 0 !important;
  }

  h1,
h2,
h3,
h4 {
    font-weight: 800 !important;
    margin: 20px 0 5px !important;
  }

  h1 {
    font-size: 22px !important;
  }

  h2 {
    font-size: 18px !important;
  }

  h3 {
    font-size: 16px !important;
  }

  .container {
    padding: 0 !important;
    width: 100% !important;
  }

  .content {
    padding: 0 !important;
  }

  .content-wrap {
    padding: 10px !important;
  }

  .invoice {
    width: 100% !important;
  }
}
"""


def _banner(kind: str, color: str, after_value: str) -> str:
    """The coloured top cell: 'N alerts for name=value ...'."""
    style = (
        f"margin: 0; {_FONT} vertical-align: top; font-size: 16px; color: #fff; "
        "font-weight: 500; padding: 20px; text-align: center; border-radius: 3px 3px 0 0; "
        f"background-color: {color};"
    )
    return (
        f'            <td class="alert alert-{kind}" style="{style}" valign="top" '
        f'align="center" bgcolor="{color}">\n'
        "              {{ .Alerts | len }} alert{{ if gt (len .Alerts) 1 }}s{{ end }} for "
        "{{ range .GroupLabels.SortedPairs }}\n"
        f"                {{{{ .Name }}}}={{{{ .Value }}}}{after_value}\n"
        "              {{ end }}\n"
        "            </td>\n"
    )


def _heading(count: str, word: str) -> str:
    return (
        f"                {_ROW}\n"
        f"                  {_BLOCK}\n"
        f"                    {_STRONG}[{{{{ {count} | len }}}}] {word}</strong>\n"
        "                  </td>\n"
        "                </tr>\n"
    )


def _alerts(which: str) -> str:
    """One row per alert of `.Alerts.<which>`: its labels, annotations and source link."""
    pair = "{{ .Name }} = {{ .Value }}" + _BR
    return (
        f"                {{{{ range .Alerts.{which} }}}}\n"
        f"                {_ROW}\n"
        f"                  {_BLOCK}\n"
        f"                    {_STRONG}Labels</strong>{_BR}\n"
        f"                    {{{{ range .Labels.SortedPairs }}}}{pair}{{{{ end }}}}\n"
        "                    {{ if gt (len .Annotations) 0 }}"
        f"{_STRONG}Annotations</strong>{_BR}{{{{ end }}}}\n"
        f"                    {{{{ range .Annotations.SortedPairs }}}}{pair}{{{{ end }}}}\n"
        f'                    <a href="{{{{ .GeneratorURL }}}}" style="{_LINK}">Source</a>{_BR}\n'
        "                  </td>\n"
        "                </tr>\n"
        "                {{ end }}\n"
    )


_SEPARATOR = (
    f"                {_ROW}\n"
    f"                  {_BLOCK}\n"
    f"                    {_BR}\n"
    f'                    <hr style="{_BASE}">\n'
    f"                    {_BR}\n"
    "                  </td>\n"
    "                </tr>\n"
)

_FOOTER_CELL = (
    f"margin: 0; {_FONT} vertical-align: top; padding: 0 0 20px; text-align: center; "
    "color: #999; font-size: 12px;"
)
_FOOTER_LINK = f"margin: 0; {_FONT} text-decoration: underline; color: #999; font-size: 12px;"

EMAIL_DEFAULT_HTML = (
    "\n\n"
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
    f'<html xmlns="http://www.w3.org/1999/xhtml" style="{_BASE}">\n'
    "<head>\n"
    '<meta name="viewport" content="width=device-width">\n'
    '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">\n'
    '<title>{{ template "__subject" . }}</title>\n'
    f"<style>\n{_MEDIA}</style>\n"
    "</head>\n\n"
    f'<body itemscope itemtype="http://schema.org/EmailMessage" style="{_BASE} '
    "-webkit-font-smoothing: antialiased; -webkit-text-size-adjust: none; height: 100%; "
    'line-height: 1.6em; background-color: #f6f6f6; width: 100%;">\n\n'
    f'<table class="body-wrap" style="{_BASE} background-color: #f6f6f6; width: 100%;" '
    'width="100%" bgcolor="#f6f6f6">\n'
    f"  {_ROW}\n"
    f"    <td {_TD_TOP}></td>\n"
    f'    <td class="container" width="600" style="{_FONT} font-size: 14px; vertical-align: '
    'top; display: block; max-width: 600px; margin: 0 auto; clear: both;" valign="top">\n'
    f'      <div class="content" style="{_FONT} font-size: 14px; max-width: 600px; margin: 0 '
    'auto; display: block; padding: 20px;">\n'
    f'        <table class="main" width="100%" cellpadding="0" cellspacing="0" style="{_BASE} '
    'background-color: #fff; border: 1px solid #e9e9e9; border-radius: 3px;" bgcolor="#fff">\n'
    f"          {_ROW}\n"
    "            {{ if gt (len .Alerts.Firing) 0 }}\n"
    + _banner("warning", "#E6522C", "")
    + "            {{ else }}\n"
    + _banner("good", "#68B90F", " ")
    + "            {{ end }}\n"
    "          </tr>\n"
    f"          {_ROW}\n"
    f'            <td class="content-wrap" style="{_BASE} vertical-align: top; padding: 30px;" '
    'valign="top">\n'
    f'              <table width="100%" cellpadding="0" cellspacing="0" style="{_BASE}">\n'
    f"                {_ROW}\n"
    f"                  {_BLOCK}\n"
    '                    <a href="{{ template "__alertmanagerURL" . }}" class="btn-primary" '
    f'style="{_BUTTON}">View in {{{{ template "__alertmanager" . }}}}</a>\n'
    "                  </td>\n"
    "                </tr>\n"
    "                {{ if gt (len .Alerts.Firing) 0 }}\n"
    + _heading(".Alerts.Firing", "Firing")
    + "                {{ end }}\n"
    + _alerts("Firing")
    + "\n"
    "                {{ if gt (len .Alerts.Resolved) 0 }}\n"
    "                  {{ if gt (len .Alerts.Firing) 0 }}\n"
    + _SEPARATOR
    + "                  {{ end }}\n"
    + _heading(".Alerts.Resolved", "Resolved")
    + "                {{ end }}\n"
    + _alerts("Resolved")
    + "              </table>\n"
    "            </td>\n"
    "          </tr>\n"
    "        </table>\n\n"
    f'        <div class="footer" style="{_BASE} width: 100%; clear: both; color: #999; '
    'padding: 20px;">\n'
    f'          <table width="100%" style="{_BASE}">\n'
    f"            {_ROW}\n"
    f'              <td class="aligncenter content-block" style="{_FOOTER_CELL}" valign="top" '
    f'align="center"><a href="{{{{ .ExternalURL }}}}" style="{_FOOTER_LINK}">Sent by '
    '{{ template "__alertmanager" . }}</a></td>\n'
    "            </tr>\n"
    "          </table>\n"
    "        </div></div>\n"
    "    </td>\n"
    f"    <td {_TD_TOP}></td>\n"
    "  </tr>\n"
    "</table>\n\n"
    "</body>\n"
    "</html>\n\n"
)
