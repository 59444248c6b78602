#!/usr/bin/env bash
# The documented deploy in small: with IAP_ENV=production, compilemessages and collectstatic
# run, and a page, its stylesheet (from the collected, hashed files) and a plan PDF are served.
# Data come from load_demo, which refuses production settings, so it runs first without them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DATABASE_URL="sqlite:///$tmp/db.sqlite3"
export IAP_PRIVATE_MEDIA_ROOT="$tmp/private" IAP_STATIC_ROOT="$tmp/static"
$PY manage.py migrate -v 0
$PY manage.py load_demo -v 0
export IAP_ENV=production DJANGO_ALLOWED_HOSTS=iap.example.lv
DJANGO_SECRET_KEY="smoke-$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
export DJANGO_SECRET_KEY
$PY manage.py compilemessages -v 0 --ignore=.venv
$PY manage.py collectstatic --noinput -v 0
$PY scripts/production_smoke.py
