"""Runs moto's server with DynamoDB's transaction conflicts modelled.

moto's DynamoDB backend is not thread-safe (it checks a condition and then writes without a
lock, and rolls a failed TransactWriteItems back by restoring a copy of the whole table), and it
does not model transaction conflicts at all. DynamoDB does, as documented in "Transaction
conflict handling in DynamoDB" (developer guide, "Amazon DynamoDB Transactions: How it works"):

- a TransactWriteItems that includes an item another in-flight TransactWriteItems holds is
  cancelled: TransactionCanceledException, with the reason `TransactionConflict` at that item's
  position and `None` at the others;
- a PutItem, UpdateItem or DeleteItem of an item an in-flight TransactWriteItems holds is
  rejected with TransactionConflictException.

This wrapper gives the emulator both behaviours. Each TransactWriteItems try-acquires every
item it names (Put, Update, Delete and ConditionCheck alike) in a table of held items; if one is
already held it is cancelled at once, holding nothing. Otherwise it holds its items for
TENX_MOTO_TXN_HOLD_MS (default 5 ms; 0 turns conflicts off), standing in for DynamoDB's prepare
phase, then releases them and commits: the window in which it conflicts is exactly the hold,
whatever the emulator's own load, so what conflicts is a property of the requests, not of how
busy the test machine is. A single write checks the held items right before its moto call.

Requests otherwise run concurrently. moto's own state is guarded by one lock held only around
each moto call, granted in arrival order (so every conditional write and transaction is atomic,
as on DynamoDB, and no request waits behind later ones); the hold is spent outside it. SQS
requests never take it (ReceiveMessage long-polls). Kinesis requests take a lock of their own:
moto's shard numbers a new record from its last one, so two concurrent PutRecords could take
one number and lose a record (seen once in CI, 99 of 100 concurrent appends readable).
TransactGetItems and BatchWriteItem are not modelled (the service uses neither).

One cost is changed, not a behaviour: moto copies every table a TransactWriteItems names before
applying it (to restore the copy if the transaction is cancelled), which makes each transaction
as slow as its table is large and, under one lock, every request behind it too. Here a
transaction copies only the items it names and puts those back instead
(`install_item_rollback`). Likewise SQS: moto counts a queue's messages for every message it
sends or receives; here only GetQueueAttributes counts them (`install_cheap_queue_attributes`).
And one SQS race is closed: a DeleteMessage could drop a message sent at the same moment
(`install_locked_queue_deletes`). Two more costs, measured by the emulator's CPU over a fixed
set of end-to-end tests (87 s before, 60 s after): a query no longer sorts the whole table
(`install_partition_queries`), and the data-plane answers are written as plain JSON instead of
through moto's shape-driven serializer (`install_plain_dynamodb_answers`).

Usage: python moto_server.py HOST PORT
"""

import base64
import collections
import copy
import io
import json
import os
import sys
import threading
import time
import uuid

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, run_simple

HOLD_ENV = "TENX_MOTO_TXN_HOLD_MS"
DEFAULT_HOLD_MS = 5.0
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
ONGOING = "Transaction is ongoing for the item"
SINGLE_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
TRANSACTION_ACTIONS = ("Put", "Update", "Delete", "ConditionCheck")


class FairLock:
    """A lock granted in arrival order (threading.Lock is not: under a burst some requests would
    wait behind hundreds of later ones, past the SDK's attempt timeout)."""

    def __init__(self):
        self._mutex = threading.Lock()
        self._waiters = collections.deque()
        self._held = False

    def __enter__(self):
        with self._mutex:
            if not self._held and not self._waiters:
                self._held = True
                return self
            # A plain lock taken here and released by the holder: one C call to hand over,
            # where an Event's set() went through a Condition and its own lock.
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # the holder hands the lock over
        return self

    def __exit__(self, *_):
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


