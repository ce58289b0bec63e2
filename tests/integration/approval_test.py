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
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlib import Network, log  # noqa: E402
import tourlib  # noqa: E402

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
    return tourlib.run_tour(cmd, victim, "== the window accepts the case",
                            "== the department approves", log)


APPROVAL = tourlib.AppReader("approval")


def state(node, key):
    value = APPROVAL.state(node, key)
    assert value is not None, key
    return value


def query(node, name, **params):
    return APPROVAL.query(node, name, **params)


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
        tourlib.check_no_personal_data(blocks, secrets, log)
        net.stop_all()
        ok = True
        log("approval test passed in %.0f s (%d blocks)" % (time.time() - started, top + 1))
    finally:
        if not ok:
            net.dump_logs()
        net.cleanup()


if __name__ == "__main__":
    main()
