#!/usr/bin/env python3
"""Write a contact, a conversation and a reply through the official python-intercom SDK.

Why: the deskmove Intercom sandbox is also a migration target; the vendor's own client must be
able to write through it. Public SDK API only. Prints ONE JSON object on stdout: what was sent
(ids, timestamps) and any error per step, for compare.py to check against `GET /__sandbox/dump`.

Usage: write.py BASE_URL TOKEN
"""

import json
import sys
from importlib.metadata import version

from intercom import AdminReplyConversationRequest, CreateContactRequestWithEmail, Intercom
from intercom.conversations import CreateConversationRequestFrom

SDK = "python-intercom"
# Back-dated, as a migration sends them (../shared/research/intercom-api.md §7).
CONVERSATION_AT = 1_600_000_000
REPLY_AT = 1_600_000_600


def describe(exc):
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}{f' {status}' if status else ''}: {str(exc)[:300]}"


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    client = Intercom(token=argv[2], base_url=argv[1].rstrip("/"))
    out = {"sdk": SDK, "sdk_version": version("python-intercom"), "errors": {}}
    try:
        admin = next(a for a in client.admins.list().admins)
        out["admin_id"] = str(admin.id)
        email = "python-intercom-writer@example.org"
        contact = client.contacts.create(request=CreateContactRequestWithEmail(email=email, name="Py Writer"))
        out.update(contact_id=contact.id, email=email)
        message = client.conversations.create(
            from_=CreateConversationRequestFrom(type="user", id=contact.id),
            body="Hello from python-intercom",
            created_at=CONVERSATION_AT,
        )
        out.update(conversation_id=message.conversation_id, conversation_created_at=CONVERSATION_AT)
        conversation = client.conversations.reply(
            conversation_id=message.conversation_id,
            request=AdminReplyConversationRequest(
                message_type="note", admin_id=out["admin_id"], body="<p>Imported note</p>", created_at=REPLY_AT
            ),
        )
        parts = conversation.conversation_parts.conversation_parts if conversation.conversation_parts else []
        out.update(reply_created_at=REPLY_AT, reply_part_id=parts[-1].id if parts else None)
    except Exception as exc:  # one JSON answer whatever failed; compare.py reports it
        out["errors"]["write"] = describe(exc)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
