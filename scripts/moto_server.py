"""Runs moto's server with DynamoDB requests serialized.

moto's DynamoDB backend checks a condition and then writes without a lock, and rolls a failed
TransactWriteItems back by restoring a copy of the whole table, so concurrent requests on its
threaded server can both pass an `attribute_not_exists` check or undo each other's writes.
DynamoDB itself makes every conditional write and transaction atomic; serializing DynamoDB
requests gives the emulator those semantics. SQS requests stay concurrent (ReceiveMessage
long-polls and must not hold up other requests).

Usage: python moto_server.py HOST PORT
"""

import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    dynamodb_lock = threading.Lock()

    def serialized(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with dynamodb_lock:
                # Produce the whole response inside the lock.
                return list(app(environ, start_response))
        return app(environ, start_response)

    run_simple(
        host,
        port,
        serialized,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
