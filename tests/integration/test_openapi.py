"""docs/openapi.json against the running service.

Every response these tests receive is checked against the document by
conform(): its status is documented for that path and method (or, for a
method the path does not list, is its `x-method-not-allowed` 405), its
Content-Type is a documented media type, its body validates against the
documented schema (openapi_check.py, a minimal JSON Schema validator), and
the documented required headers are present and valid. The tests provoke
every documented status of every operation except 500 (and 503, 409 and
429 without scripts/stack); the last test checks that each was seen.

RUN_LAST: the 503 test stops and restarts PostgreSQL and the pool, the 409
and 429 test the pool and nginx.
"""
import json
import os
import re
import sys
import urllib.parse

import client
import openapi_check as oc
from client import MAX_ID, BODY_LIMIT, Skip, check, wait_until

RUN_LAST = True

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC_PATH = os.path.join(ROOT, "docs", "openapi.json")

# What the document must describe (method and path template).
ROUTES = {
    ("GET", "/api/health"), ("HEAD", "/api/health"),
    ("GET", "/api/{user_id}/tasks"), ("HEAD", "/api/{user_id}/tasks"), ("POST", "/api/{user_id}/tasks"),
    ("GET", "/api/{user_id}/tasks/{id}"), ("HEAD", "/api/{user_id}/tasks/{id}"),
    ("PUT", "/api/{user_id}/tasks/{id}"), ("DELETE", "/api/{user_id}/tasks/{id}"),
    ("PATCH", "/api/{user_id}/tasks/{id}/complete"),
}
# The statuses each operation must document ("as applicable").
TASK_ERRORS = {401, 403, 404, 429, 500, 503}
STATUSES = {
    ("GET", "/api/health"): {200, 429, 500, 503},
    ("HEAD", "/api/health"): {200, 429, 500, 503},
    ("GET", "/api/{user_id}/tasks"): {200, 400} | TASK_ERRORS,
    ("HEAD", "/api/{user_id}/tasks"): {200, 400} | TASK_ERRORS,
    ("POST", "/api/{user_id}/tasks"): {201, 400, 409, 413, 415} | TASK_ERRORS,
    ("GET", "/api/{user_id}/tasks/{id}"): {200, 400} | TASK_ERRORS,
    ("HEAD", "/api/{user_id}/tasks/{id}"): {200, 400} | TASK_ERRORS,
    ("PUT", "/api/{user_id}/tasks/{id}"): {200, 400, 413, 415} | TASK_ERRORS,
    ("DELETE", "/api/{user_id}/tasks/{id}"): {204, 400} | TASK_ERRORS,
    ("PATCH", "/api/{user_id}/tasks/{id}/complete"): {200, 400} | TASK_ERRORS,
}
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
OTHER = "(other method)"  # SEEN key of a path's x-method-not-allowed answer

SEEN = set()  # (template, method or OTHER, status) of every conformant response
FINISHED = set()  # tests of this module that passed
_doc = []


def doc():
    if not _doc:
        try:
            _doc.append(oc.load(DOC_PATH))
        except (OSError, ValueError) as e:
            raise client.Failure(f"{DOC_PATH}: {type(e).__name__}: {e}")
    return _doc[0]


def finished():
    """Called last by each test: records that it passed."""
    FINISHED.add(sys._getframe(1).f_code.co_name)


# --- conformance ------------------------------------------------------------------


def header_value(raw, schema):
    """A header's text as the value its schema describes (an integer header
    is digits)."""
    schema = oc.deref(doc(), schema)
    if schema.get("type") == "integer":
        return int(raw) if re.fullmatch(r"[0-9]+", raw) else raw
    return raw


