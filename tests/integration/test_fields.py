"""Contract v1.1's due_date and priority: defaults, POST, GET, PUT's partial
semantics, and every invalid value refused without changing the task."""
from client import check, expect_json, expect_problem, expect_task

INVALID_DUE_DATES = [
    "2026-02-29", "2026-02-30", "2026-04-31", "1900-02-29", "2026-13-01", "2026-00-01",
    "2026-01-00", "0000-00-00", "0000-01-01", "2026-12-31T00:00:00Z", "2026-12-31T10:00",
    " 2026-12-31", "2026-12-31 ", "2026-1-1", "20261231", "31/12/2026", "", "tomorrow",
    20261231, 1.5, True, [], {}, ["2026-12-31"],
]
INVALID_PRIORITIES = ["High", "HIGH", " high", "high ", "urgent", "", "1", None, 1, True, [], {}]


def test_fields_default_to_medium_and_no_due_date(ctx):
    u = ctx.user()
    t = expect_task(u.create("plain"), due_date=None, priority="medium")
    check(u.fetch(t["id"]) == t, "GET differs from POST")


def test_fields_the_frontend_sends_come_back_everywhere(ctx):
    u = ctx.user()
    r = u.request("POST", u.tasks, {"title": "Pay rent", "due_date": "2026-12-31", "priority": "high"})
    t = expect_task(expect_json(r, 201), title="Pay rent", due_date="2026-12-31", priority="high")
    check(u.fetch(t["id"]) == t, "GET differs from the 201")
    check(u.list_json() == [t], "the list differs from the 201")


def test_fields_every_priority_and_null_due_date_on_create(ctx):
    u = ctx.user()
    for p in ("low", "medium", "high"):
        expect_task(u.create(p, priority=p, due_date=None), priority=p, due_date=None)


def test_fields_calendar_edges_are_accepted(ctx):
    u = ctx.user()
    for day in ("2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31", "2026-04-30", "2026-01-31"):
        t = u.create(day, due_date=day)
        expect_task(u.fetch(t["id"]), due_date=day)


def test_fields_invalid_values_on_create_are_400_and_create_nothing(ctx):
    u = ctx.user()
    for value in INVALID_DUE_DATES:
        expect_problem(u.request("POST", u.tasks, {"title": "x", "due_date": value}), 400, field="due_date")
    for value in INVALID_PRIORITIES:
        expect_problem(u.request("POST", u.tasks, {"title": "x", "priority": value}), 400, field="priority")
    check(u.list_json() == [], "a refused POST created a task")


def test_fields_are_checked_after_title_description_and_completed(ctx):
    u = ctx.user()
    r = u.request("POST", u.tasks, {"title": 1, "description": 2, "completed": 3, "due_date": 4, "priority": 5})
    body = expect_problem(r, 400, field="title")
    fields = [e["field"] for e in body["errors"]]
    check(fields == ["title", "description", "completed", "due_date", "priority"], f"errors: {fields}")


def test_fields_put_one_of_them_keeps_the_rest(ctx):
    u = ctx.user()
    for field, value in (("due_date", "2027-01-15"), ("priority", "high")):
        t = u.create("t", description="d", completed=True, priority="low", due_date="2026-12-24")
        kept = {"due_date": t["due_date"], "priority": t["priority"], field: value}
        n = expect_task(expect_json(u.request("PUT", u.task(t["id"]), {field: value}), 200),
                        title="t", description="d", completed=True, **kept)
        check(u.fetch(t["id"]) == n, f"GET after PUT of {field} differs")


def test_fields_put_other_fields_keep_due_date_and_priority(ctx):
    u = ctx.user()
    t = u.create("t", due_date="2026-12-24", priority="high")
    for body in ({"title": "new"}, {"description": None}, {"completed": True}):
        expect_task(expect_json(u.request("PUT", u.task(t["id"]), body), 200),
                    due_date="2026-12-24", priority="high")


def test_fields_put_due_date_null_clears_it(ctx):
    u = ctx.user()
    t = u.create("t", due_date="2026-12-24", priority="low")
    expect_task(expect_json(u.request("PUT", u.task(t["id"]), {"due_date": None}), 200),
                due_date=None, priority="low")
    expect_task(u.fetch(t["id"]), due_date=None, priority="low")


def test_fields_put_both(ctx):
    u = ctx.user()
    t = u.create("t")
    expect_task(expect_json(u.request("PUT", u.task(t["id"]), {"due_date": "2030-06-01", "priority": "low"}), 200),
                id=t["id"], title="t", due_date="2030-06-01", priority="low")


def test_fields_put_invalid_values_are_400_and_change_nothing(ctx):
    u = ctx.user()
    t = u.create("t", due_date="2026-12-24", priority="high")
    for value in INVALID_DUE_DATES:
        expect_problem(u.request("PUT", u.task(t["id"]), {"due_date": value}), 400, field="due_date")
        expect_problem(u.request("PUT", u.task(t["id"]), {"title": "changed", "due_date": value}), 400,
                       field="due_date")
    for value in INVALID_PRIORITIES:
        expect_problem(u.request("PUT", u.task(t["id"]), {"priority": value}), 400, field="priority")
        expect_problem(u.request("PUT", u.task(t["id"]), {"completed": True, "priority": value}), 400,
                       field="priority")
    check(u.fetch(t["id"]) == t, "a refused PUT changed the task")


def test_fields_toggle_keeps_them(ctx):
    u = ctx.user()
    t = u.create("t", due_date="2026-12-24", priority="low")
    expect_task(u.toggle(t["id"]), completed=True, due_date="2026-12-24", priority="low")
