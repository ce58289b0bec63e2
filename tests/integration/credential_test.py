"""Credentials end to end through real processes: a dev imid, and the imi CLI
for every step a registrar, an issuer, a resident and a verifier take
(docs/credentials.md walks through the same commands).

Governance grants the registrar and issuer roles; registrars register DIDs
with signed attestations; the issuer creates its status list, issues an SD-JWT
VC with `imi credential issue`, the resident presents it with
`imi credential present`, and `imi credential verify` has the node check it.
Then every way it must fail: wrong audience, wrong nonce, a tampered
disclosure, a suspended then revoked credential, a rotated holder key, a
frozen DID and a recovered DID whose old key is no longer current. Each
failure asserts the exit code and the name of the failing check.

usage: credential_test.py IMID IMI
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imilib  # noqa: E402
from imilib import jcs  # noqa: E402

IMID, IMI = sys.argv[1], sys.argv[2]

AUDIENCE = "did:imi:civil-affairs-window-3"
NONCE = "c8f1e2a7-visit-42"
NAME = "Li Wei"
BIRTH = "1990-05-17"


class Cli:
    """Runs imi against one node, with every keystore under one password."""

    def __init__(self, node, tmp):
        self.node = node
        self.tmp = tmp

    def run(self, *args):
        env = dict(os.environ, IMI_KEY_PASSWORD=imilib.PASSWORD, IMI_NODE=self.node.url)
        p = subprocess.run([IMI] + [str(a) for a in args], env=env, capture_output=True,
                           text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args):
        code, out, err = self.run(*args)
        assert code == 0, (args, code, out, err)
        return out

    def json(self, *args, expect=0):
        code, out, err = self.run("--json", *args)
        assert code == expect, (args, code, out, err)
        return json.loads(out)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def new_key(self, name):
        """A keystore file; returns (path, did, public key hex)."""
        k = self.json("key", "new", "--out", self.path(name + ".key"))
        return self.path(name + ".key"), k["did"], k["key"]

    def register(self, who, registrar_key):
        """The registrar attests `who`'s key; `who` sends the registration."""
        key, did, pub = who
        att = self.path(os.path.basename(key) + ".att")
        self.ok("credential", "attest", "--key", registrar_key, "--subject-key", pub, "--out", att)
        out = self.ok("credential", "register", "--key", key, "--attestation", att, "--wait")
        assert "identity.register committed" in out and "result code 0" in out, out
        doc = self.node.get_json("/v1/dids/" + did)
        assert doc["status"] == "active", doc

    def verify(self, presentation, audience=AUDIENCE, nonce=NONCE, expect=0):
        """Verifies through the node; returns (result, names of failed checks)."""
        r = self.json("credential", "verify", "--presentation", presentation, "--audience",
                      audience, "--nonce", nonce, "--max-age-s", 600, expect=expect)
        failed = [c["name"] for c in r["checks"] if not c["ok"]]
        assert r["ok"] == (expect == 0) and (failed == []) == (expect == 0), r
        return r, failed

    def present(self, cred, key, out, disclose="name,age_over_18", audience=AUDIENCE,
                nonce=NONCE):
        self.ok("credential", "present", "--credential", cred, "--key", key, "--disclose",
                disclose, "--audience", audience, "--nonce", nonce, "--out", self.path(out))
        return self.path(out)

    def send(self, key, app, op, args):
        out = self.json("tx", "send", "--app", app, "--op", op, "--args", jcs(args), "--key",
                        key, "--wait")
        assert out["status"] == "committed" and out["result"]["code"] == 0, out
        return out