def conform(r, template=None):
    """Checks response r against the document; returns r."""
    d = doc()
    template = template or oc.match_template(d, r.path)
    check(template is not None, f"no documented path matches {r.path!r}: {r.describe()}")
    item = d["paths"][template]
    op = item.get(r.method.lower())
    if op is None:
        check(r.status == 405, f"{r.method} is not documented for {template}, expected 405: {r.describe()}")
        spec, key = oc.deref(d, item["x-method-not-allowed"]), OTHER
    else:
        check(str(r.status) in op["responses"],
              f"status {r.status} is not documented for {r.method} {template}: {r.describe()}")
        spec, key = oc.deref(d, op["responses"][str(r.status)]), r.method
    where = f"{r.method} {template} {r.status}"

    content = spec.get("content")
    if not content:
        check(r.raw == b"", f"{where}: documented without a body, got one: {r.describe()}")
        check(r.header("Content-Type") is None, f"{where}: documented without a body, has a Content-Type: "
                                                f"{r.describe()}")
    else:
        check(r.media_type in content,
              f"{where}: Content-Type {r.header('Content-Type')!r} is not one of {sorted(content)}: {r.describe()}")
        if r.method == "HEAD":
            check(r.raw == b"", f"{where}: HEAD with a body: {r.describe()}")
        else:
            try:
                body = json.loads(r.raw)
            except ValueError:
                raise client.Failure(f"{where}: body is not JSON: {r.describe()}")
            errors = oc.validate(body, content[r.media_type]["schema"], d)
            check(not errors, f"{where}: body does not match the documented schema: {errors[:5]}: {r.describe()}")

    for name, header in spec.get("headers", {}).items():
        header = oc.deref(d, header)
        raw = r.header(name)
        if raw is None:
            check(not header.get("required"), f"{where}: documented required header {name} is missing: "
                                              f"{r.describe()}")
            continue
        check(r.header_count(name) == 1, f"{where}: header {name} appears {r.header_count(name)} times")
        errors = oc.validate(header_value(raw, header["schema"]), header["schema"], d, f"header {name}")
        check(not errors, f"{where}: {errors}: {r.describe()}")
    SEEN.add((template, key, r.status))
    return r


def send(ctx, method, path, body=None, token=None, expect=None, **kw):
    """Sends a request, checks its status (when expect is given) and that
    the response conforms to the document; returns the response."""
    r = ctx.client.request(method, path, body, token=token, **kw)
    if expect is not None:
        check(r.status == expect, f"expected {expect}: {r.describe()}")
    return conform(r)


def problem_fields(r):
    return [e["field"] for e in r.json().get("errors", [])]


def operation_paths(u, task_id):
    """(method, template, concrete path) of every task operation for user u."""
    return [("GET", "/api/{user_id}/tasks", u.tasks), ("HEAD", "/api/{user_id}/tasks", u.tasks),
            ("POST", "/api/{user_id}/tasks", u.tasks),
            ("GET", "/api/{user_id}/tasks/{id}", u.task(task_id)),
            ("HEAD", "/api/{user_id}/tasks/{id}", u.task(task_id)),
            ("PUT", "/api/{user_id}/tasks/{id}", u.task(task_id)),
            ("PATCH", "/api/{user_id}/tasks/{id}/complete", u.complete(task_id)),
            ("DELETE", "/api/{user_id}/tasks/{id}", u.task(task_id))]


def valid_body(method):
    return {"POST": {"title": "from the document"}, "PUT": {"title": "renamed"}}.get(method)


# --- the document itself ------------------------------------------------------------


