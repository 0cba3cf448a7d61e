"""Runs the component's typed exports from Python (wasmtime-py) against the local GitBook
stand-in, both through ``sync.DirectorySync`` and through ``sync.py`` as a script.

Needs the component (``cargo build --release --target wasm32-wasip2``) and the stand-in
(``cargo build -p host-test``; ``HOST_TEST_BIN`` overrides its path).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import sync
from sync import DirectorySync, InvalidInput, Unauthorized

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
HOST_TEST = os.environ.get("HOST_TEST_BIN", str(REPO / "target/debug/host-test"))
WASM = os.environ.get("GITBOOK_SYNC_WASM", str(sync.DEFAULT_WASM))
TOKEN = "gb_test_token"


@pytest.fixture
def standin():
    """A fresh stand-in per test, in its own process; yields its base URL."""
    try:
        child = subprocess.Popen([HOST_TEST, "standin", "--port", "0", "--org", "acme", "--token", TOKEN],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    except FileNotFoundError:
        pytest.fail(f"{HOST_TEST} not found: run `cargo build -p host-test` or set HOST_TEST_BIN")
    try:
        url = child.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), f"stand-in printed {url!r}, exit code {child.poll()}"
        yield url
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


@pytest.fixture(scope="module")
def component_path() -> str:
    if not Path(WASM).is_file():
        pytest.fail(f"{WASM} not found: run `cargo build --release --target wasm32-wasip2`")
    return WASM


def settings(url: str, **overrides) -> dict:
    return {"base_url": url, "organization": "acme", "token": TOKEN, "allow_insecure_http": True, **overrides}


def team_id(url: str, title: str) -> str:
    """Read straight from the stand-in: the client interface has no team lookup."""
    request = urllib.request.Request(f"{url}/v1/orgs/acme/teams", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        teams = json.load(response)["items"]
    return next(t["id"] for t in teams if t["title"] == title)


def test_lists_the_seven_members(standin, component_path):
    gitbook = DirectorySync(settings(standin), component_path)
    members = gitbook.list_members()
    assert len(members) == 7
    by_email = {m["user"]["email"]: m for m in members}
    assert by_email["alice@acme.test"]["role"] == "admin"
    assert by_email["gina@partner.test"]["role"] is None  # a guest
    assert [m["user"]["email"] for m in gitbook.list_members(role="admin")] == ["alice@acme.test"]
    assert [m["user"]["email"] for m in gitbook.list_members(guests=True)] == ["gina@partner.test"]
    page = gitbook.call("list-members-page", {}, None, 3)
    assert len(page["items"]) == 3 and page["count"] == 7 and isinstance(page["next_page"], str)


def test_invite_then_team_update(standin, component_path):
    gitbook = DirectorySync(settings(standin), component_path)
    engineering = team_id(standin, "Engineering")
    result = gitbook.invite(["New.Hire@acme.test"], role="edit")
    assert result["invited"] == 1
    assert result["failed_sso_emails"] == []
    (new_id,) = result["user_ids"]
    assert re.fullmatch(r"[0-9A-Za-z]{28}", new_id)

    member = gitbook.get_member(new_id)
    assert member["user"]["email"] == "new.hire@acme.test"
    assert (member["role"], member["sso"], member["teams"]) == ("edit", True, 0)

    bob = gitbook.find_member_by_email("bob@acme.test")
    assert bob is not None
    assert gitbook.update_team_members(engineering, [new_id], ["bob@acme.test"]) is None
    assert gitbook.get_member(new_id)["teams"] == 1
    assert gitbook.get_member(bob["id"])["teams"] == bob["teams"] - 1
    assert len(gitbook.list_members()) == 8
    assert gitbook.find_member_by_email("nobody@acme.test") is None


def test_wrong_token_is_unauthorized(standin, component_path):
    gitbook = DirectorySync(settings(standin, token="wrong"), component_path)
    with pytest.raises(Unauthorized) as caught:
        gitbook.list_members()
    error = caught.value
    assert error.tag == "unauthorized"
    assert error.details["status"] == 401
    assert error.details["operation"] == "list members"
    assert "wrong" not in str(error.details)


def test_invalid_input_names_the_field(standin, component_path):
    gitbook = DirectorySync(settings(standin), component_path)
    with pytest.raises(InvalidInput) as caught:
        gitbook.update_team_members("", ["x@acme.test"], [])
    assert (caught.value.tag, caught.value.field) == ("invalid-input", "team-id")

    with pytest.raises(InvalidInput) as caught:
        gitbook.invite(["ok@acme.test", "not-an-email"])
    assert caught.value.field == "emails[1]"
    assert "not-an-email" in caught.value.details["message"]

    with pytest.raises(InvalidInput) as caught:
        DirectorySync(settings(standin, allow_insecure_http=False), component_path).list_members()
    assert caught.value.field == "base-url"
    assert len(gitbook.list_members()) == 7  # nothing was sent by the refused calls


def run_script(url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HERE / "sync.py"), *args],
        capture_output=True, text=True, timeout=120,
        env={"PATH": os.environ.get("PATH", ""), "GITBOOK_SYNC_WASM": WASM, "GITBOOK_API_URL": url,
             "GITBOOK_ORG": "acme", "GITBOOK_TOKEN": TOKEN, "GITBOOK_ALLOW_INSECURE_HTTP": "1", **env},
    )


def test_script_lists_invites_and_updates_a_team(standin, component_path):
    engineering = team_id(standin, "Engineering")
    out = run_script(standin, "--invite", "ann@acme.test", "--role", "edit", "--team", engineering,
                     "--remove", "bob@acme.test")
    assert out.returncode == 0, out.stderr
    assert re.search(r"^7 members in acme:$", out.stdout, re.M)
    assert re.search(r"^  admin +alice@acme\.test ", out.stdout, re.M)
    assert re.search(r"^  guest +gina@partner\.test ", out.stdout, re.M)
    invited = re.search(r"^invited ann@acme\.test as edit: 1 added, user IDs ([0-9A-Za-z]{28})$", out.stdout, re.M)
    assert invited, out.stdout
    assert f"team {engineering}: added [{invited[1]}], removed [bob@acme.test]" in out.stdout
    assert re.search(r"^  ann@acme\.test is now in 1 team\(s\)$", out.stdout, re.M)

    again = run_script(standin)
    assert again.returncode == 0, again.stderr
    assert re.search(r"^8 members in acme:$", again.stdout, re.M)
    assert re.search(r"^  edit +bob@acme\.test +[0-9A-Za-z]{28} +teams: 0$", again.stdout, re.M)


def test_script_wrong_token(standin, component_path):
    out = run_script(standin, GITBOOK_TOKEN="wrong")
    assert out.returncode == 1
    assert re.search(r"^unauthorized: list members failed \(HTTP 401\): .* - check GITBOOK_TOKEN$", out.stderr, re.M)
    assert "wrong" not in out.stdout + out.stderr


def test_script_invalid_input(standin, component_path):
    out = run_script(standin, "--invite", "not-an-email")
    assert out.returncode == 2
    assert re.search(r"^invalid input: emails\[0\]: .*not-an-email.* \(nothing was sent\)$", out.stderr, re.M)


def max_in_flight_of_a_plan(component_path: str, concurrency: int) -> tuple[int, int]:
    """Plans a mirror of 300 members in 10 teams through wasmtime-py against a stand-in
    that takes 40 ms an answer; returns (requests, most requests in flight at once) as
    the stand-in counted them."""
    child = subprocess.Popen([HOST_TEST, "standin", "--port", "0", "--members", "300", "--teams", "10",
                              "--latency-ms", "40", "--until-stdin-closes"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = child.stdout.readline().strip()
        titles = [t["title"] for t in _teams(url)]
        snapshot = json.dumps({"users": [], "rules": {"groupTeams": {t: t for t in titles}}})
        plan = DirectorySync(settings(url, concurrency=concurrency), component_path).plan(snapshot)
        assert plan["current_members"] == 300
    finally:
        # Closing its input makes the stand-in print its counts and exit.
        _, stderr = child.communicate(timeout=30)
    stats = json.loads(stderr.strip().splitlines()[-1])
    return stats["requests"], stats["maxInFlight"]


def _teams(url: str) -> list[dict]:
    request = urllib.request.Request(f"{url}/v1/orgs/acme/teams", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["items"]


def test_wasmtime_py_keeps_several_requests_in_flight_when_asked(component_path):
    # The plan reads the member list beside the ten teams' member lists.
    serial_requests, serial_most = max_in_flight_of_a_plan(component_path, 1)
    requests, most = max_in_flight_of_a_plan(component_path, 8)
    assert serial_most == 1
    assert requests == serial_requests, "the same reads, only sooner"
    assert most >= 4, f"wasmtime-py overlapped only {most} requests"
