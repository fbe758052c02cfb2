"""Test-suite tooling for the motcua API tests (tests/api).

* ``SpecSet``: loads ``api-spec/*.yaml``, resolves every ``$ref`` (local and
  ``common.yaml#/components/...``), and finds the documented operation of a
  (method, path) pair by matching the path templates.
* ``check_response``: checks one HTTP response against the spec: the status is
  documented, required headers are present and well-formed, the body has a
  documented media type and (for JSON) validates against the schema with
  jsonschema's Draft 2020-12 validator; plus the project-wide conventions
  (``X-Request-Id`` and ``API-Version`` on API responses, problem+json on errors).
* ``ApiClient``: a requests session wrapper that runs ``check_response`` on
  EVERY response and raises ``SpecViolation`` (an AssertionError) on a mismatch.
* ``raw_request``: a tiny HTTP/1.1 client over a socket for requests that
  ``requests`` cannot or will not send (oversized bodies read by a server that
  answers early, raw paths, broken encodings).
* Token helpers: minting through ``motcua-token`` and forging hostile tokens
  with the standard library and the ``openssl`` command.

Only Debian's python3-requests, python3-jsonschema (4.10) and python3-yaml are
used besides the standard library.
"""
from __future__ import annotations

import base64
import copy
import datetime as _dt
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from typing import Any, Iterable

import requests
import yaml
from jsonschema import Draft202012Validator, FormatChecker

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SPEC_DIR = os.path.join(REPO_ROOT, 'api-spec')

# ---------------------------------------------------------------------------
# Problem codes (common/src/error.c) and their statuses.
CODES = {
    'request.malformed_json': 400,
    'request.bad_query': 400,
    'idempotency.invalid_key': 400,
    'auth.unauthenticated': 401,
    'auth.forbidden': 403,
    'resource.not_found': 404,
    'http.not_found': 404,
    'http.method_not_allowed': 405,
    'http.not_acceptable': 406,
    'resource.conflict': 409,
    'idempotency.key_reused': 409,
    'idempotency.in_progress': 409,
    'http.precondition_failed': 412,
    'http.payload_too_large': 413,
    'http.unsupported_media_type': 415,
    'request.validation_failed': 422,
    'http.precondition_required': 428,
    'http.rate_limited': 429,
    'server.internal_error': 500,
    'server.unavailable': 503,
    'server.busy': 503,
    'server.timeout': 503,
    'server.not_ready': 503,
    'catalogue.procedure_not_found': 404,
    'catalogue.procedure_exists': 409,
    'catalogue.version_not_found': 404,
    'catalogue.no_draft': 404,
    'catalogue.agency_not_found': 404,
    'catalogue.agency_exists': 409,
    'catalogue.agency_parent_cycle': 422,
    'catalogue.sector_not_found': 404,
    'catalogue.sector_exists': 409,
    'catalogue.case_not_found': 404,
    'catalogue.channel_not_offered': 422,
    'dossier.catalogue_unavailable': 503,
    'dossier.not_found': 404,
    'dossier.transition_not_allowed': 409,
    'dossier.incomplete': 422,
    'dossier.agency_not_offering': 422,
    'dossier.already_evaluated': 409,
    'dossier.document_not_found': 404,
    'dossier.unsupported_file': 415,
    'dossier.unknown_action': 404,
    'dossier.identity_unavailable': 503,
    'dossier.too_many_drafts': 429,
    'dossier.storage_limit': 422,
    # made by the gateway (deploy/gateway/routes.conf)
    'http.bad_request': 400,
    'http.request_timeout': 408,
    'http.uri_too_long': 414,
    'http.header_too_large': 431,
    'gateway.internal_error': 500,
    'gateway.upstream_unavailable': (502, 503, 504),
}

