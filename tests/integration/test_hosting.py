"""The deployment files at work with the real tools (issue 10): the pool
started by `systemd-socket-activate` with the settings of the installed
todo-api.socket and todo-api.service, and by a real `supervisord` (Debian's
supervisor) from the installed program file, each answering through an
nginx of its own (the local stack's nginx configuration, rendered by
scripts/stack for another directory) with the suite's PostgreSQL behind.

Everything runs from a `make install DESTDIR=...` of the build under test
(test_deploy.installed), the installed tree standing for /: the unit's
ExecStart and EnvironmentFile and the supervisor program's paths point
into it, and /run/todo-api is the private nginx's run directory. Only root
can run the pool as the units' user and give the socket to todo-api and
www-data: as anyone else these tests are skipped."""
import configparser
import contextlib
import grp
import os
import pwd
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import urllib.parse

from client import (Client, Skip, bare_environment, check, ensure_packages, expect_json, expect_task, free_port,
                    healthy, new_user_id, process_alive, process_uids, wait_until)
from test_deploy import PREFIX, installed

SETTINGS = f"{PREFIX}/etc/todo-api/todo-api.env"  # the EnvironmentFile, sysconfdir's
WORKERS = 2


def require_root():
    if os.geteuid() != 0:
        raise Skip("needs root: the units run the pool as todo-api and hand its socket to todo-api:www-data, "
                   "which only root can do")


def read_unit(path):
    """A systemd unit's sections, keys as spelt (the last of a repeated key)."""
    unit = configparser.ConfigParser(interpolation=None, strict=False, comment_prefixes=("#", ";"))
    unit.optionxform = str
    check(unit.read(path), f"cannot read {path}")
    return unit


def read_environment_file(path):
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them: # and ;
    start comments, one pair of enclosing quotes is removed."""
    settings = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            name, sep, value = line.partition("=")
            check(sep and name.strip().isidentifier(), f"{path}: not KEY=VALUE: {line!r}")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            settings[name.strip()] = value
    return settings


def read_by_shell(path):
    """The same file as sh reads it (`set -a; . FILE`), as the supervisor
    program and the spawn-fcgi script do: the names the file sets."""
    names = read_environment_file(path)
    p = subprocess.run(["sh", "-c", 'set -a && . "$1" && exec env -0', "sh", path], capture_output=True,
                       text=True, env={})
    check(p.returncode == 0, f"sh cannot read {path}: {p.stderr}")
    read = dict(item.split("=", 1) for item in p.stdout.split("\0") if "=" in item)
    return {name: value for name, value in read.items() if name in names}


class Hosting:
    """A scratch installation and an nginx in front of where it listens."""

    def __init__(self, ctx, dest, units, web, port):
        self.ctx, self.dest, self.units, self.web, self.port = ctx, dest, units, web, port
        self.run = os.path.join(web, "run")  # stands for /run/todo-api
        self.client = Client(f"http://127.0.0.1:{port}", hide=[ctx.secret])

    def path(self, installed_path):
        """Where a path of the installed tree (under PREFIX) is in the scratch one."""
        check(installed_path.startswith(PREFIX + "/"), f"{installed_path} is not under {PREFIX}")
        return self.dest + installed_path

    def socket_path(self, path):
        """/run/todo-api/NAME -> the private nginx's run directory."""
        check(os.path.dirname(path) == "/run/todo-api" and os.path.basename(path) == "todo-api.sock",
              f"the socket is {path}, not /run/todo-api/todo-api.sock: update this test")
        return os.path.join(self.run, "todo-api.sock")

    def ensure_user(self, user, group):
        """The user the units name, as sysusers.d/todo-api.conf makes it
        (systemd-sysusers when it does not exist yet)."""
        conf = self.path(f"{PREFIX}/lib/sysusers.d/todo-api.conf")
        with open(conf) as f:
            made = [line.split()[1] for line in f if line.split()[:1] == ["u"]]
        check(made == [user], f"sysusers.d makes {made}, the unit runs as {user}")
        try:
            pwd.getpwnam(user)
        except KeyError:
            p = subprocess.run(["systemd-sysusers", conf], capture_output=True, text=True, timeout=60)
            check(p.returncode == 0, f"systemd-sysusers {conf}: {p.stderr}")
        entry = pwd.getpwnam(user)
        check(grp.getgrgid(entry.pw_gid).gr_name == group, f"{user}'s group is not {group}")
        return entry

    def write_settings(self, installed_path, user):
        """The shipped settings file with the suite's database and secret,
        installed as its comment says (0640 root:GROUP, in a 0750
        directory). Returns what it sets."""
        with open(self.path(f"{PREFIX}/share/doc/todo-api/todo-api.env")) as f:
            text = f.read()
        pg_run = os.path.join(self.ctx.stack_env["STACK_DIR"], "pg", "run")
        # Quoted, as the shipped file asks of a value with shell characters.
        url = f"postgresql://todo@{urllib.parse.quote(pg_run, safe='')}/todo?connect_timeout=10&sslmode=disable"
        values = {"DATABASE_URL": f"'{url}'",
                  "BETTER_AUTH_SECRET": self.ctx.secret, "WORKERS": str(WORKERS)}
        lines = text.splitlines()
        for name, value in values.items():
            at = [i for i, line in enumerate(lines) if line.startswith(f"{name}=")]
            check(len(at) == 1, f"the shipped todo-api.env does not set {name} once: update this test")
            lines[at[0]] = f"{name}={value}"
        path = self.path(installed_path)
        gid = pwd.getpwnam(user).pw_gid
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.chown(os.path.dirname(path), 0, gid)
        os.chmod(os.path.dirname(path), 0o750)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chown(path, 0, gid)
        os.chmod(path, 0o640)
        settings, by_shell = read_environment_file(path), read_by_shell(path)
        differ = sorted(n for n in settings.keys() | by_shell.keys() if settings.get(n) != by_shell.get(n))
        check(not differ, f"systemd and sh read {differ} of the settings file differently")
        check(settings.get("ENVIRONMENT") == "production", "the shipped settings are no longer production's")
        check(settings["DATABASE_URL"] == url, f"the settings file's DATABASE_URL reads {settings['DATABASE_URL']!r}")
        return settings

    def create_and_get(self, sub="host"):
        """Creates a task and reads it back through nginx; returns it."""
        u = new_user_id(sub)
        token = self.ctx.token(u)
        created = expect_task(expect_json(self.client.request("POST", f"/api/{u}/tasks", {"title": "hosted"},
                                                              token=token), 201), title="hosted", user_id=u)
        got = self.client.request("GET", f"/api/{u}/tasks/{created['id']}", token=token)
        expect_task(expect_json(got, 200), id=created["id"], title="hosted", user_id=u)
        return created

    def healthy(self):
        return healthy(self)  # client.healthy: GET /api/health through self.client


