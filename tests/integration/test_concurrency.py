"""Concurrent requests on the same user and task: no lost update, nothing lost."""
from client import all_at_once, check, expect_task


def test_20_concurrent_toggles_leave_a_false_task_false(ctx):
    u = ctx.user()
    t = u.create("toggle me")
    responses = all_at_once(20, lambda i: u.request("PATCH", u.complete(t["id"])))
    bad = [r.describe() for r in responses if r.status != 200]
    check(not bad, f"{len(bad)} toggles failed: {bad[:3]}")
    states = [r.json()["completed"] for r in responses]
    # Serialised flips answer true, false, true, ...: ten of each.
    check(states.count(True) == 10, f"toggle answers {states.count(True)} true / {states.count(False)} false")
    expect_task(u.fetch(t["id"]), completed=False)


def test_concurrent_creates_all_appear(ctx):
    u = ctx.user()
    n = 30
    responses = all_at_once(n, lambda i: u.request("POST", u.tasks, {"title": f"task {i}"}))
    bad = [r.describe() for r in responses if r.status != 201]
    check(not bad, f"{len(bad)} creates failed: {bad[:3]}")
    created = {r.json()["id"]: r.json()["title"] for r in responses}
    check(len(created) == n, f"only {len(created)} distinct ids for {n} creates")
    r = u.list()
    listed = {t["id"]: t["title"] for t in r.json()}
    check(listed == created and r.header("X-Total-Count") == str(n), f"list differs from the creates: {r.describe()}")


def test_concurrent_deletes_of_one_task_succeed_once(ctx):
    u = ctx.user()
    t = u.create("delete me")
    statuses = sorted(r.status for r in all_at_once(10, lambda i: u.request("DELETE", u.task(t["id"]))))
    check(statuses == [204] + [404] * 9, f"delete statuses {statuses}")


def test_concurrent_updates_of_different_fields_keep_one_whole_version(ctx):
    u = ctx.user()
    t = u.create("start", description="start")
    bodies = [{"title": f"t{i}", "description": f"d{i}"} for i in range(10)]
    responses = all_at_once(10, lambda i: u.request("PUT", u.task(t["id"]), bodies[i]))
    check(all(r.status == 200 for r in responses), f"PUT statuses {[r.status for r in responses]}")
    final = u.fetch(t["id"])
    check(final["title"][1:] == final["description"][1:], f"fields of different PUTs mixed: {final}")
