#!/usr/bin/env python3
"""Integration test runner: HTTP tests through nginx to the FastCGI pool and
a real PostgreSQL.

  run.py                         start a private stack (scripts/stack up) in a
                                 temporary directory, run every test, stop it
  run.py --base URL --secret S   run against a stack that is already running
                                 (tests that need scripts/stack are skipped)
  run.py -k SUBSTRING            only the tests whose name contains SUBSTRING

Prints `ok   name`, `FAIL name: reason` or `skip name: reason` per test, and
last `N passed, M failed`. Exit status 1 when a test failed or the stack did
not start.
"""
import argparse
import glob
import importlib
import inspect
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
STACK = os.path.join(ROOT, "scripts", "stack")
WORKERS = 4

sys.path.insert(0, HERE)
from client import Context, Failure, Skip, free_port  # noqa: E402

# Inherited settings that would change what the tests expect of the service.
UNSET = ("DATABASE_URL", "JWKS_FILE", "JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_LEEWAY",
         "JWT_ALGORITHM", "CORS_ORIGINS")


# The per-user rate limit stays on (every request pays for it), but above
# the load tests' pace: they send thousands of requests a second as one
# user. test_limits runs pools of its own with small limits.
SUITE_LIMITS = {"USER_RATE_LIMIT": "2000", "USER_RATE_BURST": "4000"}


def discover(substring):
    """Every `test_*` function of every `test_*.py` module, in file order;
    modules that set RUN_LAST (the fault tests) come last."""
    modules = []
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        modules.append(importlib.import_module(os.path.basename(path)[:-3]))
    modules.sort(key=lambda m: bool(getattr(m, "RUN_LAST", False)))
    tests, seen = [], {}
    for module in modules:
        functions = [f for name, f in inspect.getmembers(module, inspect.isfunction)
                     if name.startswith("test_") and f.__module__ == module.__name__]
        for f in sorted(functions, key=lambda f: f.__code__.co_firstlineno):
            if f.__name__ in seen:
                sys.exit(f"duplicate test name {f.__name__} in {module.__name__} and {seen[f.__name__]}")
            seen[f.__name__] = module.__name__
            if substring is None or substring in f.__name__:
                tests.append(f)
    return tests


class Results:
    def __init__(self):
        self.passed, self.failed, self.skipped = 0, [], []

    def summary(self):
        if self.skipped:
            print(f"{len(self.skipped)} skipped: {', '.join(self.skipped)}")
        print(f"{self.passed} passed, {len(self.failed)} failed", flush=True)


def run_tests(tests, ctx, results):
    """Runs the tests, adding to results as it goes (an interrupted run
    still reports what finished)."""
    for test in tests:
        name = test.__name__
        try:
            test(ctx)
        except Skip as e:
            results.skipped.append(name)
            print(f"skip {name}: {e}", flush=True)
            continue
        except Failure as e:
            results.failed.append(name)
            print(f"FAIL {name}: {e}", flush=True)
            continue
        except Exception as e:  # a crash of the test is a failure too
            results.failed.append(name)
            frames = traceback.extract_tb(e.__traceback__)
            in_tests = [f for f in frames if os.path.basename(f.filename).startswith("test_")]
            where = (in_tests or frames)[-1]
            print(f"FAIL {name}: {type(e).__name__}: {e} "
                  f"({os.path.basename(where.filename)}:{where.lineno})", flush=True)
            continue
        results.passed += 1
        print(f"ok   {name}", flush=True)


def run_stack(command, env, timeout):
    """scripts/stack COMMAND; returns (exit status, output). Output goes
    through a file: daemons the script starts may hold a pipe open."""
    with tempfile.TemporaryFile() as out:
        try:
            # Its own session: a Ctrl-C at the terminal interrupts only us,
            # and we then stop the stack in order.
            status = subprocess.run([STACK, command], env=env, stdout=out, stderr=subprocess.STDOUT,
                                    timeout=timeout, start_new_session=True).returncode
        except subprocess.TimeoutExpired:
            status = f"timeout after {timeout} s"
        except OSError as e:
            status = f"{type(e).__name__}: {e}"
        out.seek(0)
        return status, out.read().decode("utf-8", "replace")


def print_logs(stack_dir, lines=40):
    for path in sorted(glob.glob(os.path.join(stack_dir, "log", "*.log"))):
        with open(path, errors="replace") as f:
            tail = f.readlines()[-lines:]
        print(f"--- tail of {path}")
        sys.stdout.write("".join(tail))


def against_running(args, tests):
    secret = args.secret or os.environ.get("BETTER_AUTH_SECRET")
    if not secret:
        sys.exit("--base needs --secret (or BETTER_AUTH_SECRET in the environment)")
    results = Results()
    try:
        run_tests(tests, Context(args.base, secret, workers=args.workers), results)
    except KeyboardInterrupt:
        results.failed.append("interrupted")
        print("FAIL interrupted", flush=True)
    results.summary()
    return 1 if results.failed else 0


def with_own_stack(tests):
    stack_dir = tempfile.mkdtemp(prefix="task-it-")
    os.chmod(stack_dir, 0o755)  # the database server's user must reach it
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(STACK_DIR=stack_dir, PORT=str(port), WORKERS=str(WORKERS),
               BETTER_AUTH_SECRET=secrets.token_urlsafe(36), ENVIRONMENT="development",
               **SUITE_LIMITS)
    results = Results()
    try:
        started = time.monotonic()
        status, output = run_stack("up", env, timeout=300)
        if status != 0:
            results.failed.append("stack-up")
            print(f"FAIL stack-up: scripts/stack up exited {status}\n{output[-3000:]}", flush=True)
        else:
            print(f"stack up on 127.0.0.1:{port} in {time.monotonic() - started:.1f} s ({stack_dir})", flush=True)
            ctx = Context(f"http://127.0.0.1:{port}", env["BETTER_AUTH_SECRET"], stack_env=env,
                          stack_script=STACK, workers=WORKERS)
            run_tests(tests, ctx, results)
    except KeyboardInterrupt:
        results.failed.append("interrupted")
        print("FAIL interrupted", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the clean-up
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        status, output = run_stack("down", env, timeout=120)
        if status != 0:
            results.failed.append("stack-down")
            print(f"FAIL stack-down: scripts/stack down exited {status}\n{output[-2000:]}", flush=True)
        if results.failed:
            print(f"stack directory kept: {stack_dir}")
            print_logs(stack_dir)
        else:
            shutil.rmtree(stack_dir, ignore_errors=True)
        results.summary()
    return 1 if results.failed else 0


def interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", help="URL of a running stack, e.g. http://127.0.0.1:8080")
    p.add_argument("--secret", help="its BETTER_AUTH_SECRET (default: from the environment)")
    p.add_argument("--workers", type=int, default=WORKERS, help="its number of FastCGI workers (with --base)")
    p.add_argument("-k", dest="substring", help="run only tests whose name contains this")
    args = p.parse_args()
    tests = discover(args.substring)
    if not tests:
        sys.exit(f"no test matches {args.substring!r}")
    # SIGTERM (CI cancelling the job) cleans up like Ctrl-C does.
    signal.signal(signal.SIGTERM, interrupt)
    if args.base:
        return against_running(args, tests)
    return with_own_stack(tests)


if __name__ == "__main__":
    sys.exit(main())
