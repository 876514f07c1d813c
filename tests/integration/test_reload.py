"""Reload under load: the mixed workload runs through nginx while the
pool's master is sent SIGHUP three times (scripts/stack pool-reload):

1. with a new binary on disk: every worker is replaced and runs it;
2. with BETTER_AUTH_SECRET rotated in CONFIG_FILE: tokens of the new
   secret are accepted from then on, the old one's refused;
3. with a broken CONFIG_FILE: the reload is refused, logged, and the old
   workers go on serving.

No request may fail (a socket error, or any status but the one its
operation answers) except the old-secret 401s of the rotation itself."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from client import bare_environment, check, healthy, service_binary, token, wait_until

LOAD_THREADS = 4
NEW_SECRET = "rotated-secret-for-the-reload-test-0123456789"


class Load:
    """LOAD_THREADS users, each on one kept connection, cycling through
    create, get, list, update, toggle, delete. Counts what each answered."""

    EXPECT = {"create": 201, "get": 200, "list": 200, "update": 200, "toggle": 200, "delete": 204}

    def __init__(self, ctx):
        self.ctx, self.secret = ctx, ctx.secret
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.phase = "start"
        self.counts = {}      # phase -> requests
        self.failures = []    # (phase, op, status or error)
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(LOAD_THREADS)]

    def note(self, op, outcome):
        with self.lock:
            self.counts[self.phase] = self.counts.get(self.phase, 0) + 1
            if outcome != self.EXPECT[op]:
                self.failures.append((self.phase, op, outcome))

    def call(self, client, sub, op, method, path, body=None):
        try:
            r = client.request(method, path, body, token=token(sub, self.secret))
            outcome = r.status
        except OSError as e:
            outcome, r = f"{type(e).__name__}: {e}", None
        self.note(op, outcome)
        return r

    def run(self):
        client = self.ctx.new_client(persistent=True)
        sub = f"reload-{os.getpid()}-{threading.get_ident()}"
        tasks = f"/api/{sub}/tasks"
        while not self.stop.is_set():
            r = self.call(client, sub, "create", "POST", tasks, {"title": "reloaded"})
            if r is None or r.status != 201:
                continue
            item = f"{tasks}/{r.json()['id']}"
            self.call(client, sub, "get", "GET", item)
            self.call(client, sub, "list", "GET", tasks)
            self.call(client, sub, "update", "PUT", item, {"title": "still here"})
            self.call(client, sub, "toggle", "PATCH", item + "/complete")
            self.call(client, sub, "delete", "DELETE", item)
        client.close()


def log_text(ctx):
    with open(os.path.join(ctx.stack_env["STACK_DIR"], "log", "todo-api.log"), errors="replace") as f:
        return f.read()


def workers_exe(pids):
    """The inode of the binary each pid runs."""
    return {pid: os.stat(f"/proc/{pid}/exe").st_ino for pid in pids}


def reload_and_wait(ctx, marker, timeout=30):
    """SIGHUP through scripts/stack; waits until the log has one more line
    containing marker. Returns the seconds it took."""
    before = log_text(ctx).count(marker)
    start = time.monotonic()
    ctx.stack("pool-reload")
    check(wait_until(lambda: log_text(ctx).count(marker) > before, timeout, 0.05),
          f"no new {marker!r} in the pool's log within {timeout} s of SIGHUP")
    return time.monotonic() - start


def write_settings(path, **settings):
    with open(path, "w") as f:
        f.write("# written by test_reload\n")
        for name, value in settings.items():
            f.write(f"{name}={value}\n")
    os.chmod(path, 0o644)


def test_reload_under_mixed_load_new_binary_rotated_secret_broken_settings(ctx):
    ctx.require_stack()
    work = tempfile.mkdtemp(prefix="todo-reload-")
    os.chmod(work, 0o755)
    binary = os.path.join(work, "todo-api")
    shutil.copy2(service_binary(ctx), binary)
    settings = os.path.join(work, "todo-api.env")
    write_settings(settings, LOG_LEVEL="info")
    load = Load(ctx)
    try:
        ctx.stack("pool-stop")
        ctx.stack("pool-start", settings={"CONFIG_FILE": settings, "TODO_API": binary,
                                          "POOL_MODE": None})
        check(wait_until(lambda: healthy(ctx), 10), "health is not 200 after the start")
        master, first = ctx.pool_pids()
        check(wait_until(lambda: "pool: ready" in log_text(ctx), 10), "the pool never said it was ready")
        exe = os.readlink(f"/proc/{master}/exe")
        for t in load.threads:
            t.start()
        time.sleep(1.5)

        # 1. a new binary: the file the master runs, replaced (a new inode
        # with other bytes: an ELF file may carry a tail)
        load.phase = "new binary"
        shutil.copy2(exe, exe + ".new")
        with open(exe + ".new", "ab") as f:
            f.write(b"\0reload test build\0")
        os.replace(exe + ".new", exe)
        new_inode = os.stat(exe).st_ino
        took1 = reload_and_wait(ctx, "pool: reloaded")
        time.sleep(1)
        m1, second = ctx.pool_pids()
        check(m1 == master, f"the master changed: {master} -> {m1}")
        check(len(second) == ctx.workers and not set(second) & set(first),
              f"workers not all replaced: before {first}, after {second}")
        check(set(workers_exe(second).values()) == {new_inode},
              f"the new workers do not all run the new binary ({new_inode}): {workers_exe(second)}")

        # 2. the secret rotated: the load switches to it once every worker
        # has it; what the old secret meets meanwhile is the rotation's
        load.phase = "rotation"
        write_settings(settings, LOG_LEVEL="info", BETTER_AUTH_SECRET=NEW_SECRET)
        took2 = reload_and_wait(ctx, "pool: reloaded")
        load.secret = NEW_SECRET
        time.sleep(0.2)
        load.phase = "after rotation"
        time.sleep(1)
        _, third = ctx.pool_pids()
        check(not set(third) & set(second), f"workers not all replaced: {second} -> {third}")
        probe = ctx.new_client()
        sub = "reload-probe"
        old = probe.request("GET", f"/api/{sub}/tasks", token=token(sub, ctx.secret))
        new = probe.request("GET", f"/api/{sub}/tasks", token=token(sub, NEW_SECRET))
        check(old.status == 401 and new.status == 200,
              f"after the rotation: old secret {old.status} (want 401), new {new.status} (want 200)")

        # 3. a broken file: refused, and the same workers serve on
        load.phase = "broken settings"
        write_settings(settings, BETTER_AUTH_SECRET=NEW_SECRET, USER_TASK_LIMIT="lots")
        took3 = reload_and_wait(ctx, "pool: reload refused")
        time.sleep(1.5)
        _, fourth = ctx.pool_pids()
        check(fourth == third, f"a refused reload changed the workers: {third} -> {fourth}")
        check("USER_TASK_LIMIT must be" in log_text(ctx), "the log does not say what was wrong")
    finally:
        load.stop.set()
        for t in load.threads:
            if t.is_alive() or t.ident:
                t.join(10)
        ctx.stack("pool-stop")
        ctx.stack("pool-start")
        wait_until(lambda: healthy(ctx), 10)
        shutil.rmtree(work, ignore_errors=True)

    rotation = [f for f in load.failures if f[0] == "rotation" and f[2] == 401]
    others = [f for f in load.failures if f not in rotation]
    print(f"    requests by phase: {load.counts}; reloads took {took1:.2f} s, {took2:.2f} s, "
          f"refused in {took3:.2f} s; rotation 401s: {len(rotation)}")
    check(sum(load.counts.values()) > 500, f"too little load to mean anything: {load.counts}")
    check(not others, f"{len(others)} failed requests, e.g. {others[:5]}")


def test_reload_readiness_reload_and_stop_are_told_to_systemd(ctx):
    """Type=notify: the master sends READY=1 once every worker serves,
    RELOADING=1 (with MONOTONIC_USEC) then READY=1 around a reload, and
    STOPPING=1 on SIGTERM, to NOTIFY_SOCKET; the workers never see it."""
    work = tempfile.mkdtemp(prefix="todo-notify-")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = os.path.join(work, "notify")
    listener.bind(path)
    listener.settimeout(10)
    env = {**bare_environment(ctx), "NOTIFY_SOCKET": path, "LISTEN": f"unix:{work}/api.sock",
           "WORKERS": "2", "BETTER_AUTH_SECRET": ctx.secret, "LOG_LEVEL": "warn",
           "DATABASE_URL": "postgresql:///todo?host=/nonexistent"}
    p = subprocess.Popen([service_binary(ctx)], env=env, stderr=subprocess.DEVNULL)
    try:
        said = listener.recv(4096).decode()
        check(said.startswith("READY=1"), f"first message {said!r}, not READY=1")
        workers = [int(x) for x in open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()]
        check(len(workers) == 2, f"workers {workers}")
        for w in workers:
            with open(f"/proc/{w}/environ", "rb") as f:
                check(b"NOTIFY_SOCKET=" not in f.read(), f"worker {w} has NOTIFY_SOCKET")
        p.send_signal(signal.SIGHUP)
        said = listener.recv(4096).decode()
        check(said.startswith("RELOADING=1\nMONOTONIC_USEC="), f"on SIGHUP: {said!r}")
        said = listener.recv(4096).decode()
        check(said.startswith("READY=1"), f"after the reload: {said!r}")
        p.send_signal(signal.SIGTERM)
        said = listener.recv(4096).decode()
        check(said == "STOPPING=1", f"on SIGTERM: {said!r}")
        check(p.wait(15) == 0, f"the master exited {p.returncode}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        listener.close()
        shutil.rmtree(work, ignore_errors=True)
