"""The deployment files (deploy/), as `make install` ships them: the
systemd socket and service units (accepted by `systemd-analyze verify`,
every path filled in), the user and run directory they need, the
supervisor program and the spawn-fcgi script (issue 10)."""
import configparser
import os
import shutil
import subprocess
import tempfile

from client import Skip, check, service_binary

PREFIX = "/usr/local"


def build_dir(ctx):
    binary = service_binary(ctx)
    d = os.path.dirname(binary)
    if not os.path.exists(os.path.join(d, "Makefile")):
        raise Skip(f"no configured build in {d}")
    return d, binary


def installed(ctx):
    """A `make install DESTDIR=...` of the build the suite runs."""
    d, binary = build_dir(ctx)
    dest = tempfile.mkdtemp(prefix="todo-install.")
    p = subprocess.run(["make", "-s", "-C", d, "install", f"DESTDIR={dest}"], capture_output=True,
                       text=True, timeout=300)
    check(p.returncode == 0, f"make install: {p.stderr[-800:]}")
    units = subprocess.run(["pkg-config", "--variable=systemdsystemunitdir", "systemd"],
                           capture_output=True, text=True).stdout.strip()
    return dest, binary, units


def test_deploy_make_install_ships_every_file_with_its_paths(ctx):
    dest, _, units = installed(ctx)
    try:
        expected = [f"{PREFIX}/bin/todo-api", f"{PREFIX}/bin/todo-api-spawn-fcgi",
                    f"{PREFIX}/lib/sysusers.d/todo-api.conf", f"{PREFIX}/lib/tmpfiles.d/todo-api.conf",
                    f"{PREFIX}/share/todo-api/supervisor/todo-api.conf",
                    f"{PREFIX}/share/doc/todo-api/todo-api.env", f"{PREFIX}/share/todo-api/schema.sql"]
        if units:
            expected += [f"{units}/todo-api.service", f"{units}/todo-api.socket"]
        missing = [f for f in expected if not os.path.isfile(dest + f)]
        check(not missing, f"make install did not ship {missing}")
        check(os.access(dest + f"{PREFIX}/bin/todo-api-spawn-fcgi", os.X_OK), "the spawn-fcgi script is not executable")
        for f in expected[1:]:
            with open(dest + f, errors="replace") as fh:
                text = fh.read()
            check("@bindir@" not in text and "@sysconfdir@" not in text and "@docdir@" not in text,
                  f"{f} keeps a placeholder")
        p = subprocess.run(["sh", "-n", dest + f"{PREFIX}/bin/todo-api-spawn-fcgi"], capture_output=True, text=True)
        check(p.returncode == 0, f"the spawn-fcgi script: {p.stderr}")
        supervisor = configparser.ConfigParser(interpolation=None)
        supervisor.read(dest + f"{PREFIX}/share/todo-api/supervisor/todo-api.conf")
        program = supervisor["program:todo-api"] if supervisor.has_section("program:todo-api") else {}
        check(f"exec {PREFIX}/bin/todo-api" in program.get("command", "") and
              program.get("user") == "todo-api" and program.get("stopsignal") == "TERM",
              f"the supervisor program: {dict(program)}")
        with open(dest + f"{PREFIX}/lib/sysusers.d/todo-api.conf") as fh:
            check(any(line.split()[:2] == ["u", "todo-api"] for line in fh if line.strip()[:1] == "u"),
                  "sysusers.d makes no todo-api user")
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def test_deploy_systemd_units_pass_systemd_analyze_verify(ctx):
    if shutil.which("systemd-analyze") is None:
        raise Skip("no systemd-analyze (Debian package systemd)")
    dest, binary, units = installed(ctx)
    try:
        check(units, "pkg-config knows no systemd unit directory: no units installed")
        service = dest + f"{units}/todo-api.service"
        with open(service) as fh:
            text = fh.read()
        check(f"ExecStart={PREFIX}/bin/todo-api\n" in text and
              "EnvironmentFile=/usr/local/etc/todo-api/todo-api.env" in text,
              "the service's ExecStart or EnvironmentFile is not the installed path")
        # verify checks that ExecStart exists: point it at this build's binary.
        work = tempfile.mkdtemp(prefix="todo-units.")
        with open(os.path.join(work, "todo-api.service"), "w") as fh:
            fh.write(text.replace(f"ExecStart={PREFIX}/bin/todo-api", f"ExecStart={os.path.abspath(binary)}"))
        shutil.copy(dest + f"{units}/todo-api.socket", work)
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", os.path.join(work, "todo-api.socket"),
                            os.path.join(work, "todo-api.service")], capture_output=True, text=True, timeout=60)
        shutil.rmtree(work, ignore_errors=True)
        # An unknown or misspelt directive is only a warning: any output fails.
        check(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
              f"systemd-analyze verify: exit {p.returncode}: {(p.stdout + p.stderr)[-1000:]}")
        for setting in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                        "PrivateDevices=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                        "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes", "LockPersonality=yes",
                        "User=todo-api", "KillMode=mixed"):
            check(f"\n{setting}\n" in text, f"the service lacks {setting}")
    finally:
        shutil.rmtree(dest, ignore_errors=True)
