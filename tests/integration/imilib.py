"""Helpers for the process-level integration tests: start and stop real imid
processes on 127.0.0.1, sign transactions, talk HTTP, and verify proofs
independently of the C++ code (RFC 6962 inclusion, the sparse Merkle state
proof and commit certificates as DESIGN.md's Contracts define them).

Standard library + PyNaCl only (Debian's /usr/bin/python3 with python3-nacl).
"""

import hashlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import nacl.bindings
import nacl.signing

PASSWORD = "integration-test-password"
START_TIMEOUT_S = 30


def jcs(obj):
    """RFC 8785 for the values these tests build (ASCII keys, integers, strings)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(data):
    return hashlib.sha256(data).digest()


class Key:
    """An Ed25519 key and its did:imi."""

    def __init__(self, seed=None):
        self.sk = nacl.signing.SigningKey(seed) if seed else nacl.signing.SigningKey.generate()
        self.pk = bytes(self.sk.verify_key)
        self.did = "did:imi:" + hashlib.sha256(self.pk).hexdigest()[:40]

    def sign(self, kind, obj):
        msg = ("IMI/%s/v1\n" % kind).encode() + jcs(obj).encode()
        return self.sk.sign(msg).signature.hex()


def make_tx(key, chain, nonce, app="anchor", op="anchor", args=None, **override):
    """A signed transaction dict; `override` replaces members before signing."""
    if args is None:
        args = {"hash": hashlib.sha256(os.urandom(16)).hexdigest()}
    tx = {"v": 1, "chain": chain, "from": key.did, "key": key.pk.hex(), "nonce": nonce,
          "app": app, "op": op, "args": args}
    tx.update(override)
    tx["sig"] = key.sign("tx", tx)
    return tx


def tx_id(tx):
    return hashlib.sha256(jcs(tx).encode()).hexdigest()


class Node:
    """A real imid process with its own home directory."""

    def __init__(self, imid, home=None, config=None, chain="imi-it"):
        self.imid = imid
        self.tmp = None
        if home is None:
            self.tmp = tempfile.mkdtemp(prefix="imi-it-")
            home = os.path.join(self.tmp, "home")
        self.home = home
        self.proc = None
        self.url = None
        self.port = None
        self.stderr_path = os.path.join(os.path.dirname(home), "imid.stderr")
        if not os.path.exists(os.path.join(home, "imid.conf")):
            env = dict(os.environ, IMI_KEY_PASSWORD=PASSWORD)
            subprocess.run([imid, "init", "--home", home, "--chain", chain,
                            "--api", "127.0.0.1:0"], env=env, check=True,
                           stdout=subprocess.DEVNULL, timeout=60)
            self.set_config(config or {})

    def set_config(self, values):
        """Rewrites `key = value` lines of imid.conf (keys are unique across sections)."""
        path = os.path.join(self.home, "imid.conf")
        with open(path) as f:
            text = f.read()
        for k, v in values.items():
            text, n = re.subn(r"(?m)^%s = .*$" % re.escape(k), "%s = %s" % (k, v), text)
            assert n == 1, "no config key " + k
        with open(path, "w") as f:
            f.write(text)

    def start(self, api=None):
        env = dict(os.environ, IMI_KEY_PASSWORD=PASSWORD)
        args = [self.imid, "start", "--home", self.home]
        if api:
            args += ["--api", api]
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=self.stderr)
        deadline = time.time() + START_TIMEOUT_S
        out = b""
        fd = self.proc.stdout.fileno()
        while time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                out += chunk
                m = re.search(rb"API_URL=(\S+)\n", out)
                if m:
                    self.url = m.group(1).decode()
                    self.port = int(self.url.rsplit(":", 1)[1])
                    self.wait_ready()
                    return self
            elif self.proc.poll() is not None:
                break
        raise RuntimeError("imid did not start; stderr: " + self.read_stderr())

    def read_stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def wait_ready(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                status, _, _ = self.request("GET", "/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("imid not ready")

    def conn(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        c = self.conn(timeout)
        try:
            h = {"Content-Type": "application/json"} if body is not None else {}
            h.update(headers or {})
            if isinstance(body, str):
                body = body.encode()
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, r.getheader("Content-Type"), data
        finally:
            c.close()

    def get_json(self, path):
        status, _, data = self.request("GET", path)
        assert status == 200, (path, status, data)
        return json.loads(data)

    def submit(self, tx, wait=False):
        body = tx if isinstance(tx, (bytes, str)) else jcs(tx)
        status, ctype, data = self.request("POST", "/v1/txs?wait=commit" if wait else "/v1/txs",
                                           body)
        return status, ctype, json.loads(data) if data else None

    def chain(self):
        return self.get_json("/v1/status")["chain"]

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.stderr.close()

    def terminate(self, timeout=30):
        """SIGTERM and wait; returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self.proc.stdout.close()
        self.stderr.close()
        return code

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


