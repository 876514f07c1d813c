"""The order of the checks: the first failing one answers.

route 404 -> method 405 -> token 401 -> sub 403 -> {id}/query 400
-> body > 64 KiB 413 -> Content-Type 415 -> body 400 -> task 404
"""
import client
from client import ALLOW_COLLECTION, ALLOW_ITEM, BODY_LIMIT, check, expect_problem

BIG = b'{"title":"x","pad":"' + b"p" * (BODY_LIMIT + 10) + b'"}'  # > 64 KiB, < 1 MiB
BIG_NOT_JSON = b"x" * (BODY_LIMIT + 10)


def test_bad_token_on_unknown_route_is_404(ctx):
    u = ctx.user()
    expect_problem(u.request("GET", f"{u.tasks}/1/x", token="garbage"), 404)
    expect_problem(u.request("GET", f"{u.tasks}/abc/def", token=None), 404)


def test_bad_method_without_token_is_405(ctx):
    u = ctx.user()
    expect_problem(u.request("DELETE", u.tasks, token=None), 405, allow=ALLOW_COLLECTION)
    expect_problem(u.request("POST", u.task("abc"), BIG, token="garbage", ctype="text/plain"), 405,
                   allow=ALLOW_ITEM)


def test_bad_token_and_bad_id_is_401(ctx):
    u = ctx.user()
    expect_problem(u.request("GET", u.task("abc"), token="garbage"), 401)
    expect_problem(u.request("GET", u.task("0"), token=None), 401)
    expect_problem(u.request("PUT", u.task("abc"), BIG, token=client.expired_token(u.sub, ctx.secret),
                             ctype="text/plain"), 401)


def test_bad_token_and_bad_query_is_401(ctx):
    u = ctx.user()
    expect_problem(u.request("GET", u.tasks + "?limit=0&status=nope", token=None), 401)


def test_other_users_token_and_bad_id_is_403(ctx):
    u, other = ctx.user(), ctx.user()
    expect_problem(u.request("GET", u.task("abc"), token=other.token), 403)
    expect_problem(u.request("GET", u.tasks + "?sort=nope", token=other.token), 403)


def test_other_users_token_with_oversized_wrong_type_body_is_403(ctx):
    u, other = ctx.user(), ctx.user()
    expect_problem(u.request("POST", u.tasks, BIG_NOT_JSON, token=other.token, ctype="text/plain"), 403)


def test_bad_id_and_oversized_body_is_400(ctx):
    u = ctx.user()
    expect_problem(u.request("PUT", u.task("abc"), BIG, ctype="text/plain"), 400, field="id")


def test_oversized_body_with_wrong_content_type_is_413(ctx):
    u = ctx.user()
    expect_problem(u.request("POST", u.tasks, BIG_NOT_JSON, ctype="text/plain"), 413)
    expect_problem(u.request("POST", u.tasks, BIG_NOT_JSON, ctype=None), 413)


def test_oversized_invalid_json_is_413(ctx):
    u = ctx.user()
    expect_problem(u.request("POST", u.tasks, BIG_NOT_JSON), 413)


def test_oversized_put_on_missing_task_is_413(ctx):
    u = ctx.user()
    expect_problem(u.request("PUT", u.task(client.MAX_ID), BIG), 413)


def test_wrong_content_type_with_invalid_body_is_415(ctx):
    u = ctx.user()
    expect_problem(u.request("POST", u.tasks, b"{nope", ctype="text/plain"), 415)


def test_wrong_content_type_on_missing_task_is_415(ctx):
    u = ctx.user()
    expect_problem(u.request("PUT", u.task(client.MAX_ID), {"title": "x"}, ctype="text/plain"), 415)


def test_invalid_body_on_missing_task_is_400(ctx):
    u = ctx.user()
    expect_problem(u.request("PUT", u.task(client.MAX_ID), {}), 400, field="body")
    expect_problem(u.request("PUT", u.task(client.MAX_ID), {"title": 5}), 400, field="title")


def test_body_of_exactly_64_kib_is_accepted(ctx):
    u = ctx.user()
    head, tail = b'{"title":"exact","pad":"', b'"}'
    body = head + b"p" * (BODY_LIMIT - len(head) - len(tail)) + tail
    check(len(body) == BODY_LIMIT, "test body size")
    t = client.expect_task(client.expect_json(u.request("POST", u.tasks, body), 201), title="exact")
    check(u.list_ids() == [t["id"]], "task of a 64 KiB body not listed")


def test_body_of_64_kib_plus_one_is_413(ctx):
    u = ctx.user()
    head, tail = b'{"title":"over","pad":"', b'"}'
    body = head + b"p" * (BODY_LIMIT + 1 - len(head) - len(tail)) + tail
    check(len(body) == BODY_LIMIT + 1, "test body size")
    expect_problem(u.request("POST", u.tasks, body), 413)
    check(u.list_ids() == [], "a 413 request created a task")


def test_oversized_put_is_413_and_changes_nothing(ctx):
    u = ctx.user()
    t = u.create("keep")
    expect_problem(u.request("PUT", u.task(t["id"]), b'{"title":"new","pad":"' + b"p" * BODY_LIMIT + b'"}'), 413)
    check(u.fetch(t["id"]) == t, "a 413 PUT changed the task")
