#!/usr/bin/python3
"""Independent checker of IMI Chain's cross-language test vectors.

Re-verifies every vector file in a directory from DESIGN.md's Contracts alone,
with the Python standard library plus python3-nacl (Ed25519, libsodium's strict
verification). It shares no code with the C++ implementation: the strict JSON
parser, RFC 8785 serialisation, RFC 6962 trees, the sparse Merkle proof
verifier and the record rules are written here again.

Usage: /usr/bin/python3 check_vectors.py <vectors dir>
Exits non-zero on any mismatch, on a vector file it does not know (so nothing
goes unchecked silently) and on a file without a description; prints how many
cases of each file it checked. A known file that is missing is skipped with a
notice.
"""

import hashlib
import json
import os
import re
import sys

import nacl.bindings
import nacl.exceptions
import nacl.signing

sys.setrecursionlimit(10000)

MAX_SAFE = 2**53 - 1


def sha256(data):
    return hashlib.sha256(data).digest()


# ---------------------------------------------------------------------------
# Strict JSON (DESIGN "canonical form"), error codes as in jcs.json.


class Fail(Exception):
    """A rejection with its stable error code."""

    def __init__(self, code, why=""):
        super().__init__(code + (": " + why if why else ""))
        self.code = code


DEFAULT_JSON_LIMITS = {"max_bytes": 1 << 20, "max_depth": 32,
                       "max_string_bytes": 1 << 16, "max_members": 4096}
WS = b" \t\n\r"
ESCAPES = {ord('"'): '"', ord("\\"): "\\", ord("/"): "/", ord("b"): "\b",
           ord("f"): "\f", ord("n"): "\n", ord("r"): "\r", ord("t"): "\t"}


