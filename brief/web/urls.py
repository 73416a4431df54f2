"""One spelling per web address, so the same article reached by two links is one document."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that only say how a reader arrived: they never change the page.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_")
_TRACKING_NAMES = frozenset({"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "ref_src", "_hsenc", "_hsmi"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_web_url(text: str) -> bool:
    """True for an absolute http(s) address (what `brief ingest` takes as a link)."""
    parts = urlsplit(text.strip())
    return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.netloc)


def normalize_url(url: str, base: str = "") -> str:
    """The address in one spelling: scheme and host lower-cased, default port, fragment and
    tracking parameters removed; a relative address is resolved against `base`. "" if the
    result is not an http(s) address."""
    url = urljoin(base, url.strip()) if base else url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return ""
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    if port and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith(_TRACKING_PREFIXES) and key.lower() not in _TRACKING_NAMES
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query, doseq=True), ""))