class ConflictModel:
    """The items of in-flight transactions, and moto behind one short lock."""

    def __init__(self, app, hold_seconds):
        self.app = app
        self.hold = hold_seconds
        self.moto_lock = FairLock()
        # moto's Kinesis shard numbers a record from the last one ("not safe for concurrency",
        # its own comment): two PutRecords at once take one number and one record is lost. On
        # Kinesis each gets its own; here they take turns.
        self.kinesis_lock = FairLock()
        self.held_lock = threading.Lock()
        self.held = set()
        self.key_schemas = {}

    def moto(self, environ, start_response):
        """One moto call, atomic with respect to every other DynamoDB request."""
        with self.moto_lock:
            # Produce the whole response inside the lock.
            return list(self.app(environ, start_response))

    def key_attributes(self, table):
        """The key attribute names of a table (hash, then range if any), or None if unknown."""
        if table in self.key_schemas:
            return self.key_schemas[table]
        with self.moto_lock:
            for _, _, backend in dynamodb_backends.iter_backends():
                found = backend.tables.get(table)
                if found is not None:
                    names = [found.hash_key_attr]
                    if found.range_key_attr is not None:
                        names.append(found.range_key_attr)
                    self.key_schemas[table] = names
                    return names
        return None

    def item_id(self, table, key=None, item=None):
        """(table, key) of the item a write names, or None when the request is malformed (moto
        then answers it as it would)."""
        if not isinstance(table, str):
            return None
        if key is None:
            names = self.key_attributes(table)
            if names is None or not isinstance(item, dict):
                return None
            key = {name: item.get(name) for name in names}
        if not isinstance(key, dict):
            return None
        return (table, json.dumps(key, sort_keys=True))

    def transaction_items(self, request):
        ids = []
        for entry in request.get("TransactItems") or []:
            if not isinstance(entry, dict) or len(entry) != 1:
                return None
            action, op = next(iter(entry.items()))
            if action not in TRANSACTION_ACTIONS or not isinstance(op, dict):
                return None
            if action == "Put":
                ids.append(self.item_id(op.get("TableName"), item=op.get("Item")))
            else:
                ids.append(self.item_id(op.get("TableName"), key=op.get("Key")))
        if not ids or None in ids or len(set(ids)) != len(ids):
            return None
        return ids

    def try_hold(self, ids):
        """Holds every item, or none: returns the positions already held by others."""
        with self.held_lock:
            taken = [i for i, item in enumerate(ids) if item in self.held]
            if not taken:
                self.held.update(ids)
            return taken

    def release(self, ids):
        with self.held_lock:
            self.held.difference_update(ids)

    def is_held(self, item):
        with self.held_lock:
            return item in self.held

    def transact_write_items(self, environ, start_response, request):
        ids = self.transaction_items(request)
        if ids is None:
            return self.moto(environ, start_response)
        taken = self.try_hold(ids)
        if taken:
            log(f"TransactWriteItems cancelled: TransactionConflict on {[ids[i] for i in taken]}")
            return cancelled(start_response, len(ids), taken)
        try:
            if self.hold > 0:
                time.sleep(self.hold)
        finally:
            self.release(ids)
        return self.moto(environ, start_response)

    def single_write(self, environ, start_response, action, request):
        table = request.get("TableName")
        if action == "PutItem":
            item = self.item_id(table, item=request.get("Item"))
        else:
            item = self.item_id(table, key=request.get("Key"))
        with self.moto_lock:
            if item is not None and self.is_held(item):
                log(f"{action} rejected: TransactionConflictException on {item}")
                return error(start_response, "TransactionConflictException", {"message": ONGOING})
            return list(self.app(environ, start_response))

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("Kinesis_"):
            with self.kinesis_lock:
                return list(self.app(environ, start_response))
        if not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)
        action = target.rsplit(".", 1)[-1]
        if action != "TransactWriteItems" and action not in SINGLE_WRITES:
            return self.moto(environ, start_response)
        try:
            request = json.loads(read_body(environ) or b"{}")
        except ValueError:
            request = None
        if not isinstance(request, dict):
            return self.moto(environ, start_response)
        if action == "TransactWriteItems":
            return self.transact_write_items(environ, start_response, request)
        return self.single_write(environ, start_response, action, request)


