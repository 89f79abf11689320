"""A real SMTP server's mailbox for the tests (aiosmtpd on localhost)."""

from __future__ import annotations

from email import message_from_bytes
from email.header import decode_header, make_header


class Mailbox:
    """aiosmtpd handler that keeps every message it is given: recipients, sender, the
    decoded subject, the HTML body and the attachments (file name → bytes)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, object]] = []

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content)
        body = "".join(part.get_payload(decode=True).decode("utf-8", "replace")
                       for part in msg.walk() if part.get_content_type() == "text/html")
        attachments = {str(make_header(decode_header(part.get_filename()))): part.get_payload(decode=True)
                       for part in msg.walk() if part.get_filename()}
        self.messages.append({"to": envelope.rcpt_tos, "from": envelope.mail_from,
                              "subject": str(make_header(decode_header(msg["Subject"]))), "body": body,
                              "attachments": attachments})
        return "250 OK"
