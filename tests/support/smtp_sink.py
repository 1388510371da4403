"""A real SMTP server for tests/reminders.rs: Debian's python3-aiosmtpd.

Usage: smtp_sink.py FOLDER PORT [starttls|tls CERT KEY USER PASSWORD]

Listens on 127.0.0.1:PORT and writes each message it accepts to FOLDER as
one JSON file (envelope, headers, the decoded plain-text and HTML parts and
the raw message), renamed into place only once complete. While the file
FOLDER/refuse exists it answers every message with a temporary failure
(451), as a mail server does when it is overloaded; while FOLDER/stall
exists it does not answer a message at all, and then refuses it. Prints "ready" once it
listens, and stops when its standard input closes (the test has ended).

With "starttls" it takes no message until the client has started TLS, and
with "tls" it speaks TLS from the first byte; either way with the
certificate chain CERT and its key KEY, and it takes a message only from a
client that has signed in as USER with PASSWORD (over TLS: aiosmtpd offers
no sign-in before it).
"""

import asyncio
import email
import itertools
import json
import os
import ssl
import sys
import time
from email import policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(self.folder, "stall")):
            while os.path.exists(os.path.join(self.folder, "stall")):
                await asyncio.sleep(0.1)
            return "451 4.3.0 Too late, try again"
        if os.path.exists(os.path.join(self.folder, "refuse")):
            return "451 4.3.0 Mailbox busy, try again later"
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "text": text.get_content() if text is not None else "",
            "html": html.get_content() if html is not None else "",
            "raw": raw.decode("utf-8", "replace"),
        }
        name = f"{time.time_ns()}-{next(self.count):05d}.json"
        path = os.path.join(self.folder, name)
        with open(path + ".part", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.rename(path + ".part", path)
        return "250 2.0.0 Message accepted for delivery"


def signed_in_as(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok)

    return check


def main():
    folder, port = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "plain"
    options = {}
    if mode in ("starttls", "tls"):
        cert, key, user, password = sys.argv[4:8]
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options.update(authenticator=signed_in_as(user, password), auth_required=True)
        if mode == "starttls":
            options.update(tls_context=context, require_starttls=True)
        else:
            # aiosmtpd does not count a connection that was TLS from the
            # start as TLS, and would offer no sign-in at all.
            options.update(ssl_context=context, auth_require_tls=False)
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
