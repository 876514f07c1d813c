"""Abuse at the HTTP level: oversized headers, tokens and request lines,
hostile JSON, odd numbers, duplicate keys, extreme paging values, escapes
in the path, unknown methods, broken framing, truncated bodies and idle
connections.

Each test asserts the contract's status and the problem+json body (or the
documented answer of nginx), and that nothing was hurt: /api/health is 200
afterwards, and (with scripts/stack) the pool's master and workers are the
very processes they were before the test (a worker that crashed would have
been replaced by a new pid). The last test compares the pool with the one
the module started with.
"""
import contextlib
import http.client
import json
import socket
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import client
from client import (Failure, Response, Skip, check, expect_json, expect_problem, expect_task, new_user_id,
                    wait_until)

# nginx's own answers (nginx/snippets/todo-api-locations.conf).
NGINX_400 = {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "malformed request"}
NGINX_400_HEADERS = {"type": "about:blank", "title": "Bad Request", "status": 400,
                     "detail": "request headers too large"}

_module = {}  # "pool": the pool's pids at the first test of this module


def pool(ctx):
    """(master, workers) from scripts/stack pool-pids; None with --base."""
    return ctx.pool_pids() if ctx.stack_env is not None else None


def health_ok(ctx):
    try:
        r = ctx.client.request("GET", "/api/health")
        return r.status == 200 and r.json() == {"status": "ok"}
    except (OSError, http.client.HTTPException, Failure):
        return False


@contextlib.contextmanager
def unharmed(ctx):
    """The block must leave the service healthy and every process of the
    pool alive: no worker crashed (and was replaced) or exited."""
    before = pool(ctx)
    _module.setdefault("pool", before)
    yield
    check(wait_until(lambda: health_ok(ctx), 5), "GET /api/health is not 200 within 5 s afterwards")
    after = pool(ctx)
    check(after == before, f"the pool changed: before (master, workers) {before}, after {after}")


# --- raw HTTP ----------------------------------------------------------------------


def request_bytes(method, target, headers=(), body=b"", version="HTTP/1.1"):
    head = f"{method} {target} {version}\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for name, value in headers:
        head += f"{name}: {value}\r\n"
    return head.encode("latin-1") + b"\r\n" + body


