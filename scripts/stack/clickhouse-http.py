#!/usr/bin/env python3
"""The local stack's ClickHouse: the ClickHouse engine of PyPI's chdb-core, behind ClickHouse's HTTP interface.

No Docker and no ClickHouse server package can be had here, but chdb-core embeds the real ClickHouse engine
(26.9) as a Python extension. This program gives it the part of the HTTP interface that the official clients
(@clickhouse/client, clickhouse-connect, curl) use, so the product talks to it exactly as it would to a server:
    GET /ping, GET /, GET /replicas_status                     -> "Ok.\\n"
    POST <any path>, GET /?query=..., GET /query?query=...     -> a query
Started by scripts/stack/clickhouse.sh (see there for ports, users and data directory); stdlib only.

How a request maps onto the engine (the server's rules, src/Server/HTTPHandler.cpp, mirrored):
  * the SQL is the `query` URL parameter, a line feed, then the (decompressed) request body; with
    multipart/form-data, the `query` and `param_*` form fields instead (no external tables);
  * `database` (or header X-ClickHouse-Database), `default_format` (or header X-ClickHouse-Format, else
    TabSeparated), `query_id` (or header X-ClickHouse-Query-Id, else a new uuid);
  * `param_<name>` URL parameters are the query's {name:Type} parameters, bound by the engine itself (chdb
    passes them into the query context: the server's own substitution and escaping rules);
  * every other parameter that the server does not reserve is a setting for this query only.
  Each request gets its own engine connection (one embedded engine per process and data directory, one cheap
  connection per request: about 1 ms), i.e. its own settings context, like the server's per-request query
  context. On it the front runs, in the server's order: `SET readonly = 1` for a read-only user, `USE <database>`,
  `SET readonly = 2` for a GET by a user that is not read-only (the server: "method GET implies readonly"), then
  `SET name = '<value>', ...` with the URL settings as string literals (what the server does with them: string
  values, checked against the user's constraints, so a read-only user's settings are refused by the engine
  with its own READONLY error), then the query. The connection is closed afterwards, so nothing (SET, USE, URL
  settings) leaks into another request. Queries are serialized by one lock: one query at a time.

Responses: the engine's output bytes with Content-Length (the whole result is buffered, as with
wait_end_of_query=1); X-ClickHouse-Summary / -Query-Id / -Format / -Timezone / -Server-Display-Name;
Content-Encoding gzip/deflate/xz/bz2 when enable_http_compression=1 and Accept-Encoding asks for one of them.
The summary comes from the engine's statistics of the query: read_rows/read_bytes = rows and bytes read from
storage, written_rows/written_bytes, result_rows/result_bytes = rows and bytes of the result blocks (of an INSERT:
the written ones), elapsed_ns.
Errors: the engine's "Code: N. DB::Exception: ... (NAME)" text and a line feed, header X-ClickHouse-Exception-Code,
HTTP status as src/Server/HTTP/exceptionCodeToHTTPStatus.cpp maps the code: e.g. AUTHENTICATION_FAILED and
ACCESS_DENIED 403, SYNTAX_ERROR 400, UNKNOWN_TABLE/UNKNOWN_DATABASE 404, and READONLY 500 (the server does not map
164). Where the engine runs as its single user `default`, the message names the request's user instead, as the
server does; several statements in one request are refused with SYNTAX_ERROR, as the server does (chdb alone would
run them all).

LIMITATIONS (what differs from a real server):
  * No access storage in chdb: CREATE USER / GRANT / ROLE are refused by the engine. Users come from a JSON file
    (users.json, written by clickhouse.sh) and have an access level: full (`readonly` 0) or read-only
    (`readonly` 1 or 2 — 2 lets a query set its own settings —, enforced by the engine on every query). Per-database/per-table GRANTs cannot be enforced, the
    `role` parameter is answered with UNKNOWN_ROLE, and currentUser() in SQL is always `default`.
  * `session_id` is ignored: every request is a fresh session (SET/USE/temporary tables do not carry over).
  * One query at a time; a client disconnect does not cancel a running query (max_execution_time does).
  * ClickHouse's own block compression (`compress=1`, `decompress=1`), request Content-Encoding zstd/br/lz4/snappy
    and external tables (multipart file parts) are answered with NOT_IMPLEMENTED; responses are never encoded
    with zstd/br/lz4/snappy (an Accept-Encoding offering only those gets an uncompressed response, which HTTP allows).
  * X-ClickHouse-Progress is sent once, with the final numbers, when send_progress_in_http_headers=1;
    total_rows_to_read in the summary is the number of rows read (chdb does not report the estimate).
  * The admin user can read and write local files through file() relative to the data directory (clickhouse-local
    semantics; a server confines them to user_files_path). Listen on loopback only.
"""

