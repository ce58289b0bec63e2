"""Bad requests against a real imid: each gets the fitting HTTP status and an
RFC 9457 problem whose `type` is stable, and the node keeps serving.

usage: bad_requests_test.py IMID
"""

import json
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imilib  # noqa: E402
from imilib import jcs, make_tx, tx_id  # noqa: E402

IMID = sys.argv[1]
PROBLEM = "https://imi.chain/problems/"


def expect(result, status, slug, code=None):
    got_status, ctype, body = result
    assert got_status == status, (status, slug, got_status, body)
    assert ctype == "application/problem+json", (slug, ctype, body)
    p = json.loads(body)
    assert p["type"] == PROBLEM + slug, (slug, p)
    assert p["status"] == status and p["title"] and "detail" in p, p
    if code is not None:
        assert p.get("code") == code, (code, p)
    return p


def raw(node, data, read_timeout=15, pause_after=None):
    """Sends raw bytes; returns (status, content type, body) of the response."""
    s = socket.create_connection(("127.0.0.1", node.port), timeout=read_timeout)
    try:
        if pause_after is None:
            s.sendall(data)
        else:
            s.sendall(data[:pause_after])
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {ln.split(":", 1)[0].lower(): ln.split(":", 1)[1].strip()
                   for ln in lines[1:] if ":" in ln}
        n = int(headers.get("content-length", "0"))
        while len(body) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, headers.get("content-type"), body
    finally:
        s.close()


def post(node, body, ctype="application/json"):
    return node.request("POST", "/v1/txs", body, headers={"Content-Type": ctype})


