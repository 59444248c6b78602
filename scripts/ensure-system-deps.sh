#!/usr/bin/env bash
# Checks the system libraries the project needs and installs the missing ones with apt-get
# when it can (as root on Debian/Ubuntu); otherwise says exactly what to install.
#   gettext            msgfmt, to compile the Latvian/English translations
#   libpango-1.0-0     WeasyPrint (PDF plans and reports)
#   libpangoft2-1.0-0  WeasyPrint
#   libharfbuzz-subset0  faster PDFs (font subsetting)
#   fonts-dejavu-core  a font with Latvian letters for PDFs
#   chromium           the browser the end-to-end tests drive (Playwright, no download)
set -u

missing=()
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib 'libpango-1.0.so' || missing+=(libpango-1.0-0)
have_lib 'libpangoft2-1.0.so' || missing+=(libpangoft2-1.0-0)
have_lib 'libharfbuzz-subset.so' || missing+=(libharfbuzz-subset0)
[ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "System packages missing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing them with apt-get…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  status=$?
  if [ $status -ne 0 ]; then
    echo "apt-get failed (exit $status). Install by hand: apt-get install ${missing[*]}" >&2
    exit $status
  fi
  exit 0
fi
echo "Install them and try again, e.g.: sudo apt-get install ${missing[*]}" >&2
exit 1
