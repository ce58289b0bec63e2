"""Process-level Byzantine test (issue 5): a 4-validator network whose view-0
primary runs imid-byzantine (a test-only build, node/byzantine/) and, with
IMI_BYZANTINE=equivocate, signs two different blocks for every height it
proposes, sending one to some validators and the other to the rest. The three
honest validators must stay safe -- identical blocks and state roots, every
acknowledged transaction committed -- and record the evidence durably.

usage: byzantine_test.py IMID IMID_BYZANTINE IMI
"""

import json
import os
import subprocess
import sys

import nacl.exceptions
import nacl.signing

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imilib  # noqa: E402
from netlib import Load, Network, log  # noqa: E402

IMID, IMID_BYZ, IMI = sys.argv[1], sys.argv[2], sys.argv[3]


def verify_evidence(line, byz):
    """Both messages of a piece of evidence are proposals signed by `byz` for
    one height and view but different blocks (checked here, not trusted)."""
    e = json.loads(line)
    assert e["kind"] == "conflicting_proposal", e
    assert e["validator"] == byz.did, e
    first, second = bytes.fromhex(e["first"]), bytes.fromhex(e["second"])
    assert first != second
    return e["height"]


def check_api_evidence(node, byz, byz_key):
    """GET /v1/evidence gives each piece with the exact text the equivocator
    signed: verify both signatures here with its public key (trusting the
    node for nothing), and that the two texts name one height and view but
    different blocks. Returns the heights."""
    heights = set()
    start = 0
    while start is not None:
        code, ctype, data = node.request("GET", "/v1/evidence?limit=2&from=%d" % start)
        assert code == 200 and ctype.startswith("application/json"), (code, data[:300])
        page = json.loads(data)
        for piece in page["evidence"]:
            assert "error" not in piece, piece
            assert piece["validator"] == byz.did and piece["kind"] == "conflicting_proposal"
            signed = []
            for m in (piece["first"], piece["second"]):
                assert m["type"] == "proposal" and m["signer"] == byz.did, m
                msg = (m["domain"] + "\n" + m["signed"]).encode()
                try:
                    nacl.signing.VerifyKey(byz_key).verify(msg, bytes.fromhex(m["sig"]))
                except nacl.exceptions.BadSignatureError:
                    raise AssertionError("evidence signature does not verify: %r" % m)
                signed.append(json.loads(m["signed"]))
                assert signed[-1]["block"] == m["block"] and signed[-1]["height"] == m["height"]
            a, b = signed
            assert (a["height"], a["view"]) == (b["height"], b["view"]) == (piece["height"], piece["view"])
            assert a["block"] != b["block"], piece
            heights.add(piece["height"])
        start = page["next"]
    return heights


def main():
    os.environ["IMI_BYZANTINE"] = "equivocate"
    net = Network(IMID, IMI, validators=4, chain="imi-byz")
    ok = False
    try:
        # primary(view 0) = the validator with the lowest DID.
        byz = min(net.validators, key=lambda n: n.did)
        byz.imid = IMID_BYZ
        honest = [n for n in net.validators if n is not byz]
        net.start()
        # It equivocates only as primary of view 0, i.e. at the first height:
        # a proposal sent before a session is up never reaches that peer, so
        # the load starts once every validator is connected to every other.
        net.wait_connected()
        load = Load(net, threads=2)
        load.wait_more(300, timeout=90)
        acked = load.stop()
        log("%d transactions acknowledged as committed" % len(acked))
        assert "equivocated at height" in byz.read_stderr(), byz.log_tail(20)

        # Safety among the honest nodes (and the byzantine one agrees too).
        top, _ = net.check_identical(nodes=honest)
        assert top >= 1
        net.check_committed(acked, nodes=honest)

        # Evidence: at least one honest node saved it, and it holds up.
        heights = set()
        for n in honest:
            path = os.path.join(n.home, "data", "evidence.jsonl")
            if os.path.exists(path):
                with open(path) as f:
                    for line in f:
                        heights.add(verify_evidence(line, byz))
                assert "EVIDENCE: " + byz.did in n.read_stderr()
        assert heights, "no honest node recorded the equivocation"
        # The same evidence over the API, each signature checked here.
        keys = {v["id"]: bytes.fromhex(v["key"]) for v in honest[0].status()["validators"]}
        api_heights = set()
        for n in honest:
            api_heights |= check_api_evidence(n, byz, keys[byz.did])
        assert api_heights == heights, (api_heights, heights)
        code, _, data = honest[0].request("GET", "/v1/evidence?limit=0")
        assert code == 400, (code, data)

        # `imi evidence` checks every piece itself (exit 0), and a tampered
        # piece does not hold up (exit 7).
        holder = next(n for n in honest
                      if os.path.exists(os.path.join(n.home, "data", "evidence.jsonl")))
        out = subprocess.run([IMI, "--node", holder.url, "evidence"], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, (out.returncode, out.stdout[-500:], out.stderr[-500:])
        assert "both signatures verify" in out.stdout and "DOES NOT HOLD UP" not in out.stdout
        summary = json.loads(subprocess.run([IMI, "--node", holder.url, "--json", "evidence"],
                                            capture_output=True, text=True, timeout=60).stdout)
        assert summary["pieces"] > 0 and summary["verified"] == summary["pieces"], summary
        path = os.path.join(holder.home, "data", "evidence.jsonl")
        with open(path, "r+b") as f:
            first_line = f.readline()
            e = json.loads(first_line)
            at = first_line.index(b'"second":"') + len(b'"second":"') + len(e["second"]) - 10
            f.seek(at)
            f.write(b"0" if first_line[at:at + 1] != b"0" else b"1")  # inside the signature
        out = subprocess.run([IMI, "--node", holder.url, "evidence"], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 7, (out.returncode, out.stdout[-500:])
        assert "evidence 0:" in out.stdout and "DOES NOT HOLD UP" in out.stdout, out.stdout[:500]
        log("imi evidence: %d piece(s) verified; a tampered one is caught" % summary["pieces"])
        log("evidence of equivocation at %d height(s) recorded" % len(heights))
        net.stop_all()
        ok = True
    finally:
        if not ok or os.environ.get("IMI_NET_LOGS"):
            net.dump_logs(int(os.environ.get("IMI_NET_LOGS", "60")))
        net.cleanup()
    print("byzantine: ok")


if __name__ == "__main__":
    main()
