"""Limits (issue 9, finding 8): the per-user request rate across the pool's
workers (USER_RATE_LIMIT, USER_RATE_BURST), the per-user task count
(USER_TASK_LIMIT), the statement timeout (DB_STATEMENT_TIMEOUT_MS), and
nginx's limit_req per client address in the local stack (the shipped
site's is proven by test_site.py).

Each restarts the pool (or nginx) of the runner's stack with small limits,
and restores it afterwards; they need scripts/stack and are skipped with
--base. They run last (RUN_LAST), with the other tests that restart the pool.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time

from client import (Skip, all_at_once, check, expect_json, expect_problem, expect_status, healthy,
                    wait_until)
from test_schema import Database

RUN_LAST = True

RATE, BURST = 5, 10
RATE_LIMIT = re.compile(r'^"default";r=0;t=(\d+)$')
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def with_pool(ctx, settings, body):
    """Runs body() with the pool restarted with settings, then restores it."""
    ctx.require_stack()
    settings = {**settings, "POOL_MODE": None}
    try:
        ctx.stack("pool-stop")
        ctx.stack("pool-start", settings=settings)
        check(wait_until(lambda: healthy(ctx), 10), "health is not 200 within 10 s of the restart")
        body()
    finally:
        ctx.stack("pool-stop")
        ctx.stack("pool-start")
        wait_until(lambda: healthy(ctx), 10)


def log_path(ctx):
    return os.path.join(ctx.stack_env["STACK_DIR"], "log", "todo-api.log")


def log_since(ctx, offset):
    with open(log_path(ctx), errors="replace") as f:
        f.seek(offset)
        return f.read()


def burst(ctx):
    """3 x BURST requests of a new user at once, one connection each;
    checks that the pool as a whole served BURST of them (plus what the
    rate paid back meanwhile). Returns the user, the 429s and the pids of
    the workers that answered."""
    a = ctx.user()
    offset = os.path.getsize(log_path(ctx))
    started = time.monotonic()
    responses = all_at_once(3 * BURST, lambda i: a.request("GET", a.tasks))
    elapsed = time.monotonic() - started
    served = [r for r in responses if r.status == 200]
    limited = [r for r in responses if r.status == 429]
    check(len(served) + len(limited) == len(responses), f"statuses {sorted(r.status for r in responses)}")
    most = BURST + RATE * elapsed + 1
    check(BURST <= len(served) <= most,
          f"{len(served)} of {len(responses)} served in {elapsed:.2f} s; the pool as a whole "
          f"allows {BURST} at once and {RATE} a second (at most {most:.0f})")
    time.sleep(0.3)  # workers write their request lines when idle
    pids = set(re.findall(r"\[(\d+)\] request .* status=(?:200|429) ", log_since(ctx, offset)))
    return a, limited, pids


def test_limits_user_rate_is_shared_by_the_workers_and_answered_429(ctx):
    def body():
        # A burst of cheap requests may all go to one worker: then it
        # proves nothing about the others, and a new user tries again.
        for _ in range(5):
            a, limited, pids = burst(ctx)
            if len(pids) >= 2:
                break
        check(len(pids) >= 2, f"five bursts were each served by one worker only ({pids}): not a "
                              "test of the limit across workers")
        for r in limited:
            expect_problem(r, 429)
            check(r.header("RateLimit-Policy") == f'"default";q={BURST};w={BURST // RATE}',
                  f"RateLimit-Policy: {r.describe()} {r.headers}")
            m = RATE_LIMIT.match(r.header("RateLimit") or "")
            check(m and m.group(1) == r.header("Retry-After"),
                  f"RateLimit must say r=0 and t=Retry-After: {r.headers}")
        b = ctx.user()
        expect_json(b.request("GET", b.tasks), 200)  # another user is not affected
        time.sleep(int(limited[0].header("Retry-After")))
        expect_json(a.list(), 200)

    with_pool(ctx, {"USER_RATE_LIMIT": str(RATE), "USER_RATE_BURST": str(BURST)}, body)


def test_limits_user_task_limit_refuses_409_and_holds_under_concurrency(ctx):
    def body():
        u = ctx.user()
        ids = [u.create(f"t{i}")["id"] for i in range(3)]
        body = expect_problem(u.request("POST", u.tasks, {"title": "one too many"}), 409)
        check("3 tasks" in body["detail"], f"detail: {body!r}")
        r = u.list()
        check(sorted(t["id"] for t in expect_json(r, 200)) == ids and r.header("X-Total-Count") == "3",
              f"the refused POST created something: {r.describe()}")

        v = ctx.user()
        v.create("one")
        v.create("two")
        statuses = sorted(r.status for r in all_at_once(8, lambda i: v.request("POST", v.tasks, {"title": f"c{i}"})))
        check(statuses == [201] + [409] * 7, f"8 concurrent POSTs at limit - 1: {statuses}")
        check(len(v.list_ids()) == 3, "the user holds more than the limit")

        expect_status(u.request("DELETE", u.task(ids[0])), 204)
        u.create("after a delete")
        expect_problem(u.request("POST", u.tasks, {"title": "full again"}), 409)

    with_pool(ctx, {"USER_TASK_LIMIT": "3"}, body)


class TableLock:
    """psql holding ACCESS EXCLUSIVE on tasks in an open transaction."""

    def __init__(self, ctx):
        db = Database(ctx.stack_env["STACK_DIR"])
        self.p = subprocess.Popen([f"{db.bin}/psql", "-X", "-q", "-A", "-t", *db.where],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.p.stdin.write("BEGIN;\nLOCK TABLE tasks IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline().strip()
        check(line == "locked", f"psql did not take the lock: {line!r}")

    def release(self):
        if self.p.poll() is None:
            try:
                self.p.communicate("COMMIT;\n", timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def test_limits_statement_timeout_answers_503_and_the_pool_recovers(ctx):
    def body():
        u = ctx.user()
        t = u.create("before the lock")
        client = ctx.new_client(timeout=5)  # well before nginx's 30 s
        offset = os.path.getsize(log_path(ctx))
        lock = TableLock(ctx)
        try:
            for method, path, data in (("GET", u.tasks, None), ("GET", u.task(t["id"]), None),
                                       ("POST", u.tasks, {"title": "during the lock"})):
                started = time.monotonic()
                r = client.request(method, path, data, token=u.token)
                took = time.monotonic() - started
                body = expect_problem(r, 503)
                check("in time" in body["detail"], f"detail: {body!r}")
                check(took < 2, f"{method} took {took:.1f} s with a 300 ms statement timeout")
        finally:
            lock.release()
        check([x["id"] for x in u.list_json()] == [t["id"]], "the POST cancelled by the timeout created a task")
        time.sleep(0.5)
        check("SQLSTATE 57014" in log_since(ctx, offset), "the cancelled statement was not logged")

    with_pool(ctx, {"DB_STATEMENT_TIMEOUT_MS": "300"}, body)


def test_limits_local_nginx_limits_per_address_with_a_429_problem(ctx):
    ctx.require_stack()
    settings = {"NGINX_RATE": "2", "NGINX_BURST": "5"}
    try:
        ctx.stack("nginx-stop")
        ctx.stack("nginx-start", settings=settings)
        u = ctx.user()
        responses = [u.list() for _ in range(12)]
        statuses = [r.status for r in responses]
        check(statuses[:6] == [200] * 6 and 429 in statuses,
              f"burst 5 (+1) then 429 expected: {statuses}")
        limited = [r for r in responses if r.status == 429]
        body = expect_problem(limited[0], 429)
        check("address" in body["detail"], f"detail: {body!r}")
        check(limited[0].header("Retry-After") == "1", f"Retry-After: {limited[0].headers}")
    finally:
        ctx.stack("nginx-stop")
        ctx.stack("nginx-start")
