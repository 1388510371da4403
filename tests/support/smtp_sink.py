"""A real SMTP server for tests/reminders.rs: Debian's python3-aiosmtpd.

Usage: smtp_sink.py FOLDER PORT

Listens on 127.0.0.1:PORT and writes each message it accepts to FOLDER as
one JSON file (envelope, headers, the decoded plain-text and HTML parts and
the raw message), renamed into place only once complete. While the file
FOLDER/refuse exists it answers every message with a temporary failure
(451), as a mail server does when it is overloaded. Prints "ready" once it
listens, and stops when its standard input closes (the test has ended).
"""

import email
import itertools
import json
import os
import sys
import time
from email import policy

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
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


def main():
    folder, port = sys.argv[1], int(sys.argv[2])
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
