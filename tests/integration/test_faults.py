"""Fault tests: overload, pool restart, database restart, a killed worker.

They run last (RUN_LAST) because they stop and start parts of the stack.
All but the overload test need scripts/stack and are skipped with --base.
"""
import os
import signal
import threading
import time

from client import (all_at_once, check, expect_json, expect_problem, healthy, process_alive, wait_until)

RUN_LAST = True


def test_ten_times_more_clients_than_workers_never_stall(ctx):
    u = ctx.user()
    ids = [u.create(f"load {i}")["id"] for i in range(5)]
    paths = [u.tasks + "?limit=3", u.task(ids[0]), u.tasks]

    def client_loop(i):
        problems = []
        kept = ctx.new_client(timeout=5, persistent=True)
        try:
            for j in range(25):
                for c in (ctx.new_client(timeout=5), kept):  # a fresh connection, then the kept-alive one
                    path = paths[(i + j) % len(paths)]
                    try:
                        r = c.request("GET", path, token=u.token)
                        if not 200 <= r.status < 300:
                            problems.append(r.describe())
                    except OSError as e:  # socket.timeout included
                        problems.append(f"GET {path}: {type(e).__name__}: {e}")
        finally:
            kept.close()
        return problems, kept.connections_opened

    results = all_at_once(ctx.workers * 10, client_loop)
    problems = [p for ps, _ in results for p in ps]
    check(not problems, f"{len(problems)} of {ctx.workers * 10 * 50} requests failed: {problems[:3]}")
    reopened = [n for _, n in results if n != 1]
    check(not reopened, f"kept-alive connections were closed by the server: {reopened[:5]}")


def test_stopped_pool_answers_5xx_problem(ctx):
    ctx.require_stack()
    ctx.stack("pool-stop")
    try:
        for method in ("GET", "TRACE"):  # TRACE: nginx's 405 page asks the pool, and fails over
            r = ctx.client.request(method, "/api/health")
            check(r.status in (502, 503, 504), f"{method} /api/health with the pool stopped: {r.describe()}")
            expect_problem(r, r.status)
    finally:
        ctx.stack("pool-start")
    check(wait_until(lambda: healthy(ctx), 10), "health is not 200 within 10 s of pool-start")


def test_tasks_survive_a_pool_restart(ctx):
    ctx.require_stack()
    u = ctx.user()
    u.create("one", description="d")
    two = u.create("two")
    u.toggle(two["id"])
    u.request("PUT", u.task(two["id"]), {"title": "two, renamed"})
    before = u.list_json()
    ctx.stack("pool-stop")
    ctx.stack("pool-start")
    check(wait_until(lambda: healthy(ctx), 10), "health is not 200 within 10 s of pool-start")
    check(u.list_json() == before, "tasks differ after pool-stop + pool-start")


def test_database_outage_is_503_and_the_same_workers_recover(ctx):
    ctx.require_stack()
    u = ctx.user()
    t = u.create("survives the outage")
    pids_before = ctx.pool_pids()
    ctx.stack("pg-stop")
    try:
        for _ in range(ctx.workers * 2):
            expect_problem(ctx.client.request("GET", "/api/health"), 503)
        expect_problem(u.request("GET", u.task(t["id"])), 503)
        expect_problem(u.request("GET", u.tasks), 503)
        expect_problem(u.request("POST", u.tasks, {"title": "during the outage"}), 503)
        expect_problem(u.request("PATCH", u.complete(t["id"])), 503)
    finally:
        ctx.stack("pg-start")

    # Parallel rounds on fresh connections reach every worker, including
    # those that got no request during the outage and still hold a dead
    # connection; recovered means three rounds in a row without a failure.
    streak = [0]

    def recovered():
        statuses = all_at_once(ctx.workers * 4, lambda i: u.request("GET", u.task(t["id"])).status)
        streak[0] = streak[0] + 1 if all(s == 200 for s in statuses) else 0
        return streak[0] >= 3

    check(wait_until(recovered, 10, interval=0.2), "requests still fail 10 s after pg-start")
    check(u.fetch(t["id"]) == t, "the task changed across the outage")
    check([x["title"] for x in u.list_json()] == ["survives the outage"], "a write during the outage was stored")
    expect_json(ctx.client.request("GET", "/api/health"), 200)
    u.create("after the outage")
    check(ctx.pool_pids() == pids_before, f"pool pids changed: {pids_before} -> {ctx.pool_pids()}")


class Load(threading.Thread):
    """Creates and lists tasks on fresh connections until stopped; records
    (start time, succeeded, what happened) per request."""

    def __init__(self, ctx, user):
        super().__init__(daemon=True)
        self.client, self.user = ctx.new_client(timeout=5), user
        self.results, self.created = [], []
        self.stopping = threading.Event()

    def run(self):
        i = 0
        while not self.stopping.is_set():
            start = time.monotonic()
            try:
                if i % 2:
                    r = self.client.request("POST", self.user.tasks, {"title": f"load {i}"}, token=self.user.token)
                    if r.status == 201:
                        self.created.append(r.json()["id"])
                else:
                    r = self.client.request("GET", self.user.tasks + "?limit=5", token=self.user.token)
                self.results.append((start, 200 <= r.status < 300, r.describe()))
            except OSError as e:
                self.results.append((start, False, f"{type(e).__name__}: {e}"))
            i += 1


def test_killed_worker_is_replaced_and_service_continues(ctx):
    ctx.require_stack()
    u = ctx.user()
    master, workers = ctx.pool_pids()
    check(len(workers) == ctx.workers, f"expected {ctx.workers} workers, pool-pids gives {workers}")
    victim = workers[0]
    loads = [Load(ctx, u) for _ in range(4)]
    for load in loads:
        load.start()
    try:
        time.sleep(2)
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)

        def replaced():
            m, w = ctx.pool_pids()
            return (m, w) if victim not in w and len(w) == ctx.workers else None

        after = wait_until(replaced, 5)
        check(after, f"worker {victim} not replaced within 5 s: {ctx.pool_pids()}")
        check(after[0] == master, f"master pid changed: {master} -> {after[0]}")
        check(not process_alive(victim), f"killed worker {victim} is still alive")
        time.sleep(max(0.0, killed_at + 4 - time.monotonic()))
    finally:
        for load in loads:
            load.stopping.set()
        for load in loads:
            load.join(10)
    results = [x for load in loads for x in load.results]
    late = [x for x in results if x[0] >= killed_at + 2]
    early = [x for x in results if x[0] < killed_at - 1]
    check(len(late) >= 10 and len(early) >= 10, f"too little load: {len(early)} before, {len(late)} after")
    failed = [info for start, ok, info in early + late if not ok]
    check(not failed, f"{len(failed)} requests failed outside the 3 s around the kill: {failed[:3]}")
    created = [i for load in loads for i in load.created]
    lost = [i for i in created if u.request("GET", u.task(i)).status != 200]
    check(not lost, f"{len(lost)} of {len(created)} acknowledged tasks are gone: {lost[:5]}")
