"""Health, routing (404), methods (405 + Allow), HEAD, and nginx's own errors."""
from client import (ALLOW_COLLECTION, ALLOW_COMPLETE, ALLOW_HEALTH, ALLOW_ITEM, check,
                    expect_json, expect_problem, expect_status, expect_status_headers)


def test_health_is_200_ok_without_token(ctx):
    r = ctx.client.request("GET", "/api/health")
    check(expect_json(r, 200) == {"status": "ok"}, f"health body: {r.describe()}")


def test_health_head_is_200_without_body(ctx):
    r = ctx.client.request("HEAD", "/api/health")
    expect_status(r, 200)
    check(r.raw == b"", f"HEAD has a body: {r.describe()}")


def test_health_post_is_405_with_allow(ctx):
    expect_problem(ctx.client.request("POST", "/api/health", {}), 405, allow=ALLOW_HEALTH)


def test_unknown_route_under_api_is_404(ctx):
    u = ctx.user()
    t = u.create()
    for path in (f"{u.tasks}/abc/def", f"{u.task(t['id'])}/x", f"{u.complete(t['id'])}/x",
                 f"/api/{u.sub}/task", f"/api/{u.sub}", "/api/healthz", "/api/health/x"):
        expect_problem(u.request("GET", path), 404)


def test_path_outside_api_is_404_problem(ctx):
    for path in ("/", "/nope", "/index.html", "/apix/health", "/API/health"):
        expect_problem(ctx.client.request("GET", path), 404)


def test_api_root_is_404(ctx):
    for path in ("/api", "/api/"):
        expect_problem(ctx.client.request("GET", path), 404)


def test_trailing_slash_is_404(ctx):
    u = ctx.user()
    t = u.create()
    for path in (f"{u.tasks}/", f"{u.task(t['id'])}/", f"{u.complete(t['id'])}/", "/api/health/"):
        expect_problem(u.request("GET", path), 404)
    expect_problem(u.request("PATCH", f"{u.complete(t['id'])}/"), 404)


def test_empty_segments_are_404(ctx):
    u = ctx.user()
    t = u.create()
    for path in ("/api//tasks", f"/api/{u.sub}//tasks", f"{u.tasks}//{t['id']}",
                 f"{u.task(t['id'])}//complete", "//api/health", "/api//health"):
        expect_problem(u.request("GET", path), 404)


def test_collection_wrong_methods_are_405(ctx):
    u = ctx.user()
    for method in ("PUT", "DELETE", "PATCH"):
        expect_problem(u.request(method, u.tasks), 405, allow=ALLOW_COLLECTION)


def test_item_wrong_methods_are_405(ctx):
    u = ctx.user()
    t = u.create()
    expect_problem(u.request("POST", u.task(t["id"]), {"title": "x"}), 405, allow=ALLOW_ITEM)
    expect_problem(u.request("PATCH", u.task(t["id"])), 405, allow=ALLOW_ITEM)


def test_complete_wrong_methods_are_405(ctx):
    u = ctx.user()
    t = u.create()
    for method in ("GET", "POST", "PUT", "DELETE"):
        expect_problem(u.request(method, u.complete(t["id"])), 405, allow=ALLOW_COMPLETE)
    r = u.request("HEAD", u.complete(t["id"]))
    expect_status(r, 405)
    expect_status_headers(r, 405, allow=ALLOW_COMPLETE)
    check(u.fetch(t["id"])["completed"] is False, "a refused method changed the task")


def test_options_without_preflight_is_405(ctx):
    u = ctx.user()
    expect_problem(u.request("OPTIONS", u.tasks, token=None), 405, allow=ALLOW_COLLECTION)


def test_head_collection_matches_get_without_body(ctx):
    u = ctx.user()
    u.create()
    u.create()
    get = u.list()
    head = u.request("HEAD", u.tasks)
    expect_status(head, 200)
    check(head.raw == b"", f"HEAD has a body: {head.describe()}")
    check(head.header("X-Total-Count") == get.header("X-Total-Count") == "2",
          f"X-Total-Count GET {get.header('X-Total-Count')} HEAD {head.header('X-Total-Count')}")
    check(head.media_type == get.media_type, f"HEAD Content-Type {head.media_type} != GET {get.media_type}")


def test_head_item_is_200_without_body(ctx):
    u = ctx.user()
    t = u.create()
    r = u.request("HEAD", u.task(t["id"]))
    expect_status(r, 200)
    check(r.raw == b"", f"HEAD has a body: {r.describe()}")


def test_head_follows_the_same_checks_as_get(ctx):
    u = ctx.user()
    t = u.create()
    r = u.request("HEAD", u.task(t["id"]), token=None)
    expect_status(r, 401)
    expect_status_headers(r, 401)
    expect_status(u.request("HEAD", u.task(t["id"]), token=ctx.user().token), 403)
    expect_status(u.request("HEAD", u.task("abc")), 400)
    expect_status(u.request("HEAD", u.task(t["id"] + 1000000)), 404)


def test_body_over_1_mib_is_413_problem_from_nginx(ctx):
    u = ctx.user()
    body = b'{"title":"x","pad":"' + b"p" * (1024 * 1024 + 100) + b'"}'
    expect_problem(u.request("POST", u.tasks, body, token=None), 413)
    expect_problem(u.request("POST", u.tasks, body), 413)
    check(u.list_ids() == [], "a refused body created a task")

