#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Many raw control-socket clients from one process, for the stress suite.

usage: clients.py SOCKET burst N TIMEOUT
       clients.py SOCKET hold N

burst: N connections opened at once, each sends a status request; prints
       one JSON object counting how each ended: answered (an ok reply),
       refused (an error reply, then end of stream), reset (ECONNRESET or
       end of stream without a reply), timeout (nothing within TIMEOUT s),
       garbage (a line that is not JSON) and connect_failed.
hold:  N connections, every other one with half a request sent, held
       open until stdin closes; prints {"held": H, "refused": R} once the
       daemon has had a second to refuse some, then waits.

Run as the user under test (setpriv), so the daemon sees that uid.
"""

import json
import resource
import selectors
import socket
import sys
import time


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n + 64))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def connect(path, timeout=20):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)            # a full listen queue blocks, bounded
    try:
        s.connect(path)
    except OSError:
        s.close()
        return None
    s.setblocking(False)
    return s


def classify(data, err):
    if not data:
        return "reset"
    if b"\n" not in data:
        return "garbage"             # a reply cut short
    line = data.split(b"\n", 1)[0]
    try:
        reply = json.loads(line)
    except ValueError:
        return "garbage"
    if reply.get("ok") is True and isinstance(reply.get("domains"), list):
        return "answered"
    if reply.get("ok") is False and isinstance(reply.get("error"), str):
        return "refused"
    return "garbage"


def burst(path, n, timeout):
    counts = dict(answered=0, refused=0, reset=0, timeout=0, garbage=0, connect_failed=0)
    reasons = {}
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = connect(path)
        if s is None:
            counts["connect_failed"] += 1
            continue
        try:
            s.send(b'{"cmd":"status"}\n')
        except OSError:
            pass                     # refused already: the reply tells
        socks.append(s)
        sel.register(s, selectors.EVENT_READ, [b""])
    deadline = time.monotonic() + timeout
    left = len(socks)
    while left and time.monotonic() < deadline:
        for key, _ in sel.select(0.5):
            s, buf = key.fileobj, key.data
            try:
                chunk = s.recv(1 << 20)
                err = None
            except ConnectionResetError as e:
                chunk, err = b"", e
            except BlockingIOError:
                continue
            if chunk:
                buf[0] += chunk
                if not buf[0].endswith(b"\n"):
                    continue
            kind = classify(buf[0], err)
            counts[kind] += 1
            if kind == "refused":
                why = json.loads(buf[0].split(b"\n", 1)[0])["error"]
                reasons[why] = reasons.get(why, 0) + 1
            sel.unregister(s)
            s.close()
            left -= 1
    counts["timeout"] += left
    counts["reasons"] = reasons
    print(json.dumps(counts), flush=True)


def hold(path, n):
    socks = []
    for i in range(n):
        s = connect(path, timeout=5)
        if s is None:
            break
        if i % 2:
            try:
                s.send(b'{"cmd":"sta')
            except OSError:
                pass
        socks.append(s)
    time.sleep(1.5)
    refused = 0
    for s in socks:
        try:
            data = s.recv(4096)
            refused += 1             # a refusal line, or end of stream
        except BlockingIOError:
            pass                     # held: the daemon is waiting for more
        except OSError:
            refused += 1
    print(json.dumps({"held": len(socks) - refused, "refused": refused,
                      "connected": len(socks)}), flush=True)
    sys.stdin.read()                 # until the test lets go


def main():
    path, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    raise_nofile(n)
    if mode == "burst":
        burst(path, n, float(sys.argv[4]))
    else:
        hold(path, n)


if __name__ == "__main__":
    main()
