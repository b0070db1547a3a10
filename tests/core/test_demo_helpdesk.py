"""`deskbridge demo [--helpdesk KIND]`, started for real: demo.json names the sandbox helpdesk the demo
delivers to, and a buyer message sent with `deskbridge sandbox buyer-message` ends as a ticket there,
read back through the helpdesk's own API with demo.json's credentials, as an outside test would."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.processes import bare_env, stop

WAIT = 120.0  # seconds: two cores shared with other test runs


def start_demo(env: dict[str, str], data_dir: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "deskbridge", "demo", "--data-dir", str(data_dir), *args],
        env=env,
        cwd=data_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the request log; never read, so it must not fill a pipe
        text=True,
    )


def eventually(what: str, probe: Callable[[], Any], process: subprocess.Popen) -> Any:
    """probe()'s first truthy answer, failing early if the demo exits."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the demo exited with {process.returncode} while waiting for {what}"
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"no {what} in {WAIT:.0f}s")


def read_demo_json(path: Path, kind: str) -> dict[str, Any] | None:
    """demo.json once it names `kind` (the first run's may still be there as the second starts)."""
    demo = json.loads(path.read_text()) if path.exists() else None
    return demo if demo and demo.get("helpdesk", {}).get("kind") == kind else None


def send_buyer_message(env: dict[str, str], data_dir: Path, address: str, order: str, text: str) -> None:
    sent = subprocess.run(
        [sys.executable, "-m", "deskbridge", "sandbox", "buyer-message",
         "--to", address, "--order", order, "--text", text],
        env={**env, "DESKBRIDGE_DATA_DIR": str(data_dir)},
        cwd=data_dir.parent, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert "250 2.0.0" in sent.stdout


def zendesk_ticket_with(helpdesk: dict[str, Any], text: str) -> dict[str, Any] | None:
    """The Zendesk ticket whose comments hold `text`: GET /api/v2/tickets.json, then each ticket's
    comments, with API-token auth ({email}/token : {api_token})."""
    credentials = helpdesk["credentials"]
    auth = (f"{credentials['email']}/token", credentials["api_token"])
    with httpx.Client(base_url=helpdesk["api_base"], auth=auth, timeout=10) as api:
        listed = api.get("/api/v2/tickets.json")
        assert listed.status_code == 200, listed.text
        for ticket in listed.json()["tickets"]:
            comments = api.get(f"/api/v2/tickets/{ticket['id']}/comments.json")
            assert comments.status_code == 200, comments.text
            if any(text in c["plain_body"] for c in comments.json()["comments"]):
                return dict(ticket)
    return None


def kustomer_conversation_with(helpdesk: dict[str, Any], text: str) -> dict[str, Any] | None:
    """The Kustomer conversation holding a customer message with `text`: GET /v1/conversations page
    by page (following links.next), then each one's messages, with the Bearer API key."""
    headers = {"Authorization": f"Bearer {helpdesk['credentials']['api_key']}"}
    with httpx.Client(base_url=helpdesk["api_base"], headers=headers, timeout=10) as api:
        link: str | None = "/v1/conversations?pageSize=50"
        while link:
            listed = api.get(link)
            assert listed.status_code == 200, listed.text
            for conversation in listed.json()["data"]:
                messages = api.get(f"/v1/conversations/{conversation['id']}/messages")
                assert messages.status_code == 200, messages.text
                if any(
                    m["attributes"]["direction"] == "in"
                    and text in (m["attributes"].get("body") or m["attributes"].get("preview") or "")
                    for m in messages.json()["data"]
                ):
                    return dict(conversation)
            link = listed.json()["links"]["next"]
    return None


def test_demo_delivers_buyer_messages_to_its_sandbox_helpdesk_and_switches_on_rerun(tmp_path):
    data_dir = tmp_path / "demo-data"
    env = bare_env(tmp_path)
    web_url = f"http://127.0.0.1:{env['DESKBRIDGE_WEB_PORT']}"
    demo_json = data_dir / "demo.json"

    # The default: Zendesk.
    process = start_demo(env, data_dir)
    try:
        demo = eventually("demo.json", lambda: read_demo_json(demo_json, "zendesk"), process)
        helpdesk = demo["helpdesk"]
        credentials = helpdesk["credentials"]
        assert set(credentials) == {"subdomain", "email", "api_token"}
        assert helpdesk["api_base"] == f"{web_url}/sandbox/zendesk/{credentials['subdomain']}"
        assert helpdesk["page"] == f"{web_url}/sandbox/zendesk/{credentials['subdomain']}/"
        # demo.json appears once the demo is ready: its pages answer at once.
        assert httpx.get(f"{web_url}/healthz", timeout=10).status_code == 200
        assert httpx.get(helpdesk["page"], timeout=10).status_code == 200
        index = httpx.get(f"{web_url}/sandbox/", timeout=10).text
        assert f'href="/sandbox/zendesk/{credentials["subdomain"]}/"' in index
        assert "the demo delivers here" in index

        text = "Hello, where is my parcel? It was due on Monday."
        send_buyer_message(env, data_dir, demo["addresses"]["ATVPDKIKX0DER"], demo["orders"][0], text)
        ticket = eventually("Zendesk ticket", lambda: zendesk_ticket_with(helpdesk, text), process)
        assert demo["orders"][0] in ticket["subject"]
    finally:
        stop(process)
    assert "deskbridge demo is running at" in process.stdout.read()

    # Again in the same data dir, with Kustomer: connected too, and the seller now delivers there.
    process = start_demo(env, data_dir, "--helpdesk", "kustomer")
    try:
        rerun = eventually("demo.json", lambda: read_demo_json(demo_json, "kustomer"), process)
        helpdesk = rerun["helpdesk"]
        assert set(helpdesk["credentials"]) == {"org", "api_key"}
        org = helpdesk["credentials"]["org"]
        assert helpdesk["api_base"] == f"{web_url}/sandbox/kustomer/{org}"
        assert helpdesk["page"] == f"{web_url}/sandbox/kustomer/{org}/app/"
        assert rerun["login"] == demo["login"] and rerun["addresses"] == demo["addresses"]
        index = httpx.get(f"{web_url}/sandbox/", timeout=10).text
        assert f'href="/sandbox/kustomer/{org}/app/"' in index  # and Zendesk's demo account still listed
        assert f'href="/sandbox/zendesk/{demo["helpdesk"]["credentials"]["subdomain"]}/"' in index

        text = "Bonjour, the lid of the jar arrived cracked."
        send_buyer_message(env, data_dir, rerun["addresses"]["ATVPDKIKX0DER"], rerun["orders"][1], text)
        conversation = eventually(
            "Kustomer conversation", lambda: kustomer_conversation_with(helpdesk, text), process
        )
        assert rerun["orders"][1] in conversation["attributes"]["name"]
        # Nothing of it went to Zendesk, which the seller no longer delivers to.
        assert zendesk_ticket_with(demo["helpdesk"], text) is None
    finally:
        stop(process)
