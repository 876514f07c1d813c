"""Helpers shared by the integration tests: an HTTP client, JWT minting,
expectations about responses, and per-user fixtures.

Standard library only: CI clones just this repository and runs
`python3 tests/integration/run.py`.
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import pwd
import re
import secrets
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

JSON = "application/json"
PROBLEM = "application/problem+json"
WWW_AUTHENTICATE = 'Bearer error="invalid_token"'
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
TASK_FIELDS = {"id", "user_id", "title", "description", "completed", "due_date", "priority",
               "created_at", "updated_at"}
DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
PRIORITIES = ("low", "medium", "high")
MAX_ID = 2**63 - 1
BODY_LIMIT = 64 * 1024

# The problem "title" is the reason phrase of the status (413: RFC 9110's).
REASON = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

ALLOW_COLLECTION = "GET, HEAD, POST"
ALLOW_ITEM = "GET, HEAD, PUT, DELETE"
ALLOW_COMPLETE = "PATCH"
ALLOW_HEALTH = "GET, HEAD"

# Unicode White_Space: what title trimming removes from both ends.
UNICODE_WHITE_SPACE = (
    [chr(c) for c in range(0x09, 0x0E)]
    + ["\u0020", "\u0085", "\u00a0", "\u1680"]
    + [chr(c) for c in range(0x2000, 0x200B)]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
)


class Failure(AssertionError):
    """A test's expectation did not hold."""


class Skip(Exception):
    """The test cannot run in this setting; the message says why."""


def check(condition, message):
    if not condition:
        raise Failure(message)


# --- HTTP ------------------------------------------------------------------


class Response:
    def __init__(self, method, path, status, headers, raw, hide=()):
        self.method, self.path, self.status = method, path, status
        self.headers = headers  # list of (name, value) as received
        self.raw = raw
        self.hide = [h for h in hide if h and len(h) >= 16]  # secrets and real tokens

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_count(self, name):
        return sum(1 for k, _ in self.headers if k.lower() == name.lower())

    @property
    def media_type(self):
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def json(self):
        try:
            return json.loads(self.raw)
        except ValueError:
            raise Failure(f"body is not JSON: {self.describe()}")

    def describe(self):
        headers = {k: v for k, v in self.headers if k.lower() in (
            "content-type", "location", "allow", "www-authenticate", "retry-after", "ratelimit",
            "link", "x-total-count", "content-length")}
        body = self.raw[:300] + (b"..." if len(self.raw) > 300 else b"")
        return f"{self.method} {self.path[:120]} -> {self.status} {headers} {body!r}"


