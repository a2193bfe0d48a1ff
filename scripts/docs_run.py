#!/usr/bin/env python3
"""Runs every shell block of README.md and docs/*.md, as a reader would copy them (issue 62).

    TENX_BIN=target/x86_64-unknown-linux-gnu/debug/tenx scripts/docs_run.py   # every doc
    scripts/docs_run.py docs/payouts.md                                      # some docs
    scripts/docs_run.py --self-test      # the runner's own test: a failing fixture must fail
    scripts/docs_run.py --show docs/payouts.md   # and print every block's output

Which blocks run: fenced blocks whose info string is `sh` or `bash`, in the order of the file.
A block that only illustrates (an AWS deploy, a command that needs an outside account, a server
start the runner does itself) says so in its info string, which renderers ignore after the
first word: ```` ```sh no-run: why ````; the reason is required. `console` blocks (a prompt and
its output) are transcripts and never run; so are blocks of any other language.

How a file runs: a fresh `tenx serve` (the binary `TENX_BIN`) on a free loopback port, with a
fresh data dir (`./.tenx` of a fresh working directory, so `tenx token` finds its secrets as the
README says), and one bash session for all the file's blocks, so the variables and functions a
block sets are there in the next. The session gets `TENX` (the server's base URL: the docs' first
block keeps it, `export TENX=${TENX:-http://localhost:8080}`) and a `PATH` with `tenx` on it. A
server's environment a doc asks for is declared in the markdown:
`<!-- docs_run: env TENX_TRUST_COUNTRY_HEADER=true -->`.

What fails a block, each printed with the file, the markdown line, the command and the block's
output: a command that exits non-zero (the block runs under `set -eu -o pipefail`: a variable no block set fails too); an HTTP
answer 500 or above; an HTTP answer 400-499 whose status the block does not name in a comment
(a block that shows an error says which: `# … 409 idempotency_key_reused`); a `curl` to a host
other than this machine. The run fails when any block fails; a file stops at its first failure.

No network beyond loopback: the runner re-runs itself in a network namespace of its own with
only a loopback interface (`unshare --net`, as scripts/fuzz.sh), and its `curl` (a shim first on
the session's PATH, which hands the request to the real curl) refuses any URL whose host is not
loopback. Standard library only.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_LANGS = {"sh", "bash"}
SHOW = False  # --show: print every block's output (to write a doc's sample output)
BLOCK_TIMEOUT_S = 120  # a hang guard: a block takes well under a second
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([^\s`]*)\s*(.*)$")  # in a list item too
SERVE_ENV = re.compile(r"<!--\s*docs_run:\s*env\s+(.*?)\s*-->")
COMMENT_STATUS = re.compile(r"\b([45]\d\d)\b")


@dataclass
class Block:
    path: Path
    line: int  # the markdown line of the block's first command line
    lang: str
    info: str
    text: str

    @property
    def runs(self) -> bool:
        return self.lang in RUN_LANGS and not self.info.startswith("no-run")

    def allowed_statuses(self) -> set[str]:
        """The 4xx statuses the block names in its comments: answers it shows on purpose."""
        found: set[str] = set()
        for line in self.text.splitlines():
            if "#" in line:
                found.update(COMMENT_STATUS.findall(line[line.index("#") :]))
        return found


class DocError(Exception):
    pass


def parse(path: Path) -> tuple[list[Block], dict[str, str]]:
    blocks: list[Block] = []
    env: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = SERVE_ENV.search(lines[i])
        if m:
            for pair in m.group(1).split():
                name, _, value = pair.partition("=")
                env[name] = value
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        indent, marker = len(fence.group(1)), fence.group(2)
        lang, info = fence.group(3), fence.group(4).strip()
        start = i + 1
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(marker):
            i += 1
        if i >= len(lines):
            raise DocError(f"{path}:{start}: a fenced block that never closes")
        body = [line[indent:] if line[:indent].isspace() else line for line in lines[start:i]]
        block = Block(path, start + 1, lang, info, "\n".join(body) + "\n")
        if lang in RUN_LANGS and info.startswith("no-run") and len(info[6:].strip(" :—-")) < 8:
            raise DocError(
                f"{path}:{start}: `no-run` needs its reason beside it (```sh no-run: why)"
            )
        blocks.append(block)
        i += 1
    return blocks, env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def curl_value_options(real_curl: str) -> list[str]:
    """The options of this curl that take a value (`-o, --output <file>`), so the shim can tell
    a URL from an option's value (`-d '{"url":"https://…"}'` is not a request to that host)."""
    help_text = subprocess.run(
        [real_curl, "--help", "all"], capture_output=True, text=True, check=True
    ).stdout
    opts: list[str] = []
    for line in help_text.splitlines():
        m = re.match(r"\s*(?:(-\w),\s+)?(--[\w-]+)\s+<", line)
        if m:
            opts.extend(o for o in m.groups() if o)
    return opts