# Statuses the gateway may answer on any route before the service sees the
# request (body or URI too large, rate limit, upstream down). They must still
# be problem+json with an X-Request-Id, but they need not be listed on each
# operation and need not carry API-Version.
GATEWAY_STATUSES = frozenset({413, 414, 429, 431, 502, 503, 504})

JSON_TYPES = ('application/json', 'application/problem+json')


class SpecViolation(AssertionError):
    """A response that does not match the API documents or the conventions."""


# Every documented operation (method, path template) that some test got a successful
# (< 400) answer from, checked against the spec, in this session: the coverage test
# (test_zz_spec_coverage.py) compares it with the operations of api-spec/.
EXERCISED: set[tuple[str, str]] = set()


# Filled by conftest's collection hooks: the test files of this session, and whether
# some tests were deselected (-k, -m): the coverage test only judges a whole run.
SESSION: dict[str, Any] = {'files': set(), 'deselected': False}


def whole_suite_collected() -> bool:
    here = os.path.dirname(os.path.abspath(__file__))
    files = {n for n in os.listdir(here) if n.startswith('test_') and n.endswith('.py')}
    return not SESSION['deselected'] and files <= SESSION['files']


def record_exercised(spec: 'SpecSet', method: str, path: str, status: int) -> None:
    if status >= 400:
        return
    match = spec.match(path)
    if match is not None and method.lower() in match[1]:
        EXERCISED.add((method.lower(), match[0]))


# ---------------------------------------------------------------------------
# YAML loading: keep dates and timestamps as strings (the API speaks JSON).