def b64url_json(value):
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_credentials():
    node = imilib.Node(IMID, config={"requests_per_second": 0}).start()
    tmp = tempfile.mkdtemp(prefix="imi-cred-")
    cli = Cli(node, tmp)
    try:
        validator = os.path.join(node.home, "validator.key")
        registrar1 = cli.new_key("registrar1")
        registrar2 = cli.new_key("registrar2")
        issuer = cli.new_key("issuer")
        alice = cli.new_key("alice")
        bob = cli.new_key("bob")

        # Governance (one validator: its proposal alone is a quorum) grants the roles.
        for role, who in [("registrar", registrar1), ("registrar", registrar2),
                          ("credential_issuer", issuer)]:
            r = cli.send(validator, "governance", "propose",
                         {"action": {"type": "grant_role", "role": role, "did": who[1]}})
            assert any(e["type"] == "enacted" for e in r["result"]["events"]), r

        # Registrars register themselves, then the issuer and the residents.
        cli.register(registrar1, registrar1[0])
        cli.register(registrar2, registrar2[0])
        cli.register(issuer, registrar1[0])
        cli.register(alice, registrar1[0])
        cli.register(bob, registrar2[0])
        # An attestation from someone without the registrar role is refused (code 101).
        carol = cli.new_key("carol")
        cli.ok("credential", "attest", "--key", alice[0], "--subject-key", carol[2], "--out",
               cli.path("carol.att"))
        code, out, err = cli.run("credential", "register", "--key", carol[0], "--attestation",
                                 cli.path("carol.att"), "--wait")
        assert code == 5 and "result code 101" in out, (code, out, err)

        # The issuer's status list.
        out = cli.ok("credential", "list-create", "--key", issuer[0], "--status-list",
                     "residents", "--size", 131072, "--wait")
        assert "status_list_create committed" in out, out

        # Issue (random status index), look at it, check its status as its holder would.
        cred = cli.path("alice.cred")
        issued = cli.json("credential", "issue", "--key", issuer[0], "--holder", alice[1],
                          "--holder-key", alice[2], "--claims",
                          jcs({"name": NAME, "birth_date": BIRTH}), "--birth-date", BIRTH,
                          "--district", "dongcheng", "--vct", "imi:resident", "--status-list",
                          "residents", "--valid-days", 365, "--out", cred)
        assert issued["holder_kid"] == alice[1] + "#key-1"
        assert issued["status"]["uri"] == "imi:status-list/identity/%s/residents" % issuer[1]
        assert 0 <= issued["status"]["idx"] < 131072
        assert os.stat(cred).st_mode & 0o077 == 0
        shown = cli.json("credential", "show", "--credential", cred)
        assert shown["disclosed"] == {"name": NAME, "birth_date": BIRTH, "age_over_18": True,
                                      "age_over_60": False, "resident_of": "dongcheng"}, shown
        assert shown["payload"]["cnf"]["jwk"]["kid"] == alice[1] + "#key-1"
        assert NAME not in json.dumps(shown["payload"]) and BIRTH not in json.dumps(
            shown["payload"])
        assert "status: valid" in cli.ok("credential", "status", "--credential", cred)

        # Present two of five claims; the node verifies every check.
        pres = cli.present(cred, alice[0], "alice.pres")
        r, _ = cli.verify(pres)
        assert {c["name"] for c in r["checks"]} >= {
            "format", "issuer_signature", "disclosures", "key_binding", "sd_hash", "audience",
            "nonce", "freshness", "holder_key", "did_status", "credential_status"}
        assert r["claims"]["name"] == NAME and r["claims"]["age_over_18"] is True
        assert "birth_date" not in r["claims"] and "resident_of" not in r["claims"]
        out = cli.ok("credential", "verify", "--presentation", pres, "--audience", AUDIENCE,
                     "--nonce", NONCE)
        assert "VALID (every check passed)" in out and "name: \"Li Wei\"" in out, out

        # Another verifier, or a replayed challenge: audience / nonce fail, exit 1.
        _, failed = cli.verify(pres, audience="did:imi:somebody-else", expect=1)
        assert failed == ["audience"], failed
        _, failed = cli.verify(pres, nonce="an-old-nonce", expect=1)
        assert failed == ["nonce"], failed
        code, out, _ = cli.run("credential", "verify", "--presentation", pres, "--audience",
                               "x", "--nonce", NONCE)
        assert code == 1 and "NOT VALID" in out and "FAIL audience" in out, (code, out)

        # A tampered disclosure: the name replaced by another value under the same salt.
        with open(pres) as f:
            parts = f.read().strip().split("~")
        for i in range(1, len(parts) - 1):
            d = json.loads(b64url_decode(parts[i]))
            if d[1] == "name":
                parts[i] = b64url_json([d[0], "name", "Zhang San"])
        tampered = cli.path("tampered.pres")
        with open(tampered, "w") as f:
            f.write("~".join(parts))
        _, failed = cli.verify(tampered, expect=1)
        assert "disclosures" in failed, failed

        # Suspended, reinstated, revoked through the status list.
        out = cli.ok("credential", "suspend", "--key", issuer[0], "--credential", cred, "--wait")
        assert "status_list_update committed" in out and "result code 0" in out, out
        r, failed = cli.verify(pres, expect=1)
        assert failed == ["credential_status"], failed
        code, out, _ = cli.run("credential", "status", "--credential", cred)
        assert code == 1 and "status: suspended" in out, (code, out)
        cli.ok("credential", "reinstate", "--key", issuer[0], "--credential", cred, "--wait")
        cli.verify(pres)
        cli.ok("credential", "revoke", "--key", issuer[0], "--credential", cred, "--wait")
        _, failed = cli.verify(pres, expect=1)
        assert failed == ["credential_status"], failed
        code, out, _ = cli.run("credential", "reinstate", "--key", issuer[0], "--credential",
                               cred, "--wait")
        assert code == 5 and "result code 103" in out, (code, out)  # revocation is final
        # Only the list's owner may change it.
        code, _, err = cli.run("credential", "revoke", "--key", alice[0], "--credential", cred)
        assert code == 2 and "belongs to " + issuer[1] in err, (code, err)

        # Key rotation: a credential bound to alice's old key-1 stops presenting.
        cred2 = cli.path("alice2.cred")
        cli.ok("credential", "issue", "--key", issuer[0], "--holder", alice[1], "--holder-key",
               alice[2], "--claims", jcs({"name": NAME}), "--status-list", "residents", "--out",
               cred2)
        cli.verify(cli.present(cred2, alice[0], "alice2.pres", disclose="name"))
        alice_new = cli.new_key("alice-phone2")
        cli.send(alice[0], "identity", "rotate", {"add": alice_new[2], "remove": [1]})
        _, failed = cli.verify(cli.present(cred2, alice[0], "alice2b.pres", disclose="name"),
                               expect=1)
        assert failed == ["key_binding", "holder_key"], failed
        # A credential bound to the current key-2 verifies.
        cred3 = cli.path("alice3.cred")
        cli.ok("credential", "issue", "--key", issuer[0], "--holder", alice[1] + "#key-2",
               "--holder-key", alice_new[2], "--claims", jcs({"name": NAME}), "--status-list",
               "residents", "--out", cred3)
        cli.verify(cli.present(cred3, alice_new[0], "alice3.pres", disclose="name"))
        # The new key sends for alice's account with `imi tx send --from`; the
        # removed key can no longer send at all.
        out = cli.json("tx", "send", "--app", "anchor", "--op", "anchor", "--args",
                       jcs({"hash": "ab" * 32}), "--key", alice_new[0], "--from", alice[1],
                       "--wait")
        assert out["status"] == "committed" and out["result"]["code"] == 0, out
        # Refused at admission (422), not admitted and dropped later: the node
        # remembers alice as a recent sender, which once skipped the key check.
        code, out, err = cli.run("tx", "send", "--app", "anchor", "--op", "anchor", "--args",
                                 jcs({"hash": "cd" * 32}), "--key", alice[0])
        assert code == 1 and "key_not_current" in out + err, (code, out, err)

        # Lost phone: a registrar freezes bob at once; two registrars recover him
        # with a new key; the credential bound to his old key then fails.
        bob_cred = cli.path("bob.cred")
        cli.ok("credential", "issue", "--key", issuer[0], "--holder", bob[1], "--holder-key",
               bob[2], "--birth-date", "1950-01-02", "--status-list", "residents", "--out",
               bob_cred)
        bob_pres = cli.present(bob_cred, bob[0], "bob.pres", disclose="age_over_60")
        r, _ = cli.verify(bob_pres)
        assert r["claims"]["age_over_60"] is True
        cli.send(registrar1[0], "identity", "freeze", {"did": bob[1]})
        # A frozen DID has no current key, so the key binding cannot be checked either.
        r, failed = cli.verify(bob_pres, expect=1)
        assert failed == ["key_binding", "holder_key", "did_status"], failed
        assert "frozen" in [c["detail"] for c in r["checks"] if c["name"] == "did_status"][0], r
        bob_new = cli.new_key("bob-phone2")
        cli.send(registrar1[0], "identity", "recover", {"did": bob[1], "key": bob_new[2]})
        assert node.get_json("/v1/dids/" + bob[1])["status"] == "frozen"  # one approval so far
        cli.send(registrar2[0], "identity", "recover", {"did": bob[1], "key": bob_new[2]})
        assert node.get_json("/v1/dids/" + bob[1])["status"] == "active"
        _, failed = cli.verify(cli.present(bob_cred, bob[0], "bob2.pres", disclose="age_over_60"),
                               expect=1)
        assert failed == ["key_binding", "holder_key"], failed
        bob_cred2 = cli.path("bob2.cred")
        cli.ok("credential", "issue", "--key", issuer[0], "--holder", bob[1] + "#key-2",
               "--holder-key", bob_new[2], "--birth-date", "1950-01-02", "--status-list",
               "residents", "--out", bob_cred2)
        cli.verify(cli.present(bob_cred2, bob_new[0], "bob3.pres", disclose="age_over_60"))

        # Usage and local errors exit with the documented codes.
        code, _, err = cli.run("credential", "present", "--credential", cred3, "--key",
                               alice_new[0], "--disclose", "salary", "--audience", AUDIENCE,
                               "--nonce", NONCE)
        assert code == 2 and "no disclosable claim salary" in err, (code, err)
        code, _, err = cli.run("credential", "verify", "--presentation", cli.path("none"),
                               "--audience", AUDIENCE, "--nonce", NONCE)
        assert code == 4, (code, err)
        code, _, err = cli.run("credential", "issue", "--key", issuer[0], "--holder", "bob",
                               "--claims", "{}")
        assert code == 2 and "--holder" in err, (code, err)
        code, _, err = cli.run("credential", "issue", "--key", issuer[0], "--holder", bob[1],
                               "--holder-key", alice[2], "--claims", jcs({"a": 1}))
        assert code == 2 and "not the initial key" in err, (code, err)
        code, _, err = cli.run("credential", "frobnicate")
        assert code == 2 and "credential verify" in err, (code, err)
        code, _, err = cli.run("--node", "http://127.0.0.1:1", "credential", "verify",
                               "--presentation", pres, "--audience", AUDIENCE, "--nonce", NONCE)
        assert code == 3 and "cannot reach" in err, (code, err)

        # Nothing personal reached the chain: no block holds the name or birth date.
        height = node.get_json("/v1/status")["height"]
        for h in range(1, height + 1):
            block = json.dumps(node.get_json("/v1/blocks/%d" % h))
            for secret in (NAME, BIRTH, "dongcheng", "1950-01-02"):
                assert secret not in block, (h, secret)
        assert node.terminate() == 0
    finally:
        node.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    imilib.run_tests([("credentials", test_credentials)])