@contextlib.contextmanager
def hosting(ctx):
    require_root()
    ctx.require_stack()
    dest, _, units = installed(ctx)
    web = tempfile.mkdtemp(prefix="todo-host.")
    port = free_port()
    nginx = {"STACK_DIR": web, "PORT": str(port)}
    started = False
    try:
        os.chmod(dest, 0o755)  # the pool's user runs the installed binary
        os.chmod(web, 0o755)
        ctx.stack("nginx-start", settings=nginx)
        started = True
        yield Hosting(ctx, dest, units, web, port)
    finally:
        if started:
            ctx.stack("nginx-stop", settings=nginx)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.rmtree(web, ignore_errors=True)


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return sorted(int(c) for c in f.read().split())
    except OSError:
        return []


def process_gids(pid):
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    return [int(g) for g in status["Gid"].split()], sorted(int(g) for g in status["Groups"].split())


def process_umask(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))


def expect_runs_as(pid, entry, what):
    check(process_uids(pid) == [entry.pw_uid] * 4, f"{what} runs as uids {process_uids(pid)}, not {entry.pw_name}")
    gids, groups = process_gids(pid)
    check(gids == [entry.pw_gid] * 4 and groups == [entry.pw_gid],
          f"{what} runs with gids {gids} and groups {groups}, not {entry.pw_name}'s group alone")


def expect_socket(path, mode, user, group):
    st = os.lstat(path)
    check(stat.S_ISSOCK(st.st_mode), f"{path} is not a socket")
    check(stat.S_IMODE(st.st_mode) == mode, f"{path} has mode {stat.S_IMODE(st.st_mode):04o}, not {mode:04o}")
    check(st.st_uid == pwd.getpwnam(user).pw_uid and st.st_gid == grp.getgrnam(group).gr_gid,
          f"{path} is owned by {st.st_uid}:{st.st_gid}, not {user}:{group}")


