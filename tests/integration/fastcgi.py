"""A FastCGI peer for the tests that talk to the pool's socket directly, as
anything that can reach the socket could: records built by hand, whole
requests as nginx sends them, and the answer read back."""
import socket
import struct
import time

BEGIN_REQUEST, PARAMS, STDIN, STDOUT, END_REQUEST = 1, 4, 5, 6, 3
RESPONDER = 1


def record(rtype, content=b"", request_id=1, padding=0):
    return struct.pack(">BBHHBB", 1, rtype, request_id, len(content), padding, 0) + content + b"\0" * padding


def length(n):
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def pairs(params):
    out = b""
    for name, value in params.items():
        name, value = name.encode(), value.encode() if isinstance(value, str) else value
        out += length(len(name)) + length(len(value)) + name + value
    return out


def begin(keep=False, role=RESPONDER):
    return record(BEGIN_REQUEST, struct.pack(">HB5x", role, 1 if keep else 0))


def request(params, body=b"", keep=False):
    """A whole request, as nginx writes it."""
    data = begin(keep) + record(PARAMS, pairs(params)) + record(PARAMS)
    for i in range(0, len(body), 32768):
        data += record(STDIN, body[i:i + 32768])
    return data + record(STDIN)


def get(path, method="GET", extra=None):
    params = {"REQUEST_METHOD": method, "REQUEST_URI": path, "DOCUMENT_URI": path,
              "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_LENGTH": ""}
    params.update(extra or {})
    return request(params)


def connect(address, timeout=5.0):
    """address: a unix socket path, or (host, port)."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(address)
    return s


def read_answer(s):
    """The STDOUT bytes of one request's answer, up to its END_REQUEST; b""
    when the pool closed the connection without one."""
    data, out = b"", b""
    while True:
        while len(data) < 8:
            chunk = s.recv(65536)
            if not chunk:
                return out
            data += chunk
        _, rtype, _, clen, plen, _ = struct.unpack(">BBHHBB", data[:8])
        while len(data) < 8 + clen + plen:
            chunk = s.recv(65536)
            if not chunk:
                return out
            data += chunk
        if rtype == STDOUT:
            out += data[8:8 + clen]
        data = data[8 + clen + plen:]
        if rtype == END_REQUEST:
            return out


def closed_within(s, seconds):
    """Whether the pool closes s (EOF or reset) within seconds, sending
    nothing but perhaps an answer first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not s.recv(65536):
                return True
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
    return False
