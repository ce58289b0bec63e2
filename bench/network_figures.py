#!/usr/bin/python3
"""Issue 5 figures on this machine, with real imid processes (tests/integration
netlib.py: `imi testnet`, a TCP proxy on every link):

  1. seconds from kill -9 of the primary to the next commit (default
     consensus settings: view_timeout_ms = 2000), under light load;
  2. catch-up speed: a validator stopped while the others commit BLOCKS more
     blocks, then restarted; blocks per second from its restart until it
     holds the same head.

usage: bench/network_figures.py IMID IMI [--blocks N]   (Release binaries advised)
Prints one JSON object as its last line.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import netlib  # noqa: E402
from netlib import Load, Network, log  # noqa: E402


def main():
    imid, imi = sys.argv[1], sys.argv[2]
    blocks = int(sys.argv[sys.argv.index("--blocks") + 1]) if "--blocks" in sys.argv else 10000
    defaults = {("consensus", "view_timeout_ms"): "2000",
                ("consensus", "view_timeout_max_ms"): "60000"}
    net = Network(imid, imi, validators=4, chain="imi-figures", config=defaults)
    out = {}
    try:
        net.start()
        load = Load(net, threads=2)
        load.wait_more(50, timeout=120)

        # 1. Primary crash.
        primary = net.primary()
        survivor = next(n for n in net.validators if n is not primary)
        before = survivor.status()
        primary.kill9()
        t0 = time.time()
        while True:
            s = survivor.status()
            if s["view"] != before["view"] and s["height"] > before["height"] + 1:
                break
            if time.time() - t0 > 60:
                raise AssertionError("no commit within 60 s of the primary's crash")
            time.sleep(0.005)
        out["primary_kill_to_commit_s"] = round(time.time() - t0, 3)
        log("primary %s killed; next commit in a new view after %.3f s" %
            (primary.name, out["primary_kill_to_commit_s"]))
        load.stop()
        primary.start()
        net.check_identical()

        # 2. Catch-up of a validator BLOCKS behind.
        lagging = next(n for n in net.validators if n is not net.primary())
        lag_height = lagging.height()
        lagging.terminate()
        start_height = survivor.height()
        load = Load(net, threads=8)
        t_fill = time.time()
        while survivor.height() < start_height + blocks:
            net.check_alive()
            time.sleep(0.5)
        load.stop()
        fill_s = time.time() - t_fill
        target = net.wait_converged(nodes=[n for n in net.validators if n is not lagging])
        behind = target - lag_height
        log("%d blocks made in %.1f s while %s was down; it is %d blocks behind" %
            (target - start_height, fill_s, lagging.name, behind))
        t1 = time.time()
        lagging.start()
        while lagging.height() < target:
            if time.time() - t1 > 600:
                raise AssertionError("catch-up took over 10 minutes")
            time.sleep(0.05)
        dt = time.time() - t1
        out["catchup_blocks"] = behind
        out["catchup_seconds"] = round(dt, 2)
        out["catchup_blocks_per_s"] = round(behind / dt, 1)
        log("%s caught up %d blocks in %.2f s (%.0f blocks/s, including its start)" %
            (lagging.name, behind, dt, behind / dt))
        net.check_identical()
        net.stop_all()
    finally:
        net.cleanup()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
