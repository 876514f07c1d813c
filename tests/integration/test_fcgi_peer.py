"""Peers that talk FastCGI to the pool's socket directly, as anything that
can reach the socket could (issue 9, findings 1 and 7): a record declaring
lengths libfcgi would trust, requests that stop halfway, a method made to
forge a log line, and TCP peers outside FCGI_WEB_SERVER_ADDRS.

Each attack must be refused or dropped without a worker dying (the pool's
pids are the same afterwards) and without stopping nginx's requests.
"""
import os
import subprocess
import threading
import time

import fastcgi
from client import bare_environment, check, free_port, service_binary, wait_until


def socket_path(ctx):
    ctx.require_stack()
    return os.path.join(ctx.stack_env["STACK_DIR"], "run", "todo-api.sock")


def health_seconds(ctx):
    """(seconds, status) of one GET /api/health through nginx, on a new
    connection; status None when it failed or took over 5 s."""
    start = time.monotonic()
    try:
        status = ctx.new_client(timeout=5).request("GET", "/api/health").status
    except OSError:
        status = None
    return time.monotonic() - start, status


def watch_health(ctx, seconds):
    """Asks for health every 0.1 s for seconds; returns (worst latency,
    answers that were not 200)."""
    worst, bad = 0.0, []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        took, status = health_seconds(ctx)
        worst = max(worst, took)
        if status != 200:
            bad.append(status)
        time.sleep(0.1)
    return worst, bad


def test_fcgi_peer_gets_an_answer_to_a_whole_request(ctx):
    """The control: what the checks let through is answered as before."""
    with fastcgi.connect(socket_path(ctx)) as s:
        s.sendall(fastcgi.get("/api/health"))
        answer = fastcgi.read_answer(s)
    check(answer.startswith(b"Status: 200") and b'"status":"ok"' in answer.replace(b" ", b""),
          f"a direct FastCGI health request got {answer[:200]!r}")


def test_fcgi_peer_huge_param_lengths_sent_20_a_second_kill_no_worker(ctx):
    path = socket_path(ctx)
    before = ctx.pool_pids()
    attack = fastcgi.begin() + fastcgi.record(fastcgi.PARAMS, b"\xc0\0\0\0\xc0\0\0\0")
    stop, sent, errors = threading.Event(), [], []

    def attacker():
        while not stop.is_set():
            try:
                s = fastcgi.connect(path)
                s.sendall(attack)
                sent.append(s)
            except OSError as e:
                errors.append(repr(e))
            time.sleep(0.05)

    t = threading.Thread(target=attacker)
    t.start()
    try:
        worst, bad = watch_health(ctx, 10)
    finally:
        stop.set()
        t.join()
    open_ones = [s for s in sent if not fastcgi.closed_within(s, 1)]
    for s in sent:
        s.close()
    check(len(sent) >= 150, f"only {len(sent)} records sent in 10 s ({errors[:3]})")
    check(not bad, f"health answered {bad[:5]} during the attack")
    check(worst < 1.0, f"health took {worst:.2f} s during the attack")
    check(not open_ones, f"{len(open_ones)} of {len(sent)} attacking connections still open")
    check(ctx.pool_pids() == before, f"the pool changed: {before} -> {ctx.pool_pids()}")


def stalled_connections(ctx, what, data, count):
    """count connections that each send data and then nothing: the pool
    must go on serving nginx meanwhile, and drop every one."""
    path = socket_path(ctx)
    before = ctx.pool_pids()
    stalled = []
    try:
        for _ in range(count):
            s = fastcgi.connect(path)
            s.sendall(data)
            stalled.append(s)
        worst, bad = watch_health(ctx, 3)
        dropped = sum(fastcgi.closed_within(s, 3) for s in stalled)
    finally:
        for s in stalled:
            s.close()
    check(not bad, f"health answered {bad[:5]} while {count} connections held {what}")
    check(worst < 3.0, f"health took {worst:.2f} s while {count} connections held {what}")
    check(dropped == count, f"only {dropped} of {count} connections holding {what} were dropped")
    check(ctx.pool_pids() == before, f"the pool changed: {before} -> {ctx.pool_pids()}")


def test_fcgi_peer_ten_half_records_do_not_stop_the_pool(ctx):
    whole = fastcgi.get("/api/health")
    stalled_connections(ctx, "half a request", whole[:len(whole) // 2], 10)


def test_fcgi_peer_one_byte_per_worker_does_not_stop_the_pool(ctx):
    stalled_connections(ctx, "one byte", b"\x01", ctx.workers + 2)


def test_fcgi_peer_method_cannot_forge_a_log_line(ctx):
    log = os.path.join(ctx.stack_env["STACK_DIR"], "log", "todo-api.log") if ctx.stack_env else None
    with fastcgi.connect(socket_path(ctx)) as s:
        s.sendall(fastcgi.get("/api/health", method="GET\nFORGED status=200 x"))
        answer = fastcgi.read_answer(s)
    check(answer.startswith(b"Status: "), f"no answer: {answer[:100]!r}")

    def logged():
        with open(log, "rb") as f:
            return [line for line in f.read().splitlines() if b"FORGED" in line]

    lines = wait_until(logged, 5)
    check(lines, "the request was not logged")
    check(all(not line.startswith(b"FORGED") for line in lines) and
          any(b" method=GET\\x0aFORGED" in line for line in lines),
          f"the method was not escaped: {lines}")


def serve_tcp(ctx, allowed):
    """A pool of one on 127.0.0.1:port, FCGI_WEB_SERVER_ADDRS=allowed."""
    port = free_port()
    env = bare_environment(ctx)
    env.update(DATABASE_URL="host=/nonexistent dbname=nothing", BETTER_AUTH_SECRET="s" * 40,
               LISTEN=f"127.0.0.1:{port}", WORKERS="1")
    if allowed is not None:
        env["FCGI_WEB_SERVER_ADDRS"] = allowed
    p = subprocess.Popen([service_binary(ctx)], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)

    def listening():
        try:
            fastcgi.connect(("127.0.0.1", port)).close()
            return True
        except OSError:
            return False

    check(wait_until(listening, 10), f"nothing listens on port {port}")
    return p, port


def answered_over_tcp(port):
    with fastcgi.connect(("127.0.0.1", port)) as s:
        try:
            s.sendall(fastcgi.get("/api/health"))
            return fastcgi.read_answer(s).startswith(b"Status: ")
        except (BrokenPipeError, ConnectionResetError):
            return False


def test_fcgi_peer_tcp_serves_only_the_allowed_addresses(ctx):
    ctx.require_stack()
    for allowed, served in ((None, True), ("127.0.0.1", True), ("192.0.2.7, ::1", False)):
        p, port = serve_tcp(ctx, allowed)
        try:
            answered = answered_over_tcp(port)
        finally:
            p.terminate()
            err = p.communicate(timeout=30)[1].decode("utf-8", "replace")
        check(answered == served,
              f"FCGI_WEB_SERVER_ADDRS={allowed}: a loopback peer was {'' if answered else 'not '}served")
        if not served:
            check("refused FastCGI peer 127.0.0.1" in err, f"the refusal is not logged: {err[-500:]}")
    code = subprocess.run([service_binary(ctx)], env={"DATABASE_URL": "x", "BETTER_AUTH_SECRET": "s" * 40,
                                              "FCGI_WEB_SERVER_ADDRS": "nginx.internal"},
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    check(code.returncode != 0 and b"FCGI_WEB_SERVER_ADDRS: nginx.internal is not an IP address"
          in code.stderr, f"a host name in the list: exit {code.returncode}, {code.stderr[-300:]!r}")