import argparse
import base64
import bz2
import gzip
import hashlib
import hmac
import http.server
import json
import lzma
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
import zlib

# --------------------------------------------------------------------------------------------------------------
# Errors, in the server's words

# HTTP status of an exception code, as src/Server/HTTP/exceptionCodeToHTTPStatus.cpp maps it (by error name; the
# numbers come from the engine's system.errors at start-up). Every other code, READONLY (164) included, is 500.
STATUS_BY_ERROR_NAME = {
    401: ["REQUIRED_PASSWORD"],
    403: ["UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED", "SET_NON_GRANTED_ROLE", "ACCESS_DENIED"],
    400: ["BAD_ARGUMENTS", "CANNOT_COMPILE_REGEXP", "CANNOT_PARSE_TEXT", "CANNOT_PARSE_ESCAPE_SEQUENCE",
          "CANNOT_PARSE_QUOTED_STRING", "CANNOT_PARSE_DATE", "CANNOT_PARSE_DATETIME", "CANNOT_PARSE_NUMBER",
          "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING", "CANNOT_PARSE_IPV4", "CANNOT_PARSE_IPV6",
          "CANNOT_PARSE_INPUT_ASSERTION_FAILED", "CANNOT_PARSE_UUID", "DUPLICATE_COLUMN", "ILLEGAL_COLUMN",
          "UNKNOWN_ELEMENT_IN_AST", "UNKNOWN_TYPE_OF_AST_NODE", "THERE_IS_NO_COLUMN", "TOO_DEEP_AST", "TOO_BIG_AST",
          "UNEXPECTED_AST_STRUCTURE", "SYNTAX_ERROR", "INCORRECT_DATA", "TYPE_MISMATCH",
          "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE"],
    404: ["UNKNOWN_TABLE", "UNKNOWN_FUNCTION", "UNKNOWN_IDENTIFIER", "UNKNOWN_TYPE", "UNKNOWN_STORAGE",
          "UNKNOWN_DATABASE", "UNKNOWN_SETTING", "UNKNOWN_DIRECTION_OF_SORTING", "UNKNOWN_AGGREGATE_FUNCTION",
          "UNKNOWN_FORMAT", "UNKNOWN_DATABASE_ENGINE", "UNKNOWN_TYPE_OF_QUERY", "UNKNOWN_ROLE"],
    413: ["QUERY_IS_TOO_LARGE"],
    501: ["NOT_IMPLEMENTED"],
    503: ["SOCKET_TIMEOUT", "CANNOT_OPEN_FILE", "CANNOT_SCHEDULE_TASK"],
    411: ["HTTP_LENGTH_REQUIRED"],
    408: ["TIMEOUT_EXCEEDED"],
    415: ["UNSUPPORTED_MEDIA_TYPE"],
}
# The few codes the front raises itself (the engine's system.errors confirms them at start-up).
ERROR_CODES = {"SYNTAX_ERROR": 62, "BAD_ARGUMENTS": 36, "NOT_IMPLEMENTED": 48, "AUTHENTICATION_FAILED": 516,
               "HTTP_LENGTH_REQUIRED": 381, "UNKNOWN_ROLE": 511, "STD_EXCEPTION": 1001, "ZLIB_INFLATE_FAILED": 354,
               "UNKNOWN_SETTING": 115, "QUERY_WAS_CANCELLED": 394}


class ClickHouseError(Exception):
    """An exception as the server reports it: code, name, and the full `Code: N. DB::Exception: ...` text."""

    def __init__(self, name, message, code=None):
        self.name = name
        self.code = code if code is not None else ERROR_CODES[name]
        self.text = f"Code: {self.code}. DB::Exception: {message}. ({name})"
        super().__init__(self.text)

    @classmethod
    def from_engine(cls, text):
        """Wrap an engine exception text, keeping it as it is (after normalize_engine_text)."""
        err = cls.__new__(cls)
        m = re.match(r"Code: (\d+)\. ", text)
        n = re.search(r"\(([A-Z0-9_]+)\)\s*$", text)
        err.code = int(m.group(1)) if m else ERROR_CODES["STD_EXCEPTION"]
        err.name = n.group(1) if n else "STD_EXCEPTION"
        err.text = text if m else f"Code: {err.code}. DB::Exception: {text}. (STD_EXCEPTION)"
        Exception.__init__(err, err.text)
        return err


