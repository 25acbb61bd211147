"""The playbook's import loop (a sequential `requests` loop: contact, conversation, then each
message), as ../shared/seeds/000_*.txt writes it, reading the same synthetic world as deskmove
from a JSONL file. Only the reading of the input differs from the playbook's script.

Usage: CW=<base>/api/v1/accounts/1 CW_KEY=<token> INBOX_ID=<id> python3 playbook.py world.jsonl
"""
import json
import os
import sys

import requests

CW = os.environ["CW"]
H = {"api_access_token": os.environ["CW_KEY"]}
INBOX = int(os.environ["INBOX_ID"])
session = requests.Session()


def import_contact(c):
    r = session.post(f"{CW}/contacts", json={
        "name": c["name"],
        "email": c["email"],
        "additional_attributes": c["custom_attributes"],
    }, headers=H)
    if r.status_code >= 300:
        return None
    return r.json()["payload"]["contact"]["id"]


def import_conversation(conv, contact_id):
    cw_conv = session.post(f"{CW}/conversations", json={
        "source_id": conv["id"],
        "inbox_id": INBOX,
        "contact_id": contact_id,
        "status": "open" if conv["state"] == "open" else "resolved",
    }, headers=H).json()
    for part in conv["conversation_parts"]["conversation_parts"]:
        session.post(f"{CW}/conversations/{cw_conv['id']}/messages", json={
            "content": part["body"],
            "message_type": "incoming" if part["author"]["type"] == "user" else "outgoing",
        }, headers=H)


contacts = {}
for line in open(sys.argv[1]):
    conv = json.loads(line)
    key = conv["contact"]["email"] or conv["contact"]["id"]
    if key not in contacts:
        contacts[key] = import_contact(conv["contact"])
    if contacts[key] is not None:
        import_conversation(conv, contacts[key])