SHIM = """#!/usr/bin/env python3
# docs_run.py's curl: refuses URLs off this machine, records each answer's status, and fails
# (exit 22, as curl -f) on an answer the block did not say it shows. Then it is the real curl.
import os, subprocess, sys, tempfile, urllib.parse
REAL = {real!r}
VALUED = set({valued!r})
LOOPBACK = ("localhost", "127.0.0.1", "::1")
args = sys.argv[1:]
urls, i = [], 0
while i < len(args):
    a = args[i]
    if a == "--url" and i + 1 < len(args):
        urls.append(args[i + 1]); i += 2; continue
    if a.startswith("--"):
        i += 2 if a in VALUED else 1; continue
    if a.startswith("-") and len(a) > 1:
        # -sSX POST: short flags run together, the last one may take the next argument
        i += 2 if ("-" + a[-1]) in VALUED else 1; continue
    urls.append(a); i += 1
for u in urls:
    host = urllib.parse.urlsplit(u if "://" in u else "http://" + u).hostname or ""
    if not (host in LOOPBACK or host.endswith(".localhost")):
        sys.stderr.write(f"docs_run: curl to {{u}} refused: the docs reach this machine only\\n")
        sys.exit(7)
fd, headers = tempfile.mkstemp(prefix="curl-headers-")
os.close(fd)
rc = subprocess.call([REAL, "-D", headers] + args)
status = ""
with open(headers, "rb") as f:
    for line in f.read().decode("latin-1").splitlines():
        if line.startswith("HTTP/"):
            parts = line.split()
            status = parts[1] if len(parts) > 1 else ""
os.unlink(headers)
line = os.environ.get("DOCS_RUN_LINE", "?")
with open(os.environ["DOCS_RUN_LOG"], "a") as log:
    log.write(f"{{line}}\\t{{status}}\\t{{' '.join(urls)}}\\n")
allowed = os.environ.get("DOCS_RUN_ALLOW", "").split()
if status[:1] == "5" or (status[:1] == "4" and status not in allowed):
    sys.stderr.write(f"docs_run: {{' '.join(urls)}} answered {{status}}, which the block does not "
                     f"say it shows (name the status in a comment if it is on purpose)\\n")
    sys.exit(22)
sys.exit(rc)
"""


class Session:
    """One bash for a file's blocks: variables and functions carry from block to block."""

    def __init__(self, work: Path, env: dict[str, str]):
        self.work = work
        self.log = work / ".docs_run" / "requests.log"
        self.err = work / ".docs_run" / "err"
        self.env = dict(env, DOCS_RUN_LOG=str(self.log))
        self.bash = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=work,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.n = 0

    def run(self, block: Block) -> str | None:
        """None when the block passes, else what to print."""
        self.n += 1
        meta = self.work / ".docs_run"
        script, out = meta / f"block{self.n}.sh", meta / f"block{self.n}.out"
        script.write_text(block.text)
        self.log.write_text("")
        self.err.unlink(missing_ok=True)
        allow = " ".join(sorted(block.allowed_statuses()))
        # ERR: the failing command and its line; DEBUG: the line the curl shim records.
        self.bash.stdin.write(
            f"export DOCS_RUN_ALLOW='{allow}'\n"
            "set -euET -o pipefail\n"
            f"trap 'printf \"%s\\n%s\\n\" \"$LINENO\" \"$BASH_COMMAND\" > {self.err}' ERR\n"
            "trap 'export DOCS_RUN_LINE=$LINENO' DEBUG\n"
            f"source {script} < /dev/null > {out} 2>&1\n"
            "trap - DEBUG ERR\nset +euET +o pipefail\n"
            "echo __docs_run_done__\n"
        )
        self.bash.stdin.flush()
        ok = self._wait_done()
        output = out.read_text(errors="replace") if out.exists() else ""
        line, command = block.line, ""
        if self.err.exists():
            lines = self.err.read_text().splitlines() + ["", ""]
            if lines[0].isdigit():
                line = block.line + int(lines[0]) - 1
            command = lines[1]
        else:
            # `set -u` ends the shell without the ERR trap; bash names the line.
            m = re.search(rf"{re.escape(script.name)}: line (\d+): ", output)
            if m:
                line = block.line + int(m.group(1)) - 1
                command = block.text.splitlines()[int(m.group(1)) - 1]
        if ok is None:
            return self._report(block, line, command, output, "hung: no end after "
                                f"{BLOCK_TIMEOUT_S} s")
        if not ok:
            return self._report(block, line, command, output, "a command failed")
        # A backstop for answers the shim could not fail on (`export X=$(curl …)` hides an exit).
        allowed = block.allowed_statuses()
        for entry in self.log.read_text().splitlines():
            at, status, url = (entry.split("\t") + ["", ""])[:3]
            if status[:1] == "5" or (status[:1] == "4" and status not in allowed):
                at_line = block.line + int(at) - 1 if at.isdigit() else block.line
                return self._report(block, at_line, f"curl {url}", output,
                                    f"answered {status}, which the block does not name")
        return None

    def _wait_done(self) -> bool | None:
        deadline = time.monotonic() + BLOCK_TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.bash.stdout], [], [], left)
            if not ready:
                return None
            line = self.bash.stdout.readline()
            if not line:
                return False  # `set -e` ended the shell: a command failed
            if line.strip() == "__docs_run_done__":
                return True

    def _report(self, block: Block, line: int, command: str, output: str, why: str) -> str:
        text = block.text.splitlines()
        index = line - block.line
        shown = command or (text[index] if 0 <= index < len(text) else "")
        requests = [
            f"line {block.line + int(at) - 1 if at.isdigit() else '?'}: {url} -> {status or 'no answer'}"
            for at, status, url in (
                (e.split("\t") + ["", ""])[:3] for e in self.log.read_text().splitlines()
            )
        ]
        return (
            f"FAIL {display(block.path)}:{line}: {why}\n"
            f"  command: {shown}\n"
            "  output:\n" + textwrap.indent(output.rstrip()[-4000:] or "(none)", "    ") + "\n"
            "  the block's requests:\n" + textwrap.indent("\n".join(requests[-8:]) or "(none)", "    ")
        )

    def close(self) -> None:
        if self.bash.poll() is None:
            self.bash.stdin.close()
            try:
                self.bash.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.bash.pid, 9)
                self.bash.wait()


