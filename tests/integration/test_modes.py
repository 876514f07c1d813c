"""Pool modes and shutdown: the pool run by spawn-fcgi (POOL_MODE=spawn-fcgi
in scripts/stack), and a graceful drain on SIGTERM to the master.

They run last (RUN_LAST) because they stop and restart the pool; both need
scripts/stack and are skipped with --base.
"""
import grp
import http.client
import os
import signal
import threading
import time

import fastcgi
from client import (NGINX_USER, POOL_USER, Failure, Skip, check, expect_json, expect_problem, expect_task, healthy,
                    process_alive, process_uids, stack_uid, wait_until)

RUN_LAST = True

CLIENTS = 32  # threads of the drain test
EXIT_SECONDS = 10  # the master and its workers are gone this long after SIGTERM
# What nginx answers when no worker does (nginx/snippets/todo-api-locations.conf).
NGINX_503 = {"type": "about:blank", "title": "Service Unavailable", "status": 503,
             "detail": "the service is unavailable"}


def argv0(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[0].decode("utf-8", "replace")
    except OSError:
        return ""


def environ(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            pairs = [item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item]
    except OSError:
        return None
    return {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in pairs}


def parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_modes_spawn_fcgi_pool_serves_the_api(ctx):
    ctx.require_stack()
    if ctx.stack_env.get("POOL_MODE"):
        raise Skip(f"the suite already runs with POOL_MODE={ctx.stack_env['POOL_MODE']}")
    socket_path = os.path.join(ctx.stack_env["STACK_DIR"], "run", "todo-api.sock")
    a, b = ctx.user(), ctx.user()
    spawned, left = [], None
    ctx.stack("pool-stop")
    try:
        ctx.stack("pool-start", settings={"POOL_MODE": "spawn-fcgi"})
        check(wait_until(lambda: healthy(ctx), 10), "health is not 200 within 10 s of pool-start under spawn-fcgi")

        # pool-pids lists WORKERS independent todo-api processes, each
        # serving the socket spawn-fcgi passed on fd 0 (no LISTEN, no WORKERS).
        lines = ctx.stack("pool-pids").split()
        check(lines and all(x.isdigit() for x in lines), f"pool-pids printed {lines!r}")
        spawned = [int(x) for x in lines]
        check(len(spawned) == ctx.workers, f"expected {ctx.workers} processes, pool-pids gives {spawned}")
        for pid in spawned:
            check(os.path.basename(argv0(pid)) == "todo-api", f"pid {pid} runs {argv0(pid)!r}, not todo-api")
            check(parent(pid) not in spawned, f"pid {pid} is a child of another of the pool: {spawned}")
            check(os.readlink(f"/proc/{pid}/fd/0").startswith("socket:"), f"pid {pid}: fd 0 is not a socket")
            env = environ(pid)
            check(env is not None and "LISTEN" not in env and "WORKERS" not in env,
                  f"pid {pid} sees LISTEN or WORKERS: it would not serve spawn-fcgi's socket")
        mode = os.stat(socket_path).st_mode & 0o777
        check(mode == 0o660, f"the socket is mode {mode:o}, not 660")
        for pid in spawned:  # spawn-fcgi's children too run as the pool's user, when root
            uids = process_uids(pid)
            check(uids == [stack_uid(POOL_USER)] * 4, f"pid {pid} runs as uids {uids}, not {POOL_USER}'s")
        if os.geteuid() == 0:
            group = os.stat(socket_path).st_gid
            check(group == grp.getgrnam(NGINX_USER).gr_gid, f"the socket's group is {group}, not {NGINX_USER}")

        check(expect_json(ctx.client.request("GET", "/api/health"), 200) == {"status": "ok"}, "health body")
        t = a.create("under spawn-fcgi", description="forked by spawn-fcgi")
        check(a.fetch(t["id"]) == t, "GET differs from the POST answer")
        check(a.list_json() == [t], "the list differs from the one task created")
        expect_problem(b.request("GET", b.task(t["id"])), 404)
        check(b.list_json() == [], "another user's list shows the task")
        # Repeated requests, each on a fresh connection, reach the other processes too.
        statuses = [a.request("GET", a.task(t["id"])).status for _ in range(ctx.workers * 4)]
        check(statuses == [200] * len(statuses), f"repeated GETs: {statuses}")
        # Without a master nothing would replace a process libfcgi aborted
        # in: two records lying about their lengths killed both for good.
        for _ in range(ctx.workers * 2):
            with fastcgi.connect(socket_path) as s:
                s.sendall(fastcgi.begin() + fastcgi.record(fastcgi.PARAMS, b"\xc0\0\0\0\xc0\0\0\0"))
                check(fastcgi.closed_within(s, 2), "a record with 1 GiB lengths did not close its connection")
        dead = [pid for pid in spawned if not process_alive(pid)]
        check(not dead, f"records with 1 GiB lengths killed spawn-fcgi's processes {dead}")
        check(a.fetch(t["id"]) == t, "the API after the lying records")
    finally:
        try:
            ctx.stack("pool-stop")
            left = [pid for pid in spawned if process_alive(pid)]
            if os.path.exists(socket_path):
                left.append(f"socket {socket_path}")
        finally:
            ctx.stack("pool-start")
    check(not left, f"still there after pool-stop of the spawn-fcgi pool: {left}")
    check(wait_until(lambda: healthy(ctx), 10), "health is not 200 within 10 s of pool-start (default mode)")
    master, workers = ctx.pool_pids()
    check(len(workers) == ctx.workers, f"default mode not restored: master {master}, workers {workers}")
    check(a.fetch(t["id"]) == t, "the task changed across the pool modes")


class Stream(threading.Thread):
    """One user's continuous GET and POST requests, each on a fresh
    connection, until stopped. Judges every answer as it arrives."""

    def __init__(self, ctx, stopping):
        super().__init__(daemon=True)
        self.client, self.user, self.stopping = ctx.new_client(timeout=10), ctx.user(), stopping
        self.answers = []  # (start, status or None)
        self.bad = []  # what was wrong
        self.created = []  # ids of the tasks POSTed with a 201

    def run(self):
        u, i = self.user, 0
        while not self.stopping.is_set():
            i += 1
            if i % 2:
                method, path, body, want = "POST", u.tasks, {"title": f"drain {i}"}, 201
            elif i % 4 == 0 and self.created:
                method, path, body, want = "GET", u.task(self.created[-1]), None, 200
            else:
                method, path, body, want = "GET", u.tasks + "?limit=5", None, 200
            start, status = time.monotonic(), None
            try:
                r = self.client.request(method, path, body, token=u.token)
                status = r.status
                self.judge(r, want, body)
            except Failure as e:
                self.bad.append(str(e))
            except (OSError, http.client.HTTPException) as e:  # reset, truncated, timed out
                self.bad.append(f"{method} {path}: {type(e).__name__}: {e}")
            except Exception as e:  # noqa: BLE001 - a crash here must not pass silently
                self.bad.append(f"{method} {path}: test error {type(e).__name__}: {e}")
            self.answers.append((start, status))

    def judge(self, r, want, body):
        if r.status == 503:
            problem = expect_problem(r, 503)
            check(problem == NGINX_503, f"a 503 that is not nginx's: {r.describe()}")
            return
        data = expect_json(r, want)
        if r.method == "POST":
            task = expect_task(data, title=body["title"], user_id=self.user.sub)
            self.created.append(task["id"])
        elif isinstance(data, dict):
            expect_task(data, user_id=self.user.sub)
        else:
            check(isinstance(data, list) and len(data) <= 5, f"list body: {r.describe()}")
            for task in data:
                expect_task(task, user_id=self.user.sub)


def test_modes_sigterm_to_the_master_drains_without_breaking_a_response(ctx):
    ctx.require_stack()
    if ctx.stack_env.get("POOL_MODE"):
        raise Skip(f"needs the default pool (a master), the suite runs POOL_MODE={ctx.stack_env['POOL_MODE']}")
    master, workers = ctx.pool_pids()
    check(len(workers) == ctx.workers, f"expected {ctx.workers} workers, pool-pids gives {workers}")
    pool = [master, *workers]
    stopping = threading.Event()
    streams = [Stream(ctx, stopping) for _ in range(CLIENTS)]
    term_at = gone_at = None
    for s in streams:
        s.start()
    try:
        time.sleep(1.5)
        term_at = time.monotonic()
        os.kill(master, signal.SIGTERM)
        exited = wait_until(lambda: not any(process_alive(p) for p in pool), EXIT_SECONDS, interval=0.05)
        gone_at = time.monotonic()
        check(exited, f"still running {EXIT_SECONDS} s after SIGTERM to the master {master}: "
                      f"{[p for p in pool if process_alive(p)]}")
        time.sleep(1)  # the stream meets the missing socket too
    finally:
        stopping.set()
        for s in streams:
            s.join(15)
        if any(process_alive(p) for p in pool):
            ctx.stack("pool-stop")
        ctx.stack("pool-start")
    check(wait_until(lambda: healthy(ctx), 10), "health is not 200 within 10 s of pool-start")
    expect_json(ctx.client.request("GET", "/api/health"), 200)
    check(not any(s.is_alive() for s in streams), "a client thread is still waiting 15 s after the stop")

    answers = [a for s in streams for a in s.answers]
    bad = [b for s in streams for b in s.bad]
    check(not bad, f"{len(bad)} of {len(answers)} requests got a broken or unexpected answer: {bad[:3]}")
    ok_before = sum(1 for start, status in answers if start < term_at and status in (200, 201))
    check(ok_before >= CLIENTS, f"too little load before SIGTERM: {ok_before} answers")
    unavailable_after = sum(1 for start, status in answers if start > gone_at and status == 503)
    check(unavailable_after > 0, "no 503 after the pool had gone: the stream did not reach nginx then")

    new_master, _ = ctx.pool_pids()
    check(new_master != master, f"pool-start kept the old master {master}")
    lost = [(s.user.sub, i) for s in streams for i in s.created
            if s.user.request("GET", s.user.task(i)).status != 200]
    created = sum(len(s.created) for s in streams)
    check(not lost, f"{len(lost)} of {created} tasks acknowledged with 201 are gone: {lost[:5]}")


def test_modes_unnamed_statements_for_pgbouncer(ctx):
    """DB_PREPARE=0 (PgBouncer before 1.21 in transaction mode): every route
    works with unnamed statements (PQexecParams) instead of prepared ones."""
    ctx.require_stack()
    a, b = ctx.user(), ctx.user()
    ctx.stack("pool-stop")
    try:
        ctx.stack("pool-start", settings={"DB_PREPARE": "0"})
        check(wait_until(lambda: healthy(ctx), 10), "health is not 200 with DB_PREPARE=0")
        t = a.create("unnamed", description="no prepared statement")
        check(a.fetch(t["id"]) == t, "GET differs from the POST answer")
        second = a.create("second")
        r = a.list("limit=1")
        check(r.status == 200 and r.header("X-Total-Count") == "2" and r.header("Link"),
              f"paged list: {r.describe()}")
        toggled = expect_json(a.request("PATCH", a.complete(t["id"])), 200)
        check(toggled["completed"] is True, "toggle did not flip")
        updated = expect_json(a.request("PUT", a.task(t["id"]), {"description": None}), 200)
        check(updated["description"] is None, "PUT did not clear the description")
        expect_problem(b.request("GET", a.task(t["id"]), token=b.token), 403)
        expect_problem(b.request("DELETE", b.task(t["id"])), 404)
        check(a.request("DELETE", a.task(second["id"])).status == 204, "DELETE")
        check([x["id"] for x in a.list_json()] == [t["id"]], "list after DELETE")
    finally:
        ctx.stack("pool-stop")
        ctx.stack("pool-start")
    check(wait_until(lambda: healthy(ctx), 10), "health is not 200 after restoring the pool")
