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
        "sort": ["name", "--created", "+title", "%2Btitle", "", "-", "created,title", "Title",
                 "due", "due-date", "Due_date", "-Priority", "priority,title"],
        "priority": ["High", "urgent", "", "%20low", "low,high", "1", "null"],
        "limit": ["0", "1001", "abc", "", "-1", "1.5", "%2B1", "1e2", " 1", "99999999999999999999999"],
        "offset": ["-1", "1.5", "", "abc", "%2B1", "1e2", "99999999999999999999999"],
    }
    for field, values in cases.items():
        for value in values:
            expect_problem(u.list(f"{field}={value.replace(' ', '%20')}"), 400, field=field)


def dated_tasks(u):
    """Tasks with due dates out of creation order, two undated, one tie."""
    specs = [("b", "2026-12-24"), ("none1", None), ("a", "2026-01-05"), ("tie1", "2026-06-01"),
             ("none2", None), ("tie2", "2026-06-01"), ("c", "2027-03-01")]
    return [u.create(title, due_date=day) for title, day in specs]


def test_sort_due_date_undated_last_both_ways_ties_by_id(ctx):
    u = ctx.user()
    tasks = dated_tasks(u)
    dated = [t for t in tasks if t["due_date"]]
    undated = [t["id"] for t in tasks if not t["due_date"]]
    asc = [t["id"] for t in sorted(dated, key=lambda t: (t["due_date"], t["id"]))]
    desc = [t["id"] for t in sorted(dated, key=lambda t: (t["due_date"], t["id"]), reverse=True)]
    check(u.list_ids("sort=due_date") == asc + sorted(undated), f"sort=due_date: {u.list_ids('sort=due_date')}")
    check(u.list_ids("sort=-due_date") == desc + sorted(undated, reverse=True),
          f"sort=-due_date: {u.list_ids('sort=-due_date')}")


def test_sort_priority_low_to_high_ties_by_id(ctx):
    u = ctx.user()
    tasks = [u.create(p, priority=p) for p in ("high", "low", "medium", "low", "high", "medium")]
    rank = {"low": 0, "medium": 1, "high": 2}
    asc = [t["id"] for t in sorted(tasks, key=lambda t: (rank[t["priority"]], t["id"]))]
    check(u.list_ids("sort=priority") == asc, f"sort=priority: {u.list_ids('sort=priority')} expected {asc}")
    check(u.list_ids("sort=-priority") == asc[::-1], "sort=-priority is not the reverse of sort=priority")


def test_priority_filter_and_its_total(ctx):
    u = ctx.user()
    tasks = [u.create(p, priority=p) for p in ("high", "low", "high", "medium")]
    for p in ("low", "medium", "high"):
        want = [t["id"] for t in tasks if t["priority"] == p][::-1]
        r = u.list(f"priority={p}")
        check([t["id"] for t in expect_json(r, 200)] == want, f"priority={p}: {r.describe()}")
        check(r.header("X-Total-Count") == str(len(want)), f"X-Total-Count of priority={p}: {r.describe()}")


def test_priority_filter_with_status_sort_and_pages(ctx):
    u = ctx.user()
    specs = [("h1", "high", "2026-03-01"), ("h2", "high", None), ("l1", "low", "2026-01-01"),
             ("h3", "high", "2026-02-01"), ("h4", "high", "2026-01-15"), ("h5", "high", "2026-05-01")]
    tasks = {title: u.create(title, priority=p, due_date=d) for title, p, d in specs}
    u.toggle(tasks["h5"]["id"])
    # pending high tasks by due date: h4, h3, h1, then the undated h2
    r = u.list("priority=high&status=pending&sort=due_date&limit=2")
    check([t["title"] for t in expect_json(r, 200)] == ["h4", "h3"], f"page 1: {r.describe()}")
    check(r.header("X-Total-Count") == "4", f"X-Total-Count: {r.describe()}")
    check(r.header("Link") == f'<{u.tasks}?status=pending&priority=high&sort=due_date&limit=2&offset=2>; rel="next"',
          f"Link of page 1: {r.describe()}")
    r = u.request("GET", link_target(r))
    check([t["title"] for t in expect_json(r, 200)] == ["h1", "h2"], f"page 2: {r.describe()}")
    check(r.header("Link") is None and r.header("X-Total-Count") == "4", f"last page: {r.describe()}")
    r = u.list("priority=high&status=completed")
    check([t["title"] for t in expect_json(r, 200)] == ["h5"], f"completed high: {r.describe()}")
    r = u.list("priority=low&offset=5")
    check(expect_json(r, 200) == [] and r.header("X-Total-Count") == "1", f"past the end: {r.describe()}")


def test_link_keeps_the_new_sorts(ctx):
    u = ctx.user()
    tasks = dated_tasks(u)
    for sort in ("due_date", "-due_date", "priority", "-priority"):
        seen, query = [], f"sort={sort}&limit=3"
        r = u.list(query)
        while True:
            seen += [t["id"] for t in expect_json(r, 200)]
            if r.header("Link") is None:
                break
            check(f"sort={sort}&" in link_target(r), f"Link lost sort={sort}: {r.describe()}")
            r = u.request("GET", link_target(r))
        check(seen == u.list_ids(f"sort={sort}") and len(seen) == len(tasks),
              f"pages of sort={sort} differ from the whole list")
