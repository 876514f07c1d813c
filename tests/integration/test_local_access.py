"""Who can reach the local stack (issue 9, finding 2). scripts/stack's
PostgreSQL takes peer authentication only, behind a socket directory shared
with the pool's user alone; the service's role owns nothing and may only
read and write the rows of tasks; the pool's socket is 0660 in a directory
only the pool and nginx's workers enter; started by root, the pool runs as
todo-api and nginx's workers as www-data, never as nobody.

The checks made as nobody (runuser) and as the pool's user (setpriv) need
root: run by anyone else, they are skipped and say so. Every test needs
scripts/stack and is skipped with --base.
"""
import glob
import grp
import os
import pwd
import secrets
import stat
import subprocess
import tempfile

from client import (NGINX_USER, POOL_USER, Skip, check, process_uids, stack_uid)

ROLES = ("todo", "todo_owner", "postgres")  # the service's, the schema owner's, the superuser
NOT_ROOT = "runs commands as other users (runuser, setpriv), which needs root; run the suite as root"


def require_root():
    if os.geteuid() != 0:
        raise Skip(NOT_ROOT)


def stack_path(ctx, *parts):
    ctx.require_stack()
    return os.path.join(ctx.stack_env["STACK_DIR"], *parts)


def psql_argv(ctx, role, *args):
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    check(bins, "no PostgreSQL binaries under /usr/lib/postgresql")
    return [f"{bins[-1]}/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", stack_path(ctx, "pg", "run"), "-p", "5432", "-U", role, "-d", "todo", *args]


def run(argv, user=None):
    """argv as user (None: as ourselves), from /, which every user may
    enter: (exit status, stdout, stderr). The pool's user with the group
    the stack gives the pool (its own, by name), any other with its groups."""
    if user == POOL_USER:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--", *argv]
    elif user is not None:
        argv = ["runuser", "-u", user, "--", *argv]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd="/")
    return p.returncode, p.stdout, p.stderr


def sql(ctx, role, query, user=None):
    return run(psql_argv(ctx, role, "-c", query), user)


def marker():
    """A path that a command run by PostgreSQL would create; removed if it was."""
    return os.path.join(tempfile.gettempdir(), f"local-access-{secrets.token_hex(6)}")


def check_not_run_by_postgres(path, what):
    ran = os.path.exists(path)
    if ran:
        os.unlink(path)
    check(not ran, f"{what}: PostgreSQL ran the command (it created {path})")


def test_local_access_nobody_cannot_connect_to_postgresql(ctx):
    stack_path(ctx)
    require_root()
    for role in ROLES:
        made = marker()
        # The finding's attack: a program run by the server, as postgres.
        code, _, err = sql(ctx, role, f"COPY (SELECT 1) TO PROGRAM 'touch {made}'", user="nobody")
        check_not_run_by_postgres(made, f"nobody as {role}")
        check(code != 0 and "Permission denied" in err,
              f"nobody connecting as {role}: exit {code}, {err.strip()[-300:]!r} (want the socket refused)")


def test_local_access_nobody_cannot_connect_to_the_fastcgi_socket(ctx):
    path = stack_path(ctx, "run", "todo-api.sock")
    require_root()
    check(stat.S_ISSOCK(os.stat(path).st_mode), f"no socket at {path}")
    probe = "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\nprint('connected')"
    code, out, err = run(["python3", "-c", probe, path], user="nobody")
    check(code != 0 and "connected" not in out and "PermissionError" in err,
          f"nobody connecting to {path}: exit {code}, {out.strip()!r}, {err.strip()[-300:]!r}")


def test_local_access_nothing_under_the_stack_is_writable_by_nobody(ctx):
    top = stack_path(ctx)
    require_root()
    # find's -writable asks access(2) as nobody: for a socket, whether
    # nobody may connect. What nobody cannot enter, find does not see.
    _, out, err = run(["find", top, "(", "-writable", "-printf", "writable %p\\n", ")",
                       "-o", "-printf", "seen %p\\n"], user="nobody")
    lines = out.splitlines()
    check(f"seen {top}" in lines, f"find as nobody did not run through {top}: {err.strip()[-300:]!r}")
    writable = [line[len("writable "):] for line in lines if line.startswith("writable ")]
    check(not writable, f"writable by nobody: {writable}")


