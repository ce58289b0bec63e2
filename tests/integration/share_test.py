"""Community sharing end to end (issue 17): a real 4-validator network
(`imi testnet`, every link proxied by netlib.py) whose genesis sets the share
app's urgent_expiry_ms_min to 2 s, and scripts/tour.sh share run against it
with the `imi` CLI only. One validator is killed with SIGKILL in the middle
of the tour and restarted later; the chain keeps committing and the
restarted node catches up.

Then, on every node: the same blocks, state roots and verified commit
certificates; the tour's records (listings, loans, urgent requests,
reputations) read through the app queries and GET /v1/state with each
sparse-Merkle proof checked independently (imilib) against the state root of
the block the answer names; the escalated request and its urgent_escalated
event among the block's fired deadlines; and no planted personal data (a
phone number, an 18-character ID number, a claim value, the commitment's
salt) in any block, although the resident's presentation holding them was
sealed into a loan request.

usage: share_test.py IMID IMI TOUR_SH
"""

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlib import Network, log  # noqa: E402
import tourlib  # noqa: E402

IMID, IMI, TOUR = sys.argv[1], sys.argv[2], sys.argv[3]
URGENT_EXPIRY_MS_MIN = 2000
PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"
CLAIM = "no criminal record since 1999"


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_json(value):
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def planted_presentation():
    """An SD-JWT-shaped presentation whose disclosures and key-binding JWT
    carry the planted values, both encoded and (in a disclosure's salt slot)
    in plain text. The share app only seals it; nothing checks its form."""
    jwt = ".".join([b64url_json({"alg": "EdDSA", "typ": "dc+sd-jwt"}),
                    b64url_json({"iss": "did:imi:" + "1" * 40, "vct": "no_criminal_record"}),
                    b64url(b"\x01" * 64)])
    disclosures = [b64url_json(["s1", "phone", PHONE]),
                   b64url_json(["s2", "id_number", ID_NUMBER]),
                   b64url_json(["s3", "record", CLAIM])]
    kb = ".".join([b64url_json({"alg": "EdDSA", "typ": "kb+jwt"}),
                   b64url_json({"aud": "lender", "nonce": "n-1", "iat": 1}),
                   b64url(b"\x02" * 64)])
    # Plain text too, in case a client ever posted the presentation as it is.
    return "~".join([jwt] + disclosures + [kb]) + "\n# " + PHONE + " " + ID_NUMBER + " " + CLAIM


def set_share_genesis(net):
    """The same edit to every home's genesis.json (before the first start)."""
    for n in net.nodes:
        path = os.path.join(n.home, "genesis.json")
        with open(path) as f:
            g = json.load(f)
        g["apps"] = {"share": {"urgent_expiry_ms_min": URGENT_EXPIRY_MS_MIN}}
        with open(path, "w") as f:
            json.dump(g, f, separators=(",", ":"))










SHARE = tourlib.AppReader("share")


def state(node, key):
    return SHARE.state(node, key)


def query(node, name, **params):
    return SHARE.query(node, name, **params)[0]


def run_tour(net, node, victim, work, presentation):
    """The tour against `node`; `victim` is killed at Alice's accept and
    restarted at the skill issuer."""
    cmd = [TOUR, "share", "--node", node.url, "--homes", net.dir, "--imi", IMI, "--work", work,
           "--presentation", presentation]
    return tourlib.run_tour(cmd, victim, "== Alice accepts", "== a skill_issuer", log)


def check_records(net, who, ids):
    for node in net.nodes:
        # Lending: the bicycle loan returned on time and rated both ways.
        loans = {it["value"]["id"]: it["value"] for it in query(node, "loans", did=who["bob"])}
        loan = loans[ids["bike_loan"]]
        assert loan["status"] == "returned" and loan["on_time"] is True, loan
        assert loan["lender"] == who["alice"] and loan["borrower"] == who["bob"], loan
        assert loan["rated_by_lender"] and loan["rated_by_borrower"], loan
        assert state(node, "loan/" + ids["bike_loan"]) == loan
        for d in (who["alice"], who["bob"]):
            rep = state(node, "reputation/" + d)
            assert rep["ratings_count"] == 1 and rep["ratings_sum"] == 5, (d, rep)
        # The requirements listing's loan: sealed box and commitment only.
        sealed_loan = loans[ids["cargo_loan"]]
        assert sealed_loan["status"] == "accepted" and sealed_loan["requirements_checked"]
        assert re.fullmatch(r"[0-9a-f]{64}", sealed_loan["commitment"])
        assert sealed_loan["sealed"] and ids["opening_hash"] == sealed_loan["commitment"]
        # Urgent help: the first request answered and arrived, the second escalated.
        help1 = state(node, "urgent/" + ids["help1"])
        assert help1["status"] == "arrived" and help1["responder"] == who["carol"], help1
        help2 = state(node, "urgent/" + ids["help2"])
        assert help2["status"] == "escalated" and help2["requester"] == who["dave"], help2
        assert help2["expires"] - help2["created"] == URGENT_EXPIRY_MS_MIN, help2
        assert state(node, "skill/%s/first_aid" % who["carol"])["issuer"] == who["issuer"]
        responders = query(node, "responders", skill="first_aid", cell="r12c8")
        assert who["carol"] in [it["value"]["did"] for it in responders], responders
        assert all(it["value"]["id"] != ids["help2"] for it in query(node, "urgent", cell="r12c7"))
        # Delegation: Fay listed Eve's walking frame; Eve owns it.
        owned = {it["value"]["id"]: it["value"] for it in query(node, "owned", did=who["eve"])}
        assert owned[ids["frame"]]["owner"] == who["eve"], owned
        assert state(node, "listing/" + ids["frame"])["owner"] == who["eve"]
    log("records and proofs checked on %d nodes" % len(net.nodes))


