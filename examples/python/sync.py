#!/usr/bin/env python3
"""Call the gitbook-directory-sync component from Python with wasmtime-py.

    pip install -r requirements.txt      # wasmtime (the PyPI package)
    GITBOOK_API_URL=... GITBOOK_ORG=... GITBOOK_TOKEN=... \\
      python sync.py [--invite EMAIL]... [--role ROLE] [--team TEAM_ID [--add X]... [--remove X]...]

It lists the members, invites the given emails (SSO users, role ``read`` by
default), then updates a team in one request: ``--add`` defaults to the users
just invited; entries are GitBook user IDs or emails. Set
GITBOOK_ALLOW_INSECURE_HTTP=1 only for a local http:// stand-in. Exit codes:
0 success, 1 GitBook or the network failed, 2 bad input (nothing was sent).

wasmtime-py (48+) runs components and links WASI 0.2 and wasi:http's
outgoing-handler (``Linker.add_wasip2`` / ``add_wasi_http``): requests go out
through Wasmtime's own HTTP client. It does not generate typed bindings: an
exported function is called with wasmtime-py's dynamic values (``Record``
objects with kebab-case attributes, ``Variant`` where cases would be
ambiguous). ``DirectorySync`` below converts to and from plain Python (dicts
with snake_case keys, ``None`` for ``none``, ``{"tag", "val"}`` for variants)
and raises the WIT ``error`` variant as a ``GitBookError`` subclass.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from wasmtime import Engine, Store, WasiConfig
from wasmtime.component import (
    Component,
    Linker,
    ListType,
    OptionType,
    Record,
    RecordType,
    ResultType,
    TupleType,
    Variant,
    VariantType,
)

DEFAULT_WASM = Path(__file__).resolve().parents[2] / "target/wasm32-wasip2/release/gitbook_directory_sync.wasm"
CLIENT = "gitbook:directory-sync/client@0.3.0"
RECONCILE = "gitbook:directory-sync/reconcile@0.3.0"


class GitBookError(Exception):
    """A call returned the WIT ``error`` variant. ``tag`` is its case, ``details`` its payload."""

    tag = "error"

    def __init__(self, details: Any):
        self.details = details
        super().__init__(self.describe())

    def describe(self) -> str:
        d = self.details
        status = "" if d.get("status") is None else f" (HTTP {d['status']})"
        return (f"{self.tag}: {d['operation']} failed{status}: {d['message']}"
                f" [{d['attempts']} attempt(s), {d['elapsed_ms']} ms]")


class InvalidInput(GitBookError):
    """Bad input; nothing was sent. ``field`` names it, e.g. ``team-id`` or ``emails[2]``."""

    tag = "invalid-input"

    @property
    def field(self) -> str:
        return self.details["field"]

    def describe(self) -> str:
        return f"invalid input: {self.details['field']}: {self.details['message']} (nothing was sent)"


class SafetyStop(GitBookError):
    tag = "safety-stop"

    def describe(self) -> str:
        return f"safety stop: {self.details}"


def _api_error(tag: str, doc: str) -> type[GitBookError]:
    name = "".join(part.capitalize() for part in tag.split("-"))
    return type(name, (GitBookError,), {"tag": tag, "__doc__": doc})


Unauthorized = _api_error("unauthorized", "401: the token is missing, wrong or revoked.")
Forbidden = _api_error("forbidden", "403: the token's user may not do this.")
NotFound = _api_error("not-found", "404: the organization, member or team does not exist.")
Conflict = _api_error("conflict", "409: the change conflicts with the current state.")
Rejected = _api_error("rejected", "Another 4xx.")
RateLimited = _api_error("rate-limited", "429 past the retry bounds; see details['retry_after_ms'].")
ServerError = _api_error("server-error", "5xx past the retry bounds.")
InvalidResponse = _api_error("invalid-response", "A response that is not what the API specifies.")
Transport = _api_error("transport", "No HTTP response: refused, reset, timeout, or not allowed.")
DeadlineExceeded = _api_error("deadline-exceeded", "The deadline passed; a request sent may have taken effect.")
ERRORS = {cls.tag: cls for cls in (InvalidInput, SafetyStop, Unauthorized, Forbidden, NotFound, Conflict,
                                   Rejected, RateLimited, ServerError, InvalidResponse, Transport,
                                   DeadlineExceeded)}


# --- plain Python <-> wasmtime-py component values, driven by the WIT types ---

def _key(name: str) -> str:
    return name.replace("-", "_")


def _cases(ty: Any) -> list:
    if isinstance(ty, OptionType):
        return [("none", None), ("some", ty.payload)]
    if isinstance(ty, ResultType):
        return [("ok", ty.ok), ("err", ty.err)]
    return ty.cases


def _case_of(ty: Any, value: Any) -> str:
    """Which case an untagged value (one wasmtime-py did not wrap in ``Variant``) belongs to."""
    for name, case_ty in _cases(ty):
        classes: set = {object}  # wasmtime-py's class for a case without payload: matches None only
        if case_ty is not None:
            classes = set()
            case_ty.add_classes(classes)
        if (object in classes and value is None) or isinstance(value, tuple(classes - {object})):
            return name
    raise ValueError(f"{value!r} matches no case")


def to_wasm(ty: Any, value: Any) -> Any:
    """Plain Python → wasmtime-py value of type ``ty``."""
    if isinstance(ty, RecordType):
        record = Record()
        for name, field_ty in ty.fields:
            field = value.get(_key(name)) if isinstance(value, dict) else getattr(value, _key(name), None)
            setattr(record, name, to_wasm(field_ty, field))
        return record
    if isinstance(ty, ListType):
        return value if isinstance(value, bytes) else [to_wasm(ty.element, v) for v in value]
    if isinstance(ty, TupleType):
        return tuple(to_wasm(t, v) for t, v in zip(ty.elements, value))
    if isinstance(ty, (OptionType, VariantType)):
        if isinstance(ty, OptionType):
            tag, payload = ("none", None) if value is None else ("some", value)
        elif isinstance(value, str):
            tag, payload = value, None
        else:
            tag, payload = value["tag"], value.get("val")
        case_ty = dict(_cases(ty))[tag]
        inner = None if case_ty is None else to_wasm(case_ty, payload)
        return Variant(tag, inner) if ty._tagged() else inner
    return value  # bool, numbers, str, char, enum case names


def from_wasm(ty: Any, value: Any) -> Any:
    """wasmtime-py value of type ``ty`` → plain Python."""
    if isinstance(ty, RecordType):
        return {_key(name): from_wasm(field_ty, getattr(value, name)) for name, field_ty in ty.fields}
    if isinstance(ty, ListType):
        return value if isinstance(value, bytes) else [from_wasm(ty.element, v) for v in value]
    if isinstance(ty, TupleType):
        return tuple(from_wasm(t, v) for t, v in zip(ty.elements, value))
    if isinstance(ty, (OptionType, VariantType, ResultType)):
        if ty._tagged():
            tag, payload = value.tag, value.payload
        else:
            tag, payload = _case_of(ty, value), value
        case_ty = dict(_cases(ty))[tag]
        inner = None if case_ty is None else from_wasm(case_ty, payload)
        if isinstance(ty, OptionType):
            return inner
        return {"tag": tag, "val": inner}
    return value  # bool, numbers, str, char, enum case names


class DirectorySync:
    """The component's ``client`` interface, one fresh instance per call (the component is stateless).

    ``settings`` is the WIT ``settings`` record as a dict: ``base_url``, ``organization``, ``token``,
    ``allow_insecure_http``, ``retry``, ``timeouts``; missing keys are ``none``.
    """

    def __init__(self, settings: dict, wasm: str | os.PathLike = DEFAULT_WASM):
        self.settings = settings
        self.engine = Engine()
        self.component = Component.from_file(self.engine, str(wasm))  # compiled once
        self.linker = Linker(self.engine)
        self.linker.add_wasip2()      # wasi:cli, clocks, random, io, filesystem (nothing preopened)
        self.linker.add_wasi_http()   # wasi:http/types + outgoing-handler, Wasmtime's HTTP client

    def call(self, name: str, *args: Any, interface: str = CLIENT) -> Any:
        store = Store(self.engine)
        wasi = WasiConfig()           # no environment, no arguments, no directories
        wasi.inherit_stderr()
        store.set_wasi(wasi)
        store.set_wasi_http()
        instance = self.linker.instantiate(store, self.component)
        func = instance.get_func(store, instance.get_export_index(store, name, instance.get_export_index(store, interface)))
        if func is None:
            raise AttributeError(f"{interface} exports no function {name}")
        fty = func.type(store)
        params = [to_wasm(ty, arg) for (_, ty), arg in zip(fty.params, (self.settings, *args))]
        result = from_wasm(fty.result, func(store, *params))
        if result["tag"] == "err":
            error = result["val"]
            raise ERRORS.get(error["tag"], GitBookError)(error["val"])
        return result["val"]

    def invite(self, emails: list[str], role: str | None = "read", sso: bool = True,
               with_roles: list[dict] = ()) -> dict:
        """Returns ``{"user_ids", "invited", "failed_sso_emails"}``. ``role=None`` invites guests."""
        return self.call("invite", {"emails": emails, "with_roles": list(with_roles), "role": role, "sso": sso})

    def list_members(self, role: str | None = None, guests: bool = False, search: str | None = None) -> list[dict]:
        role_filter = {"tag": "guest"} if guests else None if role is None else {"tag": "role", "val": role}
        return self.call("list-members", {"role": role_filter, "search": search})

    def update_team_members(self, team_id: str, add: list[str], remove: list[str]) -> None:
        self.call("update-team-members", team_id, add, remove)

    def get_member(self, user_id: str) -> dict:
        return self.call("get-member", user_id)

    def find_member_by_email(self, email: str) -> dict | None:
        return self.call("find-member-by-email", email)

    def remove_member(self, user_id: str) -> str:
        return self.call("remove-member", user_id)

    def plan(self, snapshot: str, strategy: str = "push") -> dict:
        """A reconcile plan (reads only) for a snapshot given as JSON text."""
        options = {"strategy": strategy, "max_removals": None, "max_removal_percent": None,
                   "allow_mass_removal": False}
        return self.call("plan", snapshot, options, interface=RECONCILE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invite", action="append", default=[], metavar="EMAIL")
    parser.add_argument("--role", default="read", choices=["admin", "create", "edit", "review", "comment", "read", "guest"])
    parser.add_argument("--team", metavar="TEAM_ID")
    parser.add_argument("--add", action="append", metavar="ID_OR_EMAIL")
    parser.add_argument("--remove", action="append", default=[], metavar="ID_OR_EMAIL")
    parser.add_argument("--wasm", default=os.environ.get("GITBOOK_SYNC_WASM", DEFAULT_WASM))
    opts = parser.parse_args(argv)

    env = os.environ
    settings = {
        "base_url": env.get("GITBOOK_API_URL"),  # None: https://api.gitbook.com
        "organization": env.get("GITBOOK_ORG"),
        "token": env.get("GITBOOK_TOKEN"),
        "allow_insecure_http": env.get("GITBOOK_ALLOW_INSECURE_HTTP") == "1",
        # optional: "retry": {"max_attempts": 5, "max_wait_ms": 30000, "deadline_ms": 120000, "base_delay_ms": 500}
    }
    gitbook = DirectorySync(settings, opts.wasm)
    try:
        # 1. Every member, all pages.
        members = gitbook.list_members()
        print(f"{len(members)} members in {settings['organization']}:")
        for m in members:
            print(f"  {(m['role'] or 'guest'):<8} {(m['user']['email'] or '-'):<24} {m['id']}  teams: {m['teams']}")

        # 2. Someone joined: one invite request for every email.
        invited: list[str] = []
        if opts.invite:
            result = gitbook.invite(opts.invite, role=None if opts.role == "guest" else opts.role)
            invited = result["user_ids"]
            print(f"invited {', '.join(opts.invite)} as {opts.role}: {result['invited']} added,"
                  f" user IDs {', '.join(invited)}")
            if result["failed_sso_emails"]:
                print("  not made SSO users (they belong to another organization): "
                      + ", ".join(result["failed_sso_emails"]))

        # 3. A group changed: add and remove team members in one request.
        if opts.team is not None:
            add = invited if opts.add is None else opts.add
            gitbook.update_team_members(opts.team, add, opts.remove)
            print(f"team {opts.team}: added [{', '.join(add)}], removed [{', '.join(opts.remove)}]")
            for user_id in (x for x in add if "@" not in x):
                member = gitbook.get_member(user_id)
                print(f"  {member['user']['email'] or user_id} is now in {member['teams']} team(s)")
    except InvalidInput as error:
        print(error, file=sys.stderr)
        return 2
    except GitBookError as error:
        hint = {
            "unauthorized": "check GITBOOK_TOKEN",
            "forbidden": "the token's user must be an organization admin",
            "not-found": "check GITBOOK_ORG and the IDs",
            "server-error": "GitBook is failing: run again later",
            "invalid-response": "check GITBOOK_API_URL",
            "transport": "check the network and GITBOOK_API_URL",
            "deadline-exceeded": "GitBook did not answer in time: run again later, or raise the deadline",
        }.get(error.tag)
        print(f"{error}{f' - {hint}' if hint else ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