def expect_refused(user, path):
    """`user`, in none of the socket's groups, is refused a connection."""
    probe = "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect(sys.argv[1])\n" \
            "except PermissionError:\n    sys.exit(3)\nprint('connected')\n"
    p = subprocess.run(["runuser", "-u", user, "--", "python3", "-c", probe, path], capture_output=True,
                       text=True, timeout=30)
    check(p.returncode == 3, f"{user} connecting to {path}: exit {p.returncode} {(p.stdout + p.stderr)[-300:]}")


def stop_pids(pids):
    """SIGKILL to whichever of pids (ours) still run: the clean-up of a
    failed test."""
    for pid in pids:
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_hosting_socket_activation_with_the_units_settings(ctx):
    """systemd-socket-activate binds the socket of todo-api.socket (its
    SocketMode, SocketUser and SocketGroup applied after the bind, as
    systemd does) and, on the first connection, execs the service's
    ExecStart as its User and Group, with its UMask, NoNewPrivileges and
    empty CapabilityBoundingSet (setpriv), and the settings of its
    EnvironmentFile (its WORKERS makes the pool). That first request,
    queued in the backlog while the pool starts, is answered; SIGTERM to
    the master alone (KillMode=mixed) stops the pool."""
    require_root()
    ensure_packages("systemd")
    with hosting(ctx) as h:
        check(h.units, "this build installs no systemd units (configure found no systemd.pc): "
              "install systemd, then configure again")
        socket_unit = read_unit(h.dest + f"{h.units}/todo-api.socket")["Socket"]
        service = read_unit(h.dest + f"{h.units}/todo-api.service")["Service"]
        user, group = service["User"], service["Group"]
        entry = h.ensure_user(user, group)
        sock = h.socket_path(socket_unit["ListenStream"])
        mode = int(socket_unit["SocketMode"], 8)
        check(service["EnvironmentFile"].lstrip("-") == SETTINGS, f"EnvironmentFile={service['EnvironmentFile']}")
        settings = h.write_settings(SETTINGS, user)
        command = shlex.split(service["ExecStart"])
        command[0] = h.path(command[0])
        check(os.path.samefile(command[0], h.path(f"{PREFIX}/bin/todo-api")), f"ExecStart={service['ExecStart']}")
        # The socket's directory, as systemd makes it (DirectoryMode, root's).
        os.chown(h.run, 0, 0)
        os.chmod(h.run, int(socket_unit.get("DirectoryMode", "0755"), 8))
        hardening = [f"--reuid={user}", f"--regid={group}", "--init-groups"]
        if service.get("NoNewPrivileges") == "yes":
            hardening.append("--no-new-privs")
        if service.get("CapabilityBoundingSet", None) == "":
            hardening.append("--bounding-set=-all")
        umask = service.get("UMask", "0022")
        # -E NAME: passed on from systemd-socket-activate's environment
        # (the secret stays off the command line).
        environment = {**bare_environment(ctx), **settings, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        argv = ["systemd-socket-activate", "-l", sock, *[f"-E{k}" for k in environment if k != "PATH"],
                "/usr/bin/setpriv", *hardening, "--", "/bin/sh", "-c", f'umask {umask} && exec "$@"', "sh",
                *command]
        log = open(os.path.join(h.web, "log", "activate.log"), "w")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             env=environment, start_new_session=True)
        workers = []
        try:
            check(wait_until(lambda: os.path.exists(sock) or p.poll() is not None, 10),
                  "systemd-socket-activate made no socket")
            # systemd-socket-activate binds 0644 whatever the umask; systemd
            # binds with SocketMode, then hands the socket to SocketUser and
            # SocketGroup: so does the test. nginx's workers (www-data) may
            # then connect, and no one else.
            os.chmod(sock, mode)
            os.chown(sock, pwd.getpwnam(socket_unit["SocketUser"]).pw_uid,
                     grp.getgrnam(socket_unit["SocketGroup"]).gr_gid)
            expect_refused("nobody", sock)
            check(os.path.basename(os.readlink(f"/proc/{p.pid}/exe")) == "systemd-socket-activate",
                  "the service started before any connection")
            h.create_and_get()  # the connection that starts the service
            check(os.path.samefile(f"/proc/{p.pid}/exe", command[0]),
                  "the first request did not start the service")
            expect_runs_as(p.pid, entry, "the master")
            workers = wait_until(lambda: len(children(p.pid)) == WORKERS and children(p.pid), 10) or []
            check(len(workers) == WORKERS, f"the master runs {children(p.pid)} workers, not WORKERS={WORKERS}")
            for pid in workers:
                expect_runs_as(pid, entry, f"worker {pid}")
            h.create_and_get()
            # KillMode=mixed: SIGTERM to the master alone; it stops its workers.
            os.kill(p.pid, signal.SIGTERM)
            status = p.wait(timeout=int(service.get("TimeoutStopSec", "35")))
            check(status == 0, f"the master exited {status} on SIGTERM")
            left = [pid for pid in workers if process_alive(pid)]
            check(not left, f"workers {left} outlived their master")
        finally:
            stop_pids([p.pid, *workers])
            p.wait(timeout=10)
            log.close()


