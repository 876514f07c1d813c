"""GET /api/{user_id}/tasks: order, filters, paging, X-Total-Count and Link."""
import re
import time

from client import check, expect_json, expect_problem, expect_task


def make_tasks(u, titles):
    """Creates tasks in this order; returns them oldest first."""
    return [u.create(title) for title in titles]


def link_target(r):
    m = re.fullmatch(r'<([^>]*)>; rel="next"', r.header("Link") or "")
    check(m, f"Link header: {r.describe()}")
    return m.group(1)


def test_empty_list(ctx):
    u = ctx.user()
    r = u.list()
    check(expect_json(r, 200) == [], f"new user's list: {r.describe()}")
    check(r.header("X-Total-Count") == "0", f"X-Total-Count: {r.describe()}")
    check(r.header("Link") is None, f"Link on an empty list: {r.describe()}")


def test_list_is_newest_first_with_full_tasks(ctx):
    u = ctx.user()
    tasks = make_tasks(u, ["one", "two", "three"])
    r = u.list()
    body = expect_json(r, 200)
    check(body == tasks[::-1], f"list != created tasks newest first: {[t['id'] for t in body]}")
    for t in body:
        expect_task(t, user_id=u.sub)
    check(r.header("X-Total-Count") == "3" and r.header("Link") is None, f"headers: {r.describe()}")


def test_list_reflects_updates(ctx):
    u = ctx.user()
    t = u.create("before")
    u.request("PUT", u.task(t["id"]), {"title": "after", "completed": True})
    check(u.list_json() == [u.fetch(t["id"])], "list does not show the updated task")


def test_status_filter(ctx):
    u = ctx.user()
    a, b, c = make_tasks(u, ["a", "b", "c"])
    u.toggle(b["id"])
    r = u.list("status=completed")
    check([t["id"] for t in expect_json(r, 200)] == [b["id"]] and r.header("X-Total-Count") == "1",
          f"completed: {r.describe()}")
    r = u.list("status=pending")
    check([t["id"] for t in expect_json(r, 200)] == [c["id"], a["id"]] and r.header("X-Total-Count") == "2",
          f"pending: {r.describe()}")
    r = u.list("status=all")
    check([t["id"] for t in expect_json(r, 200)] == [c["id"], b["id"], a["id"]] and r.header("X-Total-Count") == "3",
          f"all: {r.describe()}")


def test_sort_created(ctx):
    u = ctx.user()
    ids = [t["id"] for t in make_tasks(u, ["a", "b", "c"])]
    check(u.list_ids("sort=created") == ids, "sort=created is not oldest first")
    check(u.list_ids("sort=-created") == ids[::-1], "sort=-created is not newest first")


def test_sort_title_by_code_points_ties_by_id(ctx):
    u = ctx.user()
    tasks = make_tasks(u, ["b", "B", "a", "\u00e9", "b", "A"])
    expected = [t["id"] for t in sorted(tasks, key=lambda t: (t["title"], t["id"]))]
    check(u.list_ids("sort=title") == expected, f"sort=title: {u.list_ids('sort=title')} expected {expected}")
    check(u.list_ids("sort=-title") == expected[::-1], "sort=-title is not the reverse of sort=title")


def test_sort_updated(ctx):
    u = ctx.user()
    a, b, c = make_tasks(u, ["a", "b", "c"])
    time.sleep(0.01)
    u.toggle(a["id"])
    check(u.list_ids("sort=updated") == [b["id"], c["id"], a["id"]], "sort=updated")
    check(u.list_ids("sort=-updated") == [a["id"], c["id"], b["id"]], "sort=-updated")


