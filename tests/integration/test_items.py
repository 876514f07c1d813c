"""GET, PUT, DELETE /api/{user_id}/tasks/{id} and PATCH .../complete."""
import time

from client import (MAX_ID, check, expect_json, expect_problem, expect_status, expect_task)

BAD_IDS = ["abc", "0", "00", "-1", "+1", "1.0", "1e3", "0x10", "%201", "1%20", "%2B1",
           "%D9%A1",  # ARABIC-INDIC DIGIT ONE: a digit, not an ASCII one
           str(MAX_ID + 1), "99999999999999999999999"]


def later():
    """Lets the clock move so that a new updated_at is visibly later."""
    time.sleep(0.01)


def test_get_returns_the_task(ctx):
    u = ctx.user()
    t = u.create("read me", description="d", completed=True)
    r = u.request("GET", u.task(t["id"]))
    check(expect_task(expect_json(r, 200)) == t, f"GET differs from POST: {r.describe()}")


def test_get_missing_task_is_404(ctx):
    u = ctx.user()
    expect_problem(u.request("GET", u.task(MAX_ID)), 404)


def test_id_with_leading_zeros_is_accepted(ctx):
    u = ctx.user()
    t = u.create()
    check(expect_json(u.request("GET", u.task(f"000{t['id']}")), 200) == t, "leading zeros")


def test_invalid_ids_are_400_on_every_item_route(ctx):
    u = ctx.user()
    for bad in BAD_IDS:
        expect_problem(u.request("GET", u.task(bad)), 400, field="id")
        expect_problem(u.request("PUT", u.task(bad), {"title": "x"}), 400, field="id")
        expect_problem(u.request("DELETE", u.task(bad)), 400, field="id")
        expect_problem(u.request("PATCH", u.complete(bad)), 400, field="id")


def test_largest_id_is_valid_but_missing(ctx):
    u = ctx.user()
    expect_problem(u.request("GET", u.task(MAX_ID)), 404)
    expect_problem(u.request("PATCH", u.complete(MAX_ID)), 404)
    expect_problem(u.request("DELETE", u.task(MAX_ID)), 404)
    expect_problem(u.request("PUT", u.task(MAX_ID), {"title": "x"}), 404)


def test_put_title_only_keeps_the_rest(ctx):
    u = ctx.user()
    t = u.create("old", description="keep me", completed=True)
    later()
    n = expect_task(expect_json(u.request("PUT", u.task(t["id"]), {"title": "  new  "}), 200),
                    id=t["id"], user_id=u.sub, title="new", description="keep me", completed=True,
                    created_at=t["created_at"])
    check(u.fetch(t["id"]) == n, "GET after PUT differs from the PUT answer")


def test_put_description_only_keeps_the_rest(ctx):
    u = ctx.user()
    t = u.create("title", description="old")
    expect_task(expect_json(u.request("PUT", u.task(t["id"]), {"description": "new"}), 200),
                title="title", description="new", completed=False)


def test_put_completed_only_keeps_the_rest(ctx):
    u = ctx.user()
    t = u.create("title", description="d")
    expect_task(expect_json(u.request("PUT", u.task(t["id"]), {"completed": True}), 200),
                title="title", description="d", completed=True)
    expect_task(expect_json(u.request("PUT", u.task(t["id"]), {"completed": False}), 200), completed=False)


def test_put_description_null_clears_it(ctx):
    u = ctx.user()
    t = u.create("title", description="to clear")
    expect_task(expect_json(u.request("PUT", u.task(t["id"]), {"description": None}), 200),
                title="title", description=None)
    expect_task(u.fetch(t["id"]), description=None)


def test_put_all_fields(ctx):
    u = ctx.user()
    t = u.create("a")
    body = {"title": "b", "description": "c", "completed": True, "user_id": "someone-else", "id": 1}
    expect_task(expect_json(u.request("PUT", u.task(t["id"]), body), 200),
                id=t["id"], user_id=u.sub, title="b", description="c", completed=True)


def test_put_moves_updated_at_only(ctx):
    u = ctx.user()
    t = u.create("a")
    later()
    n = expect_task(expect_json(u.request("PUT", u.task(t["id"]), {"title": "a"}), 200))
    check(n["updated_at"] > t["updated_at"], f"updated_at did not move: {t['updated_at']} -> {n['updated_at']}")
    check(n["created_at"] == t["created_at"], "created_at changed on PUT")


