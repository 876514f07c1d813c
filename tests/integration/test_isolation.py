"""Two users: neither can see, change or delete the other's tasks."""
from client import check, expect_json, expect_problem, expect_status, expect_task


def test_other_users_task_is_404_on_every_item_route(ctx):
    a, b = ctx.user(), ctx.user()
    mine = a.create("a's")
    theirs = b.create("b's", description="private")
    expect_problem(a.request("GET", a.task(theirs["id"])), 404)
    expect_problem(a.request("PUT", a.task(theirs["id"]), {"title": "stolen", "completed": True}), 404)
    expect_problem(a.request("PATCH", a.complete(theirs["id"])), 404)
    expect_problem(a.request("DELETE", a.task(theirs["id"])), 404)
    check(b.fetch(theirs["id"]) == theirs, "b's task changed through a's path")
    check(a.list_ids() == [mine["id"]], "a's list shows b's task")
    check(b.list_ids() == [theirs["id"]], "b's list changed")


def test_other_users_task_404_is_identical_to_missing(ctx):
    a, b = ctx.user(), ctx.user()
    theirs = b.create()
    gone = a.create()
    a.request("DELETE", a.task(gone["id"]))
    r1 = a.request("GET", a.task(theirs["id"]))
    r2 = a.request("GET", a.task(gone["id"]))
    p1, p2 = expect_problem(r1, 404), expect_problem(r2, 404)
    check(p1 == p2, f"someone else's task is distinguishable from a missing one: {p1} vs {p2}")


def test_other_users_path_is_403_on_every_route(ctx):
    a, b = ctx.user(), ctx.user()
    theirs = b.create("b's")
    expect_problem(a.request("GET", b.tasks), 403)
    expect_status(a.request("HEAD", b.tasks), 403)
    expect_problem(a.request("POST", b.tasks, {"title": "planted"}), 403)
    expect_problem(a.request("GET", b.task(theirs["id"])), 403)
    expect_problem(a.request("PUT", b.task(theirs["id"]), {"title": "stolen"}), 403)
    expect_problem(a.request("PATCH", b.complete(theirs["id"])), 403)
    expect_problem(a.request("DELETE", b.task(theirs["id"])), 403)
    check(b.list_json() == [theirs], "b's tasks changed through a's token")


def test_body_user_id_cannot_plant_a_task(ctx):
    a, b = ctx.user(), ctx.user()
    t = a.create("mine", user_id=b.sub)
    expect_task(t, user_id=a.sub)
    expect_task(expect_json(a.request("PUT", a.task(t["id"]), {"title": "still mine", "user_id": b.sub}), 200),
                user_id=a.sub)
    check(b.list_ids() == [], "b got a task through a body field")


def test_lists_are_per_user(ctx):
    a, b = ctx.user(), ctx.user()
    a_ids = [a.create(f"a{i}")["id"] for i in range(3)]
    b_ids = [b.create(f"b{i}")["id"] for i in range(2)]
    ra, rb = a.list(), b.list()
    check([t["id"] for t in expect_json(ra, 200)] == a_ids[::-1] and ra.header("X-Total-Count") == "3",
          f"a's list: {ra.describe()}")
    check([t["id"] for t in expect_json(rb, 200)] == b_ids[::-1] and rb.header("X-Total-Count") == "2",
          f"b's list: {rb.describe()}")


def test_ids_are_unique_across_users(ctx):
    a, b = ctx.user(), ctx.user()
    ids = [u.create()["id"] for u in (a, b, a, b)]
    check(len(set(ids)) == 4, f"ids repeat across users: {ids}")
