"""Runs inside the test's network namespace for test_ola_integration.py (not a test itself).

``get URL``: print the body of an HTTP GET (olad's web server, inside the namespace).

``send URL SHOW_UNIVERSE OLA_UNIVERSE FRAMES HTTP_PORT``: open the output URL
with core.output, send FRAMES different frames on SHOW_UNIVERSE, and after each
one poll olad's ``/get_dmx?u=OLA_UNIVERSE`` until it shows that frame; print a
JSON summary (how many frames olad showed exactly, the first mismatch).
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request

import numpy as np


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return reply.read().decode("utf-8")


def frame_for(i: int) -> np.ndarray:
    values = (np.arange(512) * 11 + i * 37) % 256
    values[0] = i % 256  # every frame differs from the one before in slot 1 too
    return values.astype(np.uint8)


def send(url: str, show_universe: int, ola_universe: int, frames: int, http_port: int) -> int:
    from core.output.base import OutputContext, open_output

    context = OutputContext(cid=bytes(range(16)), source_name="Luma OLA test")
    out = open_output(url, context)
    out.open()
    get = f"http://127.0.0.1:{http_port}/get_dmx?u={ola_universe}"
    matched, first_bad, waits = 0, None, []
    try:
        for i in range(frames):
            frame = frame_for(i)
            out.send(show_universe, frame)
            out.end_tick()
            wanted = frame.tolist()
            t0 = time.monotonic()
            while True:
                seen = json.loads(http_get(get))["dmx"]
                if seen == wanted:
                    matched += 1
                    waits.append(time.monotonic() - t0)
                    break
                if time.monotonic() - t0 > 2.0:
                    first_bad = {"frame": i, "seen": seen[:16], "wanted": wanted[:16], "seen_len": len(seen)}
                    break
                time.sleep(0.001)
            if first_bad is not None:
                break
        final = json.loads(http_get(get))["dmx"]
    finally:
        out.close()
    last = frame_for(frames - 1).tolist()
    print(json.dumps({"matched": matched, "frames": frames, "first_bad": first_bad,
                      "final_equals_last": final == last, "max_wait_s": max(waits, default=None)}))
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["get"]:
        print(http_get(argv[1]))
        return 0
    if argv[:1] == ["send"]:
        url, show_u, ola_u, frames, port = argv[1], int(argv[2]), int(argv[3]), int(argv[4]), int(argv[5])
        return send(url, show_u, ola_u, frames, port)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
