#!/usr/bin/env python3
"""Exit 0 when the consumers are done: every enqueued event acked, every record appended to the
stream read back by its consumer (clicks, conversions and commission events alike), the funnel's
clicks reaching the clicks appended, and nothing moved since the previous poll (the last batch
read has been processed).  drained.py OPS_JSON FUNNEL_JSON [PREVIOUS_OPS_JSON]"""

import json
import sys

ops = json.load(open(sys.argv[1]))
try:
    clicks = json.load(open(sys.argv[2]))["totals"]["clicks"]
except (OSError, ValueError, KeyError):
    clicks = -1
try:
    previous = json.load(open(sys.argv[3]))["background"] if len(sys.argv) > 3 else None
except (OSError, ValueError, KeyError):
    previous = None
requests, background = ops["requests"], ops["background"]
queue_done = background["ack"] >= requests["sendMessages"] + background["sendMessages"]
appended = requests.get("appends", 0) + background.get("appends", 0)
stream_done = background.get("streamRecords", 0) >= appended and clicks >= requests.get("appends", 0)
# Work, not polling: an idle consumer still reads its checkpoint (a get), receives from empty
# queues and reads empty stream pages on every poll, so those counters never stand still.
WORK = ["write", "transact", "transactItems", "sendCalls", "sendMessages", "ack", "appends",
        "streamRecords"]
quiet = previous is not None and all(previous.get(k) == background.get(k) for k in WORK)
sys.exit(0 if queue_done and stream_done and quiet else 1)