def display(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def run_file(path: Path, tenx_bin: str, shim_source: str) -> list[str]:
    blocks, serve_env = parse(path)
    runnable = [b for b in blocks if b.runs]
    if not runnable:
        return []
    failures: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="docs-run-"))
    server = None
    session = None
    try:
        meta = work / ".docs_run"
        bindir = meta / "bin"
        bindir.mkdir(parents=True)
        (bindir / "tenx").symlink_to(tenx_bin)
        shim = bindir / "curl"
        shim.write_text(shim_source)
        shim.chmod(0o755)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TENX_")}
        server_env = dict(env, TENX_LOG="warn", **serve_env)
        with open(meta / "tenx.log", "wb") as log:
            server = subprocess.Popen(
                [tenx_bin, "serve", "--addr", f"127.0.0.1:{port}"],
                cwd=work, env=server_env, stdout=log, stderr=subprocess.STDOUT,
            )
        wait_healthy(base, server, meta / "tenx.log")
        session_env = dict(env, TENX=base, PATH=f"{bindir}:{env.get('PATH', '')}",
                           HOME=str(work))
        session = Session(work, session_env)
        for block in runnable:
            failure = session.run(block)
            if SHOW:
                out = work / ".docs_run" / f"block{session.n}.out"
                print(f"---- {display(path)}:{block.line}\n" + (out.read_text(errors="replace") if out.exists() else ""))
            if failure:
                log_tail = (meta / "tenx.log").read_text(errors="replace").splitlines()[-15:]
                failures.append(failure + "\n  server log (last lines):\n"
                                + textwrap.indent("\n".join(log_tail) or "(empty)", "    "))
                break
        else:
            print(f"ok   {display(path)}: {len(runnable)} shell blocks ran "
                  f"({len(blocks) - len(runnable)} others: no-run, transcripts, other languages)")
    finally:
        if session:
            session.close()
        if server and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(work, ignore_errors=True)
    return failures


def wait_healthy(base: str, server: subprocess.Popen, log: Path) -> None:
    for _ in range(300):
        if server.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.05)
    raise DocError(f"tenx serve did not start:\n{log.read_text(errors='replace')[-2000:]}")


def default_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def find_tenx() -> str:
    tenx = os.environ.get("TENX_BIN")
    candidates = [tenx] if tenx else [
        str(ROOT / "target/x86_64-unknown-linux-gnu/debug/tenx"), str(ROOT / "target/debug/tenx")
    ]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return str(Path(c).resolve())
    raise DocError("no tenx binary: build it (cargo build --bin tenx) or set TENX_BIN")


