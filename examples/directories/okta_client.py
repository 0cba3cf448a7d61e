"""Okta's own SDK against the Okta stand-in.

okta-sdk-python (the `okta` package) makes the calls the component makes,
with an SSWS API token: active users (`filter=status eq "ACTIVE"`), a group
found by `search=profile.name eq "…"`, and its members, each followed page
by page through `Link: rel="next"` with the SDK's own paging
(`has_next()`/`next()`), its own header handling (`X-Rate-Limit-*`) and its
own models. Okta's code, not ours, is the client. The counts asserted are
the stand-in's seed (`directory-standin okta --users 25 --groups 2`).

The SDK refuses an org URL that is not https unless its testing setting
`testing.testingDisableHttpsCheck` is on, which it reads only from the
environment (OKTA_TESTING_TESTINGDISABLEHTTPSCHECK) or okta.yaml, never from
the dict given to the client: the stand-in is plain http on loopback.

Usage: python okta_client.py <stand-in URL>
"""
import asyncio
import os
import sys

from okta.client import Client as OktaClient

os.environ["OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"] = "true"


async def every_page(first):
    """All items of a listing, following rel="next" the SDK's way."""
    items, response, error = await first
    assert error is None, error
    pages = 1
    while response.has_next():
        page, error = await response.next()
        assert error is None, error
        items.extend(page)
        pages += 1
    return items, pages


async def main(base):
    client = OktaClient({
        "orgUrl": base,
        "token": "00okta_test_token",
        # The SDK's own retry on 429 (from X-Rate-Limit-Reset) stays on.
        "rateLimit": {"maxRetries": 2},
    })

    users, pages = await every_page(client.list_users({"filter": 'status eq "ACTIVE"', "limit": 10}))
    assert (len(users), pages) == (24, 3), (len(users), pages)
    logins = [u.profile.login for u in users]
    assert logins[0] == "user-00001@acme.test", logins[0]
    assert "user-00020@acme.test" not in logins, logins
    assert all(u.status == "ACTIVE" for u in users), [u.status for u in users]
    assert all(u.profile.email == u.profile.login for u in users)

    everyone, _ = await every_page(client.list_users({"limit": 200}))
    assert len(everyone) == 25, len(everyone)
    assert [u.status for u in everyone if u.profile.login == "user-00020@acme.test"] == ["SUSPENDED"]

    groups, _ = await every_page(client.list_groups({"search": 'profile.name eq "group-001"'}))
    assert [g.profile.name for g in groups] == ["group-001"], groups
    assert groups[0].type == "OKTA_GROUP", groups[0].type

    members, pages = await every_page(client.list_group_users(groups[0].id, {"limit": 5}))
    assert (len(members), pages) == (13, 3), (len(members), pages)

    # A limit beyond the endpoint's maximum (200 for users) is refused with
    # Okta's error shape, which the SDK turns into an OktaAPIError.
    _, _, error = await client.list_users({"limit": 201})
    assert error is not None and getattr(error, "error_code", None) == "E0000001", error

    # A wrong token: 401 with E0000011, as Okta answers.
    wrong = OktaClient({"orgUrl": base, "token": "00wrong"})
    _, _, error = await wrong.list_users()
    assert error is not None and getattr(error, "error_code", None) == "E0000011", error

    print(f"okta-sdk-python: {len(users)} active users in 3 pages, {len(members)} group members in 3 pages")


asyncio.run(main(sys.argv[1]))
