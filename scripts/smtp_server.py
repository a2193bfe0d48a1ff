#!/usr/bin/env python3
"""A real SMTP server for the mail tests (issue 59): aiosmtpd (PyPI, pinned by
scripts/smtp_server.sh) on a free loopback port. Prints `READY {port}` once it listens, then
serves until stdin closes (the test ends).

    smtp_server.py accept DIR   # takes every message; writes each to DIR/{n}.eml
    smtp_server.py refuse DIR   # answers 550 to every recipient (a permanent failure)
    smtp_server.py drop DIR     # drops the connection at DATA (a temporary failure)
"""
import asyncio
import os
import socket
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, mode, out):
        self.mode, self.out, self.n = mode, out, 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "refuse":
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "drop":
            # The connection goes without an answer, as a crashed or cut server's does.
            server.transport.abort()
            await asyncio.Event().wait()
        self.n += 1
        with open(os.path.join(self.out, f"{self.n}.eml"), "wb") as f:
            f.write(envelope.original_content or envelope.content)
        return "250 Message accepted"


def main():
    mode, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    # A free port first: aiosmtpd's controller checks its server by connecting to the port.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Handler(mode, out), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"READY {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