def run(files: list[Path]) -> int:
    tenx_bin = find_tenx()
    real_curl = shutil.which("curl")
    if not real_curl:
        raise DocError("curl is not installed")
    shim = SHIM.format(real=real_curl, valued=curl_value_options(real_curl))
    started = time.monotonic()
    failures: list[str] = []
    for path in files:
        failures += run_file(path, tenx_bin, shim)
    for f in failures:
        print(f, file=sys.stderr)
    took = time.monotonic() - started
    if failures:
        print(f"docs_run: {len(failures)} doc(s) failed ({took:.1f} s)", file=sys.stderr)
        return 1
    print(f"docs_run: every block of {len(files)} file(s) ran ({took:.1f} s)")
    return 0


SELF_TEST_DOC = """# A fixture
<!-- docs_run: env TENX_TRUST_COUNTRY_HEADER=true -->
```sh
export TENX=${TENX:-http://localhost:8080} GREETING=hello
greet() { echo "$GREETING $1"; }
```
```sh no-run: an illustration the runner must skip
exit 3
```
```console
$ this is a transcript
```
```bash
test "$(greet world)" = "hello world"   # carried from the first block
curl -sS "$TENX/healthz" | grep -q .
curl -sS -o /dev/null "$TENX/v2/handles/acme/links"   # 401: shown on purpose
```
"""


def self_test() -> int:
    """The runner must pass a good fixture and fail each bad one, naming the line."""
    cases = {
        "fails on a failing command": ("```sh\ntrue\nfalse\ntrue\n```\n", ":4: a command failed"),
        "fails on an unexpected 4xx": (
            "```sh\ncurl -sS \"$TENX/v2/handles/acme/links\"\n```\n", "answered 401"),
        "fails on a variable never set": (
            "```sh\ntrue\necho \"$NEVER_SET\"\n```\n", ":4: a command failed"),
        "refuses a non-loopback URL": (
            "```sh\ncurl -sS https://example.com/ -d '{\"u\":\"https://x.example\"}'\n```\n",
            "refused: the docs reach this machine only"),
    }
    tmp = Path(tempfile.mkdtemp(prefix="docs-run-self-test-"))
    problems: list[str] = []
    try:
        good = tmp / "good.md"
        good.write_text(SELF_TEST_DOC)
        if run([good]) != 0:
            problems.append("the good fixture failed")
        for name, (doc, expected) in cases.items():
            bad = tmp / "bad.md"
            bad.write_text(f"# {name}\n{doc}")
            proc = subprocess.run([sys.executable, __file__, str(bad)], capture_output=True,
                                  text=True, env=dict(os.environ, DOCS_RUN_IN_NETNS="1"))
            if proc.returncode == 0 or expected not in proc.stderr:
                problems.append(f"{name}: rc {proc.returncode}, expected {expected!r} in:\n"
                                f"{proc.stdout}{proc.stderr}")
        try:
            reasonless = tmp / "reasonless.md"
            reasonless.write_text("```sh no-run\ntrue\n```\n")
            parse(reasonless)
            problems.append("a no-run block without a reason was accepted")
        except DocError:
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print(f"docs_run self-test: {p}", file=sys.stderr)
    print("docs_run self-test: " + ("FAILED" if problems else "passed"), flush=True)
    return 1 if problems else 0


def in_private_network(argv: list[str]) -> int | None:
    """Re-runs this script in a network namespace with only loopback (as scripts/fuzz.sh)."""
    if os.environ.get("DOCS_RUN_IN_NETNS"):
        if os.environ.get("DOCS_RUN_IN_NETNS") == "up":
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True,
                           env=dict(os.environ, PATH=os.environ["PATH"] + ":/usr/sbin:/sbin"))
        return None
    args = ["--net"] if os.getuid() == 0 else ["--map-root-user", "--net"]
    if subprocess.run(["unshare", *args, "true"], capture_output=True).returncode != 0:
        print("docs_run: needs a private network namespace (unshare --net), so that nothing "
              "a doc runs reaches beyond this machine", file=sys.stderr)
        return 1
    return subprocess.run(["unshare", *args, sys.executable, __file__, *argv],
                          env=dict(os.environ, DOCS_RUN_IN_NETNS="up")).returncode


def main(argv: list[str]) -> int:
    outer = in_private_network(argv)
    if outer is not None:
        return outer
    global SHOW
    if argv[:1] == ["--show"]:
        SHOW, argv = True, argv[1:]
    try:
        if argv[:1] == ["--self-test"]:
            return self_test()
        files = [Path(a).resolve() for a in argv] or default_files()
        return run(files)
    except DocError as e:
        print(f"docs_run: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