class Parser:
    def __init__(self, data, limits):
        self.s = data
        self.n = len(data)
        self.i = 0
        self.lim = dict(DEFAULT_JSON_LIMITS)
        self.lim.update(limits or {})

    def parse(self):
        if self.n > self.lim["max_bytes"]:
            raise Fail("json.too_large")
        if self.s.startswith(b"\xef\xbb\xbf"):
            raise Fail("json.syntax", "byte order mark")
        self.ws()
        if self.i >= self.n:
            raise Fail("json.syntax", "empty")
        v = self.value(0)
        self.ws()
        if self.i < self.n:
            raise Fail("json.trailing_data")
        return v

    def ws(self):
        while self.i < self.n and self.s[self.i] in WS:
            self.i += 1

    def peek(self):
        return self.s[self.i] if self.i < self.n else None

    def value(self, depth):
        c = self.peek()
        if c == ord("{"):
            return self.obj(depth + 1)
        if c == ord("["):
            return self.arr(depth + 1)
        if c == ord('"'):
            return self.string()
        for word, val in ((b"true", True), (b"false", False), (b"null", None)):
            if c == word[0]:
                if self.s[self.i:self.i + len(word)] != word:
                    raise Fail("json.syntax", "bad literal")
                self.i += len(word)
                return val
        if c is not None and (c == ord("-") or ord("0") <= c <= ord("9")):
            return self.number()
        raise Fail("json.syntax", "expected a value")

    def digits(self):
        start = self.i
        while self.i < self.n and ord("0") <= self.s[self.i] <= ord("9"):
            self.i += 1
        return self.i - start

    def number(self):
        start = self.i
        neg = self.s[self.i] == ord("-")
        if neg:
            self.i += 1
        c = self.peek()
        if c is None or not ord("0") <= c <= ord("9"):
            raise Fail("json.syntax", "expected a digit")
        if c == ord("0"):
            self.i += 1
            c = self.peek()
            if c is not None and ord("0") <= c <= ord("9"):
                raise Fail("json.syntax", "leading zero")
        else:
            self.digits()
        int_end = self.i
        is_float = False
        if self.peek() == ord("."):
            self.i += 1
            if self.digits() == 0:
                raise Fail("json.syntax", "digit after '.'")
            is_float = True
        if self.peek() in (ord("e"), ord("E")):
            self.i += 1
            if self.peek() in (ord("+"), ord("-")):
                self.i += 1
            if self.digits() == 0:
                raise Fail("json.syntax", "digit in exponent")
            is_float = True
        if is_float:
            raise Fail("json.float")
        value = int(self.s[start:int_end])
        if abs(value) > MAX_SAFE:
            raise Fail("json.integer_range")
        if neg and value == 0:
            raise Fail("json.syntax", "-0")
        return value

    def hex4(self, at):
        h = self.s[at:at + 4]
        if len(h) != 4 or not all(chr(b) in "0123456789abcdefABCDEF" for b in h):
            raise Fail("json.syntax", "bad \\u escape")
        return int(h, 16)

    def utf8_len(self):
        """Length of the valid UTF-8 sequence at i, or 0."""
        s, i, n = self.s, self.i, self.n
        b0 = s[i]
        if 0xC2 <= b0 <= 0xDF:
            need, lo, hi = 1, 0x80, 0xBF
        elif b0 == 0xE0:
            need, lo, hi = 2, 0xA0, 0xBF
        elif 0xE1 <= b0 <= 0xEC or 0xEE <= b0 <= 0xEF:
            need, lo, hi = 2, 0x80, 0xBF
        elif b0 == 0xED:
            need, lo, hi = 2, 0x80, 0x9F  # no encoded surrogates
        elif b0 == 0xF0:
            need, lo, hi = 3, 0x90, 0xBF
        elif 0xF1 <= b0 <= 0xF3:
            need, lo, hi = 3, 0x80, 0xBF
        elif b0 == 0xF4:
            need, lo, hi = 3, 0x80, 0x8F
        else:
            return 0
        if i + need >= n:  # truncated at the end of the input
            return 0
        if not lo <= s[i + 1] <= hi:
            return 0
        for k in range(2, need + 1):
            if not 0x80 <= s[i + k] <= 0xBF:
                return 0
        return need + 1

    def string(self):
        self.i += 1
        out = []
        size = 0
        maxb = self.lim["max_string_bytes"]
        while True:
            if self.i >= self.n:
                raise Fail("json.syntax", "unterminated string")
            c = self.s[self.i]
            if c == ord('"'):
                self.i += 1
                return "".join(out)
            if c == ord("\\"):
                ch = self.escape()
            elif c < 0x20:
                raise Fail("json.syntax", "raw control character")
            elif c < 0x80:
                ch = chr(c)
                self.i += 1
            else:
                k = self.utf8_len()
                if k == 0:
                    raise Fail("json.invalid_utf8")
                ch = self.s[self.i:self.i + k].decode("utf-8")
                self.i += k
            out.append(ch)
            size += len(ch.encode("utf-8"))
            if size > maxb:
                raise Fail("json.string_too_long")

    def escape(self):
        self.i += 1
        c = self.peek()
        if c is None:
            raise Fail("json.syntax", "unterminated string")
        if c in ESCAPES:
            self.i += 1
            return ESCAPES[c]
        if c != ord("u"):
            raise Fail("json.syntax", "invalid escape")
        cp = self.hex4(self.i + 1)
        self.i += 5
        if 0xDC00 <= cp <= 0xDFFF:
            raise Fail("json.lone_surrogate")
        if 0xD800 <= cp <= 0xDBFF:
            if self.s[self.i:self.i + 2] != b"\\u":
                raise Fail("json.lone_surrogate")
            low = self.hex4(self.i + 2)
            if not 0xDC00 <= low <= 0xDFFF:
                raise Fail("json.lone_surrogate")
            self.i += 6
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
        return chr(cp)

    def enter(self, depth):
        if depth > min(self.lim["max_depth"], 1024):
            raise Fail("json.too_deep")

    def arr(self, depth):
        self.enter(depth)
        self.i += 1
        out = []
        self.ws()
        if self.peek() == ord("]"):
            self.i += 1
            return out
        while True:
            self.ws()
            if len(out) >= self.lim["max_members"]:
                raise Fail("json.too_many_members")
            out.append(self.value(depth))
            self.ws()
            c = self.peek()
            if c == ord(","):
                self.i += 1
            elif c == ord("]"):
                self.i += 1
                return out
            else:
                raise Fail("json.syntax", "expected ',' or ']'")

    def obj(self, depth):
        self.enter(depth)
        self.i += 1
        out = {}
        self.ws()
        if self.peek() == ord("}"):
            self.i += 1
            return out
        while True:
            self.ws()
            if self.peek() != ord('"'):
                raise Fail("json.syntax", "expected a member name")
            if len(out) >= self.lim["max_members"]:
                raise Fail("json.too_many_members")
            key = self.string()
            if any(ord(ch) > 0x7F for ch in key):
                raise Fail("json.non_ascii_key")
            if key in out:
                raise Fail("json.duplicate_key")
            self.ws()
            if self.peek() != ord(":"):
                raise Fail("json.syntax", "expected ':'")
            self.i += 1
            self.ws()
            out[key] = self.value(depth)
            self.ws()
            c = self.peek()
            if c == ord(","):
                self.i += 1
            elif c == ord("}"):
                self.i += 1
                return out
            else:
                raise Fail("json.syntax", "expected ',' or '}'")


def parse_strict(data, limits=None):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return Parser(data, limits).parse()


