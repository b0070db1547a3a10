"""The long-running commands, started for real: `demo` and `serve` answer over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from tests.processes import bare_env, stop, wait_for_http

GOOD_KEY = "kD9w3zv8k3bO9JmO1e2b3eQ0S4m8mXQFQ0Qe4r1HcBQ="


def test_demo_serves_the_login_page_and_writes_demo_json(tmp_path):
    data_dir = tmp_path / "demo-data"
    env = bare_env(tmp_path)
    port = env["DESKBRIDGE_WEB_PORT"]
    process = subprocess.Popen(
        [sys.executable, "-m", "deskbridge", "demo", "--data-dir", str(data_dir)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page = wait_for_http(f"http://127.0.0.1:{port}/login/", process)
        assert page.status_code == 200
        assert 'name="username"' in page.text and 'name="password"' in page.text
        demo = json.loads((data_dir / "demo.json").read_text())
        assert demo["web_url"] == f"http://127.0.0.1:{port}"
        assert demo["seller_id"] == "A2SNDBXNA00001"
        assert demo["addresses"] == {
            "ATVPDKIKX0DER": "amz-us-atvpdkikx0der-a2sndbxna00001@deskbridge.localhost",
            "A2EUQ1WTGCTBG2": "amz-ca-a2euq1wtgctbg2-a2sndbxna00001@deskbridge.localhost",
            "A1AM78C64UM0Y8": "amz-mx-a1am78c64um0y8-a2sndbxna00001@deskbridge.localhost",
        }
        # The login in demo.json works.
        with httpx.Client(base_url=demo["web_url"], follow_redirects=True) as browser:
            form = browser.get("/login/")
            token = form.cookies["csrftoken"]
            response = browser.post(
                "/login/",
                data={
                    "username": demo["login"]["email"],
                    "password": demo["login"]["password"],
                    "csrfmiddlewaretoken": token,
                },
                headers={"Referer": f"{demo['web_url']}/login/"},
            )
            assert response.url.path == "/dashboard/"
            assert "Demo Shop" in response.text
            assert "1 account · 3 marketplaces · 3 addresses" in response.text
            # The seeded account's token works against the sandbox SP-API (LWA refresh included).
            accounts = browser.get("/amazon/").text
            assert "Maple &amp; Pine Goods" in accounts and "Connected" in accounts
        assert httpx.get(f"{demo['web_url']}/healthz").json()["status"] == "ok"
    finally:
        stop(process)
    assert "deskbridge demo is running at" in process.stdout.read()


def test_serve_answers_health_with_real_settings(tmp_path):
    env = bare_env(tmp_path, DESKBRIDGE_SECRET_KEY="s" * 50, DESKBRIDGE_ENCRYPTION_KEYS=GOOD_KEY)
    process = subprocess.Popen(
        [sys.executable, "-m", "deskbridge", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = wait_for_http(f"http://127.0.0.1:{env['DESKBRIDGE_WEB_PORT']}/healthz", process)
        assert health.status_code == 200
        body = health.json()
        assert body["database"]["ok"] and body["queue"]["ok"]
        # The sandbox is mounted only in the demo.
        sandbox = httpx.get(f"http://127.0.0.1:{env['DESKBRIDGE_WEB_PORT']}/sandbox/")
        assert sandbox.status_code == 404
    finally:
        stop(process)


@pytest.mark.django_db
def test_doctor_reports_each_check(capsys):
    from django.core.management import call_command

    call_command("doctor")
    out = capsys.readouterr().out
    assert "ok    database:" in out and "ok    queue:" in out and "ok    secrets:" in out
