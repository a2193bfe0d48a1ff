#!/usr/bin/env python3
"""An authoritative DNS server for the custom-domain tests (issue 64), on dnslib.

    dns_server.py RECORDS_JSON

Serves, on a free loopback port (UDP and TCP), the records the file RECORDS_JSON holds, read
again on every query so a test publishes a record by rewriting the file: a JSON list of
{"name": "_tenx.go.example.test", "type": "TXT" | "CNAME" | "SERVFAIL", "value": "..."}
(SERVFAIL: the server fails every query of that name, a resolver that cannot answer). A CNAME is answered
with its target's records when the file has them (as an authoritative server of both zones
would). A name without records is NXDOMAIN. Prints `READY {port}` once listening; exits when
its stdin closes (the test that started it ended).
"""
import json
import sys

from dnslib import CNAME, QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class RecordsFile(BaseResolver):
    def __init__(self, path):
        self.path = path

    def records(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return []

    def resolve(self, request, handler):
        reply = request.reply()
        reply.header.aa = 1
        qtype = QTYPE[request.q.qtype]
        records = self.records()
        name = str(request.q.qname).rstrip(".").lower()
        owners = {r["name"].lower() for r in records}
        for r in records:
            if r["name"].lower() != name:
                continue
            if r["type"] == "SERVFAIL":
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            if r["type"] == "CNAME":
                target = r["value"].rstrip(".")
                reply.add_answer(RR(request.q.qname, QTYPE.CNAME, rdata=CNAME(target + "."), ttl=1))
                for t in records:
                    if t["name"].lower() == target.lower() and t["type"] == qtype == "TXT":
                        reply.add_answer(RR(target + ".", QTYPE.TXT, rdata=TXT(t["value"]), ttl=1))
            elif r["type"] == qtype == "TXT":
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(r["value"]), ttl=1))
        if name not in owners:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


def listen(resolver, quiet):
    """UDP and TCP on one free port: the kernel picks UDP's, and TCP's may be taken by another
    process at that moment (tests run side by side), so pick again then."""
    for _ in range(50):
        udp = DNSServer(resolver, port=0, address="127.0.0.1", logger=quiet)
        port = udp.server.server_address[1]
        try:
            tcp = DNSServer(resolver, port=port, address="127.0.0.1", tcp=True, logger=quiet)
        except OSError:
            udp.server.server_close()
            continue
        return udp, tcp, port
    raise SystemExit("no port free for both UDP and TCP")


def main():
    resolver = RecordsFile(sys.argv[1])
    # Quiet: stdout carries only the READY line (the test stops reading it after that).
    quiet = DNSLogger("-recv,-send,-request,-reply,-truncated,-error,-data")
    udp, tcp, port = listen(resolver, quiet)
    udp.start_thread()
    tcp.start_thread()
    print(f"READY {port}", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
