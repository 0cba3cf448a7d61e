"""An independent SCIM conformance probe: scim2-tester (from the python-scim project, written
independently of this service) runs its whole catalogue of checks - discovery, create, read,
query, replace, PATCH add/replace/remove, delete - against the component under
``wasmtime serve``, GitBook played by the local stand-in (fixtures from test_scim_client).

The score and every check that still fails are recorded in docs/scim.md ("Conformance"). The
test fails when a check outside ``KNOWN_FAILURES`` fails, or the score drops below the
recorded one: a regression, or an improvement to record.
"""

from __future__ import annotations

from collections import Counter

from scim2_tester import Status, check_server

from test_scim_client import scim, service, standin  # noqa: F401 (pytest fixtures)

PASSED = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}
FAILED = {Status.DEVIATION, Status.ERROR, Status.CRITICAL}

# (resource type, check title) -> why it fails; each is explained in docs/scim.md.
NO_EMAIL = "the probe's users have a random userName and no email: GitBook members are emails"
RANDOM_ROLE = "the probe sends random roles; an unknown GitBook role is refused, not dropped"
NOT_STORED = "a team has no externalId: without a database it is not kept"
NON_MEMBERS = "the probe's random member ids name nobody in GitBook, so they are left out"
KNOWN_FAILURES: dict[tuple[str | None, str], str] = {
    ("User", "object_creation"): NO_EMAIL,
    ("User", "object_query"): NO_EMAIL,
    ("User", "object_query_without_id"): NO_EMAIL,
    ("User", "object_replacement"): NO_EMAIL,
    ("User", "object_deletion"): NO_EMAIL,
    ("User", "check_add_attribute"): NO_EMAIL,
    ("User", "check_replace_attribute"): NO_EMAIL,
    ("User", "object_query_with_attributes"): RANDOM_ROLE,
    ("User", "object_list_with_attributes"): RANDOM_ROLE,
    ("User", "search_with_attributes"): RANDOM_ROLE,
    ("User", "check_remove_attribute"): RANDOM_ROLE,
    ("Group", "object_query_with_attributes"): NOT_STORED,
    ("Group", "object_list_with_attributes"): NOT_STORED,
    ("Group", "search_with_attributes"): "POST /.search (RFC 7644 §3.4.3, a MAY) is not served",
    ("Group", "check_add_attribute"): NOT_STORED + "; " + NON_MEMBERS,
    ("Group", "check_replace_attribute"): NOT_STORED + "; " + NON_MEMBERS,
}

# The recorded score, in checks passed out of checks run (skipped ones not counted).
RECORDED = (33, 51)


def test_the_conformance_probe_scores_what_docs_record(scim):  # noqa: F811
    results = check_server(scim, raise_exceptions=False)
    statuses = Counter(r.status.name for r in results)
    passed = sum(1 for r in results if r.status in PASSED)
    failed = [r for r in results if r.status in FAILED]
    print(f"\nscim2-tester: {passed} of {passed + len(failed)} checks passed "
          f"({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})")
    for r in failed:
        print(f"  {r.status.name}: [{r.resource_type}] {r.title}: {r.reason}")
    unexpected = [r for r in failed if (r.resource_type, r.title) not in KNOWN_FAILURES]
    assert not unexpected, "checks that fail and are not explained in docs/scim.md: " + "; ".join(
        f"[{r.resource_type}] {r.title}: {r.reason}" for r in unexpected)
    assert passed + len(failed) == RECORDED[1], "the probe ran another number of checks: record it in docs/scim.md"
    assert passed >= RECORDED[0], f"{passed} checks passed, {RECORDED[0]} recorded: a regression"
