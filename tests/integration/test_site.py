"""The shipped production site (nginx/todo-api.conf with the snippets),
rendered with a throwaway certificate on loopback ports and pointed at the
suite's pool (nginx -t must accept it): what it does over TLS that the
local (plain http) stack cannot show. Issue 9: HSTS was shadowed by the
locations' own add_header lines and never sent (finding 6), and nothing
limited one client address's rate."""
import contextlib
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import tempfile

from client import ROOT, check, free_port, new_user_id, token, wait_until

HSTS = "max-age=63072000"


def stack_user_line(ctx):
    """The local stack's nginx `user` line: its workers may reach the pool."""
    conf = os.path.join(ctx.stack_env["STACK_DIR"], "nginx", "conf", "nginx.conf")
    with open(conf) as f:
        m = re.search(r"^\s*user\s+[^;]+;", f.read(), re.M)
    return m.group(0) if m else ""


def render_site(ctx, d, https_port, http_port):
    """The shipped site in d, as an operator would install it, with only
    the certificate, ports and socket changed."""
    os.makedirs(os.path.join(d, "conf", "snippets"))
    os.makedirs(os.path.join(d, "logs"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=api.example.com", "-keyout", os.path.join(d, "key.pem"),
                    "-out", os.path.join(d, "cert.pem")], check=True, capture_output=True)
    for name in os.listdir(os.path.join(ROOT, "nginx", "snippets")):
        shutil.copy(os.path.join(ROOT, "nginx", "snippets", name), os.path.join(d, "conf", "snippets"))
    with open(os.path.join(d, "conf", "snippets", "todo-api-origins.conf"), "w") as f:
        f.write('"https://app.example.com" $http_origin;\n')
    shutil.copy("/etc/nginx/fastcgi_params", os.path.join(d, "conf"))
    with open(os.path.join(ROOT, "nginx", "todo-api.conf")) as f:
        site = f.read()
    sock = os.path.join(ctx.stack_env["STACK_DIR"], "run", "todo-api.sock")
    replaced = {
        "unix:/run/todo-api/todo-api.sock": f"unix:{sock}",
        "/etc/letsencrypt/live/api.example.com/fullchain.pem": os.path.join(d, "cert.pem"),
        "/etc/letsencrypt/live/api.example.com/privkey.pem": os.path.join(d, "key.pem"),
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:443 ssl http2;": "", "listen [::]:80;": "",
    }
    for old, new in replaced.items():
        check(old in site, f"nginx/todo-api.conf no longer has {old!r}: update this test")
        site = site.replace(old, new)
    with open(os.path.join(d, "conf", "todo-api.conf"), "w") as f:
        f.write(site)
    with open(os.path.join(d, "conf", "nginx.conf"), "w") as f:
        f.write(f"""{stack_user_line(ctx)}
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp-body;
    fastcgi_temp_path {d}/tmp-fastcgi;
    include todo-api.conf;
}}
""")


@contextlib.contextmanager
def shipped_site(ctx):
    ctx.require_stack()
    if shutil.which("nginx") is None:
        check(False, "no nginx on PATH")
    d = tempfile.mkdtemp(prefix="todo-site.")
    os.chmod(d, 0o755)
    https_port, http_port = free_port(), free_port()
    render_site(ctx, d, https_port, http_port)
    nginx = ["nginx", "-p", d + "/", "-c", "conf/nginx.conf", "-e", f"{d}/logs/error.log"]
    t = subprocess.run(nginx + ["-t", "-q"], capture_output=True, text=True)
    check(t.returncode == 0, f"nginx -t of the shipped site: {t.stderr[-800:]}")
    subprocess.run(nginx, check=True, capture_output=True)
    try:
        yield https_port, http_port
    finally:
        with open(os.path.join(d, "nginx.pid")) as f:
            pid = int(f.read())
        os.kill(pid, 15)
        wait_until(lambda: not os.path.exists(f"/proc/{pid}"), 10, 0.05)
        shutil.rmtree(d, ignore_errors=True)


def tls_connection(port):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the throwaway certificate
    return http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)


def tls_exchange(c, method, path, headers=None):
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()


def tls_request(port, method, path, headers=None):
    c = tls_connection(port)
    try:
        return tls_exchange(c, method, path, headers)[:2]
    finally:
        c.close()


def test_site_sends_hsts_on_every_https_answer(ctx):
    u = new_user_id()
    bearer = {"Authorization": f"Bearer {token(u, ctx.secret)}"}
    with shipped_site(ctx) as (https_port, http_port):
        cases = [
            ("health", "GET", "/api/health", {}, 200),
            ("the pool's 401", "GET", f"/api/{u}/tasks", {}, 401),
            ("a list", "GET", f"/api/{u}/tasks", bearer, 200),
            ("nginx's 404", "GET", "/nothing", {}, 404),
            ("a preflight", "OPTIONS", f"/api/{u}/tasks",
             {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}, 204),
            ("a CORS answer", "GET", "/api/health", {"Origin": "https://app.example.com"}, 200),
        ]
        for what, method, path, headers, status in cases:
            got, h = tls_request(https_port, method, path, headers)
            check(got == status, f"{what}: {method} {path} is {got}, not {status}")
            check(h.get("strict-transport-security") == HSTS,
                  f"{what}: Strict-Transport-Security is {h.get('strict-transport-security')!r}")
        c = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        c.request("GET", "/api/health")
        r = c.getresponse()
        check(r.status == 308 and r.getheader("Location", "").startswith("https://"),
              f"plain http: {r.status} {r.getheader('Location')}")
        check(r.getheader("Strict-Transport-Security") is None, "HSTS sent over plain http")
        c.close()


def test_site_limits_each_address_with_a_429_problem(ctx):
    """limit_req: 100 requests a second per address with bursts of 200,
    answered as a problem document nginx writes itself."""
    with open(os.path.join(ROOT, "nginx", "todo-api.conf")) as f:
        site = f.read()
    check("rate=100r/s;" in site and "burst=200 nodelay;" in site,
          "the shipped site no longer limits at 100 r/s with bursts of 200: update this test")
    with shipped_site(ctx) as (https_port, _):
        c = tls_connection(https_port)
        try:
            answers = [tls_exchange(c, "GET", "/api/health") for _ in range(400)]
        finally:
            c.close()
    limited = [(h, body) for status, h, body in answers if status == 429]
    served = sum(status == 200 for status, _, _ in answers)
    check(limited, f"400 requests at once from one address: none refused ({served} served)")
    check(served >= 200, f"only {served} of 400 served: the burst of 200 is not honoured")
    h, body = limited[0]
    check(h.get("content-type") == "application/problem+json" and h.get("retry-after") == "1" and
          h.get("strict-transport-security") == HSTS,
          f"the 429's headers: {h}")
    check(json.loads(body) == {"type": "about:blank", "title": "Too Many Requests", "status": 429,
                               "detail": "too many requests from this address: slow down"},
          f"the 429's body: {body[:300]!r}")
