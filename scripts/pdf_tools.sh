#!/usr/bin/env bash
# `pdftotext` (Debian's poppler-utils): the tax form and invoice tests read every PDF the product
# makes back as text and compare its figures (docs/tax.md). Installed here with apt-get when
# missing (as root), as scripts/sepa_schema.sh installs xmllint.
#
#   scripts/pdf_tools.sh --install
#
# The tests FAIL (never skip) without it.
set -euo pipefail

if command -v pdftotext >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing poppler-utils (pdftotext) with apt-get" >&2
  # CI installs other Debian packages in the background at the same time: wait for apt's locks,
  # then retry.
  for try in 1 2 3 4 5 6 7 8 9 10; do
    if apt-get -o DPkg::Lock::Timeout=300 update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq poppler-utils >/dev/null; then
      exit 0
    fi
    [ "$try" = 10 ] && exit 1
    sleep 15
  done
fi
echo "scripts/pdf_tools.sh needs pdftotext: apt-get install poppler-utils" >&2
exit 1