def normalize_engine_text(text, user, method):
    """chdb's exception text, made what a server would have said to this user over HTTP."""
    text = text.strip()
    # chdb wraps some exceptions in themselves: "Code: 73. DB::Exception: Code: 73. DB::Exception: Unknown
    # format Foo. (UNKNOWN_FORMAT) (version 26.9.2.1). (UNKNOWN_FORMAT) (version ...). (UNKNOWN_FORMAT)".
    m = re.match(r"(Code: \d+\. DB::Exception: )", text)
    if m:
        prefix, nested = m.group(1), False
        while text.startswith(prefix + prefix):
            text, nested = text[len(prefix):], True
        if nested:
            n = re.search(r"\(([A-Z0-9_]+)\)\s*$", text)
            if n:
                i = text.find(f"({n.group(1)})")
                text = text[: i + len(n.group(1)) + 2]
    # The engine runs every query as its single user `default`; the server names the real user.
    if user != "default":
        text = text.replace("DB::Exception: default: ", f"DB::Exception: {user}: ", 1)
    # A write refused because GET implies readonly: the server says so.
    if method != "POST" and text.endswith(": Cannot execute query in readonly mode. (READONLY)"):
        text = text[: -len(". (READONLY)")] + (". For queries over HTTP, method GET implies readonly. "
                                               "You should use method POST for modifying queries. (READONLY)")
    return text


# --------------------------------------------------------------------------------------------------------------
# A small SQL lexer: only to learn what the response headers need (is it an INSERT, which output format, is the
# text empty, where does a second statement start). The engine parses and runs the query itself.

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<line_comment>(?:--|\#[ !]|\#$)[^\n]*)
  | (?P<block_comment>/\*)
  | (?P<string>'(?:[^'\\]|\\.|'')*(?:'|$))
  | (?P<quoted_id>"(?:[^"\\]|\\.|"")*(?:"|$)|`(?:[^`\\]|\\.|``)*(?:`|$))
  | (?P<heredoc>\$(?P<tag>[A-Za-z0-9_]*)\$)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<semicolon>;)
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<other>.)
""", re.X | re.S)

LEXER_LIMIT = 4 << 20  # longer texts are not examined (the engine's max_query_size is 256 KiB by default)


def scan_sql(text, output_formats):
    """-> (first keyword upper-cased or None, output format named by a top-level FORMAT clause or None,
    offset of a top-level ';' followed by more SQL or None). For an INSERT it stops where the data starts."""
    first = fmt = None
    depth = pos = 0
    semicolon = second = None
    prev_format = False
    n = min(len(text), LEXER_LIMIT)
    while pos < n:
        m = _TOKEN.match(text, pos)
        kind, tok = m.lastgroup, m.group(0)
        end = m.end()
        if kind == "block_comment":  # nested /* */ comments, as ClickHouse allows them
            level, i = 1, end
            while level and i < n:
                if text.startswith("/*", i):
                    level, i = level + 1, i + 2
                elif text.startswith("*/", i):
                    level, i = level - 1, i + 2
                else:
                    i += 1
            end = i
        elif kind == "heredoc":
            close = text.find(tok, end)
            end = n if close < 0 else close + len(tok)
        if kind in ("ws", "line_comment", "block_comment"):
            pos = end
            continue
        if semicolon is not None and kind != "semicolon" and second is None:
            second = semicolon
        if kind == "word":
            upper = tok.upper()
            if first is None:
                first = upper
            if prev_format and depth == 0:
                if first == "INSERT":
                    return first, None, second  # the data follows FORMAT <name>
                if tok.lower() in output_formats:
                    fmt = tok
            if first == "INSERT" and upper == "VALUES" and depth == 0:
                return first, None, second  # the data follows VALUES
            prev_format = upper == "FORMAT"
        else:
            if first is None:
                first = tok  # not SQL the lexer knows; the engine will say what is wrong
            prev_format = False
            if kind == "open":
                depth += 1
            elif kind == "close":
                depth = max(0, depth - 1)
            elif kind == "semicolon" and depth == 0 and semicolon is None:
                semicolon = pos
        pos = end
    return first, fmt, second


# --------------------------------------------------------------------------------------------------------------
# The engine

class Engine:
    """One embedded ClickHouse engine per process, on one data directory; a connection per request."""

    def __init__(self, data_dir):
        os.makedirs(data_dir, exist_ok=True)
        # Importing the chdb package runs a throw-away in-memory connection (to read the version), closed again
        # before we open the data directory. pandas/pyarrow are not needed (chdb-core is installed --no-deps).
        import chdb._chdb as native
        self._native = native
        self._path = data_dir
        self._lock = threading.Lock()
        # The anchor keeps the engine (and the directory's lock) for the process' lifetime; requests open and close
        # their own connections beside it.
        self._anchor = native.connect(data_dir)
        version, tz = self._scalar("SELECT version(), timezone()").split("\t")
        self.version, self.timezone = version, tz
        self.output_formats = {
            name.lower(): name for name in self._scalar("SELECT name FROM system.formats WHERE is_output").split("\n")}
        codes = dict(line.split("\t") for line in self._scalar(
            "SELECT DISTINCT name, code FROM system.errors SETTINGS system_events_show_zero_values = 1").split("\n"))
        for name in ERROR_CODES:
            if name in codes:
                ERROR_CODES[name] = int(codes[name])
        self.status_by_code = {int(codes[name]): status
                               for status, names in STATUS_BY_ERROR_NAME.items() for name in names if name in codes}

    def _scalar(self, sql):
        return self._anchor.query(sql, "TabSeparated").bytes().decode().rstrip("\n")

    def execute(self, prelude, sql, fmt, params):
        """Run the prelude statements then `sql` on a new connection. -> (output bytes, statistics dict).
        Raises RuntimeError with the engine's exception text, or ClickHouseError."""
        with self._lock:
            if self._anchor is None:
                # as a server that is shutting down cancels what reaches it (a client may retry elsewhere or later)
                raise ClickHouseError("QUERY_WAS_CANCELLED", "Query was cancelled: the server is shutting down")
            conn = self._native.connect(self._path)
            try:
                for statement in prelude:
                    conn.query(statement, "TabSeparated")
                # The server refuses several statements in one request; chdb would run them all.
                if conn.classify_query(sql)["statement_count"] > 1:
                    raise MultiStatement()
                r = conn.query(sql, fmt, params=params)
                out = r.bytes()
                stats = {"result_rows": r.rows_read(), "result_bytes": r.bytes_read(),
                         "read_rows": r.storage_rows_read(), "read_bytes": r.storage_bytes_read(),
                         "written_rows": r.rows_written(), "written_bytes": r.bytes_written(),
                         "elapsed": r.elapsed()}
                return out, stats
            finally:
                conn.close()

    def close(self):
        """Wait for the running query, then close the engine (its parts and metadata are on disk)."""
        with self._lock:
            if self._anchor is not None:
                self._anchor.close()
                self._anchor = None