def test_local_access_the_service_role_reads_and_writes_tasks_and_counts_only(ctx):
    stack_path(ctx)
    code, out, err = sql(ctx, "todo", "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, "
                                      "rolbypassrls FROM pg_roles WHERE rolname = current_user")
    check(code == 0 and out.strip() == "f|f|f|f|f",
          f"the service's role: superuser, createrole, createdb, replication, bypassrls = {out.strip()!r} "
          f"{err.strip()[-200:]}")
    code, out, err = sql(ctx, "todo", "SELECT (SELECT count(*) FROM pg_class WHERE relowner = 'todo'::regrole)"
                                      " + (SELECT count(*) FROM pg_namespace WHERE nspowner = 'todo'::regrole)"
                                      " + (SELECT count(*) FROM pg_database WHERE datdba = 'todo'::regrole)")
    check(code == 0 and out.strip() == "0", f"the service's role owns {out.strip()!r} objects {err.strip()[-200:]}")

    made = marker()
    refused = {
        "COPY FROM PROGRAM": f"COPY tasks (title) FROM PROGRAM 'touch {made}'",
        "COPY TO PROGRAM": f"COPY (SELECT 1) TO PROGRAM 'touch {made}'",
        "CREATE TABLE": "CREATE TABLE public.intruder (x int)",
        "CREATE TEMP TABLE": "CREATE TEMP TABLE intruder (x int)",
        "CREATE SCHEMA": "CREATE SCHEMA intruder",
        "DROP TABLE tasks": "DROP TABLE tasks",
        "TRUNCATE tasks": "TRUNCATE tasks",
        "ALTER TABLE tasks": "ALTER TABLE tasks ADD COLUMN intruder int",
        "read schema_version": "SELECT count(*) FROM schema_version",
        "DELETE FROM task_counts": "DELETE FROM task_counts",
        "read a server file": "SELECT pg_read_file('PG_VERSION')",
    }
    for what, query in refused.items():
        code, _, err = sql(ctx, "todo", query)
        check_not_run_by_postgres(made, what)
        check(code != 0 and ("permission denied" in err or "must be" in err),
              f"the service's role may {what}: exit {code}, {err.strip()[-300:]!r}")

    # What the service does, and only that, rolled back.
    code, out, err = sql(ctx, "todo", "BEGIN; INSERT INTO tasks (user_id, title) VALUES ('local-access', 'x'); "
                                      "UPDATE tasks SET completed = true WHERE user_id = 'local-access'; "
                                      "DELETE FROM tasks WHERE user_id = 'local-access'; "
                                      "SELECT count(*) FROM tasks WHERE user_id = 'local-access'; ROLLBACK")
    check(code == 0 and out.strip() == "0", f"the service's statements: exit {code}, {out!r} {err.strip()[-300:]}")
    code, out, err = sql(ctx, "todo_owner", "SELECT count(*) FROM pg_tables WHERE tablename = 'tasks'")
    check(code == 0 and out.strip() == "1", f"tasks is gone: {out!r} {err.strip()[-300:]}")


def test_local_access_the_pool_user_may_take_the_service_role_only(ctx):
    stack_path(ctx)
    require_root()
    # It reaches the socket; peer authentication (not trust) then decides.
    code, out, err = sql(ctx, "todo", "SELECT current_user", user=POOL_USER)
    check(code == 0 and out.strip() == "todo", f"{POOL_USER} as todo: exit {code}, {out!r} {err.strip()[-300:]}")
    for role in ROLES[1:]:
        code, _, err = sql(ctx, role, "SELECT 1", user=POOL_USER)
        check(code != 0 and "Peer authentication failed" in err,
              f"{POOL_USER} as {role}: exit {code}, {err.strip()[-300:]!r}")


def test_local_access_the_pool_and_nginx_run_unprivileged(ctx):
    stack_path(ctx)
    nobody = pwd.getpwnam("nobody").pw_uid
    pool_uid, nginx_uid = stack_uid(POOL_USER), stack_uid(NGINX_USER)
    master, workers = ctx.pool_pids()
    check(workers, "pool-pids lists no worker")
    for pid in [master, *workers]:
        uids = process_uids(pid)
        check(uids == [pool_uid] * 4 and pool_uid != 0,
              f"pool process {pid} runs as uids {uids}, not {POOL_USER} ({pool_uid})")
    with open(stack_path(ctx, "pid", "nginx.pid")) as f:
        nginx = int(f.read().split()[0])
    with open(f"/proc/{nginx}/task/{nginx}/children") as f:
        nginx_workers = [int(x) for x in f.read().split()]
    check(nginx_workers, f"nginx master {nginx} has no workers")
    for pid in nginx_workers:
        uids = process_uids(pid)
        check(uids == [nginx_uid] * 4 and nobody not in uids,
              f"nginx worker {pid} runs as uids {uids}, not {NGINX_USER} ({nginx_uid})")


def test_local_access_sockets_are_closed_to_other_users(ctx):
    run_dir, pg_run = stack_path(ctx, "run"), stack_path(ctx, "pg", "run")
    fcgi, pg_socket = os.stat(os.path.join(run_dir, "todo-api.sock")), os.stat(os.path.join(pg_run, ".s.PGSQL.5432"))
    check(stat.S_IMODE(fcgi.st_mode) == 0o660, f"the pool's socket is mode {stat.S_IMODE(fcgi.st_mode):o}, not 660")
    for path in (run_dir, pg_run, stack_path(ctx, "pg")):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        check(mode & 0o007 == 0, f"{path} is mode {mode:o}: other users may enter it")
    check(stat.S_IMODE(pg_socket.st_mode) & 0o007 == 0,
          f"PostgreSQL's socket is mode {stat.S_IMODE(pg_socket.st_mode):o}")
    if os.geteuid() != 0:
        return  # everything is the caller's; the groups below are root's layout
    www, pool = grp.getgrnam(NGINX_USER).gr_gid, grp.getgrnam(POOL_USER).gr_gid
    check(fcgi.st_uid == pwd.getpwnam(POOL_USER).pw_uid and fcgi.st_gid == www,
          f"the pool's socket belongs to {fcgi.st_uid}:{fcgi.st_gid}, not {POOL_USER}:{NGINX_USER}")
    check(pg_socket.st_gid == pool and os.stat(pg_run).st_gid == pool,
          f"PostgreSQL's socket (group {pg_socket.st_gid}) is not shared with {POOL_USER}'s group ({pool})")