def supervisord_pids():
    """Every running supervisord (a Python script: named in argv[0] or argv[1])."""
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")[:2]
        except OSError:
            continue
        if any(os.path.basename(a) == b"supervisord" for a in argv):
            found.add(int(pid))
    return found


def ensure_supervisor():
    """Debian's supervisor, installed if missing. Its postinst starts a
    system supervisord unless a policy-rc.d forbids it (ensure_packages
    puts one in place): one that appears all the same is ours to stop,
    and a failure."""
    before = supervisord_pids()
    ensure_packages("supervisor")
    started = supervisord_pids() - before
    for pid in started:
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not any(process_alive(pid) for pid in started), 30)
    check(not started, f"installing supervisor started a system supervisord {sorted(started)} (stopped now)")
    check(shutil.which("supervisord") and shutil.which("supervisorctl"), "no supervisord after installing supervisor")


def supervisor_config(h, d):
    """supervisord.conf in d: the installed program file with the test's
    paths, included, and a control socket of its own."""
    with open(h.path(f"{PREFIX}/share/todo-api/supervisor/todo-api.conf")) as f:
        program = f.read()
    replaced = {f"{PREFIX}/": h.dest + f"{PREFIX}/", "unix:/run/todo-api/todo-api.sock": f"unix:{h.run}/todo-api.sock",
                "/var/log/supervisor/": f"{d}/log/"}
    for old, new in replaced.items():
        check(old in program, f"the supervisor program file no longer has {old!r}: update this test")
        program = program.replace(old, new)
    os.makedirs(os.path.join(d, "conf.d"))
    os.makedirs(os.path.join(d, "log"))
    with open(os.path.join(d, "conf.d", "todo-api.conf"), "w") as f:
        f.write(program)
    conf = os.path.join(d, "supervisord.conf")
    with open(conf, "w") as f:
        f.write(f"""[supervisord]
user=root
nodaemon=true
logfile={d}/log/supervisord.log
pidfile={d}/supervisord.pid
childlogdir={d}/log
[unix_http_server]
file={d}/supervisor.sock
chmod=0700
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://{d}/supervisor.sock
[include]
files = conf.d/*.conf
""")
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read(os.path.join(d, "conf.d", "todo-api.conf"))
    return conf, parsed["program:todo-api"]


def make_run_directory(h):
    """/run/todo-api as the installed tmpfiles.d line makes it, by
    systemd-tmpfiles, only the path changed."""
    with open(h.path(f"{PREFIX}/lib/tmpfiles.d/todo-api.conf")) as f:
        lines = [line.split() for line in f if line.strip() and not line.startswith("#")]
    check(len(lines) == 1 and lines[0][:2] == ["d", "/run/todo-api"], f"tmpfiles.d: {lines}")
    kind, _, mode, user, group = lines[0][:5]
    conf = os.path.join(h.web, "tmpfiles.conf")
    with open(conf, "w") as f:
        f.write(" ".join([kind, h.run, *lines[0][2:]]) + "\n")
    p = subprocess.run(["systemd-tmpfiles", "--create", conf], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"systemd-tmpfiles --create: {p.stderr}")
    st = os.stat(h.run)
    check(stat.S_IMODE(st.st_mode) == int(mode, 8) and st.st_uid == pwd.getpwnam(user).pw_uid and
          st.st_gid == grp.getgrnam(group).gr_gid,
          f"systemd-tmpfiles made {h.run} {stat.S_IMODE(st.st_mode):04o} {st.st_uid}:{st.st_gid}")


def supervised_pid(conf):
    """The pid of the program once supervisor has it RUNNING (past
    startsecs: a death before that is a failed start, retried whatever
    autorestart says), else 0."""
    p = subprocess.run(["supervisorctl", "-c", conf, "status", "todo-api"], capture_output=True, text=True,
                       timeout=30)
    fields = p.stdout.replace(",", " ").split()
    if fields[1:3] == ["RUNNING", "pid"] and fields[3].isdigit():
        return int(fields[3])
    return 0