class MultiStatement(Exception):
    pass


# --------------------------------------------------------------------------------------------------------------
# Users

class Users:
    """users.json: {"users": {"<name>": {"password_sha256_hex": "...", "readonly": 0|1}}}; re-read when it changes."""

    def __init__(self, path):
        self._path = path
        self._mtime = None
        self._users = {}
        self._lock = threading.Lock()
        self._load()

    def _load(self):
        with self._lock:
            mtime = os.stat(self._path).st_mtime_ns
            if mtime != self._mtime:
                with open(self._path, encoding="utf-8") as f:
                    self._users = json.load(f)["users"]
                self._mtime = mtime
            return self._users

    def authenticate(self, user, password):
        """-> the user's readonly level, or raise AUTHENTICATION_FAILED as the server does."""
        entry = self._load().get(user)
        given = hashlib.sha256(password.encode("utf-8")).hexdigest()
        if entry is None or not hmac.compare_digest(given, entry["password_sha256_hex"]):
            raise ClickHouseError("AUTHENTICATION_FAILED",
                                  f"{user}: Authentication failed: password is incorrect, "
                                  f"or there is no user with such name")
        return int(entry.get("readonly", 0))


def credentials(headers, params):
    """(user, password) from the request, with the server's rules (src/Server/HTTP/authenticateUserByHTTP.cpp)."""
    user = headers.get("X-ClickHouse-User", "")
    key = headers.get("X-ClickHouse-Key", "")
    authorization = headers.get("Authorization")
    in_params = any(k in ("user", "password") for k, _ in params)

    def mixed(a, b):
        return ClickHouseError("AUTHENTICATION_FAILED",
                               f"Invalid authentication: it is not allowed to use {a} and {b} simultaneously")

    if user or key:
        if not user:
            raise ClickHouseError("AUTHENTICATION_FAILED", "Got an empty user name from X-ClickHouse HTTP headers")
        if authorization is not None:
            raise mixed("X-ClickHouse HTTP headers", "Authorization HTTP header")
        if in_params:
            raise mixed("X-ClickHouse HTTP headers", "authentication via parameters")
        return user, key
    if authorization is not None:
        if in_params:
            raise mixed("Authorization HTTP header", "authentication via parameters")
        scheme, _, info = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            raise ClickHouseError("AUTHENTICATION_FAILED",
                                  f"Invalid authentication: '{scheme}' HTTP Authorization scheme is not supported")
        try:
            decoded = base64.b64decode(info.strip(), validate=False).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise ClickHouseError("AUTHENTICATION_FAILED", "Invalid authentication: malformed Basic credentials")
        user, _, password = decoded.partition(":")
        if not user:
            raise ClickHouseError("AUTHENTICATION_FAILED", "Got an empty user name from Authorization HTTP header")
        return user, password
    user = first(params, "user", "default")
    if not user:
        raise ClickHouseError("AUTHENTICATION_FAILED", "Got an empty user name from authentication via parameters")
    return user, first(params, "password", "")


