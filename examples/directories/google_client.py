"""Google's own client libraries against the Google Workspace stand-in.

google-api-python-client, built from the admin directory_v1 discovery
document it ships, and google-auth's service-account credentials (which
sign the RS256 assertion the stand-in verifies) list the users and a
group's members page by page, as an admin's script would. This is the
check that the stand-in speaks the real API: Google's code, not ours, is
the client.

Usage: python google_client.py <stand-in URL> <key.pem>
"""
import json
import os
import sys

import googleapiclient
from google.oauth2 import service_account
from googleapiclient.discovery import build_from_document

base, key_path = sys.argv[1], sys.argv[2]
documents = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")
with open(os.path.join(documents, "admin.directory_v1.json")) as f:
    discovery = json.load(f)
# The one change: the API's root, as a proxy or a private endpoint would be.
discovery["rootUrl"] = base + "/"
discovery["baseUrl"] = base + "/" + discovery["servicePath"]

info = {
    "type": "service_account",
    "client_email": "sync@acme-sync.iam.gserviceaccount.com",
    "private_key": open(key_path).read(),
    "private_key_id": "test-only",
    "token_uri": base + "/token",
}
credentials = service_account.Credentials.from_service_account_info(
    info,
    scopes=[
        "https://www.googleapis.com/auth/admin.directory.user.readonly",
        "https://www.googleapis.com/auth/admin.directory.group.readonly",
    ],
    subject="admin@acme.test",
)
directory = build_from_document(discovery, credentials=credentials)

users, pages = [], 0
request = directory.users().list(customer="my_customer", maxResults=10, orderBy="email")
while request is not None:
    response = request.execute()
    pages += 1
    users.extend(response.get("users", []))
    request = directory.users().list_next(request, response)
assert len(users) == 25, len(users)
assert pages == 3, pages
assert users[0]["primaryEmail"] == "user-00001@acme.test", users[0]
suspended = [u["primaryEmail"] for u in users if u["suspended"]]
assert suspended == ["user-00020@acme.test"], suspended

members, pages = [], 0
request = directory.members().list(groupKey="group-001@acme.test", maxResults=5)
while request is not None:
    response = request.execute()
    pages += 1
    members.extend(response.get("members", []))
    request = directory.members().list_next(request, response)
assert len(members) == 13 and pages == 3, (len(members), pages)
assert all(m["type"] == "USER" for m in members)

# A page size beyond the discovery document's maximum is refused.
try:
    directory.users().list(customer="my_customer", maxResults=501).execute()
    raise AssertionError("maxResults=501 was accepted")
except Exception as error:  # googleapiclient.errors.HttpError
    assert "400" in str(error) or "maxResults" in str(error), error

print(f"google-api-python-client: {len(users)} users in 3 pages, {len(members)} members in 3 pages")