def test_put_empty_object_is_400_on_body(ctx):
    u = ctx.user()
    t = u.create()
    expect_problem(u.request("PUT", u.task(t["id"]), {}), 400, field="body")


def test_put_only_unknown_fields_is_400_on_body(ctx):
    u = ctx.user()
    t = u.create()
    expect_problem(u.request("PUT", u.task(t["id"]), {"foo": 1, "user_id": u.sub}), 400, field="body")


def test_put_field_rules_are_400(ctx):
    u = ctx.user()
    t = u.create()
    cases = [({"title": None}, "title"), ({"title": ""}, "title"), ({"title": " \u3000 "}, "title"),
             ({"title": "x" * 201}, "title"), ({"title": 5}, "title"), ({"title": "a\u0000"}, "title"),
             ({"completed": None}, "completed"), ({"completed": "false"}, "completed"),
             ({"description": 5}, "description"), ({"description": "d" * 1001}, "description"),
             ({"title": "ok", "completed": 1}, "completed")]
    for body, field in cases:
        expect_problem(u.request("PUT", u.task(t["id"]), body), 400, field=field)
    check(u.fetch(t["id"]) == t, "a rejected PUT changed the task")


def test_put_body_not_an_object_is_400(ctx):
    u = ctx.user()
    t = u.create()
    for body in ("[]", "null", "{nope", ""):
        expect_problem(u.request("PUT", u.task(t["id"]), body), 400)
    check(u.fetch(t["id"]) == t, "a rejected PUT changed the task")


def test_put_needs_json_content_type(ctx):
    u = ctx.user()
    t = u.create()
    expect_problem(u.request("PUT", u.task(t["id"]), {"title": "x"}, ctype="text/plain"), 415)
    expect_problem(u.request("PUT", u.task(t["id"]), {"title": "x"}, ctype=None), 415)
    expect_json(u.request("PUT", u.task(t["id"]), {"title": "x"}, ctype="application/json; charset=utf-8"), 200)


def test_put_missing_task_is_404(ctx):
    u = ctx.user()
    t = u.create()
    expect_status(u.request("DELETE", u.task(t["id"])), 204)
    expect_problem(u.request("PUT", u.task(t["id"]), {"title": "x"}), 404)


def test_delete_is_204_without_body(ctx):
    u = ctx.user()
    t = u.create()
    r = u.request("DELETE", u.task(t["id"]))
    expect_status(r, 204)
    check(r.raw == b"", f"204 with a body: {r.describe()}")


def test_deleted_task_is_gone(ctx):
    u = ctx.user()
    keep, gone = u.create("keep"), u.create("gone")
    expect_status(u.request("DELETE", u.task(gone["id"])), 204)
    expect_problem(u.request("GET", u.task(gone["id"])), 404)
    expect_problem(u.request("DELETE", u.task(gone["id"])), 404)
    expect_problem(u.request("PATCH", u.complete(gone["id"])), 404)
    check(u.list_ids() == [keep["id"]], "list after delete")


def test_delete_ignores_a_body(ctx):
    u = ctx.user()
    t = u.create()
    expect_status(u.request("DELETE", u.task(t["id"]), b"not json", ctype="text/plain"), 204)


def test_patch_complete_flips_both_ways(ctx):
    u = ctx.user()
    t = u.create("flip", description="d")
    later()
    once = u.toggle(t["id"])
    expect_task(once, id=t["id"], title="flip", description="d", completed=True, created_at=t["created_at"])
    check(once["updated_at"] > t["updated_at"], "updated_at did not move on PATCH")
    later()
    twice = u.toggle(t["id"])
    expect_task(twice, completed=False)
    check(twice["updated_at"] > once["updated_at"], "updated_at did not move on the second PATCH")
    check(u.fetch(t["id"]) == twice, "GET after PATCH differs")


def test_patch_complete_ignores_a_body(ctx):
    u = ctx.user()
    t = u.create()
    expect_task(expect_json(u.request("PATCH", u.complete(t["id"]), b"whatever", ctype="text/plain"), 200),
                completed=True)
    expect_task(expect_json(u.request("PATCH", u.complete(t["id"]), {"completed": True}), 200),
                completed=False)


def test_patch_complete_missing_task_is_404(ctx):
    u = ctx.user()
    expect_problem(u.request("PATCH", u.complete(MAX_ID)), 404)
