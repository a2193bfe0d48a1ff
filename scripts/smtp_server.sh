#!/usr/bin/env bash
# The SMTP server the mail tests send to (issue 59): aiosmtpd from PyPI (pinned) in .venv/smtp;
# tests/api/mail.rs starts scripts/smtp_server.py with it on a free loopback port.
#
#   scripts/smtp_server.sh            # installs if needed, prints `export TENX_SMTP_PYTHON=…`
#   scripts/smtp_server.sh --install  # only installs (CI does it in the background)
#
# The SMTP tests read TENX_SMTP_PYTHON (default .venv/smtp/bin/python) and FAIL when it is
# missing: run this script first.
set -euo pipefail
cd "$(dirname "$0")/.."
AIOSMTPD_VERSION=1.4.6
venv=.venv/smtp
if ! "$venv/bin/python" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION')" 2>/dev/null; then
  scripts/pip_install.sh "$venv" "aiosmtpd==$AIOSMTPD_VERSION"
fi
[ "${1:-}" = "--install" ] && exit 0
echo "export TENX_SMTP_PYTHON=$PWD/$venv/bin/python"