def jcs_string(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20:
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs_text(v):
    """RFC 8785 for the integer-only profile."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if type(v) is int:
        assert abs(v) <= MAX_SAFE
        return str(v)
    if isinstance(v, str):
        return jcs_string(v)
    if isinstance(v, list):
        return "[" + ",".join(jcs_text(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs_string(k) + ":" + jcs_text(v[k]) for k in keys) + "}"
    raise TypeError("not a strict JSON value: %r" % (v,))


def jcs(v):
    return jcs_text(v).encode("utf-8")


# ---------------------------------------------------------------------------
# RFC 6962 / RFC 9162 Merkle trees.


def mth(leaves):
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def verify_inclusion(leaf, index, size, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn = index, size - 1
    r = sha256(b"\x00" + leaf)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            if not fn & 1:
                while not (fn & 1) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha256(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# ---------------------------------------------------------------------------
# Sparse Merkle state proofs (DESIGN "state tree").


def path_bit(path, depth):
    return (path[depth // 8] >> (7 - depth % 8)) & 1


def state_leaf_hash(path, value_hash):
    return sha256(b"\x00" + path + value_hash)


def verify_state_proof(root, app, key, value, leaf, siblings):
    """value: the JCS bytes claimed for app/key, or None to claim absence.
    leaf: None or (path, value_hash). Returns None or an error code."""
    path = sha256((app + "/" + key).encode("utf-8"))
    if len(siblings) > 256:
        return "state.proof_too_long"
    if leaf is None:
        if value is not None:
            return "state.proof_not_membership"
        node = bytes(32)
    else:
        lpath, vhash = leaf
        for d in range(len(siblings)):
            if path_bit(lpath, d) != path_bit(path, d):
                return "state.proof_leaf_misplaced"
        if value is not None:
            if lpath != path or vhash != sha256(value):
                return "state.proof_not_membership"
        elif lpath == path:
            return "state.proof_not_absence"
        node = state_leaf_hash(lpath, vhash)
    for d in range(len(siblings) - 1, -1, -1):
        sib = siblings[d]
        if path_bit(path, d):
            node = sha256(b"\x01" + sib + node)
        else:
            node = sha256(b"\x01" + node + sib)
    return None if node == root else "state.proof_root_mismatch"


# ---------------------------------------------------------------------------
# Records (DESIGN Contracts: transaction, sender rule, block header, txs_root,
# results_root, validators hash, commit certificate).

CHAIN_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}", re.ASCII)
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}", re.ASCII)
DID_RE = re.compile(r"did:imi:[0-9a-f]{40}", re.ASCII)
TX_FIELDS = ["v", "chain", "from", "key", "nonce", "app", "op", "args", "sig"]
HEADER_FIELDS = ["v", "chain", "height", "prev", "time", "proposer", "txs_root",
                 "results_root", "state_root", "validators", "tx_count"]


def is_hex(x, chars):
    return isinstance(x, str) and len(x) == chars and all(c in "0123456789abcdef" for c in x)


def is_uint(x):
    return type(x) is int and 0 <= x <= MAX_SAFE


def is_did(x):
    return isinstance(x, str) and DID_RE.fullmatch(x) is not None


def did_from_key(key):
    return "did:imi:" + sha256(key)[:20].hex()


def is_valid_key(key):
    return nacl.bindings.crypto_core_ed25519_is_valid_point(key)


def ed25519_verify(key, message, sig):
    """libsodium's strict verification (canonical S, no small-order keys or R)."""
    if not is_valid_key(key):
        return False
    try:
        nacl.signing.VerifyKey(key).verify(message, sig)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False


def signed_bytes(kind, obj):
    return b"IMI/" + kind.encode() + b"/v1\n" + jcs({k: v for k, v in obj.items() if k != "sig"})


def check_members(obj, required, prefix):
    for k in obj:
        if k not in required:
            raise Fail(prefix + ".unknown_field", k)
    for k in required:
        if k not in obj:
            raise Fail(prefix + ".missing_field", k)


def check_shape(v, lim, depth=1):
    """JSON limits of one transaction counted from its own object."""
    if isinstance(v, str):
        if len(v.encode("utf-8")) > lim["json_string_bytes_max"]:
            raise Fail("json.string_too_long")
        return
    if not isinstance(v, (dict, list)):
        return
    if depth > lim["json_depth_max"]:
        raise Fail("json.too_deep")
    if len(v) > lim["json_members_max"]:
        raise Fail("json.too_many_members")
    for k in v:
        if isinstance(v, dict):
            if len(k.encode("utf-8")) > lim["json_string_bytes_max"]:
                raise Fail("json.string_too_long")
            check_shape(v[k], lim, depth + 1)
        else:
            check_shape(k, lim, depth + 1)


def tx_form(tx, lim):
    """Form of a parsed transaction; returns its JCS bytes."""
    if not isinstance(tx, dict):
        raise Fail("tx.not_object")
    check_shape(tx, lim)
    check_members(tx, TX_FIELDS + (["on_behalf_of"] if "on_behalf_of" in tx else []), "tx")
    if not (type(tx["v"]) is int and tx["v"] == 1):
        raise Fail("tx.bad_version")
    if not (isinstance(tx["chain"], str) and CHAIN_RE.fullmatch(tx["chain"])):
        raise Fail("tx.bad_chain")
    if not is_did(tx["from"]):
        raise Fail("tx.bad_from")
    if not is_hex(tx["key"], 64):
        raise Fail("tx.bad_key")
    if not is_valid_key(bytes.fromhex(tx["key"])):
        raise Fail("tx.invalid_key")
    if not is_uint(tx["nonce"]):
        raise Fail("tx.bad_nonce")
    for f in ("app", "op"):
        if not (isinstance(tx[f], str) and NAME_RE.fullmatch(tx[f])):
            raise Fail("tx.bad_" + f)
    if not isinstance(tx["args"], dict):
        raise Fail("tx.bad_args")
    if not is_hex(tx["sig"], 128):
        raise Fail("tx.bad_sig")
    if "on_behalf_of" in tx and not (is_did(tx["on_behalf_of"]) and
                                     tx["on_behalf_of"] != tx["from"]):
        raise Fail("tx.bad_on_behalf_of")
    canonical = jcs(tx)
    if len(canonical) > lim["tx_bytes_max"]:
        raise Fail("tx.too_large")
    return canonical


def tx_validate(tx, chain):
    if tx["chain"] != chain:
        raise Fail("tx.wrong_chain")
    if not ed25519_verify(bytes.fromhex(tx["key"]), signed_bytes("tx", tx),
                          bytes.fromhex(tx["sig"])):
        raise Fail("tx.bad_signature")


def tx_json_limits(lim, extra_depth, members):
    return {"max_bytes": None, "max_depth": lim["json_depth_max"] + extra_depth,
            "max_string_bytes": lim["json_string_bytes_max"],
            "max_members": max(lim["json_members_max"], members)}


def check_tx_text(text, lim, chain, first):
    """The whole pipeline of transactions.json; returns the parsed tx."""
    data = text.encode("utf-8")
    if len(data) > lim["tx_bytes_max"]:
        raise Fail("tx.too_large")
    jl = tx_json_limits(lim, 0, 0)
    jl["max_bytes"] = lim["tx_bytes_max"]
    tx = parse_strict(data, jl)
    tx_form(tx, lim)
    tx_validate(tx, chain)
    if first and did_from_key(bytes.fromhex(tx["key"])) != tx["from"]:
        raise Fail("tx.key_mismatch")
    return tx


def header_form(h):
    if not isinstance(h, dict):
        raise Fail("block.not_object")
    check_members(h, HEADER_FIELDS, "block")
    if not (type(h["v"]) is int and h["v"] == 1):
        raise Fail("block.bad_version")
    if not (isinstance(h["chain"], str) and CHAIN_RE.fullmatch(h["chain"])):
        raise Fail("block.bad_chain")
    if not is_uint(h["height"]):
        raise Fail("block.bad_height")
    if not is_hex(h["prev"], 64) or (h["prev"] == "0" * 64) != (h["height"] == 0):
        raise Fail("block.bad_prev")
    if not is_uint(h["time"]):
        raise Fail("block.bad_time")
    if not is_did(h["proposer"]):
        raise Fail("block.bad_proposer")
    for f in ("txs_root", "results_root", "state_root", "validators"):
        if not is_hex(h[f], 64):
            raise Fail("block.bad_" + f)
    if not is_uint(h["tx_count"]):
        raise Fail("block.bad_tx_count")


def check_block_text(text, lim, chain):
    """Returns (header, [tx JCS bytes])."""
    data = text.encode("utf-8")
    if len(data) > lim["block_bytes_max"]:
        raise Fail("block.too_large")
    jl = tx_json_limits(lim, 2, lim["block_txs_max"] + 1)
    jl["max_bytes"] = lim["block_bytes_max"]
    b = parse_strict(data, jl)
    if not isinstance(b, dict):
        raise Fail("block.not_object")
    check_members(b, ["header", "txs"], "block")
    h = b["header"]
    header_form(h)
    if not isinstance(b["txs"], list):
        raise Fail("block.bad_txs")
    if len(b["txs"]) > lim["block_txs_max"]:
        raise Fail("block.too_many_txs")
    canon = [tx_form(tx, lim) for tx in b["txs"]]
    if len(jcs(b)) > lim["block_bytes_max"]:
        raise Fail("block.too_large")
    if h["chain"] != chain:
        raise Fail("block.wrong_chain")
    if h["tx_count"] != len(canon):
        raise Fail("block.tx_count_mismatch")
    if mth([sha256(c) for c in canon]).hex() != h["txs_root"]:
        raise Fail("block.txs_root_mismatch")
    for tx in b["txs"]:
        tx_validate(tx, chain)
    return h, canon


CERT_LIMITS = {"max_bytes": 256 + 1024 * 512, "max_depth": 3, "max_members": 1025}


def check_cert_text(text, validators, chain, height, block):
    c = parse_strict(text, CERT_LIMITS)
    if not isinstance(c, dict):
        raise Fail("cert.not_object")
    check_members(c, ["height", "view", "block", "sigs"], "cert")
    if not is_uint(c["height"]):
        raise Fail("cert.bad_height")
    if not is_uint(c["view"]):
        raise Fail("cert.bad_view")
    if not is_hex(c["block"], 64):
        raise Fail("cert.bad_block")
    sigs = c["sigs"]
    if not isinstance(sigs, list):
        raise Fail("cert.bad_sigs")
    if len(sigs) > 1024:
        raise Fail("cert.too_many_sigs")
    for s in sigs:
        if not (isinstance(s, dict) and sorted(s) == ["sig", "validator"]
                and is_did(s["validator"]) and is_hex(s["sig"], 128)):
            raise Fail("cert.bad_sigs")
    if c["height"] != height:
        raise Fail("cert.wrong_height")
    if c["block"] != block:
        raise Fail("cert.wrong_block")
    for a, b in zip(sigs, sigs[1:]):
        if b["validator"].encode() < a["validator"].encode():
            raise Fail("cert.unsorted")
        if b["validator"] == a["validator"]:
            raise Fail("cert.duplicate")
    keys = {v["id"]: bytes.fromhex(v["key"]) for v in validators}
    for s in sigs:
        if s["validator"] not in keys:
            raise Fail("cert.not_member")
    if len(sigs) < 2 * len(validators) // 3 + 1:
        raise Fail("cert.no_quorum")
    vote = {"chain": chain, "height": c["height"], "view": c["view"], "block": c["block"],
            "phase": "commit"}
    message = b"IMI/vote/v1\n" + jcs(vote)
    for s in sigs:
        if not ed25519_verify(keys[s["validator"]], message, bytes.fromhex(s["sig"])):
            raise Fail("cert.bad_signature")
    return c


def outcome(fn, *args):
    """(None, result) or (error code, None)."""
    try:
        return None, fn(*args)
    except Fail as e:
        return e.code, None


# ---------------------------------------------------------------------------
# Vector files.


class Checker:
    def __init__(self, name):
        self.name = name
        self.cases = 0
        self.errors = []

    def case(self):
        self.cases += 1

    def expect(self, cond, case, what):
        if not cond:
            self.errors.append("%s: %s: %s" % (self.name, case, what))

    def expect_code(self, got, want, case):
        self.expect(got == want, case, "expected %s, got %s" % (want or "valid", got or "valid"))


def check_jcs(ck, doc):
    for c in doc["cases"]:
        ck.case()
        data = bytes.fromhex(c["input_hex"]) if "input_hex" in c else c["input"].encode("utf-8")
        err, value = outcome(parse_strict, data, c.get("limits"))
        if "error" in c:
            ck.expect_code(err, c["error"], c["name"])
            continue
        ck.expect_code(err, None, c["name"])
        if err is None:
            out = jcs(value)
            ck.expect(out == c["canonical"].encode("utf-8"), c["name"],
                      "canonical %r, expected %r" % (out, c["canonical"]))
            ck.expect(jcs(parse_strict(out, c.get("limits"))) == out, c["name"],
                      "canonical form is not a fixed point")


def check_merkle(ck, doc):
    for t in doc["trees"]:
        ck.case()
        root = mth([bytes.fromhex(x) for x in t["leaves"]]).hex()
        ck.expect(root == t["root"], t["name"], "root %s, expected %s" % (root, t["root"]))
    for p in doc["inclusion"]:
        ck.case()
        ok = verify_inclusion(bytes.fromhex(p["leaf"]), p["leaf_index"], p["tree_size"],
                              [bytes.fromhex(x) for x in p["path"]], bytes.fromhex(p["root"]))
        ck.expect(ok == p["valid"], p["name"], "verification gave %s" % ok)


def smt_root(leaves, depth=0):
    """Root of the sparse Merkle tree over [(path, value_hash)]."""
    if not leaves:
        return bytes(32)
    if len(leaves) == 1:
        return state_leaf_hash(*leaves[0])
    left = [l for l in leaves if path_bit(l[0], depth) == 0]
    right = [l for l in leaves if path_bit(l[0], depth) == 1]
    return sha256(b"\x01" + smt_root(left, depth + 1) + smt_root(right, depth + 1))


def state_proof_valid(c):
    proof = c["proof"]
    if not (isinstance(proof, dict) and sorted(proof) == ["leaf", "siblings"]
            and isinstance(proof["siblings"], list)
            and all(is_hex(x, 64) for x in proof["siblings"])):
        return False
    leaf = proof["leaf"]
    if leaf is not None:
        if not (isinstance(leaf, dict) and sorted(leaf) == ["path", "value_hash"]
                and is_hex(leaf["path"], 64) and is_hex(leaf["value_hash"], 64)):
            return False
        leaf = (bytes.fromhex(leaf["path"]), bytes.fromhex(leaf["value_hash"]))
    value = c["value_bytes"]
    value = None if value is None else value.encode("utf-8")
    return verify_state_proof(bytes.fromhex(c["root"]), c["app"], c["key"], value, leaf,
                              [bytes.fromhex(x) for x in proof["siblings"]]) is None


def check_state_proofs(ck, doc):
    for t in doc["trees"]:
        ck.case()
        leaves = [(sha256((e["app"] + "/" + e["key"]).encode("utf-8")),
                   sha256(e["value_bytes"].encode("utf-8"))) for e in t["entries"]]
        ck.expect(len({l[0] for l in leaves}) == len(leaves), t["name"], "duplicate keys")
        root = smt_root(leaves).hex()
        ck.expect(root == t["root"], t["name"], "root %s, expected %s" % (root, t["root"]))
    for c in doc["proofs"]:
        ck.case()
        ok = state_proof_valid(c)
        ck.expect(ok == c["valid"], c["name"], "verification gave %s" % ok)


def check_transactions(ck, doc):
    lim, chain = doc["limits"], doc["chain"]
    for c in doc["valid"]:
        ck.case()
        name = c["name"]
        err, tx = outcome(check_tx_text, c["tx"], lim, chain, c["first"])
        ck.expect_code(err, None, name)
        if err:
            continue
        sk = nacl.signing.SigningKey(bytes.fromhex(c["seed"]))
        key = bytes(sk.verify_key)
        ck.expect(key.hex() == c["key"], name, "seed does not give key")
        body = {"v": 1, "chain": c["chain"], "from": c["from"], "key": c["key"],
                "nonce": c["nonce"], "app": c["app"], "op": c["op"], "args": c["args"]}
        if "on_behalf_of" in c:
            body["on_behalf_of"] = c["on_behalf_of"]
        sb = b"IMI/tx/v1\n" + jcs(body)
        ck.expect(sb == c["signed_bytes"].encode("utf-8"), name, "signed bytes differ")
        sig = sk.sign(sb).signature
        ck.expect(sig.hex() == c["sig"], name, "signature differs")
        body["sig"] = sig.hex()
        ck.expect(jcs(body) == c["tx"].encode("utf-8"), name, "transaction JCS differs")
        ck.expect(tx == body, name, "parsed transaction differs from its members")
        ck.expect(sha256(c["tx"].encode("utf-8")).hex() == c["id"], name, "id differs")
        if c["first"]:
            ck.expect(did_from_key(key) == c["from"], name, "from is not did(key)")
    for c in doc["invalid"]:
        ck.case()
        err, _ = outcome(check_tx_text, c["text"], lim, chain, c["first"])
        ck.expect_code(err, c["error"], c["name"])


def check_blocks(ck, doc):
    lim, chain = doc["limits"], doc["chain"]
    for s in doc["validator_sets"]:
        ck.case()
        name = s["name"]
        ids = [v["id"] for v in s["input"]]
        ck.expect(len(set(ids)) == len(ids) and all(is_did(i) for i in ids), name, "bad ids")
        ck.expect(all(is_valid_key(bytes.fromhex(v["key"])) for v in s["input"]), name,
                  "invalid key")
        ordered = sorted(s["input"], key=lambda v: v["id"].encode("utf-8"))
        canonical = jcs([{"id": v["id"], "key": v["key"]} for v in ordered])
        ck.expect(canonical == s["canonical"].encode("utf-8"), name, "canonical differs")
        ck.expect(sha256(canonical).hex() == s["hash"], name, "hash differs")
        n = len(ordered)
        ck.expect((s["n"], s["f"], s["q"]) == (n, (n - 1) // 3, 2 * n // 3 + 1), name, "n f q")
        ck.expect(s["primary"] == [ordered[v % n]["id"] for v in range(n + 1)], name, "primary")
    for r in doc["results"]:
        ck.case()
        leaves = []
        for x in r["results"]:
            # A fired deadline's result also names the deadline.
            ck.expect(isinstance(x, dict) and sorted(x) in (["code", "events"],
                                                            ["code", "deadline", "events"]) and
                      type(x["code"]) is int and isinstance(x["events"], list), r["name"],
                      "not a result record")
            if "deadline" in x:
                d = x["deadline"]
                ck.expect(isinstance(d, dict) and sorted(d) == ["app", "key", "time"] and
                          isinstance(d["app"], str) and NAME_RE.fullmatch(d["app"]) and
                          isinstance(d["key"], str) and is_uint(d["time"]), r["name"],
                          "not a deadline")
            leaves.append(jcs(x))
        ck.expect([l.decode("utf-8") for l in leaves] == r["leaves"], r["name"], "leaves differ")
        ck.expect(mth(leaves).hex() == r["root"], r["name"], "root differs")
    for h in doc["headers"]:
        ck.case()
        err, _ = outcome(header_form, h["header"])
        ck.expect_code(err, None, h["name"])
        canonical = jcs(h["header"])
        ck.expect(canonical == h["canonical"].encode("utf-8"), h["name"], "canonical differs")
        ck.expect(sha256(canonical).hex() == h["id"], h["name"], "id differs")
    for b in doc["blocks"]:
        ck.case()
        err, res = outcome(check_block_text, b["text"], lim, chain)
        ck.expect_code(err, b.get("error"), b["name"])
        if err is None and res is not None:
            header, canon = res
            ck.expect(sha256(jcs(header)).hex() == b.get("id"), b["name"], "id differs")
            ck.expect([sha256(x).hex() for x in canon] == b.get("tx_ids"), b["name"],
                      "tx ids differ")


def check_certificates(ck, doc):
    chain, validators = doc["chain"], doc["validators"]
    ids = [v["id"] for v in validators]
    ck.expect(ids == sorted(ids, key=lambda i: i.encode()) and len(set(ids)) == len(ids),
              "validators", "not strictly sorted by id")
    ck.expect(doc["q"] == 2 * len(validators) // 3 + 1, "validators", "q")
    keys = {v["key"] for v in validators}
    for seed in doc["seeds"]:
        sk = nacl.signing.SigningKey(bytes.fromhex(seed))
        pk = bytes(sk.verify_key)
        ck.expect(pk.hex() in keys and did_from_key(pk) in ids, "seeds",
                  "seed %s... is not a validator" % seed[:8])
    for v in doc["votes"]:
        ck.case()
        vote = {"chain": chain, "height": doc["height"], "view": v["view"],
                "block": doc["block"], "phase": "commit"}
        ck.expect(jcs(vote) == v["canonical"].encode("utf-8"), "vote view %d" % v["view"],
                  "canonical differs")
    for c in doc["cases"]:
        ck.case()
        err, _ = outcome(check_cert_text, c["cert"], validators, chain, doc["height"],
                         doc["block"])
        ck.expect_code(err, c.get("error"), c["name"])


CHECKERS = {
    "jcs.json": check_jcs,
    "merkle.json": check_merkle,
    "state_proofs.json": check_state_proofs,
    "transactions.json": check_transactions,
    "blocks.json": check_blocks,
    "certificates.json": check_certificates,
}


# SD-JWT VC presentations (sdjwt.json; RFC 9901 with EdDSA/Ed25519 and a
# KB-JWT), re-verified from the RFC alone. DID and credential status are
# taken as active and valid, as the file says.
def b64url_decode(text):
    import base64
    if not isinstance(text, str) or "=" in text or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(data).decode().rstrip("=") != text:
        raise ValueError("non-canonical base64url")
    return data


def b64url(data):
    import base64
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sdjwt_failed_checks(text, doc, keys):
    """The checks a presentation fails, named as in identity/sdjwt_verify.h."""
    failed = []
    try:
        first, last = text.index("~"), text.rindex("~")
        jwt, kb = text[:first], text[last + 1:]
        disclosures = [d for d in text[first + 1:last].split("~")] if last > first else []
        h64, p64, s64 = jwt.split(".")
        header = json.loads(b64url_decode(h64))
        payload = json.loads(b64url_decode(p64))
        sig = b64url_decode(s64)
        if header.get("alg") != "EdDSA" or header.get("typ") not in ("dc+sd-jwt", "vc+sd-jwt"):
            raise ValueError("header")
        if payload.get("_sd_alg", "sha-256") != "sha-256" or not kb:
            raise ValueError("payload")
    except (ValueError, KeyError):
        return ["format"]
    kid = header.get("kid", "")
    if not (kid == payload.get("iss") + "#key-1" and kid.split("#")[0] in keys and
            ed25519_verify(keys[kid.split("#")[0]], (h64 + "." + p64).encode(), sig)):
        failed.append("issuer_signature")
    by_digest, dup = {}, False
    for d in disclosures:
        dg = b64url(sha256(d.encode()))
        dup = dup or dg in by_digest
        by_digest[dg] = json.loads(b64url_decode(d))
    claims, seen, used = dict(payload), set(), set()
    for dg in payload.get("_sd", []):
        dup = dup or dg in seen
        seen.add(dg)
        if dg in by_digest:
            salt, name, value = by_digest[dg]
            if name in claims or name in ("_sd", "..."):
                failed.append("disclosures")
            claims[name] = value
            used.add(dg)
    if set(by_digest) != used and "disclosures" not in failed:
        failed.append("disclosures")
    if dup:
        failed.append("duplicate_digests")
    cnf = payload.get("cnf", {})
    hkid = cnf.get("kid") or cnf.get("jwk", {}).get("kid", "")
    hdid = hkid.split("#")[0]
    hkey = keys.get(hdid) if hkid == hdid + "#key-1" else None
    if "jwk" in cnf and hkey is not None and b64url_decode(cnf["jwk"]["x"]) != hkey:
        hkey = None
    kh64, kp64, ks64 = kb.split(".")
    kheader, kpayload = json.loads(b64url_decode(kh64)), json.loads(b64url_decode(kp64))
    if (kheader.get("typ") != "kb+jwt" or hkey is None or
            not ed25519_verify(hkey, (kh64 + "." + kp64).encode(), b64url_decode(ks64))):
        failed.append("key_binding")
    if kpayload.get("sd_hash") != b64url(sha256(text[:last + 1].encode())):
        failed.append("sd_hash")
    if kpayload.get("aud") != doc["aud"]:
        failed.append("audience")
    if kpayload.get("nonce") != doc["nonce"]:
        failed.append("nonce")
    iat = kpayload.get("iat")
    if not (type(iat) is int and doc["now"] - doc["max_age"] <= iat <= doc["now"] + 60):
        failed.append("freshness")
    if payload.get("nbf", 0) > doc["now"] + 60 or doc["now"] >= payload.get("exp", 2**53) + 60:
        failed.append("validity_period")
    if hkey is None:
        failed.append("holder_key")
    order = ["format", "issuer_signature", "disclosures", "duplicate_digests", "key_binding",
             "sd_hash", "audience", "nonce", "freshness", "validity_period", "holder_key"]
    disclosed = {n: claims[n] for n in claims if n not in payload}
    return sorted(set(failed), key=order.index), disclosed


def check_sdjwt(ck, doc):
    keys = {}
    for who in ("issuer", "holder"):
        key = bytes.fromhex(doc[who + "_public_key"])
        ck.expect(did_from_key(key) == doc[who + "_did"], who, "DID is not did(key)")
        keys[doc[who + "_did"]] = key
    for c in doc["cases"]:
        ck.case()
        result = sdjwt_failed_checks(c["presentation"], doc, keys)
        failed, disclosed = result if isinstance(result, tuple) else (result, {})
        ck.expect(failed == c["failed"], c["name"],
                  "fails %s, the vector says %s" % (failed, c["failed"]))
        ck.expect(c["valid"] == (failed == []), c["name"], "valid flag")
        if c["valid"]:
            ck.expect(disclosed == c["disclosed"], c["name"], "disclosed claims differ")


CHECKERS["sdjwt.json"] = check_sdjwt


def main(argv):
    if len(argv) != 2:
        print("usage: check_vectors.py <vectors dir>", file=sys.stderr)
        return 2
    vdir = argv[1]
    present = sorted(f for f in os.listdir(vdir) if f.endswith(".json"))
    failures = []
    unknown = [f for f in present if f not in CHECKERS]
    for f in unknown:
        failures.append("%s: unknown vector file; add a checker for it to check_vectors.py" % f)
    for f in CHECKERS:
        if f not in present:
            print("notice: %s not present, skipped" % f)
    for f in present:
        if f not in CHECKERS:
            continue
        ck = Checker(f)
        try:
            with open(os.path.join(vdir, f), "rb") as fh:
                doc = json.loads(fh.read().decode("utf-8"))
            if not isinstance(doc.get("description"), str):
                if isinstance(doc.get("about"), str):
                    print("warning: %s names its description \"about\", not \"description\"" % f)
                else:
                    ck.errors.append("%s: no \"description\" member" % f)
            CHECKERS[f](ck, doc)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            ck.errors.append("%s: malformed vector file: %s: %s" % (f, type(e).__name__, e))
        print("%-20s %4d cases, %d mismatches" % (f, ck.cases, len(ck.errors)))
        failures.extend(ck.errors)
    for e in failures:
        print("FAIL " + e)
    if failures:
        print("%d failures" % len(failures))
        return 1
    print("all vectors agree")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
