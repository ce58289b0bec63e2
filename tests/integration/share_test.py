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
import imilib  # noqa: E402
from netlib import Network, log  # noqa: E402

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


def run_tour(net, node, victim, work, presentation):
    """Runs the tour against `node`; kills `victim` with SIGKILL when the tour
    reaches Alice's accept and restarts it when the tour reaches the skill
    issuer. Returns the tour's output."""
    cmd = [TOUR, "share", "--node", node.url, "--homes", net.dir, "--imi", IMI, "--work", work,
           "--presentation", presentation]
    env = dict(os.environ, IMI_KEY_PASSWORD="tour-test-password")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines = []
    killed = restarted = False
    deadline = time.time() + 240
    for line in proc.stdout:
        lines.append(line)
        print("tour| " + line, end="", flush=True)
        if not killed and line.startswith("== Alice accepts"):
            log("kill -9 %s in the middle of the tour" % victim.name)
            victim.kill9()
            killed = True
        if killed and not restarted and line.startswith("== a skill_issuer"):
            victim.start()
            log("restarted %s" % victim.name)
            restarted = True
        assert time.time() < deadline, "the tour runs past 240 s"
    code = proc.wait(timeout=30)
    out = "".join(lines)
    assert code == 0, "the tour failed (exit %d)" % code
    assert killed and restarted, "the tour never reached the kill and restart points"
    return out


def check_proof(node, answer, key, value):
    """`value` under share/`key` is proven against the state root of the block
    the answer names."""
    header = node.get_json("/v1/blocks/%d" % answer["height"])["header"]
    assert answer["state_root"] == header["state_root"], (answer["height"], answer["state_root"])
    root = bytes.fromhex(answer["state_root"])
    assert imilib.verify_state_proof(root, "share", key, imilib.jcs(value), answer["proof"]), key
    assert not imilib.verify_state_proof(root, "share", key, imilib.jcs({"forged": 1}),
                                         answer["proof"]), key


def state(node, key):
    s = node.get_json("/v1/state/share/" + key.replace("/", "%2F"))
    if s["value"] is not None:
        check_proof(node, s, key, s["value"])
    return s["value"]


def query(node, name, **params):
    """Every item of an app query (all pages), each proof checked."""
    items, cursor = [], None
    while True:
        q = "&".join("%s=%s" % (k, v) for k, v in params.items())
        if cursor:
            q += "&cursor=" + cursor
        page = node.get_json("/v1/apps/share/%s?%s" % (name, q))
        assert page["app"] == "share" and page["query"] == name, page
        header = node.get_json("/v1/blocks/%d" % page["height"])["header"]
        assert page["state_root"] == header["state_root"]
        root = bytes.fromhex(page["state_root"])
        for it in page["items"]:
            assert imilib.verify_state_proof(root, "share", it["key"], imilib.jcs(it["value"]),
                                             it["proof"]), it["key"]
        items += page["items"]
        cursor = page.get("next")
        if not cursor:
            return items


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


def check_no_personal_data(blocks, secrets):
    for height, _, _, b in blocks:
        text = json.dumps(b)
        for s in secrets:
            assert s not in text, "block %d holds %r" % (height, s)
    log("no planted personal data in %d blocks (%d strings)" % (len(blocks), len(secrets)))


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
        check_no_personal_data(blocks, secrets)
        net.stop_all()
        ok = True
        log("share test passed in %.0f s (%d blocks)" % (time.time() - started, top + 1))
    finally:
        if not ok:
            net.dump_logs()
        net.cleanup()


if __name__ == "__main__":
    main()
