"""One-door approval end to end (issue 18): a real 4-validator network
(`imi testnet`, every link proxied by netlib.py) and scripts/tour.sh approval
run against it with the `imi` CLI only: governance grants the roles, a
daughter opens her mother's case on her behalf, a window accepts, the
housing fund answers the department's question, the materials are added
(an anchored lease, a sealed identity presentation) and verified, the
department approves and issues the certificate (an SD-JWT VC), a landlord's
node verifies it, the mother rates; a second matter's case with a 4 s
statutory limit goes overdue on an idle chain. One validator is killed with
SIGKILL when the window accepts the case and restarted when the department
approves; the chain keeps committing and the restarted node catches up.

Then, on every node: the same blocks, state roots and verified commit
certificates; the case records, materials, question and matters read through
the app queries and GET /v1/state, each sparse-Merkle proof checked
independently (imilib) against the state root of the block the answer names;
the stats summary; the case_overdue event among a block's fired deadlines;
and no planted personal data (name, phone number, ID number, birth date, the
certificate's claim values, the commitment's salt, the disclosures) in any
block, although they travelled in the sealed presentation and the certificate.

usage: approval_test.py IMID IMI TOUR_SH
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imilib  # noqa: E402
from netlib import Network, log  # noqa: E402

IMID, IMI, TOUR = sys.argv[1], sys.argv[2], sys.argv[3]
SHORT_LIMIT_MS = 4000
NAME = "Zhao Xiuying"
PHONE = "13712349876"
ID_NUMBER = "11010119480315004X"
BIRTH = "1948-03-15"
ADDRESS = "7 Willow Court, North District"
HOUSEHOLD = "Zhao-household-5521"
MATTER, QUICK = "residence-permit", "street-stall"


def run_tour(net, node, victim, work):
    cmd = [TOUR, "approval", "--node", node.url, "--homes", net.dir, "--imi", IMI, "--work", work,
           "--short-limit", str(SHORT_LIMIT_MS),
           "--resident-claims", json.dumps({"name": NAME, "phone": PHONE, "id_number": ID_NUMBER,
                                            "birth_date": BIRTH}),
           "--birth-date", BIRTH,
           "--certificate-claims", json.dumps({"registered_address": ADDRESS,
                                               "household": HOUSEHOLD})]
    env = dict(os.environ, IMI_KEY_PASSWORD="tour-test-password")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines = []
    killed = restarted = False
    deadline = time.time() + 240
    for line in proc.stdout:
        lines.append(line)
        print("tour| " + line, end="", flush=True)
        if not killed and line.startswith("== the window accepts the case"):
            log("kill -9 %s in the middle of the case" % victim.name)
            victim.kill9()
            killed = True
        if killed and not restarted and line.startswith("== the department approves"):
            victim.start()
            log("restarted %s" % victim.name)
            restarted = True
        assert time.time() < deadline, "the tour runs past 240 s"
    code = proc.wait(timeout=30)
    assert code == 0, "the tour failed (exit %d)" % code
    assert killed and restarted, "the tour never reached the kill and restart points"
    return "".join(lines)


def proven(node, answer, key, value):
    """`value` under approval/`key` is proven against the state root of the
    block the answer names (and a forged value is not)."""
    header = node.get_json("/v1/blocks/%d" % answer["height"])["header"]
    assert answer["state_root"] == header["state_root"], (answer["height"], answer["state_root"])
    root = bytes.fromhex(answer["state_root"])
    assert imilib.verify_state_proof(root, "approval", key, imilib.jcs(value), answer["proof"]), key
    assert not imilib.verify_state_proof(root, "approval", key, imilib.jcs({"forged": 1}),
                                         answer["proof"]), key


def state(node, key):
    s = node.get_json("/v1/state/approval/" + key.replace("/", "%2F"))
    assert s["value"] is not None, key
    proven(node, s, key, s["value"])
    return s["value"]


def query(node, name, **params):
    """Every item of an app query (all pages), each proof checked; and the
    summary of the first page, if any."""
    items, cursor, summary = [], None, None
    while True:
        q = "&".join("%s=%s" % (k, v) for k, v in params.items())
        if cursor:
            q += "&cursor=" + cursor
        page = node.get_json("/v1/apps/approval/%s?%s" % (name, q))
        assert page["app"] == "approval" and page["query"] == name, page
        header = node.get_json("/v1/blocks/%d" % page["height"])["header"]
        assert page["state_root"] == header["state_root"]
        root = bytes.fromhex(page["state_root"])
        for it in page["items"]:
            assert imilib.verify_state_proof(root, "approval", it["key"], imilib.jcs(it["value"]),
                                             it["proof"]), it["key"]
        if summary is None:
            summary = page.get("summary")
        items += page["items"]
        cursor = page.get("next")
        if not cursor:
            return items, summary


def check_records(net, who, ids, cert_hash, day):
    for node in net.nodes:
        c = state(node, "case/" + ids["case"])
        assert c["applicant"] == who["mei"] and c["sender"] == who["lan"], c
        assert c["status"] == "decided" and c["decision"] == "approved", c
        assert c["decided_by"] == who["dept"] and c["rating"] == 5 and not c["overdue"], c
        assert c["certificate"]["hash"] == cert_hash, c
        assert c["certificate"]["status_list"] == "imi:status-list/identity/%s/certs" % who["dept"]
        lease = state(node, "material/%s/lease" % ids["case"])
        assert lease["verified"]["ok"] is True and re.fullmatch(r"[0-9a-f]{64}", lease["hash"])
        ident = state(node, "material/%s/identity" % ids["case"])
        assert ident["verified"]["ok"] is True and ident["commitment"] == ids["opening_hash"]
        q = state(node, "question/%s/no-arrears" % ids["case"])
        assert q["status"] == "answered" and q["authority"] == who["fund"], q
        late = state(node, "case/" + ids["late"])
        assert late["overdue"] is True and late["status"] == "in_review", late
        assert late["due"] - late["accepted_at"] == SHORT_LIMIT_MS, late
        cases, _ = query(node, "cases", applicant=who["mei"])
        assert {it["value"]["id"] for it in cases} == {ids["case"], ids["late"]}, cases
        open_cases, _ = query(node, "open", matter=QUICK)
        assert [it["value"]["id"] for it in open_cases] == [ids["late"]], open_cases
        matters, _ = query(node, "matters")
        assert {it["value"]["matter"] for it in matters} == {MATTER, QUICK}, matters
        _, summary = query(node, "stats", matter=MATTER, **{"from": day - 1, "to": day})
        assert summary["opened"] == 1 and summary["accepted"] == 1, summary
        assert summary["approved"] == 1 and summary["rating_mean_milli"] == 5000, summary
        assert summary["satisfied_permille"] == 1000, summary
        _, summary = query(node, "stats", matter=QUICK, **{"from": day - 1, "to": day})
        assert summary["overdue"] == 1 and summary["decided"] == 0, summary
    log("records, queries and proofs checked on %d nodes" % len(net.nodes))


def check_overdue_event(blocks, who, ids):
    for _, _, _, b in blocks:
        for d in b.get("deadlines", []):
            for e in d.get("events", []):
                if e.get("type") == "case_overdue" and e.get("case") == ids["late"]:
                    assert d["app"] == "approval" and d["key"] == "case/" + ids["late"], d
                    assert e["supervisor"] == who["supervisor"] and e["matter"] == QUICK, e
                    return
    raise AssertionError("no case_overdue event for %s in any block" % ids["late"])


def disclosures(path):
    with open(path) as f:
        return [p for p in f.read().strip().split("~")[1:] if p and "." not in p]


def check_no_personal_data(blocks, secrets):
    for height, _, _, b in blocks:
        text = json.dumps(b)
        for s in secrets:
            assert s not in text, "block %d holds %r" % (height, s)
    log("no planted personal data in %d blocks (%d strings)" % (len(blocks), len(secrets)))


def main():
    net = Network(IMID, IMI, validators=4, chain="imi-approval")
    tmp = tempfile.mkdtemp(prefix="imi-approval-")
    ok = False
    started = time.time()
    try:
        net.start()
        net.wait_connected()
        work = os.path.join(tmp, "tour")
        out = run_tour(net, net.nodes[0], net.nodes[3], work)
        who = dict(re.findall(r"^(centre|dept|fund|supervisor|mei|lan)=(did:imi:[0-9a-f]{40})$",
                              out, re.M))
        by_step, title = {}, None
        for t, rec in re.findall(r"^== (.*)$|^record: +([0-9a-f]{32})$", out, re.M):
            if t:
                title = t
            elif title not in by_step:
                by_step[title] = rec
        ids = {"case": by_step["Lan opens Mei's case from home on her behalf"],
               "late": next(v for k, v in by_step.items() if k.startswith("a window opens"))}
        with open(os.path.join(work, "mei-identity-opening.json")) as f:
            opening = f.read().rstrip("\n")
        ids["opening_hash"] = hashlib.sha256(opening.encode()).hexdigest()
        salt = json.loads(opening)["salt"]
        with open(os.path.join(work, "mei-certificate.vc")) as f:
            cert = f.read().strip()
        cert_hash = hashlib.sha256(cert.encode()).hexdigest()

        top, blocks = net.check_identical()
        assert all(n.running for n in net.nodes)
        day = int(time.time()) // 86400
        check_records(net, who, ids, cert_hash, day)
        check_overdue_event(blocks, who, ids)
        secrets = [NAME, PHONE, ID_NUMBER, BIRTH, ADDRESS, HOUSEHOLD, salt, cert]
        secrets += disclosures(os.path.join(work, "mei-identity.vc"))
        secrets += disclosures(os.path.join(work, "mei-certificate.vc"))
        with open(os.path.join(work, "mei-identity-presentation.txt")) as f:
            secrets.append(f.read().strip())
        check_no_personal_data(blocks, secrets)
        net.stop_all()
        ok = True
        log("approval test passed in %.0f s (%d blocks)" % (time.time() - started, top + 1))
    finally:
        if not ok:
            net.dump_logs()
        net.cleanup()


if __name__ == "__main__":
    main()
