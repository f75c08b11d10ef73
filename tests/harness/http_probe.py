"""HTTP requests to a guest through its loopback forward, and the probe that finds the first
moment it answers."""
import http.client
import threading
import time

RETRY_PAUSE = 0.002  # after a failed try, before the next, so a refused port is not hammered


def http_get(port, path, timeout):
    """(status, body) of one GET on a fresh connection to 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def first_success(port, path, limit, try_timeout, every=None, alive=lambda: True):
    """Monotonic time of the first 200 for GET path, or None within limit seconds.

    Each try gives up after try_timeout. With `every`, a new try also starts every `every`
    seconds while earlier ones are still waiting; without it, one try at a time. A SYN that
    QEMU's user network forwards before the guest can answer is retried only after seconds,
    while slirp accepts the host's connection at once: short or overlapping tries measure the
    guest, not slirp's timers."""
    cond = threading.Condition()
    state = {"running": 0, "first": None}

    def attempt():
        try:
            ok = http_get(port, path, try_timeout)[0] == 200
        except (OSError, http.client.HTTPException):
            ok = False
        now = time.monotonic()
        with cond:
            state["running"] -= 1
            if ok:
                state["first"] = min(now, state["first"] or now)
            cond.notify_all()

    deadline = time.monotonic() + limit
    with cond:
        while state["first"] is None and time.monotonic() < deadline and alive():
            state["running"] += 1
            threading.Thread(target=attempt, daemon=True).start()
            cond.wait_for(lambda: state["first"] is not None or state["running"] == 0,
                          every if every is not None else max(0.0, deadline - time.monotonic()))
            if state["first"] is None and state["running"] == 0:
                cond.wait(RETRY_PAUSE)
        return state["first"]
