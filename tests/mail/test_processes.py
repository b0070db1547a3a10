"""The receiver inside the long-running commands: `demo` (end to end with `sandbox buyer-message`,
in enforce mode), `serve`, and `sandbox serve` (the emulators alone, no receiver)."""

from __future__ import annotations

import json
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.processes import bare_env, free_port, stop, wait_for_http

GOOD_KEY = "kD9w3zv8k3bO9JmO1e2b3eQ0S4m8mXQFQ0Qe4r1HcBQ="


def start(env: dict[str, str], *args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "deskbridge", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_demo_takes_a_sandbox_buyer_message_in_enforce_mode(tmp_path):
    env = bare_env(tmp_path)
    demo = start(env, "demo", cwd=tmp_path)
    try:
        wait_for_http(f"http://127.0.0.1:{env['DESKBRIDGE_WEB_PORT']}/healthz", demo)
        data = json.loads((tmp_path / "var" / "demo.json").read_text())
        assert data["smtp"] == {"host": "127.0.0.1", "port": int(env["DESKBRIDGE_SMTP_PORT"])}
        address = data["addresses"]["ATVPDKIKX0DER"]

        sent = subprocess.run(
            [sys.executable, "-m", "deskbridge", "sandbox", "buyer-message", "--to", address,
             "--order", "111-1234567-1234567", "--text", "Where is my parcel?"],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

        assert sent.returncode == 0, sent.stderr
        assert f"to {address}: 250 2.0.0 Stored as inbound message" in sent.stdout
    finally:
        stop(demo)
    with sqlite3.connect(tmp_path / "var" / "deskbridge.sqlite3") as db:
        rcpt, authentication = db.execute(
            "SELECT rcpt_to, authentication FROM pipeline_inboundmessage"
        ).fetchone()
    assert rcpt == address
    assert json.loads(authentication)["verdict"] == "pass"
    assert json.loads(authentication)["mode"] == "enforce"


def test_serve_runs_the_smtp_receiver(tmp_path):
    env = bare_env(tmp_path, DESKBRIDGE_SECRET_KEY="s" * 50, DESKBRIDGE_ENCRYPTION_KEYS=GOOD_KEY)
    serve = start(env, "serve", cwd=tmp_path)
    try:
        wait_for_http(f"http://127.0.0.1:{env['DESKBRIDGE_WEB_PORT']}/healthz", serve)
        with smtplib.SMTP("127.0.0.1", int(env["DESKBRIDGE_SMTP_PORT"]), timeout=30) as client:
            code, _ = client.ehlo("mx.test.example")
            assert code == 250 and client.has_extn("size") and client.has_extn("enhancedstatuscodes")
            client.mail("someone@example.org")
            code, text = client.rcpt("nobody@deskbridge.localhost")
            assert (code, text.decode()[:6]) == (550, "5.1.1 ")
    finally:
        stop(serve)
    # uvicorn re-raises the SIGINT it handled, after everything (the receiver too) stopped.
    assert serve.returncode in (0, -signal.SIGINT)
    assert "smtp receiver stopped" in serve.stderr.read()


def test_serve_stops_with_one_sentence_when_the_smtp_port_is_taken(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = bare_env(tmp_path, DESKBRIDGE_SECRET_KEY="s" * 50, DESKBRIDGE_ENCRYPTION_KEYS=GOOD_KEY)
        env["DESKBRIDGE_SMTP_PORT"] = str(port)
        result = subprocess.run(
            [sys.executable, "-m", "deskbridge", "serve"],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert result.returncode == 2
    assert f"the SMTP receiver cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_sandbox_serve_serves_the_emulators_without_a_receiver(tmp_path):
    env = bare_env(tmp_path)
    port = free_port()
    sandbox = start(env, "sandbox", "serve", "--port", str(port), cwd=tmp_path)
    try:
        page = wait_for_http(f"http://127.0.0.1:{port}/sandbox/amazon/", sandbox)
        assert page.status_code == 200
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", int(env["DESKBRIDGE_SMTP_PORT"]))) != 0
    finally:
        stop(sandbox)
