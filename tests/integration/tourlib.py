"""What the tour-driven integration tests (share_test.py, approval_test.py)
share: running scripts/tour.sh with a validator killed and restarted at named
steps, reading an app's state and queries with every proof checked, and
scanning blocks for planted personal data."""
import json
import os
import subprocess
import time

import imilib


def run_tour(cmd, victim, kill_at, restart_at, log, limit_s=240):
    """Runs the tour command `cmd`; SIGKILLs `victim` when a line starts with
    `kill_at` and restarts it when a later line starts with `restart_at`.
    Returns the tour's output; fails if it exits nonzero or never reached both."""
    env = dict(os.environ, IMI_KEY_PASSWORD="tour-test-password")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines = []
    killed = restarted = False
    deadline = time.time() + limit_s
    for line in proc.stdout:
        lines.append(line)
        print("tour| " + line, end="", flush=True)
        if not killed and line.startswith(kill_at):
            log("kill -9 %s in the middle of the tour" % victim.name)
            victim.kill9()
            killed = True
        if killed and not restarted and line.startswith(restart_at):
            victim.start()
            log("restarted %s" % victim.name)
            restarted = True
        assert time.time() < deadline, "the tour runs past %d s" % limit_s
    code = proc.wait(timeout=30)
    assert code == 0, "the tour failed (exit %d)" % code
    assert killed and restarted, "the tour never reached the kill and restart points"
    return "".join(lines)


class AppReader:
    """Reads one app's state and queries from a node, checking every proof
    against the state root of the block the answer names."""

    def __init__(self, app):
        self.app = app

    def check_proof(self, node, answer, key, value):
        """`value` under app/`key` is proven (and a forged value is not)."""
        header = node.get_json("/v1/blocks/%d" % answer["height"])["header"]
        assert answer["state_root"] == header["state_root"], (answer["height"],
                                                              answer["state_root"])
        root = bytes.fromhex(answer["state_root"])
        assert imilib.verify_state_proof(root, self.app, key, imilib.jcs(value),
                                         answer["proof"]), key
        assert not imilib.verify_state_proof(root, self.app, key, imilib.jcs({"forged": 1}),
                                             answer["proof"]), key

    def state(self, node, key):
        """The value (None if absent), its proof checked."""
        s = node.get_json("/v1/state/%s/%s" % (self.app, key.replace("/", "%2F")))
        if s["value"] is not None:
            self.check_proof(node, s, key, s["value"])
        return s["value"]

    def query(self, node, name, **params):
        """Every item of a query (all pages), each proof checked, and the
        first page's summary (None if the query has none)."""
        items, cursor, summary = [], None, None
        while True:
            q = "&".join("%s=%s" % (k, v) for k, v in params.items())
            if cursor:
                q += "&cursor=" + cursor
            page = node.get_json("/v1/apps/%s/%s?%s" % (self.app, name, q))
            assert page["app"] == self.app and page["query"] == name, page
            header = node.get_json("/v1/blocks/%d" % page["height"])["header"]
            assert page["state_root"] == header["state_root"]
            root = bytes.fromhex(page["state_root"])
            for it in page["items"]:
                assert imilib.verify_state_proof(root, self.app, it["key"],
                                                 imilib.jcs(it["value"]), it["proof"]), it["key"]
            if summary is None:
                summary = page.get("summary")
            items += page["items"]
            cursor = page.get("next")
            if not cursor:
                return items, summary


def check_no_personal_data(blocks, secrets, log):
    """No block (as served, whole) holds any of `secrets`."""
    for height, _, _, b in blocks:
        text = json.dumps(b)
        for s in secrets:
            assert s not in text, "block %d holds %r" % (height, s)
    log("no planted personal data in %d blocks (%d strings)" % (len(blocks), len(secrets)))