def exchange(ctx, data, method="GET", timeout=10, hide=()):
    """Sends raw bytes on a new connection and reads one response."""
    target = data.split(b" ", 2)[1].decode("latin-1", "replace") if data.count(b" ") >= 2 else "?"
    with socket.create_connection((ctx.client.host, ctx.client.port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # nginx may answer (400) and close before reading everything
        resp = http.client.HTTPResponse(s, method=method)
        resp.begin()
        body = resp.read()
    return Response(method, target, resp.status, resp.getheaders(), body, hide=[ctx.secret, *hide])


def raw(ctx, method, target, headers=(), body=b"", tok=None, **kw):
    headers = list(headers)
    if tok is not None:
        headers.append(("Authorization", f"Bearer {tok}"))
    return exchange(ctx, request_bytes(method, target, headers, body), method=method, hide=[tok or ""], **kw)


def expect_nginx(r, status, document):
    """nginx's own problem answer, exactly."""
    check(r.status == status, f"expected nginx's {status}, got {r.describe()}")
    check(r.media_type == client.PROBLEM, f"expected {client.PROBLEM}: {r.describe()}")
    check(r.json() == document, f"expected nginx's problem {document}: {r.describe()}")


def post_raw_body(u, body, method="POST", path=None):
    """A body sent byte for byte (bytes) with Content-Type: application/json."""
    return u.request(method, path or u.tasks, body.encode("utf-8") if isinstance(body, str) else body)


# --- headers and tokens ------------------------------------------------------------------


def test_abuse_header_of_20_kb_is_nginx_400_problem(ctx):
    """A header line over nginx's 16 KiB buffer: nginx's 494, turned into 400
    problem+json "request headers too large", before any worker sees it."""
    u = ctx.user()
    with unharmed(ctx):
        for path, tok in (("/api/health", None), (u.tasks, u.token)):
            r = raw(ctx, "GET", path, [("X-Filler", "a" * 20 * 1024)], tok=tok)
            expect_nginx(r, 400, NGINX_400_HEADERS)


def test_abuse_header_of_60_kb_is_nginx_400_problem(ctx):
    """One 60 KB header line is 400 problem+json; so are five 15 KB lines
    (more than 4 x 16 KiB). Four 15 KB lines fit nginx's four 16 KiB buffers
    and the request is served (200)."""
    u = ctx.user()
    with unharmed(ctx):
        expect_nginx(raw(ctx, "GET", u.tasks, [("X-Filler", "b" * 60 * 1024)], tok=u.token), 400, NGINX_400_HEADERS)
        spread = [(f"X-Filler-{i}", "c" * 15000) for i in range(5)]
        expect_nginx(raw(ctx, "GET", "/api/health", spread), 400, NGINX_400_HEADERS)
        r = raw(ctx, "GET", "/api/health", spread[:4])
        check(expect_json(r, 200) == {"status": "ok"}, f"four 15 KB headers: {r.describe()}")


def test_abuse_bearer_token_of_9_kb_is_401(ctx):
    """A 9 KB bearer token is 401 (malformed: over the 8 KiB token limit),
    with WWW-Authenticate, even when it is validly signed. The limit is
    exact: a validly signed token of 8192 characters is accepted, one of
    8195 is 401."""
    u = ctx.user()
    with unharmed(ctx):
        garbage = "a" * 3000 + "." + "b" * 3000 + "." + "c" * (9 * 1024 - 6002)
        expect_problem(u.request("GET", u.tasks, token=garbage), 401)
        expect_problem(u.request("POST", u.tasks, {"title": "x"}, token=garbage), 401)
        signed = ctx.token(u.sub, pad="p" * 7000)
        check(len(signed) > 9000, f"the padded token is only {len(signed)} characters")
        expect_problem(u.request("GET", u.tasks, token=signed), 401)

        def sized(length):
            for pad in range(5900, 6200):
                t = ctx.token(u.sub, pad="q" * pad)
                if len(t) == length:
                    return t
            raise Failure(f"no token of exactly {length} characters")

        r = u.request("GET", u.tasks, token=sized(8192))
        check(r.status == 200, f"a validly signed token of 8192 characters: {r.describe()}")
        expect_problem(u.request("GET", u.tasks, token=sized(8195)), 401)


def test_abuse_two_authorization_headers_are_nginx_400_problem(ctx):
    """Two Authorization headers, valid one first or last: nginx's 400,
    never the service choosing one of them."""
    u = ctx.user()
    with unharmed(ctx):
        for pair in ((u.token, "x.y.z"), ("x.y.z", u.token), (u.token, u.token)):
            r = raw(ctx, "GET", u.tasks, [("Authorization", f"Bearer {t}") for t in pair], tok=None)
            expect_nginx(r, 400, NGINX_400)


# --- JSON bodies -------------------------------------------------------------------------


def test_abuse_json_nested_10000_deep_is_400(ctx):
    """10,000 levels of arrays or objects, in an unknown field or as the
    whole body, on POST and PUT: 400 on `body` ("must be valid JSON"); the
    strict checker refuses nesting deeper than 32 levels, without recursion
    into the depth. 32 levels are accepted, 33 are 400."""
    u = ctx.user()
    t = u.create("nest target")
    deep = 10000
    bodies = ['{"title":"deep","x":' + "[" * deep + "]" * deep + "}",
              '{"title":"deep","x":' + '{"a":' * deep + "1" + "}" * deep + "}",
              "[" * deep + "]" * deep,
              '{"a":' * deep + '"x"' + "}" * deep,
              '{"title":"deep","x":' + "[" * deep]  # never closed
    with unharmed(ctx):
        for body in bodies:
            expect_problem(post_raw_body(u, body), 400, field="body")
            expect_problem(post_raw_body(u, body, "PUT", u.task(t["id"])), 400, field="body")
        # Depth counts the top-level object: 1 + 31 arrays = 32 levels.
        expect_task(expect_json(post_raw_body(u, '{"title":"32","x":' + "[" * 31 + "]" * 31 + "}"), 201), title="32")
        expect_problem(post_raw_body(u, '{"title":"33","x":' + "[" * 32 + "]" * 32 + "}"), 400, field="body")
        check([x["title"] for x in u.list_json()] == ["32", "nest target"], "a refused body was stored")
        check(u.fetch(t["id"]) == t, "a refused PUT changed the task")


def test_abuse_invalid_utf8_in_a_body_string_is_400(ctx):
    """Bytes that are not UTF-8 anywhere in the body (title, unknown field,
    key; stray continuation, overlong, encoded surrogate, above U+10FFFF,
    truncated sequence): 400 on `body`, nothing stored. A leading UTF-8
    byte order mark is 400 on `body` too (RFC 8259 lets a parser refuse it)."""
    u = ctx.user()
    bad = [b'{"title":"a\xffb"}', b'{"title":"\x80"}', b'{"title":"a\xc0\xafb"}', b'{"title":"\xe0\x80\xaf"}',
           b'{"title":"a\xed\xa0\x80b"}', b'{"title":"a\xf4\x90\x80\x80"}', b'{"title":"a\xe2\x82"}',
           b'{"title":"a\xe2\x82"', b'{"title":"ok","description":"\xfe"}', b'{"title":"ok","x":"\xff"}',
           b'{"ti\xfftle":"a","title":"b"}', b'\xef\xbb\xbf{"title":"bom"}']
    with unharmed(ctx):
        for body in bad:
            r = post_raw_body(u, body)
            try:
                expect_problem(r, 400, field="body")
            except Failure as e:
                raise Failure(f"body {body!r}: {e}") from None
        check(u.list_json() == [], "a body with invalid UTF-8 was stored")


def test_abuse_escaped_nul_is_400_in_any_string_of_the_body(ctx):
    """\\u0000 in title or description: 400 on that field. In an unknown
    field's value or name: 400 on "body" ("No string may contain U+0000"),
    nothing stored."""
    u = ctx.user()
    with unharmed(ctx):
        expect_problem(post_raw_body(u, '{"title":"a\\u0000b"}'), 400, field="title")
        expect_problem(post_raw_body(u, '{"title":"\\u0000"}'), 400, field="title")
        expect_problem(post_raw_body(u, '{"title":"ok","description":"x\\u0000"}'), 400, field="description")
        expect_problem(post_raw_body(u, b'{"title":"a\x00b"}'), 400, field="body")  # a raw NUL: not JSON
        # "ti\u0000tle" is not "title": title is missing, reported first.
        expect_problem(post_raw_body(u, '{"ti\\u0000tle":"a"}'), 400, field="title")
        t = u.create("target")
        expect_problem(post_raw_body(u, '{"title":"a\\u0000"}', "PUT", u.task(t["id"])), 400, field="title")
        for body in ('{"title":"unknown value","x":"\\u0000"}', '{"title":"unknown key","x\\u0000y":1}'):
            expect_problem(post_raw_body(u, body), 400, field="body")
        expect_problem(post_raw_body(u, '{"completed":true,"x":"\\u0000"}', "PUT", u.task(t["id"])), 400,
                       field="body")
        check([x["title"] for x in u.list_json()] == ["target"], "a body with U+0000 was stored")
        check(u.fetch(t["id"])["completed"] is False, "a PUT with U+0000 changed the task")


def test_abuse_out_of_range_numbers_are_400_for_fields_and_ignored_elsewhere(ctx):
    """1e999 (beyond a double) as completed, title or description: 400 on
    that field (a number is the wrong type). Huge or tiny numbers in unknown
    fields (1e999, -1e999, 1e-999, a 400-digit integer, 10,000 fraction
    digits) are ignored: 201 (observed)."""
    u = ctx.user()
    with unharmed(ctx):
        for field, body in (("completed", '{"title":"x","completed":1e999}'),
                            ("completed", '{"title":"x","completed":-1e999}'),
                            ("title", '{"title":1e999}'),
                            ("description", '{"title":"x","description":1e999}')):
            expect_problem(post_raw_body(u, body), 400, field=field)
        t = u.create("target")
        expect_problem(post_raw_body(u, '{"completed":1e999}', "PUT", u.task(t["id"])), 400, field="completed")
        for number in ("1e999", "-1e999", "1e-999", "9" * 400, "-" + "9" * 400, "0." + "1" * 10000,
                       "123456789012345678901234567890e308"):
            r = post_raw_body(u, '{"title":"n","n":' + number + "}")
            check(r.status in (201, 400), f"number {number[:20]}... in an unknown field: {r.describe()}")
            if r.status == 201:
                expect_task(r.json(), title="n", completed=False, description=None)
        check(u.fetch(t["id"]) == t, "a refused PUT changed the task")


def test_abuse_duplicate_keys_last_wins(ctx):
    """{"title":"a","title":"b"} creates "b" (201): the last of duplicate
    keys wins, and only it is validated ({"title":1,"title":"ok"} is 201,
    {"title":"ok","title":1} is 400). Same on PUT."""
    u = ctx.user()
    with unharmed(ctx):
        expect_task(expect_json(post_raw_body(u, '{"title":"a","title":"b"}'), 201), title="b")
        expect_task(expect_json(post_raw_body(u, '{"title":"c","completed":true,"completed":false}'), 201),
                    title="c", completed=False)
        expect_task(expect_json(post_raw_body(u, '{"title":1,"title":"ok"}'), 201), title="ok")
        expect_problem(post_raw_body(u, '{"title":"ok","title":1}'), 400, field="title")
        t = u.create("put target")
        r = post_raw_body(u, '{"title":"x","title":"y","description":"d","description":null}', "PUT", u.task(t["id"]))
        expect_task(expect_json(r, 200), title="y", description=None)


# --- query and path -------------------------------------------------------------------


def test_abuse_huge_limit_is_400_and_huge_offset_is_200_empty(ctx):
    """limit=99999999999999999999 is 400 on limit; offset=2^63-1 is 200 []
    with X-Total-Count and no Link; offset=2^63 and beyond are 400 on offset."""
    u = ctx.user()
    u.create("one")
    with unharmed(ctx):
        for q in ("limit=99999999999999999999", "limit=1001", "limit=0", "limit=-1", "limit=1e3",
                  "limit=18446744073709551617"):
            expect_problem(u.list(q), 400, field="limit")
        r = u.list("offset=9223372036854775807")
        check(expect_json(r, 200) == [] and r.header("X-Total-Count") == "1" and r.header("Link") is None,
              f"offset=2^63-1: {r.describe()}")
        r = u.list("limit=1000&offset=9223372036854775807")
        check(expect_json(r, 200) == [], f"limit=1000&offset=2^63-1: {r.describe()}")
        for q in ("offset=9223372036854775808", "offset=99999999999999999999999999999999", "offset=-1"):
            expect_problem(u.list(q), 400, field="offset")


def test_abuse_percent_encoded_slash_in_user_segment_is_user_a_slash_b(ctx):
    """/api/a%2Fb/tasks is user "a/b" (also as %2f); the raw /api/a/b/tasks
    is no route (404); another user's token there is 403."""
    sub = f"a/b-{new_user_id()}"
    u = ctx.user(sub)
    encoded = urllib.parse.quote(sub, safe="")
    with unharmed(ctx):
        check(u.tasks == f"/api/{encoded}/tasks" and "%2F" in encoded, f"path {u.tasks}")
        r = u.request("POST", u.tasks, {"title": "slash user"})
        t = expect_task(expect_json(r, 201), user_id=sub, title="slash user")
        check(r.header("Location") == f"{u.tasks}/{t['id']}", f"Location: {r.describe()}")
        check(u.list_ids() == [t["id"]], "list of a/b")
        lower = u.tasks.replace("%2F", "%2f")
        check(expect_json(u.request("GET", f"{lower}/{t['id']}"), 200) == t, "%2f is the same user")
        expect_problem(u.request("GET", f"/api/{sub}/tasks"), 404)
        other = ctx.user(sub.split("/")[0])
        expect_problem(other.request("GET", u.tasks), 403)


def test_abuse_encoded_nul_in_path_is_nginx_400_problem(ctx):
    """%00 anywhere in the path (user segment, task id, .../complete) and a
    raw NUL byte: nginx's 400 problem+json, before the service. In the query
    string %00 reaches the service: 400 on the named parameter."""
    u = ctx.user()
    t = u.create()
    with unharmed(ctx):
        for path in (f"/api/{u.sub}%00/tasks", f"/api/%00{u.sub}/tasks", f"{u.tasks}/{t['id']}%00",
                     f"{u.tasks}/%00", f"{u.task(t['id'])}/complete%00", "/api/health%00"):
            expect_nginx(raw(ctx, "GET", path, tok=u.token), 400, NGINX_400)
        data = request_bytes("GET", "/api/a\0b/tasks", [("Authorization", f"Bearer {u.token}")])
        expect_nginx(exchange(ctx, data, hide=[u.token]), 400, NGINX_400)
        expect_problem(u.list("status=%00"), 400, field="status")
        expect_problem(u.list("sort=title%00"), 400, field="sort")
        expect_problem(u.list("limit=1%00"), 400, field="limit")
        check(u.fetch(t["id"]) == t, "the task changed")


def test_abuse_malformed_percent_escapes_are_nginx_400_problem(ctx):
    """%zz, a lone %, %4 and %g0 in the path: nginx's 400 problem+json."""
    u = ctx.user()
    with unharmed(ctx):
        for path in ("/api/%zz/tasks", "/api/%/tasks", "/api/a%4/tasks", "/api/%g0/tasks", f"{u.tasks}/%zz",
                     "/api/health%zz"):
            expect_nginx(raw(ctx, "GET", path, tok=u.token), 400, NGINX_400)


def test_abuse_unknown_methods_are_405_problem(ctx):
    """FOO, PROPFIND, MKCOL and a 100-letter method reach the service: 405
    with the route's Allow. TRACE and CONNECT, which nginx refuses itself,
    get the same answer (nginx's 405 page asks the pool), and 404 where
    there is no such route. A lowercase method is nginx's 400."""
    u = ctx.user()
    t = u.create()
    routes = ((u.tasks, client.ALLOW_COLLECTION), (u.task(t["id"]), client.ALLOW_ITEM),
              (u.complete(t["id"]), client.ALLOW_COMPLETE), ("/api/health", client.ALLOW_HEALTH))
    with unharmed(ctx):
        for method in ("FOO", "PROPFIND", "MKCOL", "X" * 100, "TRACE", "CONNECT"):
            for path, allow in routes:
                expect_problem(raw(ctx, method, path, tok=u.token), 405, allow=allow)
        for method in ("TRACE", "CONNECT"):
            for path in ("/", "/api/nope", f"/api/{u.sub}", u.tasks + "/1/x"):
                expect_problem(raw(ctx, method, path, tok=u.token), 404)
        expect_nginx(raw(ctx, "get", "/api/health"), 400, NGINX_400)
        check(u.fetch(t["id"]) == t, "the task changed")


def test_abuse_request_line_with_10_kb_path_is_404_problem(ctx):
    """A 10 KB path fits nginx's 16 KiB buffer and reaches the service: a
    10 KB user segment (over 255 bytes) or extra segments are no route, 404
    problem+json, before the token is looked at."""
    u = ctx.user()
    with unharmed(ctx):
        for path in ("/api/" + "u" * 10240 + "/tasks", f"{u.tasks}/" + "1" * 10240, "/api/health/" + "h" * 10240,
                     "/api/" + "%41" * 3400 + "/tasks", u.tasks + "?x=" + "y" * 10240):
            r = raw(ctx, "GET", path, tok=u.token)
            if "?x=" in path:
                check(expect_json(r, 200) == [], f"10 KB unknown query parameter: {r.describe()}")
            elif path.startswith(f"{u.tasks}/1"):
                expect_problem(r, 400)  # an id of 10,240 digits is not a 64-bit integer
            else:
                expect_problem(r, 404)


def test_abuse_nginx_own_414_501_505_answers_are_problem_json(ctx):
    """nginx's answers to a 20 KB request line (414), an unknown transfer
    coding (501) and HTTP/2.0 or HTTP/3.0 in the request line (505) must
    be problem+json too, like its 400/404/405/413/503. (Observed: nginx's
    HTML pages: no error_page covers 414, 501, 505.)"""
    with unharmed(ctx):
        answers = [
            ("20 KB request line", exchange(ctx, request_bytes("GET", "/api/" + "u" * 20480 + "/tasks")), 414),
            ("Transfer-Encoding: gzip", exchange(ctx, request_bytes(
                "POST", "/api/x/tasks", [("Transfer-Encoding", "gzip"), ("Content-Type", "application/json")]),
                method="POST"), 501),
            ("HTTP/2.0", exchange(ctx, request_bytes("GET", "/api/health", version="HTTP/2.0")), 505),
        ]
        wrong = []
        for what, r, status in answers:
            if r.status != status or r.media_type != client.PROBLEM:
                wrong.append(f"{what}: {r.status} {r.header('Content-Type')}")
            else:
                body = r.json()
                if body.get("status") != status or body.get("type") != "about:blank":
                    wrong.append(f"{what}: {body}")
        check(not wrong, f"not problem+json: {'; '.join(wrong)}")


# --- framing and connections -------------------------------------------------------------


def test_abuse_conflicting_framing_is_nginx_400_problem(ctx):
    """Content-Length with Transfer-Encoding: chunked, two different
    Content-Lengths, a negative or 20-digit one: nginx's 400 problem+json.
    A well-formed chunked body is buffered by nginx and served (201)."""
    u = ctx.user()
    body = b'{"title":"chunked"}'
    json_type = ("Content-Type", "application/json")
    with unharmed(ctx):
        for headers, data in (
                ([json_type, ("Content-Length", str(len(body))), ("Transfer-Encoding", "chunked")], b"0\r\n\r\n"),
                ([json_type, ("Content-Length", str(len(body))), ("Content-Length", str(len(body) + 1))], body),
                ([json_type, ("Content-Length", "-1")], body),
                ([json_type, ("Content-Length", "99999999999999999999")], body)):
            expect_nginx(raw(ctx, "POST", u.tasks, headers, data, tok=u.token), 400, NGINX_400)
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        r = raw(ctx, "POST", u.tasks, [json_type, ("Transfer-Encoding", "chunked")], chunked, tok=u.token)
        t = expect_task(expect_json(r, 201), title="chunked")
        check(u.list_ids() == [t["id"]], "only the chunked POST was stored")


def open_connection(ctx, data=b""):
    s = socket.create_connection((ctx.client.host, ctx.client.port), timeout=10)
    if data:
        s.sendall(data)
    return s


def served_quickly(ctx, n, seconds=5.0):
    """n requests (health and a task list, in parallel) each answered
    correctly within `seconds`; returns the problems."""
    u = ctx.user()
    quick = ctx.new_client(timeout=seconds)

    def one(i):
        started = time.monotonic()
        try:
            r = quick.request("GET", "/api/health") if i % 2 else quick.request("GET", u.tasks, token=u.token)
        except (OSError, http.client.HTTPException) as e:
            return f"request {i}: {type(e).__name__}: {e}"
        took = time.monotonic() - started
        if r.status != 200 or took > seconds:
            return f"request {i}: {r.status} after {took:.1f} s"
        return None

    with ThreadPoolExecutor(max_workers=8) as ex:
        return [p for p in ex.map(one, range(n)) if p]


def test_abuse_body_shorter_than_content_length_then_close_does_not_hurt_a_worker(ctx):
    """POSTs announcing more body than they send (1 KB announced, 10 bytes
    sent; 100 KB announced, 1 KB sent), twice as many as there are workers:
    half closed at once, half left hanging. nginx buffers request bodies, so
    no worker waits for them: other requests are served within 5 s, and
    after the clients close, no task was created and no worker died."""
    u = ctx.user()
    hanging = []
    with unharmed(ctx):
        try:
            for i in range(ctx.workers * 2):
                announced, sent = (1000, 10) if i % 2 else (100 * 1024, 1024)
                head = request_bytes("POST", u.tasks, [("Authorization", f"Bearer {u.token}"),
                                                      ("Content-Type", "application/json"),
                                                      ("Content-Length", str(announced))])
                s = open_connection(ctx, head + b'{"title":"' + b"x" * (sent - 10))
                if i % 4 < 2:
                    s.close()  # gone mid-body
                else:
                    hanging.append(s)
            problems = served_quickly(ctx, ctx.workers * 4)
            check(not problems, f"with truncated bodies pending: {problems[:3]}")
        finally:
            for s in hanging:
                s.close()
        time.sleep(0.3)
        check(u.list_json() == [], "a truncated body created a task")


def test_abuse_200_idle_connections_do_not_block_other_requests(ctx):
    """200 connections that send nothing, and 200 that send half a request
    line or half the headers (slowloris), held open: other requests are
    still served within 5 s each. Then all are closed."""
    idle = []
    with unharmed(ctx):
        try:
            for i in range(200):
                idle.append(open_connection(ctx))
            for i in range(200):
                partial = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-" if i % 2 else b"GET /api/hea"
                idle.append(open_connection(ctx, partial))
            problems = served_quickly(ctx, 20)
            check(not problems, f"with 400 idle connections open: {problems[:3]}")
            # A few bytes more on some of them changes nothing.
            for s in idle[200:260]:
                try:
                    s.sendall(b"a")
                except OSError:
                    pass
            problems = served_quickly(ctx, 10)
            check(not problems, f"with the slow connections trickling: {problems[:3]}")
        finally:
            for s in idle:
                s.close()


def test_abuse_no_worker_died_during_the_module(ctx):
    """The pool now is the one the first abuse test found: same master, same
    workers, none replaced."""
    ctx.require_stack()
    start = _module.get("pool")
    if start is None:
        raise Skip("no other abuse test ran before this one")
    now = ctx.pool_pids()
    check(now == start, f"the pool changed during the abuse tests: {start} -> {now}")
    check(health_ok(ctx), "health is not 200")