# --------------------------------------------------------------------------------------------------------------
# HTTP

# URL parameters that the server handles itself and never treats as settings (HTTPHandler.cpp reserved_param_names).
RESERVED_PARAMS = {"compress", "decompress", "user", "password", "quota_key", "query_id", "stacktrace", "role",
                   "buffer_size", "wait_end_of_query", "session_id", "session_timeout", "session_check",
                   "client_protocol_version", "close_session", "database", "default_format", "query"}
# Response encodings this front can produce, in the server's order of preference among them.
RESPONSE_ENCODINGS = [("gzip", "gzip"), ("deflate", "deflate"), ("xz", "xz"), ("bz2", "bz2")]
BINARY_FORMATS = {"native", "rowbinary", "rowbinarywithnames", "rowbinarywithnamesandtypes", "rowbinarywithdefaults",
                  "parquet", "arrow", "arrowstream", "orc", "avro", "protobuf", "protobufsingle", "protobuflist",
                  "capnproto", "msgpack", "bson", "bsoneachrow", "npy", "rawblob", "one"}
KEEP_ALIVE_TIMEOUT = 10   # advertised to clients (the server's keep_alive_timeout default)
SOCKET_TIMEOUT = 30       # idle keep-alive connections are closed after this (longer than advertised)
MAX_REQUEST_LINE = 1 << 20  # the server's http_max_uri_size: URLs with large param_* values


def first(params, name, default=None):
    for k, v in params:
        if k == name:
            return v
    return default


def truthy(value):
    return str(value).strip().lower() in ("1", "true")


def content_type_of(fmt):
    f = fmt.lower()
    if f.startswith("json") or f.startswith("prettyjson"):
        return "application/json; charset=UTF-8"
    if f.startswith("tabseparated") or f.startswith("tsv"):
        return "text/tab-separated-values; charset=UTF-8"
    if f.startswith("csv"):
        return "text/csv; charset=UTF-8; header=" + ("present" if f != "csv" else "absent")
    if f == "xml":
        return "application/xml; charset=UTF-8"
    if f in BINARY_FORMATS:
        return "application/octet-stream"
    return "text/plain; charset=UTF-8"


def decode_body(body, encoding):
    """The request body, decompressed as its Content-Encoding says (the server's chooseCompressionMethod)."""
    enc = (encoding or "").strip().lower()
    try:
        if enc in ("", "none", "identity"):
            return body
        if enc == "gzip":
            return gzip.decompress(body)
        if enc == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
        if enc == "xz":
            return lzma.decompress(body)
        if enc == "bz2":
            return bz2.decompress(body)
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as e:
        raise ClickHouseError("ZLIB_INFLATE_FAILED" if enc in ("gzip", "deflate") else "STD_EXCEPTION",
                              f"Cannot decompress the request body ({enc}): {e}")
    if enc in ("zstd", "br", "lz4", "snappy"):
        raise ClickHouseError("NOT_IMPLEMENTED",
                              f"Content-Encoding '{enc}' is not supported by this local front (chdb-core); "
                              f"use gzip, deflate, xz or bz2")
    raise ClickHouseError("BAD_ARGUMENTS", f"Unknown compression method '{enc}'. Only 'auto', 'none', 'gzip', "
                                           f"'deflate', 'br', 'xz', 'zstd', 'lz4', 'bz2', 'snappy' are supported "
                                           f"as compression methods")


def encode_body(data, method, level):
    if method == "gzip":
        return gzip.compress(data, compresslevel=max(1, min(9, level)))
    if method == "deflate":
        return zlib.compress(data, max(1, min(9, level)))
    if method == "xz":
        return lzma.compress(data)
    return bz2.compress(data)