class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != 'tag:yaml.org,2002:timestamp']
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(path: str) -> Any:
    with open(path, encoding='utf-8') as f:
        return yaml.load(f, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def _unescape(token: str) -> str:
    return token.replace('~1', '/').replace('~0', '~')


def _walk_pointer(doc: Any, pointer: str) -> Any:
    node = doc
    for raw in [p for p in pointer.split('/') if p != '']:
        tok = urllib.parse.unquote(_unescape(raw))
        if isinstance(node, list):
            node = node[int(tok)]
        else:
            node = node[tok]
    return node


_ANNOTATION_KEYS = {'description', 'summary', 'title', 'example', 'examples', '$comment'}


class SpecSet:
    """Every API document of api-spec/, dereferenced."""

    def __init__(self, spec_dir: str = SPEC_DIR):
        self.spec_dir = spec_dir
        self.raw: dict[str, Any] = {}
        for name in sorted(os.listdir(spec_dir)):
            if name.endswith(('.yaml', '.yml')):
                doc = load_yaml(os.path.join(spec_dir, name))
                if isinstance(doc, dict) and 'openapi' in doc:
                    self.raw[name] = doc
        if not self.raw:
            raise RuntimeError(f'no OpenAPI documents in {spec_dir}')
        self._memo: dict[tuple[str, str], Any] = {}
        self.operations: list[tuple[list[str], str, dict, str]] = []  # segments, template, path item, file
        for fname, doc in self.raw.items():
            for template, item in (doc.get('paths') or {}).items():
                item = self.deref(item, fname)
                self.operations.append((template.split('/'), template, item, fname))
        self.problem_schema = self.deref({'$ref': 'common.yaml#/components/schemas/Problem'}, 'common.yaml')
        self._validators: dict[int, Draft202012Validator] = {}

    # -- references ---------------------------------------------------------
    def _target(self, ref: str, current: str) -> tuple[str, str]:
        file_part, _, pointer = ref.partition('#')
        fname = os.path.basename(file_part) if file_part else current
        if fname not in self.raw:
            raise KeyError(f'$ref {ref!r} (from {current}) points to an unknown document')
        return fname, pointer

    def deref(self, node: Any, current: str, _stack: tuple = ()) -> Any:
        """A copy of `node` with every $ref replaced by its (dereferenced) target."""
        if isinstance(node, list):
            return [self.deref(v, current, _stack) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get('$ref')
        if isinstance(ref, str):
            fname, pointer = self._target(ref, current)
            key = (fname, pointer)
            if key in _stack:
                # A recursive schema (a form schema's subschemas): inlining cannot
                # go on for ever, so below its first level it accepts anything
                # here. Lint and the generated clients still see the real cycle.
                return {}
            if key not in self._memo:
                target = _walk_pointer(self.raw[fname], pointer)
                self._memo[key] = self.deref(target, fname, _stack + (key,))
            resolved = self._memo[key]
            siblings = {k: self.deref(v, current, _stack) for k, v in node.items() if k != '$ref'}
            if not siblings:
                return resolved
            if set(siblings) <= _ANNOTATION_KEYS and isinstance(resolved, dict):
                return {**resolved, **siblings}
            return {'allOf': [resolved], **siblings}
        return {k: self.deref(v, current, _stack) for k, v in node.items()}

    # -- lookup ---------------------------------------------------------------
    def match(self, path: str) -> tuple[str, dict] | None:
        """The path template and path item for a concrete (still percent-encoded) path.
        Literal segments beat variables (/calendar/due-date over /calendar/{year})."""
        segs = path.split('/')
        best, best_score = None, -1
        for tsegs, template, item, _ in self.operations:
            if len(tsegs) != len(segs):
                continue
            score = 0
            for t, s in zip(tsegs, segs):
                if t.startswith('{') and t.endswith('}'):
                    if s == '':
                        break
                else:
                    if t != s:
                        break
                    score += 1
            else:
                if score > best_score:
                    best, best_score = (template, item), score
        return best

    def operation(self, method: str, path: str) -> dict | None:
        m = self.match(path)
        if m is None:
            return None
        return m[1].get(method.lower())

    def validator(self, schema: dict) -> Draft202012Validator:
        v = self._validators.get(id(schema))
        if v is None:
            v = Draft202012Validator(_to_json_schema(schema), format_checker=FORMAT_CHECKER)
            self._validators[id(schema)] = v
        return v

    def schema_errors(self, schema: dict, instance: Any, limit: int = 8) -> list[str]:
        out = []
        for err in sorted(self.validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path)):
            where = '/' + '/'.join(str(p) for p in err.absolute_path)
            msg = err.message
            if len(msg) > 300:
                msg = msg[:300] + '...'
            out.append(f'{where}: {msg}')
            if len(out) >= limit:
                out.append('...')
                break
        return out


def _to_json_schema(schema: Any) -> Any:
    """OpenAPI 3.1 schemas are JSON Schema 2020-12 apart from a few OpenAPI-only
    annotations; drop those so nothing surprises the validator."""
    if isinstance(schema, list):
        return [_to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for k, v in schema.items():
        if k in ('discriminator', 'xml', 'externalDocs', 'example'):
            continue
        if k in ('properties', 'patternProperties', '$defs', 'dependentSchemas') and isinstance(v, dict):
            out[k] = {name: _to_json_schema(s) for name, s in v.items()}
        elif k in ('const', 'enum', 'default', 'examples'):
            out[k] = v
        else:
            out[k] = _to_json_schema(v)
    return out


# ---------------------------------------------------------------------------
# Formats checked by the validator.
FORMAT_CHECKER = FormatChecker(formats=())
_RFC3339 = re.compile(r'^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$')


@FORMAT_CHECKER.checks('date', raises=ValueError)
def _check_date(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r'\d{4}-\d{2}-\d{2}', value):
        raise ValueError('not YYYY-MM-DD')
    _dt.date.fromisoformat(value)
    return True


@FORMAT_CHECKER.checks('date-time', raises=ValueError)
def _check_date_time(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    m = _RFC3339.match(value)
    if not m:
        raise ValueError('not RFC 3339 with an offset')
    parse_rfc3339(value)
    return True


def parse_rfc3339(value: str) -> _dt.datetime:
    m = _RFC3339.match(value)
    if not m:
        raise ValueError(f'not an RFC 3339 timestamp: {value!r}')
    text = value.replace('z', 'Z').replace('t', 'T')
    if text.endswith('Z'):
        text = text[:-1] + '+00:00'
    return _dt.datetime.fromisoformat(text)


# ---------------------------------------------------------------------------
# Response checking.

class HeaderMap(dict):
    """Case-insensitive header lookup (the last value wins; `all` keeps every value)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()):
        super().__init__()
        self.all: dict[str, list[str]] = {}
        for k, v in items:
            self[k] = v

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)
        self.all.setdefault(key.lower(), []).append(value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


def media_type(content_type: str | None) -> str:
    return (content_type or '').split(';', 1)[0].strip().lower()


def _strict_json(body: bytes) -> Any:
    def pairs(items):
        seen = {}
        for k, v in items:
            if k in seen:
                raise ValueError(f'duplicate key {k!r} in JSON response')
            seen[k] = v
        return seen
    return json.loads(body.decode('utf-8'), object_pairs_hook=pairs)


def check_response(spec: SpecSet, method: str, path: str, status: int, headers: HeaderMap,
                   body: bytes, *, via: str = 'gateway', known_path: bool = True) -> list[str]:
    """Every way this response departs from the spec and the conventions ([] if none)."""
    errors: list[str] = []
    method = method.upper()
    is_api = path.startswith('/api/')
    ctype = media_type(headers.get('Content-Type'))
    doc = None
    if body and ctype in JSON_TYPES:
        try:
            doc = _strict_json(body)
        except (ValueError, UnicodeDecodeError) as e:
            errors.append(f'{ctype} body is not valid JSON: {e}')

    # Conventions common to every API answer.
    if is_api and not headers.get('X-Request-Id'):
        errors.append('missing X-Request-Id header')
    if status >= 400:
        if ctype != 'application/problem+json':
            errors.append(f'error status {status} with Content-Type {headers.get("Content-Type")!r}, '
                          'expected application/problem+json')
        elif isinstance(doc, dict):
            errors += [f'problem {e}' for e in spec.schema_errors(spec.problem_schema, doc)]
            if doc.get('status') != status:
                errors.append(f'problem "status" {doc.get("status")!r} differs from the HTTP status {status}')
            code = doc.get('code')
            registered = CODES.get(code)
            if registered is not None and status not in (registered if isinstance(registered, tuple)
                                                         else (registered,)):
                errors.append(f'problem code {code} is registered with status {registered}, answered {status}')
            rid = headers.get('X-Request-Id')
            if 'request_id' in doc and rid and doc['request_id'] != rid:
                errors.append(f'problem request_id {doc["request_id"]!r} != X-Request-Id {rid!r}')
        elif doc is None and not errors:
            errors.append('error answer without a problem body')

    # An error made by nginx itself (deploy/gateway/routes.conf): a problem with
    # type about:blank and no API-Version, possible on any route.
    gateway_made = (via == 'gateway' and status >= 400 and isinstance(doc, dict)
                    and doc.get('type') == 'about:blank')
    match = spec.match(path)
    if match is None:
        if known_path:
            errors.append(f'path {path} is not documented in api-spec')
        return errors
    template, item = match
    if gateway_made:
        return errors
    if is_api and status not in GATEWAY_STATUSES and not headers.get('API-Version'):
        errors.append('missing API-Version header')
    op = item.get(method.lower())
    if op is None:
        if method in ('OPTIONS', 'HEAD'):
            return errors
        if status != 405 and status not in GATEWAY_STATUSES:
            errors.append(f'{method} {template} is not documented: expected 405, got {status}')
        if status == 405:
            allow = headers.get('Allow')
            if not allow:
                errors.append('405 without an Allow header')
            else:
                documented = {m.upper() for m in item if m in
                              ('get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace')}
                allowed = {m.strip().upper() for m in allow.split(',') if m.strip()}
                if not documented <= allowed:
                    errors.append(f'Allow {allow!r} lacks documented methods {sorted(documented - allowed)}')
                if method in allowed:
                    errors.append(f'Allow {allow!r} lists {method}, which answered 405')
        return errors

    responses = op.get('responses', {})
    resp = (responses.get(str(status)) or responses.get(f'{status // 100}XX')
            or responses.get(f'{status // 100}xx') or responses.get('default'))
    if resp is None:
        if status in GATEWAY_STATUSES and (via == 'gateway' or status == 503):
            return errors  # problem shape already checked above
        errors.append(f'status {status} is not documented for {method} {template} '
                      f'(documented: {", ".join(sorted(responses))})')
        return errors

    for name, h in (resp.get('headers') or {}).items():
        if name.lower() == 'content-type':
            continue
        value = headers.get(name)
        if value is None:
            if h.get('required'):
                errors.append(f'{status} without required header {name}')
            continue
        if 'schema' in h:
            errors += [f'header {name}={value!r}: {e}' for e in spec.schema_errors(h['schema'], value)]

    content = resp.get('content') or {}
    if not content:
        if body:
            errors.append(f'{status} must not have a body (got {len(body)} bytes of {ctype or "?"})')
        return errors
    if not body:
        errors.append(f'{status} without the documented body ({", ".join(content)})')
        return errors
    media = content.get(ctype)
    if media is None:
        errors.append(f'{status} answered Content-Type {headers.get("Content-Type")!r}; '
                      f'documented: {", ".join(content)}')
        return errors
    schema = media.get('schema')
    if schema is None:
        return errors
    if ctype in JSON_TYPES or ctype.endswith('+json'):
        if doc is None and ctype not in JSON_TYPES:
            try:
                doc = _strict_json(body)
            except (ValueError, UnicodeDecodeError) as e:
                errors.append(f'body is not valid JSON: {e}')
                return errors
        if doc is not None:
            errors += spec.schema_errors(schema, doc)
    elif ctype.startswith('text/'):
        try:
            text = body.decode('utf-8')
        except UnicodeDecodeError:
            errors.append('text body is not UTF-8')
        else:
            errors += spec.schema_errors(schema, text)
    return errors


# ---------------------------------------------------------------------------
# Raw HTTP.

class RawResponse:
    def __init__(self, status: int, reason: str, headers: HeaderMap, body: bytes, send_error: str | None):
        self.status_code = status
        self.reason = reason
        self.headers = headers
        self.content = body
        self.send_error = send_error  # the server closed the connection while we were still sending

    def json(self) -> Any:
        return _strict_json(self.content)

    @property
    def text(self) -> str:
        return self.content.decode('utf-8', 'replace')


def _decode_chunked(data: bytes) -> bytes:
    out, pos = bytearray(), 0
    while True:
        eol = data.find(b'\r\n', pos)
        if eol < 0:
            break
        size = int(data[pos:eol].split(b';')[0].strip() or b'0', 16)
        pos = eol + 2
        if size == 0:
            break
        out += data[pos:pos + size]
        pos += size + 2
    return bytes(out)


def raw_request(base_url: str, method: str, target: str, headers: list[tuple[str, str]] | None = None,
                body: bytes | None = None, timeout: float = 30.0) -> RawResponse:
    """Send one request exactly as given (the target is not normalised or
    re-encoded) and read the answer even if the server stopped reading the body."""
    u = urllib.parse.urlsplit(base_url)
    host, port = u.hostname, u.port or 80
    lines = [f'{method} {target} HTTP/1.1', f'Host: {u.netloc}', 'Connection: close']
    names = {h[0].lower() for h in headers or []}
    for k, v in headers or []:
        lines.append(f'{k}: {v}')
    if body is not None and 'content-length' not in names and 'transfer-encoding' not in names:
        lines.append(f'Content-Length: {len(body)}')
    head = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
    send_error = None
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(head)
            if body:
                view = memoryview(body)
                for i in range(0, len(body), 65536):
                    s.sendall(view[i:i + 65536])
        except (BrokenPipeError, ConnectionResetError) as e:
            send_error = repr(e)
        # No shutdown(SHUT_WR): nginx takes a half-closed connection for a client
        # that went away (499) and never answers. Connection: close ends the reply.
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                break
            if not data:
                break
            chunks.append(data)
    raw = b''.join(chunks)
    if not raw:
        raise ConnectionError(f'no answer to {method} {target} (send error: {send_error})')
    head_end = raw.find(b'\r\n\r\n')
    head_bytes, rest = (raw[:head_end], raw[head_end + 4:]) if head_end >= 0 else (raw, b'')
    head_lines = head_bytes.decode('latin-1').split('\r\n')
    parts = head_lines[0].split(' ', 2)
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ''
    hm = HeaderMap()
    for line in head_lines[1:]:
        if ':' in line:
            k, v = line.split(':', 1)
            hm[k.strip()] = v.strip()
    if 'chunked' in (hm.get('Transfer-Encoding') or '').lower():
        rest = _decode_chunked(rest)
    elif hm.get('Content-Length', '').isdigit():
        rest = rest[:int(hm['Content-Length'])]
    if method.upper() == 'HEAD' or status in (204, 304):
        rest = b''
    return RawResponse(status, reason, hm, rest, send_error)


# ---------------------------------------------------------------------------
# The validating client.

_MISSING = object()


class ApiClient:
    """requests.Session wrapper: every response is checked against the spec.

    via: 'gateway' (through nginx) or 'service' (the service's own port).
    Per call: validate=False skips every check; known_path=False accepts a path
    the spec does not have (the answer must still be a well-formed problem);
    retry_429=False disables the automatic wait-and-retry on the gateway's rate
    limit; expect=<status or tuple> asserts the status.
    """

    def __init__(self, base_url: str, spec: SpecSet, via: str = 'gateway', timeout: float = 30.0,
                 rate: float = 0.0, burst: float = 1.0):
        self.base_url = base_url.rstrip('/')
        self.spec = spec
        self.via = via
        self.timeout = timeout
        # Client-side pacing (a token bucket) so that ordinary tests stay under the
        # gateway's rate limit instead of collecting 429s; rate 0 = no pacing.
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._stamp = time.monotonic()
        self._lock = threading.Lock()
        self.session = requests.Session()
        self.session.headers['User-Agent'] = 'motcua-api-tests'
        self.session.headers['Accept'] = 'application/json, application/problem+json'
        self.log: list[tuple[str, str, int]] = []

    def url(self, path: str) -> str:
        return self.base_url + path

    def pace(self) -> None:
        if self.rate <= 0:
            return
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            self._tokens -= 1
        if wait > 0:
            time.sleep(wait)

    def request(self, method: str, path: str, *, token: str | None = None, headers: dict | None = None,
                json: Any = _MISSING, data: Any = None, params: Any = None, validate: bool = True,
                known_path: bool = True, retry_429: bool = True, expect: Any = None,
                timeout: float | None = None) -> requests.Response:
        hdrs = dict(headers or {})
        if token is not None:
            hdrs['Authorization'] = f'Bearer {token}'
        kwargs: dict[str, Any] = {'headers': hdrs, 'params': params, 'allow_redirects': False,
                                  'timeout': timeout or self.timeout}
        if json is not _MISSING:
            kwargs['json'] = json
        elif data is not None:
            kwargs['data'] = data
        waited = 0.0
        while True:
            self.pace()
            resp = self.session.request(method, self.url(path), **kwargs)
            if not (retry_429 and resp.status_code == 429 and waited < 30):
                break
            ra = resp.headers.get('Retry-After', '1')
            delay = min(float(ra) if ra.isdigit() else 1.0, 5.0) or 0.5
            time.sleep(delay)
            waited += delay
        sent_path = urllib.parse.urlsplit(resp.request.url).path
        self.log.append((method, resp.request.url[:200], resp.status_code))
        resp.doc = None  # type: ignore[attr-defined]
        if media_type(resp.headers.get('Content-Type')) in JSON_TYPES and resp.content:
            try:
                resp.doc = _strict_json(resp.content)  # type: ignore[attr-defined]
            except (ValueError, UnicodeDecodeError):
                pass
        if validate:
            errs = check_response(self.spec, method, sent_path, resp.status_code,
                                  HeaderMap(resp.headers.items()), resp.content, via=self.via,
                                  known_path=known_path)
            if errs:
                raise SpecViolation(describe(method, resp.request.url, resp.status_code, resp.content, errs))
            record_exercised(self.spec, method, sent_path, resp.status_code)
        if expect is not None:
            assert_status(resp, expect)
        return resp

    def raw(self, method: str, target: str, headers: list[tuple[str, str]] | None = None,
            body: bytes | None = None, *, validate: bool = True, known_path: bool = True,
            expect: Any = None, timeout: float | None = None) -> RawResponse:
        self.pace()
        resp = raw_request(self.base_url, method, target, headers, body, timeout or self.timeout)
        self.log.append((method, self.base_url + target[:200], resp.status_code))
        if validate:
            path = target.split('?', 1)[0]
            errs = check_response(self.spec, method, path, resp.status_code, resp.headers, resp.content,
                                  via=self.via, known_path=known_path)
            if errs:
                raise SpecViolation(describe(method, self.base_url + target, resp.status_code, resp.content, errs))
            record_exercised(self.spec, method, path, resp.status_code)
        if expect is not None:
            assert_status(resp, expect)
        return resp

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request('GET', path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request('POST', path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request('PUT', path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request('DELETE', path, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.request('PATCH', path, **kw)

    def options(self, path: str, **kw: Any) -> requests.Response:
        return self.request('OPTIONS', path, **kw)


def describe(method: str, url: str, status: int, body: bytes, errors: list[str]) -> str:
    excerpt = body[:1500].decode('utf-8', 'replace')
    if len(body) > 1500:
        excerpt += f'... ({len(body)} bytes)'
    lines = [f'{method} {url[:300]} -> {status} does not match api-spec / conventions:']
    lines += [f'  - {e}' for e in errors]
    lines.append(f'  body: {excerpt}')
    return '\n'.join(lines)


def assert_status(resp: Any, expect: Any) -> None:
    allowed = (expect,) if isinstance(expect, int) else tuple(expect)
    if resp.status_code not in allowed:
        url = getattr(getattr(resp, 'request', None), 'url', '')
        raise AssertionError(f'{url[:300]}: expected status {allowed}, got {resp.status_code}: '
                             f'{resp.content[:1500].decode("utf-8", "replace")}')


def problem(resp: Any) -> dict:
    """The problem body of an error response (checks it is one)."""
    ctype = media_type(resp.headers.get('Content-Type'))
    assert ctype == 'application/problem+json', f'expected a problem, got {ctype}: {resp.content[:500]!r}'
    doc = _strict_json(resp.content)
    assert isinstance(doc, dict)
    return doc


def assert_problem(resp: Any, status: int | tuple, code: str | None = None) -> dict:
    assert_status(resp, status)
    doc = problem(resp)
    if code is not None:
        assert doc.get('code') == code, f'expected code {code}, got {doc.get("code")}: {doc}'
    return doc


def error_pointers(doc: dict) -> set[str]:
    return {e['pointer'] for e in doc.get('errors', []) if 'pointer' in e}


def error_parameters(doc: dict) -> set[str]:
    return {e['parameter'] for e in doc.get('errors', []) if 'parameter' in e}


# ---------------------------------------------------------------------------
# Tokens.

ISSUER = 'motcua-identity'
AUDIENCE = 'motcua'


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def b64url_json(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(',', ':'), ensure_ascii=False).encode('utf-8'))


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def jwt_parts(token: str) -> tuple[dict, dict, str]:
    h, p, s = token.split('.')
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), s


def standard_claims(sub: str, roles: list[str], agency: str | None = None, ttl: int = 3600,
                    iss: str = ISSUER, aud: str = AUDIENCE, **extra: Any) -> dict:
    now = int(time.time())
    claims: dict[str, Any] = {'iss': iss, 'aud': aud, 'sub': sub, 'iat': now, 'exp': now + ttl,
                              'roles': list(roles)}
    if agency:
        claims['agency'] = agency
    claims.update(extra)
    return claims


def sign_rs256(header: dict, claims: Any, key_path: str) -> str:
    """An RS256 JWT signed with `openssl dgst` (claims may be a dict or raw bytes)."""
    openssl = shutil.which('openssl')
    if openssl is None:
        raise RuntimeError('openssl is not installed')
    payload = claims if isinstance(claims, (bytes, bytearray)) else json.dumps(
        claims, separators=(',', ':')).encode('utf-8')
    signing_input = f'{b64url_json(header)}.{b64url(bytes(payload))}'.encode('ascii')
    sig = subprocess.run([openssl, 'dgst', '-sha256', '-sign', key_path], input=signing_input,
                         capture_output=True, check=True).stdout
    return f'{signing_input.decode("ascii")}.{b64url(sig)}'


def sign_hs256(header: dict, claims: dict, secret: bytes) -> str:
    signing_input = f'{b64url_json(header)}.{b64url_json(claims)}'.encode('ascii')
    sig = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f'{signing_input.decode("ascii")}.{b64url(sig)}'


def generate_rsa_key(directory: str) -> str:
    path = os.path.join(directory, 'other-key.pem')
    subprocess.run(['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048',
                    '-out', path], check=True, capture_output=True)
    return path


class TokenMinter:
    """Mints trusted tokens with motcua-token (falls back to openssl signing
    when the CLI is not given). Tokens with a positive ttl are cached."""

    def __init__(self, token_bin: str | None, key_path: str):
        self.token_bin = token_bin
        self.key_path = key_path
        self._cache: dict[tuple, str] = {}

    def mint(self, sub: str, roles: Iterable[str], agency: str | None = None, ttl: int = 3600,
             iss: str = ISSUER, aud: str = AUDIENCE, kid: str | None = None,
             key_path: str | None = None) -> str:
        roles = list(roles)
        key = (sub, tuple(roles), agency, ttl, iss, aud, kid, key_path)
        if ttl > 600 and key in self._cache:
            return self._cache[key]
        kp = key_path or self.key_path
        if self.token_bin:
            cmd = [self.token_bin, '--key', kp, '--sub', sub, '--roles', ','.join(roles),
                   '--ttl', str(ttl), '--iss', iss, '--aud', aud]
            if agency:
                cmd += ['--agency', agency]
            if kid:
                cmd += ['--kid', kid]
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            if out.returncode != 0:
                raise RuntimeError(f'{" ".join(cmd)} failed: {out.stderr.strip()}')
            token = out.stdout.strip().splitlines()[-1].strip()
        else:
            header = {'alg': 'RS256', 'typ': 'JWT'}
            if kid:
                header['kid'] = kid
            token = sign_rs256(header, standard_claims(sub, roles, agency, ttl, iss, aud), kp)
        if ttl > 600:
            self._cache[key] = token
        return token


def unique_suffix(n: int = 8) -> str:
    return os.urandom(n).hex()[:n]


def tmpdir() -> str:
    return tempfile.mkdtemp(prefix='motcua-api-tests-')


def deepcopy(obj: Any) -> Any:
    return copy.deepcopy(obj)