class _CopyAllButTables:
    """moto's DynamoDB models see this as the `copy` module: deep copies of anything but a whole
    table (the transaction's rollback copy, replaced by `install_item_rollback`)."""

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _touched_items(backend, transact_items):
    """(table, hash, range, copy of the item or None) for every item a transaction names."""
    touched = []
    for entry in transact_items:
        try:
            _, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            source = op["Item"] if "Item" in op else op["Key"]
            hash_value = DynamoType(source[table.hash_key_attr])
            range_value = None
            if table.range_key_attr is not None:
                range_value = DynamoType(source[table.range_key_attr])
            current = table.get_item(hash_value, range_value)
        except Exception:  # a malformed action: moto refuses it before writing anything
            continue
        touched.append((table, hash_value, range_value, copy.deepcopy(current)))
    return touched


def _put_back(touched):
    for table, hash_value, range_value, saved in touched:
        if saved is None:
            table.delete_item(hash_value, range_value)
        elif range_value is None:
            table.items[hash_value] = saved
        else:
            table.items[hash_value][range_value] = saved


def install_item_rollback():
    """Makes moto's TransactWriteItems roll back the items it names rather than whole tables."""
    dynamodb_models.copy = _CopyAllButTables
    apply = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        touched = _touched_items(self, transact_items)
        try:
            return apply(self, transact_items)
        except Exception:
            # moto's own rollback restored the same (uncopied) tables: a no-op.
            _put_back(touched)
            raise

    DynamoDBBackend.transact_write_items = transact_write_items


def log(line):
    """One line in the emulator's log (.venv/moto.log): every conflict the model produced."""
    print(f"conflict model: {line}", file=sys.stderr, flush=True)


def read_body(environ):
    """The request body, put back for moto to read again."""
    length = environ.get("CONTENT_LENGTH")
    stream = environ["wsgi.input"]
    body = stream.read(int(length)) if length else stream.read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def error(start_response, code, fields):
    """A DynamoDB error response (JSON 1.0 protocol, HTTP 400)."""
    payload = json.dumps({"__type": ERROR_PREFIX + code, **fields}).encode()
    start_response(
        "400 Bad Request",
        [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("Content-Length", str(len(payload))),
            ("x-amzn-ErrorType", code),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ],
    )
    return [payload]


def cancelled(start_response, count, taken):
    """TransactionCanceledException: TransactionConflict at the held items, None elsewhere."""
    reasons = [
        {"Code": "TransactionConflict", "Message": ONGOING} if i in taken else {"Code": "None"}
        for i in range(count)
    ]
    codes = ", ".join(r["Code"] for r in reasons)
    message = f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]"
    return error(
        start_response,
        "TransactionCanceledException",
        {"Message": message, "CancellationReasons": reasons},
    )


class QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without its access log, and with keep-alive.

    The access log (a line per request, written under the logging lock) was a fifth of the
    emulator's CPU under the test suite (py-spy); errors are still logged.

    werkzeug answers every request with `Connection: close`, because http.server cannot skip a
    body the application left unread before the next request line (after each answer it reads
    the socket until it closes, to discard such a body). So every SDK call was a new connection
    and a new thread. Here the body is read whole before the application runs (the SDKs send a
    Content-Length), so the next request starts where this one ended; werkzeug's discard then
    reads nothing, and the connection stays open, as DynamoDB's does. A chunked request body
    still closes it."""

    # Headers and body go out in two writes: on a kept connection, Nagle's algorithm would hold
    # the body until the client's delayed ACK of the headers (40 ms a request).
    disable_nagle_algorithm = True

    def log_request(self, code="-", size="-"):
        pass

    def setup(self):
        super().setup()
        self.socket_rfile = self.rfile

    def handle_one_request(self):
        # Each request starts on the socket and closing, until its body is read whole (an
        # error answered before that, such as a malformed request line, closes the connection).
        self.rfile = self.socket_rfile
        self.keep_alive = False
        super().handle_one_request()

    def make_environ(self):
        environ = super().make_environ()
        if "wsgi.input_terminated" in environ:  # chunked: werkzeug decodes it as it is read
            return environ
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return environ
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) == length:
            environ["wsgi.input"] = io.BytesIO(body)
            self.keep_alive = True
            # What werkzeug's discard reads after the answer: nothing of the next request.
            self.rfile = io.BytesIO()
        return environ

    def send_header(self, keyword, value):
        closing = keyword.lower() == "connection" and value.lower() == "close"
        if closing and self.keep_alive:
            return
        super().send_header(keyword, value)


def cache_module_list():
    """moto finds each request's backend by listing its own package directory (an `isdir` per
    service, every request: a tenth of its CPU under the test suite). The list cannot change
    while the server runs, so it is read once."""
    import moto.backends as moto_backends

    modules = frozenset(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: modules
    # Likewise every request lists its handler class's methods (`inspect.getmembers`) to find
    # the action's; a class's methods do not change either.
    import functools

    import moto.core.responses as moto_responses

    moto_responses.method_names_from_class = functools.lru_cache(maxsize=None)(
        moto_responses.method_names_from_class
    )


SQS_COUNTS = frozenset(
    {
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
    }
)


def install_cheap_queue_attributes():
    """moto computes every attribute of a queue, its three message counts among them (each a
    pass over every message, two clock reads a message), for every message it sends (to read
    `ContentBasedDeduplication`) and every message it receives (to read the retention period):
    a queue of n messages costs O(n) per message, so a backlog of n costs O(n^2) to drain, where
    SQS costs the same per message whatever waits behind it. A drain of 2,000 messages spent
    three quarters of the emulator's time there (issue 58, profiled with py-spy). Sends and
    receives read no count, so they are given the attributes without them; GetQueueAttributes
    still counts."""
    from moto.core.utils import camelcase_to_underscores
    from moto.sqs import models as sqs_models

    full = sqs_models.Queue.attributes.fget
    local = threading.local()

    def attributes(queue):
        if not getattr(local, "cheap", False):
            return full(queue)
        result = {}
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:
            names += queue.KMS_ATTRIBUTES
        for name in names:
            if name not in SQS_COUNTS:
                result[name] = getattr(queue, camelcase_to_underscores(name))
        if queue.policy:
            result["Policy"] = queue.policy
        if queue.redrive_policy:
            result["RedrivePolicy"] = json.dumps(queue.redrive_policy)
        return {k: str(v).lower() if isinstance(v, bool) else v for k, v in result.items()}

    def without_counts(method):
        def wrapped(*args, **kwargs):
            outer = getattr(local, "cheap", False)
            local.cheap = True
            try:
                return method(*args, **kwargs)
            finally:
                local.cheap = outer

        return wrapped

    sqs_models.Queue.attributes = property(attributes)
    backend = sqs_models.SQSBackend
    backend.send_message = without_counts(backend.send_message)
    backend.is_message_valid_based_on_retention_period = without_counts(
        backend.is_message_valid_based_on_retention_period
    )


def install_locked_queue_deletes():
    """moto's `Queue.delete_message` rebuilds the queue's message list without the lock its
    `add_message` appends under (moto 5.2.5, sqs/models.py): a DeleteMessage concurrent with a
    SendMessage on one queue can assign back a list made before the append, and the sent message
    is gone, though SQS answered the send. `tenx serve` acks a batch's messages while requests
    send new events, so a chaos run now and then lost one confirmed event (issue 58: the funnel's
    `pendingSince` held by an entry whose message nobody received; the queue empty, its dead
    letters too). Here the rebuild holds the same lock: a send lands before it or after it."""
    from moto.sqs import models as sqs_models

    unlocked = sqs_models.Queue.delete_message

    def delete_message(queue, receipt_handle):
        with queue._messages_lock:
            return unlocked(queue, receipt_handle)

    sqs_models.Queue.delete_message = delete_message


def install_partition_queries():
    """moto's `Table.query` (5.2.5, dynamodb/models/table.py) starts from `all_items()`: every
    item of the table, sorted, for each query, and then keeps the partition asked for. A test's
    table holds everything of its handle in one partition per key prefix, so each page of a
    ledger read cost a sort of the whole table: a third of the emulator's CPU in the end-to-end
    stage (py-spy). Here a query on the table's own key starts from its partition alone, and a
    query on an index from the items unsorted (the query sorts what it keeps, in both paths);
    the answers are the same, since `query` filters by the hash key and sorts by the range key
    after this point. The lock every DynamoDB request holds (ConflictModel.moto) keeps the
    instance attribute set below to the one query running."""

    original = Table.query

    def query(table, hash_key, *args, **kwargs):
        # The backend passes the index's name as the eighth positional argument.
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name:
            table.all_items = lambda: unsorted_items(table)
        else:
            table.all_items = lambda: partition_items(table, hash_key)
        try:
            return original(table, hash_key, *args, **kwargs)
        finally:
            del table.all_items

    Table.query = query


def unsorted_items(table):
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())


def partition_items(table, hash_key):
    partition = table.items.get(hash_key)
    if partition is None:
        return []
    return list(partition.values()) if table.range_key_attr else [partition]


# DynamoDB's data-plane actions: their answers are plain JSON (no timestamps).
PLAIN_ANSWERS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "TransactWriteItems",
    "BatchGetItem",
    "BatchWriteItem",
}
CHECK_PLAIN_ENV = "TENX_MOTO_CHECK_PLAIN"


class NotPlain(Exception):
    """A value the plain encoder leaves to moto's serializer (a timestamp, an unknown type)."""