def main():
    def sub(tx):
        return post(node, jcs(tx))

    node = imilib.Node(IMID, config={
        "requests_per_second": 0, "request_timeout_ms": 1000,
        "cors_allowed_origins": "https://wallet.example.gov"}).start()
    limited = None
    try:
        chain = node.chain()
        key = imilib.Key()
        good = make_tx(key, chain, 0)
        code, _, body = node.submit(good, wait=True)
        assert code == 200 and body["status"] == "committed", body
        text = jcs(make_tx(key, chain, 1))
        checks = 0

        def check(result, status, slug, code=None):
            nonlocal checks
            expect(result, status, slug, code)
            checks += 1

        # 1-8: not strict JSON.
        check(post(node, '{"v":1,'), 400, "malformed-json", "json.syntax")
        check(post(node, text.replace('"nonce":1', '"nonce":1.0')), 400, "malformed-json",
              "json.float")
        check(post(node, text[:-1] + ',"v":1}'), 400, "malformed-json", "json.duplicate_key")
        check(post(node, text.replace('"nonce":1', '"nonce":18014398509481984')), 400,
              "malformed-json", "json.integer_range")
        check(post(node, text.encode().replace(b'"op":"anchor"', b'"op":"anch\xffr"')), 400, "malformed-json",
              "json.invalid_utf8")
        check(post(node, text.replace('"op":"anchor"', '"op":"\\ud800"')), 400,
              "malformed-json", "json.lone_surrogate")
        check(post(node, text + " {}"), 400, "malformed-json", "json.trailing_data")
        check(post(node, "[" * 100 + "]" * 100), 400, "malformed-json", "json.too_deep")
        # 9-15: JSON fine, transaction wrong.
        check(post(node, "[]"), 422, "invalid-transaction", "tx.not_object")
        t = json.loads(text)
        del t["sig"]
        check(post(node, jcs(t)), 422, "invalid-transaction", "tx.missing_field")
        t = json.loads(text)
        t["extra"] = 1
        check(post(node, jcs(t)), 422, "invalid-transaction", "tx.unknown_field")
        t = json.loads(text)
        t["sig"] = t["sig"].upper()
        check(post(node, jcs(t)), 422, "invalid-transaction", "tx.bad_sig")
        t = json.loads(text)
        t["sig"] = ("0" if t["sig"][0] != "0" else "1") + t["sig"][1:]
        check(post(node, jcs(t)), 422, "bad-signature", "tx.bad_signature")
        check(sub(make_tx(key, "other-chain", 1)), 422, "wrong-chain", "tx.wrong_chain")
        check(sub(make_tx(key, chain, 1, app="nosuch")), 422, "unknown-app",
              "tx.unknown_app")
        check(sub(make_tx(key, chain, 1, op="nosuch")), 422, "unknown-op",
              "tx.unknown_op")
        check(sub(make_tx(key, chain, 1, args={"hash": "zz"})), 422,
              "invalid-transaction", "tx.bad_args")
        other = imilib.Key()
        check(sub(make_tx(other, chain, 0, **{"from": key.did})), 422,
              "invalid-transaction")
        # 19-20: nonces.
        check(sub(make_tx(key, chain, 0)), 409, "nonce-replayed", "tx.nonce_used")
        check(sub(make_tx(key, chain, 100000)), 409, "nonce-gap", "tx.nonce_gap")
        # 21-22: sizes.
        check(post(node, "x" * (2 << 20)), 413, "body-too-large")
        big = make_tx(key, chain, 1, args={"hash": "ab" * 32, "pad": "p" * 70000})
        check(sub(big), 413, "body-too-large", "tx.too_large")
        # 23: content type.
        check(post(node, text, ctype="text/plain"), 415, "unsupported-media-type")
        # 24: huge headers.
        check(raw(node, b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 +
                  b"\r\n\r\n"), 431, "headers-too-large")
        # 25: slow client (sends half a request, then nothing).
        req = ("POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\n\r\n%s" % (len(text), text)).encode()
        t0 = time.time()
        check(raw(node, req, pause_after=60), 408, "request-timeout")
        assert time.time() - t0 < 10
        # 26-31: routes and parameters.
        check(node.request("GET", "/v1/txs/" + "00" * 32), 404, "not-found", "tx.not_found")
        check(node.request("GET", "/v1/txs/XYZ"), 400, "invalid-parameter")
        check(node.request("GET", "/v1/blocks/99999"), 404, "not-found", "block.not_found")
        check(node.request("GET", "/v1/blocks/01"), 400, "invalid-parameter")
        check(node.request("GET", "/v1/blocks?from=0&limit=1000"), 400, "invalid-parameter")
        check(node.request("GET", "/v1/state/nosuch/key"), 404, "not-found")
        check(node.request("DELETE", "/v1/txs"), 405, "method-not-allowed")
        check(node.request("GET", "/v2/nothing"), 404, "not-found")
        # 34: CORS from an origin not on the allow-list.
        check(node.request("GET", "/v1/status", headers={"Origin": "https://evil.example"}),
              403, "origin-not-allowed")
        code, _, _ = node.request("GET", "/v1/status",
                                  headers={"Origin": "https://wallet.example.gov"})
        assert code == 200

        # DID resolution and presentation verification (issue 6).
        check(node.request("GET", "/v1/dids/did:imi:xyz"), 400, "invalid-parameter",
              "api.invalid_parameter")
        check(node.request("GET", "/v1/dids/did:imi:" + "ab" * 20), 404, "not-found",
              "did.not_found")
        def verify(body):
            return node.request("POST", "/v1/presentations/verify", body,
                                headers={"Content-Type": "application/json"})

        check(verify("{}"), 400, "malformed-json", "json.missing_field")
        code, ctype, body = verify(json.dumps(
            {"presentation": "garbage~", "audience": "dept", "nonce": "n", "max_age_s": 60}))
        answer = json.loads(body)
        assert code == 200 and not answer["ok"], (code, body)
        assert answer["checks"][0] == {"name": "format", "ok": False,
                                       "detail": answer["checks"][0]["detail"]}, answer

        # 35: per-client rate limit, on a node configured tightly.
        limited = imilib.Node(IMID, config={"requests_per_second": 1, "burst": 2}).start()
        results = [limited.request("GET", "/v1/status") for _ in range(6)]
        assert any(r[0] == 429 for r in results), [r[0] for r in results]
        check(next(r for r in results if r[0] == 429), 429, "rate-limited")

        # The node still works, and the rejected ids say why.
        t = json.loads(text)
        t["sig"] = ("0" if t["sig"][0] != "0" else "1") + t["sig"][1:]
        r = node.get_json("/v1/txs/" + tx_id(t))
        assert r["status"] == "rejected" and r["reason"]["code"] == "tx.bad_signature", r
        code, _, body = node.submit(json.loads(text), wait=True)
        assert code == 200 and body["status"] == "committed", (code, body)
        code, _, metrics = node.request("GET", "/metrics")
        assert b'imi_txs_rejected_total{reason="tx.bad_signature"}' in metrics
        print("checked %d kinds of bad request" % checks)
        assert checks >= 20
        assert node.terminate() == 0
    finally:
        node.cleanup()
        if limited:
            limited.cleanup()


if __name__ == "__main__":
    imilib.run_tests([("bad_requests", main)])
