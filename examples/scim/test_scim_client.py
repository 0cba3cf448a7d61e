"""The component's SCIM 2.0 endpoint driven by scim2-client, a SCIM client library
written independently of it, as an identity provider would drive it: the component
served by ``wasmtime serve``, GitBook played by the local stand-in.

The client validates every answer against the SCIM schemas (RFC 7643) and status
codes (RFC 7644); what GitBook ends up with is read from the stand-in's own API.

Needs the component (``cargo build --release --target wasm32-wasip2``), the stand-in
(``cargo build -p host-test``; ``HOST_TEST_BIN`` overrides its path) and ``wasmtime``
on PATH (``WASMTIME`` overrides it).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import email_validator
import pytest
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import ListResponse, PatchOp, PatchOperation, SCIMException, SearchRequest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
HOST_TEST = os.environ.get("HOST_TEST_BIN", str(REPO / "target/debug/host-test"))
WASM = os.environ.get("GITBOOK_SYNC_WASM", str(REPO / "target/wasm32-wasip2/release/gitbook_directory_sync.wasm"))
WASMTIME = os.environ.get("WASMTIME", "wasmtime")
GITBOOK_TOKEN = "gb_test_token"
SCIM_TOKEN = "scim_py_2d4f9a"

# The stand-in's organization lives under .test, the domain reserved for testing (RFC 2606/6761),
# which email-validator (behind the models' EmailStr) refuses unless told otherwise.
if "test" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
    email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def standin():
    """A fresh GitBook stand-in (the sample organization) per test; yields its base URL."""
    try:
        child = subprocess.Popen([HOST_TEST, "standin", "--port", "0", "--org", "acme", "--token", GITBOOK_TOKEN],
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


@pytest.fixture
def service(standin):
    """The component under `wasmtime serve`, configured for SCIM; yields its /scim/v2 URL."""
    if not Path(WASM).is_file():
        pytest.fail(f"{WASM} not found: run `cargo build --release --target wasm32-wasip2`")
    port = free_port()
    env = {"GITBOOK_TOKEN": GITBOOK_TOKEN, "GITBOOK_ORG": "acme", "GITBOOK_API_URL": standin,
           "GITBOOK_ALLOW_INSECURE_HTTP": "1", "SCIM_TOKEN": SCIM_TOKEN}
    args = [WASMTIME, "serve", "-S", "cli", "--addr", f"127.0.0.1:{port}"]
    for name, value in env.items():
        args += ["--env", f"{name}={value}"]
    try:
        child = subprocess.Popen(args + [WASM], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    except FileNotFoundError:
        pytest.fail(f"{WASMTIME} not found: install it with `cargo install wasmtime-cli@48.0.8 --locked`")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            assert child.poll() is None, f"wasmtime serve exited with {child.returncode}"
            assert time.monotonic() < deadline, "wasmtime serve did not come up"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/scim/v2"
    finally:
        child.kill()
        child.wait()


@pytest.fixture
def scim(service):
    """scim2-client, told nothing but the URL and token: it discovers the rest, and its
    models (built from the service's own /Schemas) validate every answer."""
    with Client(base_url=service, headers={"Authorization": f"Bearer {SCIM_TOKEN}"}, timeout=60) as http:
        client = SyncSCIMClient(http)
        client.discover()
        yield client


def gitbook_members(standin: str) -> dict[str, dict]:
    """The organization's members by email, read from the stand-in's API."""
    request = urllib.request.Request(f"{standin}/v1/orgs/acme/members?limit=1000",
                                     headers={"Authorization": f"Bearer {GITBOOK_TOKEN}"})
    with urllib.request.urlopen(request) as reply:
        items = json.load(reply)["items"]
    return {m["user"]["email"]: m for m in items}


def test_discovery_describes_users_groups_and_the_limits(scim):
    config = scim.provider.config
    assert config.patch.supported and config.filter.supported
    assert config.filter.max_results == 1000
    assert not config.bulk.supported and not config.etag.supported and not config.sort.supported
    assert {t.endpoint for t in scim.provider.resource_types} == {"/Users", "/Groups"}


def test_a_user_is_created_found_deactivated_reactivated_and_deleted(scim, standin):
    user_model = scim.get_resource_model("User")
    created = scim.create(user_model(user_name="ivy@acme.test", active=True,
                                     emails=[{"value": "ivy@acme.test", "type": "work", "primary": True}]))
    assert created.id and created.user_name == "ivy@acme.test" and created.active is True
    assert "ivy@acme.test" in gitbook_members(standin)

    found = scim.query(user_model, query_parameters=SearchRequest(filter='userName eq "IVY@acme.test"'))
    assert isinstance(found, ListResponse) and found.total_results == 1
    assert found.resources[0].id == created.id

    with pytest.raises(SCIMException) as duplicate:
        scim.create(user_model(user_name="ivy@acme.test"))
    assert (duplicate.value.status, duplicate.value.scim_type) == (409, "uniqueness")

    deactivate = PatchOp[user_model](operations=[PatchOperation(op="replace", path="active", value=False)])
    deactivated = scim.modify(user_model, created.id, deactivate)
    assert deactivated.active is False
    assert "ivy@acme.test" not in gitbook_members(standin)
    assert scim.query(user_model, created.id).active is False

    reactivate = PatchOp[user_model](operations=[PatchOperation(op="replace", path="active", value=True)])
    assert scim.modify(user_model, created.id, reactivate).active is True
    assert "ivy@acme.test" in gitbook_members(standin)

    scim.delete(user_model, created.id)
    assert "ivy@acme.test" not in gitbook_members(standin)


def test_users_are_listed_in_windows(scim):
    user_model = scim.get_resource_model("User")
    first = scim.query(user_model, query_parameters=SearchRequest(start_index=1, count=4))
    second = scim.query(user_model, query_parameters=SearchRequest(start_index=5, count=4))
    assert first.total_results == 7 and len(first.resources) == 4
    assert second.start_index == 5 and len(second.resources) == 3
    ids = [u.id for u in first.resources + second.resources]
    assert len(set(ids)) == 7
    assert all(u.user_name and u.emails and u.active for u in first.resources)


def test_a_group_is_pushed_changed_and_deleted(scim, standin):
    user_model, group_model = scim.get_resource_model("User"), scim.get_resource_model("Group")
    ids = {}
    for email in ("alice@acme.test", "bob@acme.test"):
        found = scim.query(user_model, query_parameters=SearchRequest(filter=f'userName eq "{email}"'))
        ids[email] = found.resources[0].id

    group = scim.create(group_model(display_name="Pythonistas", members=[{"value": ids["alice@acme.test"]}]))
    assert group.id and group.display_name == "Pythonistas"
    assert [m.value for m in group.members] == [ids["alice@acme.test"]]

    add_bob = PatchOp[group_model](operations=[
        PatchOperation(op="add", path="members", value=[{"value": ids["bob@acme.test"]}]),
        PatchOperation(op="replace", path="displayName", value="Py Guild"),
    ])
    assert scim.modify(group_model, group.id, add_bob) is None  # 204
    read = scim.query(group_model, group.id)
    assert read.display_name == "Py Guild"
    assert sorted(m.value for m in read.members) == sorted(ids.values())

    remove_alice = PatchOp[group_model](operations=[
        PatchOperation(op="remove", path=f'members[value eq "{ids["alice@acme.test"]}"]'),
    ])
    scim.modify(group_model, group.id, remove_alice)
    assert [m.value for m in scim.query(group_model, group.id).members] == [ids["bob@acme.test"]]

    found = scim.query(group_model, query_parameters=SearchRequest(filter='displayName eq "py guild"'))
    assert [g.id for g in found.resources] == [group.id]

    scim.delete(group_model, group.id)
    with pytest.raises(SCIMException) as gone:
        scim.query(group_model, group.id)
    assert gone.value.status == 404