def check_escalation_event(blocks, who, ids):
    """The deadline that escalated Dave's request fired in a block, with the
    urgent_escalated event the dispatch app consumes."""
    for _, _, _, b in blocks:
        for d in b.get("deadlines", []):
            for e in d.get("events", []):
                if e.get("type") == "urgent_escalated" and e.get("urgent") == ids["help2"]:
                    assert d["app"] == "share" and d["key"] == "urgent/" + ids["help2"], d
                    assert d["code"] == 0, d
                    assert set(e) == {"type", "urgent", "skill", "cell", "committee", "requester",
                                      "created", "expires"}, e
                    assert (e["skill"], e["cell"], e["committee"], e["requester"]) == (
                        "first_aid", "r12c7", "east-lane", who["dave"]), e
                    return
    raise AssertionError("no urgent_escalated event for %s in any block" % ids["help2"])




def main():
    net = Network(IMID, IMI, validators=4, chain="imi-share")
    tmp = tempfile.mkdtemp(prefix="imi-share-")
    ok = False
    started = time.time()
    try:
        set_share_genesis(net)
        net.start()
        net.wait_connected()
        presentation = os.path.join(tmp, "presentation.txt")
        with open(presentation, "w") as f:
            f.write(planted_presentation())
        work = os.path.join(tmp, "tour")
        out = run_tour(net, net.nodes[0], net.nodes[3], work, presentation)

        who = dict(re.findall(r"^(alice|bob|carol|dave|eve|fay)=(did:imi:[0-9a-f]{40})$", out,
                              re.M))
        who["issuer"] = json.loads(subprocess.run(
            [IMI, "--json", "key", "show", os.path.join(work, "issuer.key")], check=True,
            stdout=subprocess.PIPE).stdout)["did"]
        records = re.findall(r"^== (.*)$|^record: +([0-9a-f]{32})$", out, re.M)
        # The record id printed after each step's first command, by step title.
        by_step, title = {}, None
        for t, rec in records:
            if t:
                title = t
            elif title not in by_step:
                by_step[title] = rec
        ids = {
            "bike_loan": by_step["Bob requests it until now + 7 days"],
            "cargo_loan": next(v for k, v in by_step.items() if k.startswith("Bob requests it with")),
            "help1": by_step["Bob asks for first aid in r12c7 (a neighbour of r12c8)"],
            "help2": next(v for k, v in by_step.items() if k.startswith("Dave asks")),
            "frame": by_step["Fay lists Eve's walking frame on Eve's behalf"],
        }
        with open(os.path.join(work, "bob-cargo-opening.json")) as f:
            opening = f.read().rstrip("\n")
        ids["opening_hash"] = hashlib.sha256(opening.encode()).hexdigest()
        salt = json.loads(opening)["salt"]
        assert PHONE in opening and ID_NUMBER in opening, "the opening lost the planted data"

        top, blocks = net.check_identical()
        assert all(n.running for n in net.nodes)
        check_records(net, who, ids)
        check_escalation_event(blocks, who, ids)
        secrets = [PHONE, ID_NUMBER, CLAIM, salt, b64url(PHONE.encode()),
                   b64url(ID_NUMBER.encode())]
        secrets += [p for p in planted_presentation().split("\n")[0].split("~")[1:4]]
        tourlib.check_no_personal_data(blocks, secrets, log)
        net.stop_all()
        ok = True
        log("share test passed in %.0f s (%d blocks)" % (time.time() - started, top + 1))
    finally:
        if not ok:
            net.dump_logs()
        net.cleanup()


if __name__ == "__main__":
    main()