def test_limit_offset_and_link_next(ctx):
    u = ctx.user()
    ids = [t["id"] for t in make_tasks(u, ["1", "2", "3", "4", "5"])][::-1]
    r = u.list("limit=2")
    check([t["id"] for t in expect_json(r, 200)] == ids[0:2], f"page 1: {r.describe()}")
    check(r.header("X-Total-Count") == "5", f"X-Total-Count: {r.describe()}")
    check(r.header("Link") == f'<{u.tasks}?status=all&sort=-created&limit=2&offset=2>; rel="next"',
          f"Link of page 1: {r.describe()}")
    r = u.request("GET", link_target(r))
    check([t["id"] for t in expect_json(r, 200)] == ids[2:4], f"page 2: {r.describe()}")
    check(r.header("Link") == f'<{u.tasks}?status=all&sort=-created&limit=2&offset=4>; rel="next"',
          f"Link of page 2: {r.describe()}")
    r = u.request("GET", link_target(r))
    check([t["id"] for t in expect_json(r, 200)] == ids[4:], f"page 3: {r.describe()}")
    check(r.header("Link") is None and r.header("X-Total-Count") == "5", f"last page: {r.describe()}")


def test_link_keeps_status_and_sort(ctx):
    u = ctx.user()
    tasks = make_tasks(u, ["c", "a", "b", "d"])
    u.toggle(tasks[3]["id"])
    r = u.list("sort=title&status=pending&limit=1&offset=1")
    check([t["title"] for t in expect_json(r, 200)] == ["b"], f"page: {r.describe()}")
    check(r.header("X-Total-Count") == "3", f"X-Total-Count: {r.describe()}")
    check(r.header("Link") == f'<{u.tasks}?status=pending&sort=title&limit=1&offset=2>; rel="next"',
          f"Link: {r.describe()}")
    r = u.request("GET", link_target(r))
    check([t["title"] for t in expect_json(r, 200)] == ["c"] and r.header("Link") is None, f"last: {r.describe()}")


def test_no_link_when_everything_fits(ctx):
    u = ctx.user()
    make_tasks(u, ["a", "b"])
    for query in ("limit=2", "limit=3", "limit=1000", "limit=1&offset=1"):
        r = u.list(query)
        expect_json(r, 200)
        check(r.header("Link") is None, f"Link with {query}: {r.describe()}")


def test_offset_past_the_end(ctx):
    u = ctx.user()
    make_tasks(u, ["a", "b"])
    for query in ("offset=2", "limit=2&offset=10", "offset=9223372036854775807"):
        r = u.list(query)
        check(expect_json(r, 200) == [], f"{query}: {r.describe()}")
        check(r.header("X-Total-Count") == "2" and r.header("Link") is None, f"{query}: {r.describe()}")


def test_offset_skips(ctx):
    u = ctx.user()
    ids = [t["id"] for t in make_tasks(u, ["a", "b", "c"])][::-1]
    check(u.list_ids("offset=1") == ids[1:], "offset=1")
    check(u.list_ids("limit=1&offset=1") == ids[1:2], "limit=1&offset=1")


def test_limit_bounds_and_leading_zeros(ctx):
    u = ctx.user()
    make_tasks(u, ["a", "b"])
    check(len(u.list_json("limit=1")) == 1, "limit=1")
    check(len(u.list_json("limit=01")) == 1, "limit=01")
    check(len(u.list_json("limit=1000")) == 2, "limit=1000")
    check(len(u.list_json("offset=0")) == 2, "offset=0")


def test_repeated_parameter_last_wins(ctx):
    u = ctx.user()
    make_tasks(u, ["a", "b", "c"])
    check(len(u.list_json("limit=5&limit=1")) == 1, "limit=5&limit=1")
    check(len(u.list_json("status=completed&status=all")) == 3, "status=completed&status=all")


def test_unknown_query_parameter_is_ignored(ctx):
    u = ctx.user()
    make_tasks(u, ["a"])
    check(len(u.list_json("page=2&foo")) == 1, "unknown parameters")


def test_invalid_query_values_are_400(ctx):
    u = ctx.user()
    cases = {
        "status": ["done", "ALL", "", "all,pending", "%20all"],
        "sort": ["name", "--created", "+title", "%2Btitle", "", "-", "created,title", "Title"],
        "limit": ["0", "1001", "abc", "", "-1", "1.5", "%2B1", "1e2", " 1", "99999999999999999999999"],
        "offset": ["-1", "1.5", "", "abc", "%2B1", "1e2", "99999999999999999999999"],
    }
    for field, values in cases.items():
        for value in values:
            expect_problem(u.list(f"{field}={value.replace(' ', '%20')}"), 400, field=field)
