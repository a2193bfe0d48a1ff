#!/usr/bin/env python3
"""An uploaded link export's staging on moto (issue 64; scripts/bench.sh uploads).

`tenx serve --backend aws` on a fresh table, queues and uploads bucket of moto (AWS_ENDPOINT_URL),
a CSV link export of BENCH_UPLOAD_MB (50) MB generated here (distinct slugs, then one row the
slug rule refuses, last), uploaded through the API's presigned URL (`POST …/imports/uploads`,
the PUT straight to moto's S3), and its import started as a dry run. The worker stages the file
in chunks of 100 rows, over as many invocations as its budget takes (TENX_IMPORT_STAGING_SECS,
the product's 60 s unless BENCH_UPLOAD_STAGING_SECS says otherwise); the staging is done when
the report counts the last row refused (only the reading that reaches the file's end reports
its refusals). Measured: the wall time from the import's start to then, the invocations it
took (the server's "upload staging paused" lines, plus the last), and the server's peak RSS
over the staging (VmHWM, reset once the file is uploaded; VmRSS sampled every 0.5 s). The
server is then stopped (the dry run's chunk reads that follow are not measured).

Usage: uploads.py TENX_BIN OUT_DIR
Env: BENCH_UPLOAD_MB (50), BENCH_UPLOAD_STAGING_SECS, BENCH_UPLOAD_TIMEOUT (1800 s), BENCH_PORT
(18080), BENCH_UPLOAD_TMP (where the data dir and the file go), AWS_ENDPOINT_URL and credentials
(moto, as scripts/moto.sh prints them).
"""

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

MB = float(os.environ.get("BENCH_UPLOAD_MB", "50"))
PORT = int(os.environ.get("BENCH_PORT", "18080"))
TIMEOUT = float(os.environ.get("BENCH_UPLOAD_TIMEOUT", "1800"))
HANDLE = "acme"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def status(pid, field):
    """A /proc/PID/status field in kB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def write_export(path, mb):
    """Distinct links up to `mb` MB, then one refused row: how many rows, and the bytes."""
    target = int(mb * 1024 * 1024)
    rows = 0
    with open(path, "w") as f:
        f.write("slug,destination_url,title\n")
        size = 0
        while size < target:
            line = f"Bench_{rows},https://shop.example/products/{rows}?utm_source=bench,Product {rows}\n"
            f.write(line)
            size += len(line)
            rows += 1
        f.write("bad slug,https://shop.example/bad,Refused\n")
    return rows + 1, os.path.getsize(path)


def request(port, method, path, jwt, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    h = {"authorization": f"Bearer {jwt}"}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: {r.status} {data[:500]!r}")
    return json.loads(data) if data else None


def put_file(url, headers, path):
    """The file PUT to the presigned URL, streamed from disk."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=600)
    h = dict(headers)
    h["content-length"] = str(os.path.getsize(path))
    with open(path, "rb") as f:
        conn.request("PUT", u.path + ("?" + u.query if u.query else ""), body=f, headers=h)
        r = conn.getresponse()
        r.read()
    conn.close()
    if r.status >= 300:
        raise RuntimeError(f"PUT upload: {r.status}")


def create_bucket(endpoint, bucket):
    u = urllib.parse.urlsplit(endpoint)
    c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
    c.request("PUT", f"/{bucket}")
    r = c.getresponse()
    r.read()
    c.close()
    if r.status >= 300:
        raise RuntimeError(f"creating the bucket: {r.status}")


