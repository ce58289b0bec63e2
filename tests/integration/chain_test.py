"""A real imid: signed transactions over HTTP are committed, and every answer
is checked independently: inclusion proofs (RFC 6962), state proofs (sparse
Merkle), block ids, the hash chain and commit certificates. Also the imi CLI
against the same node, with its exit codes.

usage: chain_test.py IMID IMI
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imilib  # noqa: E402
from imilib import jcs, make_tx, tx_id  # noqa: E402

IMID, IMI = sys.argv[1], sys.argv[2]


def check_block(node, height, status):
    b = node.get_json("/v1/blocks/%d" % height)
    header = b["header"]
    assert b["id"] == hashlib.sha256(jcs(header).encode()).hexdigest()
    assert header["height"] == height
    ids = [bytes.fromhex(tx_id(t)) for t in b["txs"]]
    assert header["tx_count"] == len(ids)
    assert bytes.fromhex(header["txs_root"]) == imilib.merkle_root(ids)
    if height > 0:
        prev = node.get_json("/v1/blocks/%d" % (height - 1))
        assert header["prev"] == prev["id"]
        assert header["time"] > prev["header"]["time"]
        assert imilib.verify_certificate(b["certificate"], status["chain"], height, b["id"],
                                         status["validators"])
    else:
        assert header["prev"] == "0" * 64 and b["certificate"] is None
    return b


def test_commit_and_proofs():
    node = imilib.Node(IMID, config={"requests_per_second": 0}).start()
    try:
        status = node.get_json("/v1/status")
        chain = status["chain"]
        assert status["height"] == 0 and len(status["validators"]) == 1
        assert status["primary"] == status["validators"][0]["id"]
        key = imilib.Key()
        txs = [make_tx(key, chain, n) for n in range(5)]
        # Submit all (nonce order), then wait for each.
        for tx in txs:
            code, ctype, body = node.submit(tx)
            assert code == 202 and body["id"] == tx_id(tx), (code, body)
        # Resubmitting returns the same id.
        code, _, body = node.submit(txs[0])
        assert code in (200, 202) and body["id"] == tx_id(txs[0]), (code, body)
        heights = set()
        for tx in txs:
            code, _, _ = node.request("POST", "/v1/txs?wait=commit", jcs(tx))
            assert code in (200, 202)
            r = node.get_json("/v1/txs/" + tx_id(tx))
            if r["status"] == "pending":
                code, _, body = node.submit(tx, wait=True)
                r = body
            assert r["status"] == "committed", r
            assert r["result"]["code"] == 0
            p = r["proof"]
            block = check_block(node, r["height"], status)
            assert p["root"] == block["header"]["txs_root"]
            assert p["index"] == r["position"] and p["tree_size"] == block["header"]["tx_count"]
            assert imilib.verify_inclusion(bytes.fromhex(tx_id(tx)), p["index"], p["tree_size"],
                                           [bytes.fromhex(h) for h in p["audit_path"]],
                                           bytes.fromhex(p["root"]))
            # A wrong leaf does not verify.
            assert not imilib.verify_inclusion(b"\x00" * 32, p["index"], p["tree_size"],
                                               [bytes.fromhex(h) for h in p["audit_path"]],
                                               bytes.fromhex(p["root"]))
            heights.add(r["height"])
        status = node.get_json("/v1/status")
        for h in range(0, status["height"] + 1):
            check_block(node, h, status)
        # Resubmitting a committed transaction (the first and the last of the
        # sender's) still answers its id, and nothing new is pending.
        for tx in (txs[0], txs[-1]):
            code, _, body = node.submit(tx)
            assert code in (200, 202) and body["id"] == tx_id(tx), (code, body)
            assert node.get_json("/v1/txs/" + tx_id(tx))["status"] == "committed"
        assert node.get_json("/v1/status")["height"] == status["height"]

        # State: the anchor record and the account, proven against the state root
        # of the block the answer names.
        for tx in txs:
            s = node.get_json("/v1/state/anchor/" + tx["args"]["hash"])
            assert s["value"]["by"] == key.did and s["value"]["tx"] == tx_id(tx)
            hdr = node.get_json("/v1/blocks/%d" % s["height"])["header"]
            assert s["state_root"] == hdr["state_root"]
            assert imilib.verify_state_proof(bytes.fromhex(s["state_root"]), "anchor",
                                             tx["args"]["hash"], jcs(s["value"]), s["proof"])
            assert not imilib.verify_state_proof(bytes.fromhex(s["state_root"]), "anchor",
                                                 tx["args"]["hash"], jcs({"forged": 1}),
                                                 s["proof"])
        acct = node.get_json("/v1/state/account/" + key.did)
        assert acct["value"]["nonce"] == 5
        assert imilib.verify_state_proof(bytes.fromhex(acct["state_root"]), "account", key.did,
                                         jcs(acct["value"]), acct["proof"])
        absent = node.get_json("/v1/state/anchor/" + "ab" * 32)
        assert absent["value"] is None
        assert imilib.verify_state_proof(bytes.fromhex(absent["state_root"]), "anchor",
                                         "ab" * 32, None, absent["proof"])

        # Paging through blocks.
        page = node.get_json("/v1/blocks?from=0&limit=2")
        assert [b["height"] for b in page["blocks"]] == [0, 1]
        # Long poll: a listing from the next height waits for that block.
        top = node.get_json("/v1/status")["height"]
        empty = node.get_json("/v1/blocks?from=%d&wait_ms=200" % (top + 1))
        assert empty == {"blocks": [], "next": top + 1}, empty
        waited = {}

        def wait_next():
            waited["page"] = node.get_json("/v1/blocks?from=%d&wait_ms=20000" % (top + 1))

        waiter = threading.Thread(target=wait_next)
        waiter.start()
        time.sleep(0.2)
        assert "page" not in waited  # still waiting: no block yet
        extra = make_tx(key, chain, 5)
        code, _, body = node.submit(extra)
        assert code == 202, (code, body)
        waiter.join(timeout=30)
        assert not waiter.is_alive()
        got = waited["page"]["blocks"]
        assert got and got[0]["height"] == top + 1, waited
        assert tx_id(extra) in [tx_id(t) for t in got[0]["txs"]], got[0]
        # Metrics name what happened.
        code, ctype, metrics = node.request("GET", "/metrics")
        assert code == 200 and b"imi_height" in metrics and b"imi_txs_admitted_total 6" in metrics
        assert b"imi_block_commit_seconds_bucket" in metrics
        assert b'imi_block_phase_seconds_total{phase="write"}' in metrics
        assert node.terminate() == 0
    finally:
        node.cleanup()


def test_events():
    """GET /v1/events on a real node: each block with its transactions'
    results, equal to what the REST reads say, and new blocks as they commit."""
    node = imilib.Node(IMID, config={"requests_per_second": 0}).start()
    try:
        chain = node.get_json("/v1/status")["chain"]
        key = imilib.Key()
        first = make_tx(key, chain, 0)
        code, _, body = node.submit(first, wait=True)
        assert code == 200 and body["status"] == "committed", (code, body)
        height = body["height"]
        ws = imilib.WebSocket(node.port, "/v1/events?from=%d" % height)
        assert ws.accepted, ws.status
        ev = json.loads(ws.recv())
        block = node.get_json("/v1/blocks/%d" % height)
        assert ev["type"] == "block" and ev["height"] == height and ev["id"] == block["id"]
        assert ev["time"] == block["header"]["time"]
        assert [t["id"] for t in ev["txs"]] == [tx_id(t) for t in block["txs"]]
        mine = ev["txs"][body["position"]]
        assert mine["id"] == tx_id(first) and mine["from"] == key.did
        assert mine["app"] == "anchor" and mine["op"] == "anchor"
        assert mine["result"] == body["result"], (mine, body)
        # A transaction sent now arrives on the stream when its block commits.
        second = make_tx(key, chain, 1)
        code, _, sent = node.submit(second)
        assert code == 202, (code, sent)
        seen = None
        while seen is None:
            ev = json.loads(ws.recv())
            for t in ev["txs"]:
                if t["id"] == tx_id(second):
                    seen = (ev, t)
        assert seen[1]["result"]["code"] == 0
        got = node.get_json("/v1/txs/" + tx_id(second))
        assert got["status"] == "committed" and got["height"] == seen[0]["height"]
        # The stream takes no messages: a text frame closes it with 1008.
        ws.send(0x1, b"subscribe")
        while ws.recv() is not None:
            pass
        assert ws.close_code == 1008, ws.close_code
        ws.sock.close()
        # Without an upgrade: 426.
        code, ctype, raw = node.request("GET", "/v1/events")
        assert code == 426 and ctype == "application/problem+json", (code, raw)
        assert node.terminate() == 0
    finally:
        node.cleanup()


def run_cli(node, *args, env=None):
    e = dict(os.environ, IMI_KEY_PASSWORD="cli-password", IMI_NODE=node.url)
    e.update(env or {})
    p = subprocess.run([IMI] + list(args), env=e, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_cli():
    node = imilib.Node(IMID).start()
    tmp = tempfile.mkdtemp(prefix="imi-cli-")
    try:
        keyfile = os.path.join(tmp, "alice.key")
        code, out, err = run_cli(node, "key", "new", "--out", keyfile)
        assert code == 0 and "did:imi:" in out, (code, out, err)
        code, out, _ = run_cli(node, "--json", "key", "show", keyfile)
        did = json.loads(out)["did"]
        code, out, _ = run_cli(node, "status")
        assert code == 0 and "chain:" in out and "imi-it" in out

        doc = os.path.join(tmp, "doc.txt")
        with open(doc, "w") as f:
            f.write("minutes of the meeting\n")
        code, out, err = run_cli(node, "--json", "anchor", doc, "--key", keyfile, "--wait")
        assert code == 0, (code, out, err)
        r = json.loads(out)
        assert r["status"] == "committed" and r["result"]["code"] == 0
        digest = hashlib.sha256(b"minutes of the meeting\n").hexdigest()
        s = node.get_json("/v1/state/anchor/" + digest)
        assert s["value"]["by"] == did

        # The same document again: committed, but the app says duplicate (exit 5).
        code, out, err = run_cli(node, "anchor", doc, "--key", keyfile, "--wait")
        assert code == 5 and "code 100" in out, (code, out, err)
        # Generic send; the nonce comes from the node.
        code, out, err = run_cli(node, "tx", "send", "--app", "anchor", "--op", "anchor",
                                 "--args", jcs({"hash": "cd" * 32}), "--key", keyfile, "--wait")
        assert code == 0 and "committed" in out, (code, out, err)
        txid = [ln.split()[1] for ln in out.splitlines() if ln.startswith("id:")][0]
        code, out, _ = run_cli(node, "tx", "get", txid)
        assert code == 0 and "proof:" in out
        code, out, _ = run_cli(node, "block", "get", "1")
        assert code == 0 and "certified: view" in out
        # Following: the blocks already there from --from, then one that commits while it waits.
        top = node.get_json("/v1/status")["height"]
        code, out, err = run_cli(node, "--json", "block", "follow", "--from", "1", "--count",
                                 str(top))
        assert code == 0, (code, out, err)
        followed = [json.loads(ln) for ln in out.splitlines()]
        assert [b["height"] for b in followed] == list(range(1, top + 1))
        assert followed[0] == node.get_json("/v1/blocks/1")
        e = dict(os.environ, IMI_NODE=node.url)
        follower = subprocess.Popen([IMI, "block", "follow", "--count", "1"], env=e,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        assert follower.poll() is None  # waiting for the next block
        code, out, err = run_cli(node, "tx", "send", "--app", "anchor", "--op", "anchor",
                                 "--args", jcs({"hash": "ce" * 32}), "--key", keyfile, "--wait")
        assert code == 0, (code, out, err)
        out, err = follower.communicate(timeout=30)
        assert follower.returncode == 0, (out, err)
        assert out.startswith("height %d " % (top + 1)) and "txs 1" in out, out
        for bad in (["--from", "x"], ["--count", "-1"]):
            code, _, err = run_cli(node, "block", "follow", *bad)
            assert code == 2, (bad, code, err)
        # Errors say what to do and exit with the documented codes.
        code, _, err = run_cli(node, "tx", "send", "--app", "anchor", "--op", "nope", "--key",
                               keyfile)
        assert code == 1 and "unknown-op" not in err and "tx.unknown_op" in err, (code, err)
        code, _, err = run_cli(node, "tx", "send", "--app", "anchor", "--op", "anchor",
                               "--args", "{\"x\":1.5}", "--key", keyfile)
        assert code == 2 and "strict JSON" in err
        code, _, err = run_cli(node, "tx", "get", "00" * 32)
        assert code == 1 and "404" in err
        code, _, err = run_cli(node, "statu")
        assert code == 2
        code, _, err = run_cli(node, "anchor", doc, "--key", keyfile,
                               env={"IMI_KEY_PASSWORD": "wrong"})
        assert code == 4 and "wrong_password" in err, (code, err)
        code, _, err = run_cli(node, "--node", "http://127.0.0.1:1", "status")
        assert code == 3 and "cannot reach" in err
        assert node.terminate() == 0
    finally:
        node.cleanup()
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    imilib.run_tests([("commit_and_proofs", test_commit_and_proofs), ("events", test_events),
                      ("cli", test_cli)])