def plain(value):
    """The JSON of a DynamoDB answer as moto's serializer writes it: members that are None left
    out, bytes in base64 (the `B` and `BS` types)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise NotPlain(type(value).__name__)


def install_plain_dynamodb_answers():
    """moto 5.2.5 writes every DynamoDB answer through its generic serializer, which walks the
    operation's botocore shape member by member and looks each value up under several names: a
    fifth of the emulator's CPU in the end-to-end stage (py-spy), for answers that are already
    JSON in DynamoDB's own field names (`DynamoResult` holds them as plain dicts, binary values
    as bytes). Here the data-plane actions' answers are written with `json.dumps` instead; any
    other action, an error, or a value that is not plain JSON (a timestamp) still goes through
    the serializer. With TENX_MOTO_CHECK_PLAIN=1 both are computed and any difference is
    printed to stderr, which is how this was checked against the end-to-end suite."""
    from moto.dynamodb.responses import DynamoResult

    serialize = DynamoResult.execute_result
    check = os.environ.get(CHECK_PLAIN_ENV) == "1"

    def execute_result(result, context):
        name = context.operation_model.name
        if name not in PLAIN_ANSWERS or isinstance(result.result, Exception):
            return serialize(result, context)
        # Members the operation does not answer (DeleteItem's ConsumedCapacityUnits of the 2011
        # API) are left out, as the serializer leaves them.
        members = context.operation_model.output_shape.members
        try:
            answer = {k: v for k, v in result.result.items() if k in members}
            body = json.dumps(plain(answer), separators=(",", ":"))
        except (NotPlain, AttributeError):
            return serialize(result, context)
        answer = (200, {"Content-Type": "application/x-amz-json-1.0"}, body)
        if check:
            reference = serialize(result, context)
            if (reference[0], json.loads(reference[2] or "{}")) != (200, json.loads(body)):
                print(f"plain answer differs for {name}: {reference} != {answer}", file=sys.stderr)
        return answer

    DynamoResult.execute_result = execute_result


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    hold_ms = float(os.environ.get(HOLD_ENV) or DEFAULT_HOLD_MS)
    if hold_ms < 0:
        raise SystemExit(f"{HOLD_ENV} must be >= 0")
    install_item_rollback()
    install_cheap_queue_attributes()
    install_locked_queue_deletes()
    install_partition_queries()
    install_plain_dynamodb_answers()
    cache_module_list()
    # werkzeug listens with a backlog of 128: a burst of concurrent connections beyond it (the
    # write-path tests open hundreds at once, as a busy function does against DynamoDB) would be
    # refused or reset. Let the kernel's own limit apply instead.
    BaseWSGIServer.request_queue_size = 4096
    model = ConflictModel(DomainDispatcherApplication(create_backend_app), hold_ms / 1000.0)
    run_simple(
        host,
        port,
        model,
        threaded=True,
        request_handler=QuietRequestHandler,
    )


if __name__ == "__main__":
    main()
