#!/usr/bin/env python3
"""Exit 0 when the consumers are done: every enqueued event acked, the funnel's clicks reach the
clicks appended to the stream, and its conversions reach the conversions the events worker
relayed to the stream to be counted.  drained.py OPS_JSON FUNNEL_JSON"""

import json
import sys

ops = json.load(open(sys.argv[1]))
try:
    totals = json.load(open(sys.argv[2]))["totals"]
    clicks, conversions = totals["clicks"], totals["conversions"]
except (OSError, ValueError, KeyError):
    clicks = conversions = -1
requests, background = ops["requests"], ops["background"]
queue_done = background["ack"] >= requests["sendMessages"] + background["sendMessages"]
stream_done = clicks >= requests.get("appends", 0) and conversions >= background.get("appends", 0)
sys.exit(0 if queue_done and stream_done else 1)