class Client:
    """One new connection per request (safe to share between threads), or,
    with persistent=True, one kept-alive connection (one thread only) that
    is reopened only when the server closes it."""

    def __init__(self, base, timeout=10.0, persistent=False, hide=()):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.timeout, self.persistent = timeout, persistent
        self.hide = list(hide)
        self.conn = None  # the kept-alive connection
        self.connections_opened = 0  # by the persistent client

    def _open(self):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        conn.connect()
        return conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, token=None, headers=None, ctype=JSON):
        """body: dict/list (sent as JSON), str or bytes (sent as is), or None.
        ctype: the Content-Type sent with a body; None sends none."""
        data = encode_body(body)
        hdrs = {}
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        if data is not None and ctype is not None:
            hdrs["Content-Type"] = ctype
        hdrs.update(headers or {})
        if self.persistent:
            if self.conn is None:
                self.conn = self._open()
                self.connections_opened += 1
            conn = self.conn
        else:
            conn = self._open()
        keep = False
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            if data is not None or method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(data or b"")))
            try:
                conn.endheaders(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer (413) and close before reading it all
            resp = conn.getresponse()
            raw = resp.read()
            keep = self.persistent and not resp.will_close
            return Response(method, path, resp.status, resp.getheaders(), raw, hide=self.hide + [token or ""])
        finally:
            if not keep:
                conn.close()
                if self.persistent:
                    self.conn = None


def encode_body(body):
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


# --- tokens ------------------------------------------------------------------

HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
MISSING = object()  # token(MISSING, ...) leaves `sub` out


def b64url(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign(header, claims, secret, alg="HS256"):
    """A compact JWS of two JSON objects; alg 'none' gives an empty signature."""
    signing_input = b64url(json.dumps(header, separators=(",", ":"))) + "." + \
        b64url(json.dumps(claims, separators=(",", ":")))
    if alg == "none":
        return signing_input + "."
    mac = hmac.new(secret.encode("utf-8"), signing_input.encode("ascii"), HASHES[alg])
    return signing_input + "." + b64url(mac.digest())


def token(sub, secret, alg="HS256", exp_delta=3600, **claims):
    """An HMAC JWT for `sub` (MISSING leaves it out) expiring in exp_delta
    seconds (None: no exp). Extra claims override the defaults."""
    now = int(time.time())
    body = {"iat": now}
    if sub is not MISSING:
        body["sub"] = sub
    if exp_delta is not None:
        body["exp"] = now + exp_delta
    body.update(claims)
    return sign({"alg": alg, "typ": "JWT"}, body, secret, alg)


# Malformed or unacceptable tokens; each must be answered 401.

def alg_none_token(sub, secret):
    now = int(time.time())
    return sign({"alg": "none", "typ": "JWT"}, {"sub": sub, "iat": now, "exp": now + 3600}, secret, "none")


def wrong_secret_token(sub, secret):
    return token(sub, secret + "-not-the-secret")


def missing_exp_token(sub, secret):
    return token(sub, secret, exp_delta=None)


def expired_token(sub, secret):
    return token(sub, secret, exp_delta=-120)  # beyond the 60 s leeway


def future_nbf_token(sub, secret):
    return token(sub, secret, nbf=int(time.time()) + 300)


def future_iat_token(sub, secret):
    return token(sub, secret, iat=int(time.time()) + 300)


def string_exp_token(sub, secret):
    return token(sub, secret, exp=str(int(time.time()) + 3600))


def missing_sub_token(secret):
    return token(MISSING, secret)


def empty_sub_token(secret):
    return token("", secret)


def other_alg_token(sub, secret, alg="HS512"):
    return token(sub, secret, alg=alg)


def tampered_token(sub, secret):
    """A validly signed token whose payload was then replaced."""
    header, _, signature = token(sub, secret).split(".")
    payload = b64url(json.dumps({"sub": sub, "exp": int(time.time()) + 86400}))
    return f"{header}.{payload}.{signature}"


GARBAGE_TOKENS = ["not.a.jwt", "abc", "a.b.c.d", "....", "eyJhbGciOiJIUzI1NiJ9"]


def new_user_id(prefix="it"):
    return f"{prefix}-{secrets.token_hex(6)}"


# --- expectations ----------------------------------------------------------------


def expect_status(r, status):
    check(r.status == status, f"expected {status}, got {r.describe()}")


def expect_json(r, status):
    """The response is `status` with an application/json body; returns it parsed."""
    expect_status(r, status)
    check(r.media_type == JSON, f"expected Content-Type {JSON}: {r.describe()}")
    return r.json()


def expect_problem(r, status, field=None, allow=None):
    """An RFC 9457 problem document of the agreed shape, plus the headers that
    go with its status. field: a name that must be in `errors`. Returns the body."""
    expect_status(r, status)
    check(r.media_type == PROBLEM, f"expected Content-Type {PROBLEM}: {r.describe()}")
    body = r.json()
    check(isinstance(body, dict), f"problem body is not an object: {r.describe()}")
    keys = set(body)
    check(keys in ({"type", "title", "status", "detail"}, {"type", "title", "status", "detail", "errors"}),
          f"problem keys {sorted(keys)}: {r.describe()}")
    check(body["type"] == "about:blank", f"problem type: {r.describe()}")
    check(body["status"] == status and type(body["status"]) is int, f"problem status: {r.describe()}")
    check(body["title"] == REASON[status], f"problem title should be {REASON[status]!r}: {r.describe()}")
    check(isinstance(body["detail"], str) and body["detail"], f"problem detail: {r.describe()}")
    if "errors" in body:
        errors = body["errors"]
        check(isinstance(errors, list) and errors, f"problem errors must be a non-empty list: {r.describe()}")
        for e in errors:
            check(isinstance(e, dict) and set(e) == {"field", "message"}
                  and isinstance(e["field"], str) and isinstance(e["message"], str) and e["message"],
                  f"problem errors entry {e!r}: {r.describe()}")
    if field is not None:
        fields = [e["field"] for e in body.get("errors", [])]
        check(field in fields, f"expected errors to name field {field!r}, got {fields}: {r.describe()}")
    expect_status_headers(r, status, allow)
    text = r.raw.decode("utf-8", "replace")
    for secret in r.hide:
        check(secret not in text, f"error body leaks a token or the secret: {r.describe()}")
    return body


def expect_status_headers(r, status, allow=None):
    """The headers each error status carries (checked for HEAD too)."""
    if status == 401:
        check(r.header("WWW-Authenticate") == WWW_AUTHENTICATE,
              f"401 needs WWW-Authenticate: {WWW_AUTHENTICATE}: {r.describe()}")
    if status == 405:
        check(r.header("Allow") is not None, f"405 without Allow: {r.describe()}")
    if allow is not None:
        check(r.header("Allow") == allow, f"expected Allow: {allow}: {r.describe()}")
    if status == 503:
        check(r.header("Retry-After") == "5", f"503 needs Retry-After: 5: {r.describe()}")
    if status == 429:
        wait = r.header("Retry-After") or ""
        check(wait.isdigit() and int(wait) >= 1, f"429 needs Retry-After in whole seconds: {r.describe()}")


def parse_timestamp(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


def expect_task(task, **expected):
    """A task object with exactly the contract's fields and types; then
    each keyword argument must equal the field of that name."""
    check(isinstance(task, dict), f"task is not an object: {task!r}")
    check(set(task) == TASK_FIELDS, f"task fields {sorted(task)} != {sorted(TASK_FIELDS)}")
    check(type(task["id"]) is int and 1 <= task["id"] <= MAX_ID, f"id: {task!r}")
    check(isinstance(task["user_id"], str), f"user_id: {task!r}")
    check(isinstance(task["title"], str), f"title: {task!r}")
    check(task["description"] is None or isinstance(task["description"], str), f"description: {task!r}")
    check(type(task["completed"]) is bool, f"completed: {task!r}")
    check(task["due_date"] is None or (isinstance(task["due_date"], str) and DATE.match(task["due_date"])),
          f"due_date not YYYY-MM-DD or null: {task!r}")
    check(task["priority"] in PRIORITIES, f"priority: {task!r}")
    now = datetime.datetime.now(datetime.timezone.utc)
    for name in ("created_at", "updated_at"):
        value = task[name]
        check(isinstance(value, str) and TIMESTAMP.match(value), f"{name} not YYYY-MM-DDTHH:MM:SS.ffffffZ: {task!r}")
        drift = abs((parse_timestamp(value) - now).total_seconds())
        check(drift < 300, f"{name} is {drift:.0f} s away from now (UTC): {task!r}")
    check(task["updated_at"] >= task["created_at"], f"updated_at before created_at: {task!r}")
    for name, value in expected.items():
        check(task[name] == value and type(task[name]) is type(value),
              f"{name}: expected {value!r}, got {task[name]!r}")
    return task


# --- fixtures --------------------------------------------------------------------


class User:
    """A user with a valid token and helpers for its own routes."""

    def __init__(self, ctx, sub):
        self.ctx, self.sub = ctx, sub
        self.token = ctx.token(sub)
        self.tasks = f"/api/{urllib.parse.quote(sub, safe='')}/tasks"

    def task(self, task_id):
        return f"{self.tasks}/{task_id}"

    def complete(self, task_id):
        return f"{self.tasks}/{task_id}/complete"

    def request(self, method, path, body=None, token=MISSING, **kw):
        return self.ctx.client.request(method, path, body, token=self.token if token is MISSING else token, **kw)

    def create(self, title="a task", **fields):
        """POST a task; checks 201 and returns it."""
        r = self.request("POST", self.tasks, {"title": title, **fields})
        return expect_task(expect_json(r, 201))

    def fetch(self, task_id):
        """GET one task; checks 200 and returns it."""
        return expect_task(expect_json(self.request("GET", self.task(task_id)), 200))

    def toggle(self, task_id):
        return expect_task(expect_json(self.request("PATCH", self.complete(task_id)), 200))

    def list(self, query=""):
        return self.request("GET", self.tasks + (f"?{query}" if query else ""))

    def list_json(self, query=""):
        body = expect_json(self.list(query), 200)
        check(isinstance(body, list), f"list body is not an array: {body!r}")
        return body

    def list_ids(self, query=""):
        return [t["id"] for t in self.list_json(query)]


class Context:
    """What every test receives: where the service is, the secret, and (when
    the runner started the stack itself) the stack's environment."""

    def __init__(self, base, secret, stack_env=None, stack_script=None, workers=4):
        self.base, self.secret = base.rstrip("/"), secret
        self.stack_env, self.stack_script = stack_env, stack_script
        self.workers = workers
        self.client = Client(self.base, hide=[secret])

    def new_client(self, **kw):
        return Client(self.base, hide=[self.secret], **kw)

    def token(self, sub, **kw):
        return token(sub, self.secret, **kw)

    def user(self, sub=None):
        return User(self, sub if sub is not None else new_user_id())

    def require_stack(self):
        if self.stack_env is None:
            raise Skip("needs scripts/stack; the runner was given --base")

    def stack(self, *args, timeout=180, settings=None):
        """Runs scripts/stack with the stack's environment, plus settings (a
        value of None removes the variable); fails the test when it exits
        non-zero. Returns its standard output."""
        self.require_stack()
        env = dict(self.stack_env)
        for name, value in (settings or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        # Output goes to a file, not a pipe: daemons the script starts may
        # keep a pipe open forever.
        with tempfile.TemporaryFile() as out:
            p = subprocess.run([self.stack_script, *args], env=env, stdout=out,
                               stderr=subprocess.STDOUT, timeout=timeout, start_new_session=True)
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
        shown = " ".join(f"{k}={v}" for k, v in (settings or {}).items())
        check(p.returncode == 0,
              f"{shown} scripts/stack {' '.join(args)} exited {p.returncode}: {text[-1500:]}".strip())
        return text

    def pool_pids(self):
        """(master pid, [worker pids]) from `scripts/stack pool-pids`."""
        lines = [line.strip() for line in self.stack("pool-pids").splitlines() if line.strip()]
        check(lines and all(line.isdigit() for line in lines), f"pool-pids printed {lines!r}")
        return int(lines[0]), sorted(int(line) for line in lines[1:])


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def service_binary(ctx):
    """The todo-api the suite runs (TODO_API, else the in-tree build)."""
    path = (ctx.stack_env or {}).get("TODO_API") or os.path.join(ROOT, "build", "todo-api")
    if not os.access(path, os.X_OK):
        raise Skip(f"no {path}: build first")
    return path


def bare_environment(ctx):
    """An environment for running the binary directly: the sanitizers'
    settings and PATH, LANG, TZ; none of the service's."""
    return {k: v for k, v in (ctx.stack_env or os.environ).items()
            if k.startswith(("ASAN_", "UBSAN_", "LSAN_")) or k in ("PATH", "LANG", "TZ")}


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers signal 0; it is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def healthy(ctx):
    """Whether GET /api/health answers 200 now (False while nothing listens)."""
    try:
        return ctx.client.request("GET", "/api/health").status == 200
    except OSError:
        return False


def wait_until(predicate, timeout, interval=0.2):
    """Calls predicate until it returns a true value or timeout seconds pass;
    returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def all_at_once(n, action):
    """Runs action(i) for i in range(n) in n threads released together by a
    barrier; returns the results in order."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait(timeout=30)
        return action(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


# The users scripts/stack runs the pool and nginx's workers as when started
# by root (scripts/lib/common.sh); otherwise both run as the caller.
POOL_USER, NGINX_USER = "todo-api", "www-data"


def stack_uid(user):
    """The uid a process of the stack runs as: user's when root, ours otherwise."""
    return pwd.getpwnam(user).pw_uid if os.geteuid() == 0 else os.getuid()


def process_uids(pid):
    """The real, effective, saved and filesystem uids of pid."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    raise Failure(f"no Uid line in /proc/{pid}/status")


def installed_packages(names):
    """Those of the Debian packages names that are installed."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Status}\\n", *names], capture_output=True,
                         text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.endswith(" install ok installed")}


def ensure_packages(*names):
    """Installs the Debian packages names as the scripts do (ensure_packages
    of scripts/lib/common.sh: when root, with no daemon started); as anyone
    else a test that needs a missing one is skipped, naming it."""
    missing = [n for n in names if n not in installed_packages(names)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise Skip(f"needs the Debian packages {' '.join(missing)}: sudo apt-get install {' '.join(missing)}")
    p = subprocess.run(["bash", "-c", '. "$1" && shift && ensure_packages "$@"', "bash",
                        os.path.join(ROOT, "scripts", "lib", "common.sh"), *missing],
                       capture_output=True, text=True, timeout=900)
    check(p.returncode == 0, f"ensure_packages {' '.join(missing)}: {p.stderr[-800:]}")
