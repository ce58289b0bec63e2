"""Smoke runs of `imi bench` (issue 7) against a real one-validator imid:
a few seconds of load, then the JSON summary must parse and its counts must
agree with each other and with the chain. No timing assertions.

usage: bench_test.py IMID IMI
"""

import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imilib  # noqa: E402

IMID, IMI = sys.argv[1], sys.argv[2]
REQUIRED = ["tps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "submitted", "committed",
            "rejected_total", "rejected", "pending", "commits_in_window", "nodes",
            "client_cpu_s", "blocks", "admit_p50_ms", "admit_p99_ms"]


def bench(node, *args):
    env = dict(os.environ, IMI_KEY_PASSWORD=imilib.PASSWORD)
    r = subprocess.run([IMI, "bench", "--nodes", node.url, "--pids", str(node.proc.pid)] +
                       list(args), env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    lines = r.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    for k in REQUIRED:
        assert k in summary, (k, summary)
    summary["stderr"] = r.stderr
    return summary


def check_counts(s):
    assert s["submitted"] > 0, s
    assert s["committed"] + s["rejected_total"] + s["pending"] == s["submitted"], s
    assert sum(s["rejected"].values()) == s["rejected_total"], s
    if s["committed"] > 0:
        assert 0 <= s["p50_ms"] <= s["p90_ms"] <= s["p99_ms"] <= s["max_ms"], s
        # The node answers (202) before the transaction commits.
        assert 0 <= s["admit_p50_ms"] <= s["admit_p99_ms"] <= s["max_ms"], s
    assert s["tps"] >= 0 and s["commits_in_window"] >= 0, s
    assert len(s["nodes"]) == 1 and s["nodes"][0]["cpu_s"] >= 0, s
    assert s["nodes"][0]["peak_rss_mib"] > 0, s


def node_started():
    node = imilib.Node(IMID, config={"requests_per_second": "0"})
    return node.start()


def test_saturating_load():
    node = node_started()
    try:
        s = bench(node, "--seconds", "2", "--warmup", "0.5", "--txs", "3000",
                  "--concurrency", "500", "--drain", "30", "--timeline")
        check_counts(s)
        # --timeline: a header, then one line per second of the window whose
        # counts add up to the summary's.
        lines = [l for l in s["stderr"].splitlines() if l.startswith("timeline: ")]
        assert lines and lines[0].startswith("timeline: second 0 starts at 20"), s["stderr"]
        rows = [l.split()[1:] for l in lines[1:]]
        assert rows and rows[0][0] == "second", s["stderr"]
        seconds = [[float(x) for x in r] for r in rows[1:]]
        assert [int(r[0]) for r in seconds] == list(range(len(seconds))), rows
        assert math.floor(s["seconds"]) <= len(seconds) <= math.ceil(s["seconds"]) + 1, rows
        assert sum(int(r[1]) for r in seconds) == s["submitted"], (rows, s)
        assert sum(int(r[2]) for r in seconds) == s["committed"], (rows, s)
        for r in seconds:
            assert r[3] <= r[4] <= r[5] <= s["max_ms"], (r, s)
        # Everything submitted was valid: all of it commits.
        assert s["rejected_total"] == 0 and s["pending"] == 0, s
        assert s["committed"] == s["submitted"], s
        # The chain holds at least what the bench says committed.
        status = node.get_json("/v1/status")
        assert status["height"] >= 1 and s["blocks"] >= 1, (status, s)
        assert node.terminate() == 0
    finally:
        node.cleanup()


def test_one_at_a_time_with_rate_and_payload():
    node = node_started()
    try:
        s = bench(node, "--seconds", "1", "--concurrency", "1", "--txs", "200",
                  "--payload", "100")
        check_counts(s)
        assert s["detect"] == "wait" and s["concurrency"] == 1, s
        assert s["committed"] == s["submitted"], s
        s = bench(node, "--seconds", "2", "--rate", "200", "--concurrency", "100")
        check_counts(s)
        # The offered rate bounds what is submitted: one every 1/rate seconds.
        assert s["submitted"] <= 200 * s["seconds"] + 2, s
        assert node.terminate() == 0
    finally:
        node.cleanup()


def test_usage_and_unreachable():
    # An unreachable node and a missing registrar are clear failures.
    env = dict(os.environ)
    r = subprocess.run([IMI, "bench", "--nodes", "http://127.0.0.1:1", "--seconds", "1"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "cannot reach" in r.stderr or "cannot connect" in r.stderr, r.stderr
    r = subprocess.run([IMI, "bench", "--mix", "identity", "--seconds", "1"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--registrar-key" in r.stderr, (r.returncode, r.stderr)


imilib.run_tests([
    ("saturating load: counts consistent, everything commits", test_saturating_load),
    ("one at a time, offered rate, payload", test_one_at_a_time_with_rate_and_payload),
    ("usage and unreachable node errors", test_usage_and_unreachable),
])
