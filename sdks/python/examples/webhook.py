import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from tenx_attribution import WebhookVerificationError, verify_webhook

SECRET = os.environ["TENX_WEBHOOK_SECRET"]  # whsec_…, from creating the subscription


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))  # the raw body
        try:
            event = verify_webhook(body, self.headers, SECRET)
        except WebhookVerificationError as error:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(str(error).encode())
            return
        print(event["type"], event["id"], flush=True)
        self.send_response(204)
        self.end_headers()


HTTPServer(("127.0.0.1", int(os.environ.get("PORT", "3000"))), Receiver).serve_forever()
