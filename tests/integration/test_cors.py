"""CORS, which nginx terminates: the stack's default allowed origin is
http://localhost:3000 (the frontend in development)."""
from client import Skip, check, expect_json, expect_problem

ORIGIN = "http://localhost:3000"


def need_own_stack(ctx):
    if ctx.stack_env is None:
        raise Skip("the allowed origins of a stack given by --base are unknown")


def preflight(ctx, path, origin, method="POST"):
    return ctx.client.request("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type"})


def test_preflight_from_the_frontend_is_allowed(ctx):
    need_own_stack(ctx)
    u = ctx.user()
    for path, method in ((u.tasks, "POST"), (u.task(1), "PUT"), (u.complete(1), "PATCH"), (u.task(1), "DELETE")):
        r = preflight(ctx, path, ORIGIN, method)
        check(r.status in (200, 204), f"preflight: {r.describe()}")
        check(r.header("Access-Control-Allow-Origin") == ORIGIN, f"Allow-Origin: {r.headers}")
        methods = [m.strip() for m in (r.header("Access-Control-Allow-Methods") or "").split(",")]
        check(method in methods, f"Allow-Methods lacks {method}: {r.headers}")
        allowed = (r.header("Access-Control-Allow-Headers") or "").lower()
        check("authorization" in allowed and "content-type" in allowed, f"Allow-Headers: {r.headers}")


def test_preflight_from_another_origin_gets_no_allow_origin(ctx):
    need_own_stack(ctx)
    r = preflight(ctx, ctx.user().tasks, "http://evil.example")
    check(r.header("Access-Control-Allow-Origin") is None, f"foreign origin allowed: {r.describe()} {r.headers}")


def test_responses_expose_paging_and_location_headers(ctx):
    need_own_stack(ctx)
    u = ctx.user()
    r = u.request("GET", u.tasks, headers={"Origin": ORIGIN})
    expect_json(r, 200)
    check(r.header("Access-Control-Allow-Origin") == ORIGIN, f"Allow-Origin: {r.headers}")
    exposed = [h.strip().lower() for h in (r.header("Access-Control-Expose-Headers") or "").split(",")]
    check({"location", "link", "x-total-count"} <= set(exposed), f"Expose-Headers: {r.headers}")


def test_error_responses_carry_cors_headers(ctx):
    need_own_stack(ctx)
    u = ctx.user()
    r = u.request("GET", u.tasks, token=None, headers={"Origin": ORIGIN})
    expect_problem(r, 401)
    check(r.header("Access-Control-Allow-Origin") == ORIGIN, f"401 without Allow-Origin: {r.headers}")
    r = ctx.client.request("GET", "/nope", headers={"Origin": ORIGIN})
    expect_problem(r, 404)
    check(r.header("Access-Control-Allow-Origin") == ORIGIN, f"nginx 404 without Allow-Origin: {r.headers}")