def test_openapi_document_is_json_openapi_3_1(ctx):
    d = doc()
    check(isinstance(d, dict), "the document is not a JSON object")
    check(isinstance(d.get("openapi"), str) and re.fullmatch(r"3\.1\.\d+", d["openapi"]),
          f"openapi is {d.get('openapi')!r}, not 3.1.x")
    info = d.get("info", {})
    check(isinstance(info.get("title"), str) and isinstance(info.get("version"), str), "info.title / version")
    listed = {(m, t) for t, m, _ in oc.operations(d)}
    check(listed == ROUTES, f"operations differ: missing {sorted(ROUTES - listed)}, extra {sorted(listed - ROUTES)}")

    for where, target in oc.references_in(d):
        try:
            oc.resolve(d, target)
        except oc.SchemaError as e:
            raise client.Failure(f"{where}: {e}")

    scheme = d["components"]["securitySchemes"]["bearerAuth"]
    check(scheme == {**scheme, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
          f"bearerAuth is not an HTTP bearer JWT scheme: {scheme}")
    check(d.get("security") == [{"bearerAuth": []}], "the default security is not bearerAuth")

    operation_ids = [op.get("operationId") for _, _, op in oc.operations(d)]
    check(all(operation_ids) and len(set(operation_ids)) == len(operation_ids), f"operationIds {operation_ids}")
    for template, method, op in oc.operations(d):
        where = f"{method} {template}"
        item = d["paths"][template]
        params = [oc.deref(d, p) for p in item.get("parameters", []) + op.get("parameters", [])]
        declared = {p["name"] for p in params if p["in"] == "path" and p.get("required") is True}
        check(declared == set(re.findall(r"\{([^}]+)\}", template)), f"{where}: path parameters {declared}")
        check(op.get("security") == ([] if template == "/api/health" else None),
              f"{where}: security {op.get('security')!r}")
        statuses = {int(s) for s in op["responses"]}
        check(statuses == STATUSES[(method, template)],
              f"{where}: documents {sorted(statuses)}, expected {sorted(STATUSES[(method, template)])}")
        for status, spec in op["responses"].items():
            spec = oc.deref(d, spec)
            check(isinstance(spec.get("description"), str), f"{where} {status}: no description")
            media = sorted(spec.get("content", {}))
            if int(status) >= 400:
                check(media == [client.PROBLEM], f"{where} {status}: media types {media}")
            elif int(status) == 204:
                check(media == [], f"{where} 204 with content")
            else:
                check(media == [client.JSON], f"{where} {status}: media types {media}")
        body = op.get("requestBody")
        check((body is not None) == (method in ("POST", "PUT")), f"{where}: requestBody {body!r}")

    for template, item in d["paths"].items():
        methods = [m for m in ALL_METHODS if m.lower() in item]
        not_allowed = oc.deref(d, item.get("x-method-not-allowed", {}))
        allow = not_allowed.get("headers", {}).get("Allow", {})
        check(allow.get("required") is True and allow.get("schema") == {"const": ", ".join(methods)},
              f"{template}: x-method-not-allowed must require Allow: {', '.join(methods)}")
    finished()


def test_openapi_schemas_use_only_supported_keywords(ctx):
    d = doc()
    found = oc.schemas_in(d)
    check(len(found) > 50, f"only {len(found)} schemas found")
    for where, schema in found:
        check(isinstance(schema, (dict, bool)), f"{where}: not a schema")
        if isinstance(schema, dict):
            unknown = set(schema) - oc.ASSERTIONS - oc.ANNOTATIONS
            check(not unknown, f"{where}: keywords openapi_check does not support: {sorted(unknown)}")
            check(schema.get("format", "date-time") in oc.FORMATS, f"{where}: format {schema.get('format')}")
    for name in ("Task", "Problem"):
        check(d["components"]["schemas"][name].get("additionalProperties") is False,
              f"{name} must have additionalProperties: false")
    finished()


def test_openapi_examples_match_their_schemas(ctx):
    d = doc()
    count = 0
    for where, schema in oc.schemas_in(d):
        for i, example in enumerate(schema.get("examples", []) if isinstance(schema, dict) else []):
            errors = oc.validate(example, schema, d, f"{where}/examples/{i}")
            check(not errors, f"example does not match its schema: {errors}")
            count += 1

    def media_types(node, where):
        if isinstance(node, dict):
            if "schema" in node and isinstance(node.get("examples"), dict):
                yield where, node
            for key, value in node.items():
                yield from media_types(value, f"{where}/{key}")

    for where, media in media_types(d, "#"):
        for name, example in media["examples"].items():
            errors = oc.validate(example["value"], media["schema"], d, f"{where}/examples/{name}")
            check(not errors, f"example does not match its schema: {errors}")
            count += 1
    for name, header in d["components"]["headers"].items():
        if "example" in header:
            errors = oc.validate(header["example"], header["schema"], d, f"header {name} example")
            check(not errors, f"{errors}")
            count += 1
    check(count >= 20, f"only {count} examples")
    finished()


# --- routes and methods ---------------------------------------------------------------


def test_openapi_every_documented_operation_is_routed(ctx):
    u = ctx.user()
    t = u.create()
    other = ctx.user()
    for method, template, path in operation_paths(u, t["id"]):
        # Without a token: a route that exists answers 401 (404 and 405 come first).
        r = send(ctx, method, path, valid_body(method))
        check(r.status == 401, f"{method} {template} is not routed: {r.describe()}")
        # Someone else's token: 403, which also comes after routing.
        send(ctx, method, path, valid_body(method), token=other.token, expect=403)
    for method in ("GET", "HEAD"):
        send(ctx, method, "/api/health", expect=200)
    # With the owner's token: each operation succeeds.
    for method, template, path in operation_paths(u, t["id"]):
        r = send(ctx, method, path, valid_body(method), token=u.token)
        check(200 <= r.status < 300, f"{method} {template}: {r.describe()}")
    finished()


def test_openapi_other_methods_are_405_with_the_documented_allow(ctx):
    d = doc()
    u = ctx.user()
    t = u.create()
    concrete = {"/api/health": "/api/health", "/api/{user_id}/tasks": u.tasks,
                "/api/{user_id}/tasks/{id}": u.task(t["id"]),
                "/api/{user_id}/tasks/{id}/complete": u.complete(t["id"])}
    check(set(concrete) == set(d["paths"]), f"paths {sorted(d['paths'])}")
    for template, item in d["paths"].items():
        for method in ALL_METHODS:
            if method.lower() in item:
                continue
            for token in (None, "garbage", u.token):  # 405 comes before the token check
                send(ctx, method, concrete[template], {"title": "x"} if method in ("POST", "PUT") else None,
                     token=token, expect=405)
    check(u.fetch(t["id"]) == t, "a 405 changed the task")
    finished()


# --- successes --------------------------------------------------------------------------


def test_openapi_health(ctx):
    r = send(ctx, "GET", "/api/health", expect=200)
    check(r.json() == {"status": "ok"}, r.describe())
    send(ctx, "HEAD", "/api/health", expect=200)
    send(ctx, "GET", "/api/health", token="ignored", expect=200)
    finished()


def test_openapi_create_list_and_paging(ctx):
    for sub in (None, f"a/b \u00fc\u4e2d?#%&+-{os.urandom(3).hex()}"):
        u = ctx.user(sub)
        send(ctx, "POST", u.tasks, {"title": "first"}, token=u.token, expect=201)
        send(ctx, "POST", u.tasks, {"title": "  second  ", "description": "d", "completed": True,
                                    "user_id": "nobody", "id": 7, "extra": [1]}, token=u.token, expect=201)
        send(ctx, "POST", u.tasks + "?ignored=1", json.dumps({"title": "third", "description": None}),
             token=u.token, ctype="Application/JSON; charset=utf-8", expect=201)
        r = send(ctx, "GET", u.tasks, token=u.token, expect=200)
        check(len(r.json()) == 3 and r.header("X-Total-Count") == "3" and r.header("Link") is None, r.describe())
        for status in ("all", "pending", "completed"):
            for sort in ("created", "-created", "title", "-title", "updated", "-updated"):
                send(ctx, "GET", f"{u.tasks}?status={status}&sort={sort}&limit=1", token=u.token, expect=200)
        # Follow Link to the end, on GET and HEAD.
        for method in ("GET", "HEAD"):
            path, pages = f"{u.tasks}?limit=1", 0
            while path:
                r = send(ctx, method, path, token=u.token, expect=200)
                pages += 1
                link = r.header("Link")
                path = re.fullmatch(r'<([^>]*)>; rel="next"', link).group(1) if link else None
                check(pages <= 3, "Link does not end")
            check(pages == 3, f"{method}: {pages} pages of 1 for 3 tasks")
        r = send(ctx, "GET", f"{u.tasks}?limit=2&offset=1000", token=u.token, expect=200)
        check(r.json() == [] and r.header("X-Total-Count") == "3" and r.header("Link") is None, r.describe())
        send(ctx, "HEAD", f"{u.tasks}?offset=0&limit=1000", token=u.token, expect=200)
    finished()


def test_openapi_item_routes(ctx):
    u = ctx.user()
    t = send(ctx, "POST", u.tasks, {"title": "item", "description": "d"}, token=u.token, expect=201).json()
    task = u.task(t["id"])
    check(send(ctx, "GET", task, token=u.token, expect=200).json() == t, "GET differs from POST")
    send(ctx, "GET", u.task(f"000{t['id']}"), token=u.token, expect=200)
    send(ctx, "HEAD", task, token=u.token, expect=200)
    for body in ({"title": " new "}, {"description": None}, {"completed": True},
                 {"title": "all", "description": "x", "completed": False, "unknown": 1}):
        send(ctx, "PUT", task, body, token=u.token, expect=200)
    r = send(ctx, "PATCH", u.complete(t["id"]), token=u.token, expect=200)
    check(r.json()["completed"] is True, r.describe())
    r = send(ctx, "PATCH", u.complete(t["id"]), b"ignored", token=u.token, ctype="text/plain", expect=200)
    check(r.json()["completed"] is False, r.describe())
    send(ctx, "DELETE", task, token=u.token, expect=204)
    send(ctx, "DELETE", task, token=u.token, expect=404)
    finished()


# --- request schemas ----------------------------------------------------------------------

# (body, note); the server's answer (2xx or 400) must agree with the
# documented request schema.
CREATE_BODIES = [
    {"title": "x"}, {"title": "x", "description": None, "completed": False},
    {"title": "x", "extra": 1, "id": 5, "user_id": "someone"}, {"title": "\U0001F642" * 200},
    {"title": " padded "}, {"title": "x", "description": "d" * 1000}, {"title": "\u200b"},
    {"title": "\ufeff"}, {"title": "a\u3000b"},
    {}, {"title": None}, {"title": ""}, {"title": "   "}, {"title": "\u3000\u00a0\u0085\t"},
    {"title": "x" * 201}, {"title": "\U0001F642" * 201}, {"title": "a\u0000b"}, {"title": 5},
    {"title": ["x"]}, {"title": "x", "description": 5}, {"title": "x", "description": "d" * 1001},
    {"title": "x", "description": "a\u0000"}, {"title": "x", "completed": "true"},
    {"title": "x", "completed": None}, {"title": "x", "completed": 0}, [], "title", 5, None, [{"title": "x"}],
]
UPDATE_BODIES = [
    {"title": "y"}, {"description": None}, {"description": "z" * 1000}, {"completed": True},
    {"title": "z", "foo": 1}, {"title": "\u200b"},
    {}, {"foo": 1}, {"id": 3, "user_id": "x"}, {"title": None}, {"completed": None}, {"title": ""},
    {"title": " \t"}, {"title": "x" * 201}, {"description": "d" * 1001}, {"description": 1},
    {"completed": "false"}, {"title": "ok", "completed": 1}, [], "x", None,
]


def test_openapi_request_schemas_agree_with_the_server(ctx):
    d = doc()
    u = ctx.user()
    t = u.create()
    create = d["paths"]["/api/{user_id}/tasks"]["post"]["requestBody"]["content"][client.JSON]["schema"]
    update = d["paths"]["/api/{user_id}/tasks/{id}"]["put"]["requestBody"]["content"][client.JSON]["schema"]
    for method, path, schema, bodies in (("POST", u.tasks, create, CREATE_BODIES),
                                         ("PUT", u.task(t["id"]), update, UPDATE_BODIES)):
        for body in bodies:
            r = send(ctx, method, path, json.dumps(body), token=u.token)
            check(r.status in (200, 201, 400), f"{method} {body!r:.80}: {r.describe()}")
            accepted, valid = r.status != 400, oc.is_valid(body, schema, d)
            check(accepted == valid, f"{method} body {json.dumps(body)[:100]}: the server "
                                     f"{'accepts' if accepted else 'refuses'} it, the schema "
                                     f"{'accepts' if valid else 'refuses'} it: {r.describe()}")
    finished()


# --- errors -------------------------------------------------------------------------------


def test_openapi_400_responses(ctx):
    u = ctx.user()
    t = u.create()
    for method in ("GET", "HEAD"):
        for query, field in (("status=done", "status"), ("sort=name", "sort"), ("sort=--title", "sort"),
                             ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=", "limit"),
                             ("offset=-1", "offset"), ("offset=1.5", "offset")):
            r = send(ctx, method, f"{u.tasks}?{query}", token=u.token, expect=400)
            if method == "GET":
                check(problem_fields(r) == [field], f"errors: {r.describe()}")
    r = send(ctx, "GET", f"{u.tasks}?status=x&sort=y&limit=z&offset=w", token=u.token, expect=400)
    check(sorted(problem_fields(r)) == ["limit", "offset", "sort", "status"], r.describe())
    for bad in ("abc", "0", "-1", "+1", "1.0", "1e3", str(MAX_ID + 1)):
        for method, path in (("GET", u.task(bad)), ("HEAD", u.task(bad)), ("PUT", u.task(bad)),
                             ("DELETE", u.task(bad)), ("PATCH", u.complete(bad))):
            r = send(ctx, method, path, valid_body(method), token=u.token, expect=400)
            if method != "HEAD":
                check(problem_fields(r) == ["id"], r.describe())
    for method, path in (("POST", u.tasks), ("PUT", u.task(t["id"]))):
        for body, field in (("{nope", "body"), ("", "body"), ("[]", "body"), ('{"title": 5}', "title"),
                            ('{"title": "x", "completed": "yes"}', "completed")):
            r = send(ctx, method, path, body, token=u.token, expect=400)
            check(field in problem_fields(r), f"expected errors on {field}: {r.describe()}")
    r = send(ctx, "POST", u.tasks, {"title": 5, "description": 6, "completed": 7}, token=u.token, expect=400)
    check(problem_fields(r) == ["title", "description", "completed"], r.describe())
    r = send(ctx, "PUT", u.task(t["id"]), {}, token=u.token, expect=400)
    check(problem_fields(r) == ["body"], r.describe())
    check(u.fetch(t["id"]) == t, "a 400 changed the task")
    finished()


def test_openapi_401_responses(ctx):
    u = ctx.user()
    t = u.create()
    tokens = [None, "garbage", client.expired_token(u.sub, ctx.secret), client.alg_none_token(u.sub, ctx.secret),
              client.wrong_secret_token(u.sub, ctx.secret), client.missing_sub_token(ctx.secret)]
    for token in tokens:
        for method, _, path in operation_paths(u, t["id"]):
            send(ctx, method, path, valid_body(method), token=token, expect=401)
    r = ctx.client.request("GET", u.tasks, headers={"Authorization": f"Basic {u.token}"})
    conform(r)
    check(r.status == 401, r.describe())
    check(u.fetch(t["id"]) == t, "a 401 changed the task")
    finished()


def test_openapi_403_responses(ctx):
    u, other = ctx.user(), ctx.user()
    t = u.create()
    for method, _, path in operation_paths(u, t["id"]):
        send(ctx, method, path, valid_body(method), token=other.token, expect=403)
    # 403 comes before the {id}, query and body checks.
    send(ctx, "GET", u.task("abc"), token=other.token, expect=403)
    send(ctx, "GET", u.tasks + "?limit=0", token=other.token, expect=403)
    send(ctx, "POST", u.tasks, b"x" * (BODY_LIMIT + 1), token=other.token, ctype="text/plain", expect=403)
    check(u.fetch(t["id"]) == t, "a 403 changed the task")
    finished()


def test_openapi_404_responses(ctx):
    u, other = ctx.user(), ctx.user()
    t = u.create()
    theirs = other.create("someone else's")
    for task_id in (MAX_ID, theirs["id"]):
        for method, template, path in operation_paths(u, task_id):
            if "{id}" in template:
                r = send(ctx, method, path, valid_body(method), token=u.token, expect=404)
                if method != "HEAD":
                    check(r.json()["detail"] == "task not found", r.describe())
    check(other.fetch(theirs["id"]) == theirs, "someone else's task changed")
    # A {user_id} longer than 255 bytes once decoded is no route, on every path.
    long_user = ctx.user("\u00e9" * 128)  # 256 bytes of UTF-8
    for method, template, path in operation_paths(long_user, t["id"]):
        r = send(ctx, method, path, valid_body(method), token=long_user.token, expect=404)
        if method != "HEAD":
            check(r.json()["detail"] == "no such route", r.describe())
    finished()


def test_openapi_413_and_415_responses(ctx):
    u = ctx.user()
    t = u.create()
    over = b'{"title":"x","pad":"' + b"p" * BODY_LIMIT + b'"}'
    over_nginx = b'{"title":"x","pad":"' + b"p" * (1024 * 1024) + b'"}'
    for path in (u.tasks, u.task(t["id"])):
        method = "POST" if path == u.tasks else "PUT"
        send(ctx, method, path, over, token=u.token, expect=413)
        send(ctx, method, path, over, token=u.token, ctype="text/plain", expect=413)
        send(ctx, method, path, over_nginx, token=u.token, expect=413)
        for ctype in ("text/plain", "application/merge-patch+json", "application/x-www-form-urlencoded",
                      "application/jsonx", None):
            send(ctx, method, path, {"title": "x"}, token=u.token, ctype=ctype, expect=415)
        send(ctx, method, path, "", token=u.token, ctype=None, expect=415)
    send(ctx, "PUT", u.task(MAX_ID), {"title": "x"}, token=u.token, ctype="text/plain", expect=415)
    check(u.fetch(t["id"]) == t, "a 413 or 415 changed the task")
    finished()


def all_workers_answer(ctx, path, token):
    """Three parallel rounds in a row of 200s (reaching every worker, also
    those still holding a dead database connection)."""
    streak = [0]

    def round_ok():
        statuses = client.all_at_once(ctx.workers * 4,
                                      lambda i: ctx.client.request("GET", path, token=token).status)
        streak[0] = streak[0] + 1 if all(s == 200 for s in statuses) else 0
        return streak[0] >= 3

    return wait_until(round_ok, 15, interval=0.2)


def test_openapi_503_responses(ctx):
    ctx.require_stack()
    u = ctx.user()
    t = u.create()
    ctx.stack("pg-stop")
    try:
        for _ in range(ctx.workers * 2):
            send(ctx, "GET", "/api/health", expect=503)
        send(ctx, "HEAD", "/api/health", expect=503)
        for method, _, path in operation_paths(u, t["id"]):
            send(ctx, method, path, valid_body(method), token=u.token, expect=503)
    finally:
        ctx.stack("pg-start")
    check(all_workers_answer(ctx, u.task(t["id"]), u.token), "requests still fail 15 s after pg-start")
    check(u.fetch(t["id"]) == t, "the task changed across the outage")

    # No worker at all: nginx answers 503 itself, in the documented shape.
    ctx.stack("pool-stop")
    try:
        send(ctx, "GET", "/api/health", expect=503)
        send(ctx, "GET", u.tasks, token=u.token, expect=503)
        send(ctx, "POST", u.tasks, {"title": "x"}, token=u.token, expect=503)
    finally:
        ctx.stack("pool-start")
    check(wait_until(lambda: ctx.client.request("GET", "/api/health").status == 200, 10),
          "health is not 200 within 10 s of pool-start")
    check(all_workers_answer(ctx, u.task(t["id"]), u.token), "requests fail after pool-start")
    finished()


def test_openapi_409_and_429_responses(ctx):
    """A pool with a task limit of 1 and a rate of 1 a second (bursts of 2)
    for 409 and the service's 429; nginx with a rate of 1 a second per
    address for its 429 on health."""
    ctx.require_stack()
    limits = {"USER_TASK_LIMIT": "1", "USER_RATE_LIMIT": "1", "USER_RATE_BURST": "2", "POOL_MODE": None}
    u = ctx.user()
    try:
        ctx.stack("pool-stop")
        ctx.stack("pool-start", settings=limits)
        check(wait_until(lambda: ctx.client.request("GET", "/api/health").status == 200, 10),
              "health is not 200 within 10 s of pool-start")
        t = send(ctx, "POST", u.tasks, {"title": "the one"}, token=u.token, expect=201).json()
        send(ctx, "POST", u.tasks, {"title": "one too many"}, token=u.token, expect=409)
        for method, _, path in operation_paths(u, t["id"]):  # the burst is spent
            send(ctx, method, path, valid_body(method), token=u.token, expect=429)
    finally:
        ctx.stack("pool-stop")
        ctx.stack("pool-start")
    try:
        ctx.stack("nginx-stop")
        ctx.stack("nginx-start", settings={"NGINX_RATE": "1", "NGINX_BURST": "1"})
        for method in ("GET", "HEAD"):
            statuses = [send(ctx, method, "/api/health").status for _ in range(4)]
            check(429 in statuses, f"{method} /api/health four times at once: {statuses}")
    finally:
        ctx.stack("nginx-stop")
        ctx.stack("nginx-start")
    check(wait_until(lambda: ctx.client.request("GET", "/api/health").status == 200, 10),
          "health is not 200 within 10 s of the restart")
    finished()


def test_openapi_every_documented_status_was_answered(ctx):
    """Runs last: every status the document lists for an operation (but
    500, and 503 without scripts/stack) was received and conformed."""
    me = sys._getframe(0).f_code.co_name
    others = {name for name, f in globals().items() if name.startswith("test_") and callable(f)} - {me}
    if ctx.stack_env is None:  # skipped: they need scripts/stack
        others.discard("test_openapi_503_responses")
        others.discard("test_openapi_409_and_429_responses")
    missing_tests = others - FINISHED
    if missing_tests:
        raise Skip(f"needs every test of this module to pass first; not passed: {sorted(missing_tests)}")
    d = doc()
    expected = set()
    for template, method, op in oc.operations(d):
        for status in op["responses"]:
            if status == "500" or (status in ("409", "429", "503") and ctx.stack_env is None):
                continue
            expected.add((template, method, int(status)))
    for template in d["paths"]:
        expected.add((template, OTHER, 405))
    missing = sorted(expected - SEEN)
    check(not missing, f"documented but never received: {missing}")