def parse_multipart(body, content_type):
    """multipart/form-data fields -> list of (name, value); a file part (an external table) is refused."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise ClickHouseError("BAD_ARGUMENTS", "multipart/form-data without a boundary")
    delimiter = b"--" + m.group(1).encode("latin-1")
    fields = []
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part[2:] if part.startswith(b"\r\n") else part
        head, _, value = part.partition(b"\r\n\r\n")
        if value.endswith(b"\r\n"):
            value = value[:-2]
        disposition = next((line for line in head.decode("utf-8", "replace").split("\r\n")
                            if line.lower().startswith("content-disposition:")), "")
        if re.search(r'\bfilename\*?=', disposition):
            raise ClickHouseError("NOT_IMPLEMENTED", "External tables (multipart file parts) are not supported by "
                                                     "this local front")
        name = re.search(r'\bname="([^"]*)"', disposition)
        if name:
            fields.append((name.group(1), value.decode("utf-8", "surrogateescape")))
    return fields


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall between them
    engine = users = None  # set by main()
    session_warned = False
    display_name = socket.gethostname()

    # ---- plumbing

    def handle_one_request(self):
        # BaseHTTPRequestHandler's, with the server's 1 MiB URL limit instead of 64 KiB.
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if len(self.raw_requestline) > MAX_REQUEST_LINE:
                self.requestline = self.request_version = self.command = ""
                self.send_error(414)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            method = getattr(self, "do_" + self.command, None)
            if method is None:
                self.send_error(501, f"Unsupported method ({self.command})")
                return
            method()
            self.wfile.flush()
        except (TimeoutError, socket.timeout, ConnectionError, ssl.SSLError):
            self.close_connection = True

    def log_request(self, code="-", size="-"):
        pass  # queries are logged by run_query, one line each

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), self.address_string(), fmt % args))

    def send_response(self, code, message=None):
        # No "Server: BaseHTTP/..." header: send the status line and the date, as Poco does.
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def reply(self, status, body, headers=(), content_type="text/plain; charset=UTF-8"):
        self.send_response(status)
        self.send_header("Connection", "Keep-Alive")
        self.send_header("Content-Type", content_type)
        self.send_header("X-ClickHouse-Server-Display-Name", self.display_name)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Keep-Alive", f"timeout={KEEP_ALIVE_TIMEOUT}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        """The raw request body (Content-Length or chunked); None when a POST has neither (411)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(1 << 16)
                if not size_line:
                    raise ConnectionError("the client closed the connection inside a chunked body")
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1 << 16) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(4)  # the chunk's CRLF
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if length is None:
            return None if self.command == "POST" else b""
        length = int(length)
        data = self.rfile.read(length) if length else b""
        if len(data) != length:
            raise ConnectionError("the client closed the connection inside the body")
        return data

    # ---- routes (the server's default handlers)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/ping" or (path == "/" and not query and "?" not in self.path):
            return self.reply(200, b"Ok.\n", content_type="text/html; charset=UTF-8")
        if path == "/replicas_status":
            return self.reply(200, b"Ok.\n", content_type="text/html; charset=UTF-8")
        if path in ("/", "/query") and "?" in self.path:
            return self.run_query()
        self.reply(404, (f"There is no handle {path}\n\nUse / or /ping for health checks.\nOr /replicas_status for "
                         f"more sophisticated health checks.\n\nSend queries from your program with POST method or "
                         f"GET /?query=...\n").encode())

    do_HEAD = do_GET

    def do_POST(self):
        self.run_query()

    # ---- a query

    def run_query(self):
        started = time.monotonic()
        query_id = None
        user = "-"
        status = 500
        sql_head = ""
        compression = None
        try:
            try:
                body = self.read_body()
            except (ValueError, ConnectionError):
                self.close_connection = True
                return
            params = urllib.parse.parse_qsl(self.path.partition("?")[2], keep_blank_values=True)
            query_id = first(params, "query_id") or self.headers.get("X-ClickHouse-Query-Id") or str(uuid.uuid4())
            if body is None:
                self.close_connection = True
                raise ClickHouseError("HTTP_LENGTH_REQUIRED", "The Transfer-Encoding is not chunked and there is no "
                                                              "Content-Length header for POST request")
            user, password = credentials(self.headers, params)
            readonly = self.users.authenticate(user, password)

            # Response compression is chosen before the query runs: errors from here on are compressed too.
            if truthy(first(params, "enable_http_compression", "0")):
                accepted = self.headers.get("Accept-Encoding", "").lower()
                compression = next((name for token, name in RESPONSE_ENCODINGS if token in accepted), None)
            try:
                level = int(first(params, "http_zlib_compression_level", "3"))
            except ValueError:
                level = 3  # the engine refuses the value itself when the settings are applied

            for flag in ("compress", "decompress"):
                if truthy(first(params, flag, "0")):
                    raise ClickHouseError("NOT_IMPLEMENTED", f"'{flag}=1' (ClickHouse's native block compression) is "
                                                             f"not supported by this local front; use HTTP compression")
            roles = [v for k, v in params if k == "role"]
            if roles:
                raise ClickHouseError("UNKNOWN_ROLE", f"There is no role `{roles[0]}` in user directories "
                                                      f"(this local engine has no access storage)")
            if first(params, "session_id") and not Handler.session_warned:
                Handler.session_warned = True
                self.log_message("session_id is ignored (logged once): every request is its own session")

            # The SQL: `query` parameter + LF + body, or the form fields of a multipart body.
            body = decode_body(body, self.headers.get("Content-Encoding"))
            query_params = {}
            content_type = self.headers.get("Content-Type", "")
            if content_type.lower().startswith("multipart/form-data"):
                fields = parse_multipart(body, content_type)
                sql = "".join(v for k, v in params + fields if k == "query").encode("utf-8", "surrogateescape")
                for k, v in params + fields:
                    if k.startswith("param_") and k[6:] not in query_params:
                        query_params[k[6:]] = v
            else:
                query_param = first(params, "query", "")
                sql = (query_param + "\n").encode("utf-8") + body if query_param else body
                for k, v in params:
                    if k.startswith("param_") and k[6:] not in query_params:
                        query_params[k[6:]] = v
            settings = [(k, v) for k, v in params if k and k not in RESERVED_PARAMS and not k.startswith("param_")]

            head = sql[:LEXER_LIMIT].decode("utf-8", "surrogateescape")
            sql_head = head[:200].replace("\n", " ")
            first_word, clause_format, second = scan_sql(head, self.engine.output_formats)
            if first_word is None:
                raise ClickHouseError("SYNTAX_ERROR", "Empty query")
            # The engine gets the default format and applies a FORMAT clause itself; the lexer's finding only
            # names the format in the response headers.
            default_format = self.headers.get("X-ClickHouse-Format") or first(params, "default_format") \
                or "TabSeparated"
            fmt = clause_format or default_format
            is_insert = first_word == "INSERT"

            # What the server does to the query context, as statements on this request's own connection.
            prelude = []
            if readonly:
                prelude.append(f"SET readonly = {readonly}")
            database = self.headers.get("X-ClickHouse-Database") or first(params, "database", "")
            if database:
                prelude.append(f"USE {quote_identifier(database)}")
            if self.command != "POST" and not readonly:
                prelude.append("SET readonly = 2")
            if settings:
                prelude.append("SET " + ", ".join(f"{quote_identifier(k)} = {quote_string(v)}" for k, v in settings))

            try:
                out, stats = self.engine.execute(prelude, sql, default_format, query_params)
            except MultiStatement:
                where = ""
                if second is not None:
                    at = len(head[:second].encode("utf-8", "surrogateescape")) + 1
                    where = f" failed at position {at} (end of query): {head[second:second + 100]}."
                raise ClickHouseError("SYNTAX_ERROR", f"Syntax error (Multi-statements are not allowed):{where} ")
            except RuntimeError as e:
                raise ClickHouseError.from_engine(normalize_engine_text(str(e), user, self.command))

            elapsed_ns = int(stats["elapsed"] * 1e9)
            summary = {
                "read_rows": stats["read_rows"], "read_bytes": stats["read_bytes"],
                "written_rows": stats["written_rows"], "written_bytes": stats["written_bytes"],
                "total_rows_to_read": stats["read_rows"],
                "result_rows": stats["written_rows"] if is_insert else stats["result_rows"],
                "result_bytes": stats["written_bytes"] if is_insert else stats["result_bytes"],
                "elapsed_ns": elapsed_ns, "real_time_microseconds": elapsed_ns // 1000,
            }
            summary_json = json.dumps({k: str(v) for k, v in summary.items()}, separators=(",", ":"))
            headers = [("X-ClickHouse-Query-Id", query_id)]
            if not is_insert:
                headers.append(("X-ClickHouse-Format", fmt))
            timezone = next((v for k, v in settings if k == "session_timezone" and v), self.engine.timezone)
            headers.append(("X-ClickHouse-Timezone", timezone))
            if any(k == "send_progress_in_http_headers" and truthy(v) for k, v in settings):
                progress = {k: summary[k] for k in ("read_rows", "read_bytes", "written_rows", "written_bytes",
                                                     "total_rows_to_read", "result_rows", "result_bytes", "elapsed_ns")}
                headers.append(("X-ClickHouse-Progress", json.dumps({k: str(v) for k, v in progress.items()},
                                                                    separators=(",", ":"))))
            if compression:
                out = encode_body(out, compression, level)
                headers.append(("Content-Encoding", compression))
            headers.append(("X-ClickHouse-Summary", summary_json))
            status = 200
            self.reply(200, out, headers, "text/plain; charset=UTF-8" if is_insert else content_type_of(fmt))
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True  # the client went away while we answered
            status = "-"
        except ClickHouseError as e:
            status = self.send_exception(e, query_id, compression)
        except Exception as e:  # a bug of this front: answered as the server's STD_EXCEPTION, traceback in the log
            traceback.print_exc()
            status = self.send_exception(ClickHouseError("STD_EXCEPTION", f"{type(e).__name__}: {e}"), query_id, None)
        finally:
            self.log_message("%s %s user=%s query_id=%s status=%s %.1fms %s", self.command, self.path.partition("?")[0],
                             user, query_id, status, (time.monotonic() - started) * 1000, sql_head)

    def send_exception(self, e, query_id, compression):
        """The server's error response: the exception text and a line feed, its code in a header. -> HTTP status"""
        status = self.engine.status_by_code.get(e.code, 500)
        body = (e.text + "\n").encode("utf-8", "surrogateescape")
        headers = [("X-ClickHouse-Query-Id", query_id)] if query_id and e.name != "AUTHENTICATION_FAILED" else []
        if compression:
            body = encode_body(body, compression, 3)
            headers.append(("Content-Encoding", compression))
        headers.append(("X-ClickHouse-Exception-Code", str(e.code)))
        try:
            self.reply(status, body, headers)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True
        return status