def main():
    tenx, out = sys.argv[1], sys.argv[2]
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="tenx-uploads.", dir=os.environ.get("BENCH_UPLOAD_TMP"))
    data = os.path.join(work, "data")
    os.makedirs(data)
    prefix = f"bench-uploads-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, TENX_TABLE=prefix, TENX_QUEUE_PREFIX=f"{prefix}-", TENX_UPLOADS_BUCKET=prefix,
               TENX_UPLOADS_ENDPOINT=endpoint, TENX_LOG="info")
    if os.environ.get("BENCH_UPLOAD_STAGING_SECS"):
        env["TENX_IMPORT_STAGING_SECS"] = os.environ["BENCH_UPLOAD_STAGING_SECS"]
    budget = env.get("TENX_IMPORT_STAGING_SECS", "60")
    server = None
    try:
        path = os.path.join(work, "links.csv")
        rows, size = write_export(path, MB)
        log(f"== {size / 1048576:.1f} MiB, {rows:,} rows (the last refused); staging budget {budget} s")
        subprocess.run([tenx, "setup"], env=env, check=True, capture_output=True)
        create_bucket(endpoint, prefix)
        serve_log = os.path.join(work, "serve.log")
        with open(serve_log, "ab") as logf:
            server = subprocess.Popen([tenx, "serve", "--backend", "aws", "--addr", f"127.0.0.1:{PORT}",
                                       "--data-dir", data], env=env, stdout=logf, stderr=logf)
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"tenx serve did not come up; see {serve_log}")
            time.sleep(0.1)
        jwt = subprocess.run([tenx, "token", "--handle", HANDLE, "--role", "operator", "--ttl", "12h",
                              "--data-dir", data], env=env, check=True, capture_output=True,
                             text=True).stdout.strip()
        upload = request(PORT, "POST", f"/v2/handles/{HANDLE}/imports/uploads", jwt)
        t = time.monotonic()
        put_file(upload["url"], upload["headers"], path)
        log(f"   uploaded in {time.monotonic() - t:.1f} s")
        with open(f"/proc/{server.pid}/clear_refs", "w") as f:
            f.write("5")
        rss_before = status(server.pid, "VmRSS")
        t0 = time.monotonic()
        job = request(PORT, "POST", f"/v2/handles/{HANDLE}/imports?source=csv&uploadId={upload['uploadId']}"
                      "&dryRun=true", jwt)
        import_id = job["importId"]
        samples = []
        while True:
            samples.append(status(server.pid, "VmRSS"))
            v = request(PORT, "GET", f"/v2/handles/{HANDLE}/imports/{import_id}", jwt)
            if v["counts"]["failed"] >= 1 or v["status"] != "running":
                break
            if time.monotonic() - t0 > TIMEOUT:
                raise RuntimeError(f"not staged within {TIMEOUT} s")
            time.sleep(0.5)
        wall = time.monotonic() - t0
        peak = status(server.pid, "VmHWM")
        with open(serve_log, errors="replace") as f:
            paused = sum("upload staging paused" in line for line in f)
        result = {
            "fileBytes": size, "rows": rows, "chunks": -(-(rows - 1) // 100), "stagingBudgetSecs": int(budget),
            "stagingWallSecs": round(wall, 1), "invocations": paused + 1, "status": v["status"],
            "failed": v["counts"]["failed"], "errors": v["errors"][:3],
            "rssBeforeKiB": rss_before, "peakRssKiB": peak, "maxSampledRssKiB": max(samples),
        }
        with open(os.path.join(out, "uploads.json"), "w") as f:
            json.dump(result, f, indent=2)
        print("| file | rows (chunks) | staging budget | wall time | invocations | server RSS before | peak RSS |")
        print("|---|---|---|---|---|---|---|")
        print(f"| {size / 1048576:.1f} MiB CSV | {rows:,} ({result['chunks']:,}) | {budget} s | {wall:.1f} s "
              f"| {paused + 1} | {rss_before / 1024:.0f} MiB | {peak / 1024:.0f} MiB |")
        if v["status"] == "failed" or v["counts"]["failed"] != 1:
            raise RuntimeError(f"unexpected report: {json.dumps(v)[:1000]}")
    finally:
        if server and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if not os.environ.get("BENCH_UPLOAD_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