# --- Independent proof checks (DESIGN "Contracts") ---------------------------

def merkle_leaf_hash(leaf):
    return sha256(b"\x00" + leaf)


def merkle_node_hash(left, right):
    return sha256(b"\x01" + left + right)


def merkle_root(leaves):
    """RFC 6962 Merkle tree hash by its recursive definition."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return merkle_leaf_hash(leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return merkle_node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def verify_inclusion(leaf, index, size, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, merkle_leaf_hash(leaf)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = merkle_node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = merkle_node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def path_bit(path, depth):
    return (path[depth // 8] >> (7 - depth % 8)) & 1


def verify_state_proof(root, app, key, value_json, proof):
    """The sparse Merkle proof of DESIGN "state tree"; value_json None = absent."""
    path = sha256(("%s/%s" % (app, key)).encode())
    siblings = [bytes.fromhex(s) for s in proof["siblings"]]
    depth = len(siblings)
    leaf = proof["leaf"]
    if value_json is not None:
        if leaf is None or bytes.fromhex(leaf["path"]) != path:
            return False
        if bytes.fromhex(leaf["value_hash"]) != sha256(value_json.encode()):
            return False
    if leaf is not None:
        lpath = bytes.fromhex(leaf["path"])
        if value_json is None and lpath == path:
            return False
        if any(path_bit(lpath, i) != path_bit(path, i) for i in range(depth)):
            return False
        h = sha256(b"\x00" + lpath + bytes.fromhex(leaf["value_hash"]))
    else:
        h = bytes(32)
    for i in range(depth - 1, -1, -1):
        if path_bit(path, i):
            h = sha256(b"\x01" + siblings[i] + h)
        else:
            h = sha256(b"\x01" + h + siblings[i])
    return h == root


def verify_certificate(cert, chain, height, block_id_hex, validators):
    """Quorum of commit votes by distinct members, sorted, each verifying."""
    keys = {v["id"]: bytes.fromhex(v["key"]) for v in validators}
    n = len(keys)
    q = 2 * n // 3 + 1
    if cert["height"] != height or cert["block"] != block_id_hex:
        return False
    ids = [s["validator"] for s in cert["sigs"]]
    if ids != sorted(set(ids)) or len(ids) < q:
        return False
    vote = {"block": block_id_hex, "chain": chain, "height": height, "phase": "commit",
            "view": cert["view"]}
    msg = b"IMI/vote/v1\n" + jcs(vote).encode()
    for s in cert["sigs"]:
        if s["validator"] not in keys:
            return False
        pk = keys[s["validator"]]
        if not nacl.bindings.crypto_core_ed25519_is_valid_point(pk):
            return False
        try:
            nacl.signing.VerifyKey(pk).verify(msg, bytes.fromhex(s["sig"]))
        except Exception:
            return False
    return True


class WebSocket:
    """A minimal RFC 6455 client for GET /v1/events (the standard library has
    none): the handshake, unmasked server frames in, masked frames out."""

    def __init__(self, port, path, timeout=10):
        import base64
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake: %r" % self.buf)
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ", 2)[1])
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.accepted = self.status == 101 and accept.encode() in head
        self.close_code = None

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, opcode, payload=b""):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        else:
            head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def recv(self):
        """The next text message (str), or None once the server closed."""
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(self._read(2), "big")
            elif n == 127:
                n = int.from_bytes(self._read(8), "big")
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                self.close_code = int.from_bytes(payload[:2], "big") if n >= 2 else None
                return None
            if opcode == 0x9:
                self.send(0xA, payload)  # pong
                continue
            if opcode == 0xA:
                continue
            message += payload
            if b0 & 0x80:
                return message.decode()

    def close(self):
        try:
            self.send(0x8, (1000).to_bytes(2, "big"))
        except OSError:
            pass
        self.sock.close()


def run_tests(tests):
    """Runs each (name, function) and exits nonzero if any failed."""
    import sys
    import traceback
    failed = 0
    for name, fn in tests:
        t0 = time.time()
        try:
            fn()
            print("ok   %s (%.1fs)" % (name, time.time() - t0), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % name, flush=True)
            traceback.print_exc()
    sys.exit(1 if failed else 0)
