"""Crash and shutdown of a real imid under load.

kill -9 at arbitrary moments while clients submit with ?wait=commit: after a
restart, every transaction the API reported committed is still committed at
the same height and position, the chain continues, and nonces resume.
SIGTERM under load: the process exits 0 within a bounded time after
finishing the block in progress, and a restart serves everything committed.

usage: crash_test.py IMID
"""

import http.client
import json
import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imilib  # noqa: E402
from imilib import jcs, make_tx, tx_id  # noqa: E402

IMID = sys.argv[1]
CLIENTS = 8


class Load:
    """Client threads, one sender each, submitting with ?wait=commit and
    recording what the API acknowledged as committed."""

    def __init__(self, node, chain, keys, nonces):
        self.node, self.chain, self.keys, self.nonces = node, chain, keys, nonces
        self.acked = {}  # tx id -> (height, position)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(len(keys))]

    def run(self, i):
        key = self.keys[i]
        conn = None
        while not self.stop.is_set():
            tx = make_tx(key, self.chain, self.nonces[i])
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.node.port, timeout=10)
                conn.request("POST", "/v1/txs?wait=commit", jcs(tx),
                             {"Content-Type": "application/json"})
                r = conn.getresponse()
                body = json.loads(r.read())
            except (OSError, http.client.HTTPException, ValueError):
                conn = None
                time.sleep(0.01)
                continue
            if r.status == 200 and body.get("status") == "committed":
                with self.lock:
                    self.acked[tx_id(tx)] = (body["height"], body["position"])
                self.nonces[i] += 1
            elif r.status == 202:
                self.nonces[i] += 1  # admitted, not yet known committed: not counted
            elif r.status == 409:
                # A transaction admitted before the crash may or may not have
                # committed: resynchronise the nonce from committed state.
                try:
                    acct = self.node.get_json("/v1/state/account/" + key.did)
                    self.nonces[i] = acct["value"]["nonce"] if acct["value"] else 0
                except Exception:
                    time.sleep(0.01)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def check_all_committed(node, acked):
    for txid, (height, position) in acked.items():
        r = node.get_json("/v1/txs/" + txid)
        assert r["status"] == "committed", (txid, r)
        assert (r["height"], r["position"]) == (height, position), (txid, r, height, position)


def test_kill9_under_load():
    node = imilib.Node(IMID, config={"requests_per_second": 0}).start()
    try:
        chain = node.chain()
        keys = [imilib.Key() for _ in range(CLIENTS)]
        nonces = [0] * CLIENTS
        all_acked = {}
        rng = random.Random(4)
        for round_ in range(4):
            with Load(node, chain, keys, nonces) as load:
                time.sleep(0.5 + rng.random() * 1.5)
                node.kill9()  # while clients are mid-request
            with load.lock:
                all_acked.update(load.acked)
            assert load.acked, "round %d: nothing committed before the kill" % round_
            node.start()
            check_all_committed(node, all_acked)
        status = node.get_json("/v1/status")
        assert status["height"] >= max(h for h, _ in all_acked.values())
        # The chain continues after the last restart.
        key = keys[0]
        acct = node.get_json("/v1/state/account/" + key.did)
        code, _, body = node.submit(make_tx(key, chain, acct["value"]["nonce"]), wait=True)
        assert code == 200 and body["status"] == "committed", (code, body)
        print("kill -9 x4: %d acknowledged commits all present, height %d" %
              (len(all_acked), status["height"]))
    finally:
        node.cleanup()


def test_sigterm_under_load():
    node = imilib.Node(IMID, config={"requests_per_second": 0}).start()
    try:
        chain = node.chain()
        keys = [imilib.Key() for _ in range(CLIENTS)]
        nonces = [0] * CLIENTS
        with Load(node, chain, keys, nonces) as load:
            time.sleep(1.0)
            t0 = time.time()
            code = node.terminate(timeout=30)
            elapsed = time.time() - t0
        assert code == 0, code
        assert elapsed < 15, elapsed
        err = node.read_stderr()
        assert "imid: stopped" in err, err
        node.start()
        check_all_committed(node, load.acked)
        assert node.terminate() == 0
        print("SIGTERM under load: exit 0 in %.2fs, %d acknowledged commits present" %
              (elapsed, len(load.acked)))
    finally:
        node.cleanup()


if __name__ == "__main__":
    imilib.run_tests([("kill9_under_load", test_kill9_under_load),
                      ("sigterm_under_load", test_sigterm_under_load)])
