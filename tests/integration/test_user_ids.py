"""{user_id} is the percent-decoded path segment and must equal `sub` exactly."""
import secrets

from client import check, expect_json, expect_problem, expect_status, expect_task


def round_trip(ctx, sub):
    """Every route works for `sub` at its percent-encoded path, and the
    Location and Link the service writes lead back to the same user."""
    u = ctx.user(sub)
    r = u.request("POST", u.tasks, {"title": "first"})
    t = expect_task(expect_json(r, 201), user_id=sub)
    u.create("second")
    location = r.header("Location") or ""
    check(expect_json(u.request("GET", location), 200) == t, f"following Location {location!r} failed")
    check(u.fetch(t["id"]) == t, "GET by id")
    expect_task(expect_json(u.request("PUT", u.task(t["id"]), {"title": "renamed"}), 200), title="renamed")
    u.toggle(t["id"])
    page = u.list("limit=1")
    expect_json(page, 200)
    link = (page.header("Link") or "<>")[1:].split(">")[0]
    check(len(expect_json(u.request("GET", link), 200)) == 1, f"following Link {link!r} failed")
    expect_status(u.request("DELETE", u.task(t["id"])), 204)
    check(len(u.list_json()) == 1, "list after delete")


def test_user_id_with_encoded_slash(ctx):
    round_trip(ctx, f"a/b-{secrets.token_hex(4)}")


def test_user_id_with_encoded_space(ctx):
    round_trip(ctx, f"a b-{secrets.token_hex(4)}")


def test_user_id_with_non_ascii(ctx):
    round_trip(ctx, f"\u00fc\u4e2d-{secrets.token_hex(4)}")


def test_user_id_with_reserved_characters(ctx):
    round_trip(ctx, f"x?y#z%25&=+;@:-{secrets.token_hex(4)}")


def test_plain_user_id_may_be_percent_encoded(ctx):
    u = ctx.user(f"alice-{secrets.token_hex(4)}")
    t = u.create()
    encoded = "".join(f"%{b:02X}" for b in u.sub.encode())
    check(expect_json(u.request("GET", f"/api/{encoded}/tasks"), 200) == [t], "fully encoded path")


def test_user_id_is_case_sensitive(ctx):
    u = ctx.user(f"case-{secrets.token_hex(4)}")
    expect_problem(u.request("GET", f"/api/{u.sub.upper()}/tasks"), 403)


def test_user_id_prefix_or_extension_is_403(ctx):
    u = ctx.user()
    for path in (f"/api/{u.sub}x/tasks", f"/api/{u.sub[:-1]}/tasks", f"/api/{u.sub}%20/tasks",
                 f"/api/%20{u.sub}/tasks"):
        expect_problem(u.request("GET", path), 403)


def test_slash_user_is_not_split_into_segments(ctx):
    u = ctx.user(f"a/b-{secrets.token_hex(4)}")
    a, b = u.sub.split("/")
    expect_problem(u.request("GET", f"/api/{a}/{b}/tasks"), 404)