def quote_identifier(name):
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def quote_string(value):
    # A ClickHouse string literal: the value reaches the engine unchanged, as the server's string-typed settings.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls = None  # an ssl.SSLContext for the HTTPS listener

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's own thread, so a slow client never blocks accept().
        if self.tls is not None:
            try:
                request.settimeout(SOCKET_TIMEOUT)
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        self.RequestHandlerClass(request, client_address, self)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="the engine's data directory")
    ap.add_argument("--users", required=True, help="users.json")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--http-port", type=int, required=True)
    ap.add_argument("--https-port", type=int, default=0, help="0: no HTTPS listener")
    ap.add_argument("--cert", help="PEM certificate for HTTPS")
    ap.add_argument("--key", help="PEM private key for HTTPS")
    ap.add_argument("--pid-file", help="written once listening, removed at a clean stop")
    args = ap.parse_args()

    t0 = time.monotonic()
    for name in ("data", "users", "cert", "key", "pid_file"):
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    # Relative paths in file() and friends resolve against the data directory, not wherever we were started.
    os.makedirs(args.data, exist_ok=True)
    os.chdir(args.data)
    Handler.users = Users(args.users)
    try:
        Handler.engine = engine = Engine(args.data)
    except RuntimeError as e:
        sys.exit(f"cannot open the ClickHouse engine on {args.data} (is another process using that directory? its "
                 f"`status` file is locked by the running engine): {e}")

    servers = [Server((args.host, args.http_port), Handler)]
    if args.https_port:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
        https = Server((args.host, args.https_port), Handler)
        https.tls = tls
        servers.append(https)
    threads = [threading.Thread(target=s.serve_forever, name=f"listener-{s.server_address[1]}", daemon=True)
               for s in servers]
    for t in threads:
        t.start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(json.dumps({"msg": "listening", "engine": f"ClickHouse {engine.version} (chdb-core)", "data": args.data,
                      "http": args.http_port, "https": args.https_port or None,
                      "startup_ms": round((time.monotonic() - t0) * 1000)}), file=sys.stderr, flush=True)
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write(f"{os.getpid()}\n")
    while not stop.wait(3600):
        pass
    # SIGTERM: stop accepting, let the running query finish, close the engine.
    for s in servers:
        s.shutdown()
        s.server_close()
    engine.close()
    if args.pid_file:
        try:
            os.unlink(args.pid_file)
        except FileNotFoundError:
            pass
    print(json.dumps({"msg": "stopped"}), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