def running_pool(conf, old=0):
    """The supervised master, once it runs and is not `old`, with its
    workers."""
    pid = wait_until(lambda: (lambda p: p if p and p != old and process_alive(p) else 0)(supervised_pid(conf)), 15)
    check(pid, "supervisor runs no new master: " + subprocess.run(
        ["supervisorctl", "-c", conf, "status", "todo-api"], capture_output=True, text=True).stdout.strip())
    workers = wait_until(lambda: len(children(pid)) == WORKERS and children(pid), 10) or []
    check(len(workers) == WORKERS, f"the master {pid} runs {children(pid)} workers, not WORKERS={WORKERS}")
    return pid, workers


def processes_of(binary):
    """The running processes whose program is binary."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.path.samefile(f"/proc/{pid}/exe", binary):
                found.append(int(pid))
        except OSError:
            continue
    return found


def test_hosting_supervisor_runs_and_repairs_the_pool(ctx):
    """supervisord -n with the installed program file (the env file of the
    systemd unit, user todo-api, the socket in the tmpfiles.d directory):
    the pool answers through nginx; kill -9 of the master is repaired by
    supervisor (a new master, old workers gone, answers again within
    seconds); stopping supervisord stops the pool, no process left."""
    require_root()
    ensure_supervisor()
    with hosting(ctx) as h:
        d = tempfile.mkdtemp(prefix="todo-supervisor.")
        conf, program = supervisor_config(h, d)
        user = program["user"]
        entry = h.ensure_user(user, user)
        check(f". {h.path(SETTINGS)} " in program["command"], f"the program does not read {SETTINGS}")
        h.write_settings(SETTINGS, user)
        make_run_directory(h)
        binary = h.path(f"{PREFIX}/bin/todo-api")
        log = open(os.path.join(d, "supervisord.out"), "w")
        # A system supervisord's environment: none of the suite's settings.
        p = subprocess.Popen(["supervisord", "-n", "-c", conf], stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, env=bare_environment(ctx), start_new_session=True)
        pids = []
        try:
            master, workers = running_pool(conf)
            pids += [master, *workers]
            expect_runs_as(master, entry, "the master")
            check(os.path.samefile(f"/proc/{master}/exe", binary), "supervisor does not run the installed binary")
            check(process_umask(master) == int(program["umask"], 8),
                  f"the master's umask is {process_umask(master):04o}, not the program's {program['umask']}")
            mode = program["environment"].split('SOCKET_MODE="')[1].split('"')[0]
            # The socket takes the group of its directory (setgid, tmpfiles.d).
            run_group = grp.getgrgid(os.stat(h.run).st_gid).gr_name
            expect_socket(os.path.join(h.run, "todo-api.sock"), int(mode, 8), user, run_group)
            expect_refused("nobody", os.path.join(h.run, "todo-api.sock"))
            task = h.create_and_get()

            killed = time.monotonic()
            os.kill(master, signal.SIGKILL)
            new, new_workers = running_pool(conf, old=master)
            pids += [new, *new_workers]
            check(wait_until(lambda: not any(process_alive(w) for w in workers), 10),
                  f"the killed master's workers {[w for w in workers if process_alive(w)]} still run")
            wait_until(h.healthy, 10)
            repaired = time.monotonic() - killed
            check(h.healthy() and repaired < 10,
                  f"the pool answers again {repaired:.1f} s after kill -9, not within 10 s")
            h.create_and_get()
            u = task["user_id"]
            again = h.client.request("GET", f"/api/{u}/tasks/{task['id']}", token=ctx.token(u))
            expect_task(expect_json(again, 200), id=task["id"])

            p.send_signal(signal.SIGTERM)
            status = p.wait(timeout=int(program.get("stopwaitsecs", "35")) + 10)
            check(status == 0, f"supervisord exited {status}")
            left = [pid for pid in [new, *new_workers] if process_alive(pid)] + processes_of(binary)
            check(not left, f"processes {sorted(set(left))} outlived supervisord")
            with open(os.path.join(d, "log", "todo-api.log"), errors="replace") as f:
                check("pool: stopped" in f.read(), "the pool's log (stdout_logfile) does not say it stopped")
        finally:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
            stop_pids(pids)
            log.close()
            shutil.rmtree(d, ignore_errors=True)
