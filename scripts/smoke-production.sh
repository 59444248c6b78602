#!/usr/bin/env bash
# make smoke: the production stack, end to end, on this machine, from the files in deploy/.
#   nginx with a self-signed certificate (deploy/nginx/*, ports and paths adapted),
#   gunicorn and one task worker started with the command lines of deploy/systemd/*.service,
#   PostgreSQL, IAP_ENV=production from deploy/iap.env.example, the code released with
#   deploy/bin/iap-release into a virtualenv that holds requirements.txt only;
# then a browser journey through https (scripts/smoke/test_production_stack.py) and the
# header checks. Everything it started stops at the end; the whole run is bounded
# (SMOKE_TIMEOUT seconds, default 170). SMOKE_KEEP=1 leaves the stack up for a look.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEV_PY=${PY:-$ROOT/.venv/bin/python}
RUNTIME_VENV=$ROOT/.venv/runtime
HTTPS_PORT=${SMOKE_HTTPS_PORT:-18443}
HTTP_PORT=${SMOKE_HTTP_PORT:-18080}
APP_PORT=${SMOKE_APP_PORT:-18001}
# nginx connects to gunicorn from this address, the browser to nginx from 127.0.0.1: the
# audit log shows which one the application believed.
PROXY_ADDRESS=127.0.0.3
DB=iap_smoke_$$
SMOKE_PASSWORD=smoke-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
export SMOKE_PASSWORD
started=$(date +%s)
say() { printf '[smoke %3ss] %s\n' "$(($(date +%s) - started))" "$*"; }
fail() { say "FAILED: $*"; exit 1; }

# A production virtualenv: requirements.txt only, hashes required. Installed once and kept
# (like `make test`'s .venv), before the clock starts.
if [ ! -f "$RUNTIME_VENV/.installed" ] || [ requirements.txt -nt "$RUNTIME_VENV/.installed" ]; then
  say "runtime virtualenv (requirements.txt only)"
  rm -rf "$RUNTIME_VENV"
  python3 -m venv "$RUNTIME_VENV"
  "$RUNTIME_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --require-hashes -r requirements.txt
  touch "$RUNTIME_VENV/.installed"
fi

if [ -z "${SMOKE_INNER:-}" ]; then
  export SMOKE_INNER=1
  exec timeout --kill-after=20 "${SMOKE_TIMEOUT:-170}" "$0" "$@"
fi

tmp=$(mktemp -d /tmp/iap-smoke.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
  status=$?
  if [ "${SMOKE_KEEP:-0}" = 1 ] && [ $status -eq 0 ]; then
    say "left running (SMOKE_KEEP=1): https://127.0.0.1:$HTTPS_PORT/, files in $tmp"
    return
  fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do  # 5 seconds to stop, then they are killed
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for db in "$DB" "${DB}_restored"; do
    psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
  if [ $status -ne 0 ]; then
    for log in gunicorn worker nginx/error; do
      [ -f "$tmp/$log.log" ] && { echo "--- $log.log (last lines)"; tail -n 25 "$tmp/$log.log"; }
    done
  fi
  rm -rf "$tmp"
  exit $status
}
trap cleanup EXIT
# timeout signals the whole process group: end through the EXIT trap, which stops the rest.
trap 'exit 143' TERM INT

# --- What the stack needs on the machine ------------------------------------------------------
if ! command -v nginx >/dev/null; then
  [ "$(id -u)" -eq 0 ] || fail "nginx is missing: apt-get install nginx"
  say "installing nginx"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends nginx >/dev/null; }
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  version=$(ls /etc/postgresql | sort -n | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
psql -h 127.0.0.1 -U postgres -q -c "CREATE DATABASE $DB" >/dev/null

# --- The certificate, trusted by the checks and the browser -----------------------------------
mkdir -p "$tmp/cache" "$tmp/tls" "$tmp/nginx" "$tmp/private" "$tmp/static" "$tmp/acme" "$tmp/backups"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$tmp/tls/key.pem" -out "$tmp/tls/cert.pem" \
  2>/dev/null
spki=$(openssl x509 -in "$tmp/tls/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der \
  | openssl dgst -sha256 -binary | base64)

# --- The environment file: the template with this machine's values ---------------------------
env_file=$tmp/iap.env
"$DEV_PY" - "$ROOT/deploy/iap.env.example" "$env_file" <<EOF
import re, secrets, sys
values = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://127.0.0.1:$HTTPS_PORT",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/$DB",
    "IAP_TRUSTED_PROXIES": "$PROXY_ADDRESS",
    "IAP_PRIVATE_MEDIA_ROOT": "$tmp/private",
    "IAP_STATIC_ROOT": "$tmp/static",
    "GUNICORN_BIND": "127.0.0.1:$APP_PORT",
    "GUNICORN_WORKERS": "2",
    "EMAIL_HOST": "",
    "IAP_BACKUP_DIR": "$tmp/backups",
}
seen, out = set(), []
for line in open(sys.argv[1]).read().splitlines():
    m = re.match(r"^#?([A-Z][A-Z0-9_]+)=", line)
    if m and m.group(1) in values and m.group(1) not in seen:
        seen.add(m.group(1))
        line = f"{m.group(1)}={values[m.group(1)]}"
    out.append(line)
missing = set(values) - seen
if missing:
    sys.exit(f"deploy/iap.env.example lacks {sorted(missing)}")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
EOF
grep -q '^IAP_ENV=production$' "$env_file" || fail "the template is not production"

export IAP_APP=$ROOT IAP_VENV=$RUNTIME_VENV IAP_ENV_FILE=$env_file
IAP_USER=$(id -un)
export IAP_USER
say "deploy/bin/iap-release"
IAP_NO_SYSTEMD=1 deploy/bin/iap-release >"$tmp/release.log" 2>&1 \
  || { cat "$tmp/release.log"; fail "iap-release"; }

# The people and the school: the test suite's cast (scripts/smoke/seed.py), written with the
# development settings (the test factories are development packages).
say "people and a school"
SMOKE_PASSWORD=$SMOKE_PASSWORD DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" \
  IAP_PRIVATE_MEDIA_ROOT="$tmp/private" "$DEV_PY" scripts/smoke/seed.py >/dev/null

# --- gunicorn and a worker, with the units' own command lines ----------------------------------
unit_command() {  # the ExecStart of a unit, with this checkout's paths
  local line
  line=$(sed -n 's/^ExecStart=//p' "deploy/systemd/$1")
  [ -n "$line" ] || fail "no ExecStart in deploy/systemd/$1"
  line=${line//\/srv\/iap-portal\/app/$ROOT}
  line=${line//\/srv\/iap-portal\/venv/$RUNTIME_VENV}
  line=${line//%H/$(hostname)}
  line=${line//%i/1}
  echo "$line"
}
start_unit() {  # name, log: run the unit's command with the environment file, as systemd would
  local command settings
  command=$(unit_command "$1")
  # The unit's own Environment= lines, its CacheDirectory under $tmp.
  settings=$(sed -n 's/^Environment=//p' "deploy/systemd/$1")
  settings=${settings//\/var\/cache\/iap-portal/$tmp\/cache}
  (
    set -a
    # shellcheck source=/dev/null
    . "$env_file"
    # shellcheck disable=SC2086
    [ -z "$settings" ] || export $settings
    set +a
    cd "$ROOT"
    # shellcheck disable=SC2086
    exec $command
  ) >"$tmp/$2.log" 2>&1 &
  pids+=($!)
}
say "gunicorn and a task worker (deploy/systemd)"
start_unit iap-gunicorn.service gunicorn
start_unit 'iap-worker@.service' worker

# --- nginx with the site as shipped, ports, paths and the certificate adapted -----------------
site=$tmp/nginx/site.conf
cp deploy/nginx/iap-portal.conf "$site"
cp deploy/nginx/iap-proxy.conf "$tmp/nginx/iap-proxy.conf"
echo "proxy_bind $PROXY_ADDRESS;" >>"$tmp/nginx/iap-proxy.conf"
replace() {  # in the site file: every occurrence of $1 by $2, and $1 must occur
  grep -qF -- "$1" "$site" || fail "deploy/nginx/iap-portal.conf no longer has: $1"
  PY_FROM=$1 PY_TO=$2 "$DEV_PY" -c "
import os, sys
p = sys.argv[1]; s = open(p).read()
open(p, 'w').write(s.replace(os.environ['PY_FROM'], os.environ['PY_TO']))" "$site"
}
replace "listen 80;" "listen 127.0.0.1:$HTTP_PORT;"
replace "listen [::]:80;" ""
replace "listen 443 ssl http2;" "listen 127.0.0.1:$HTTPS_PORT ssl http2;"
replace "listen [::]:443 ssl http2;" ""
replace "server_name iap.example.lv;" "server_name 127.0.0.1;"
replace "/etc/letsencrypt/live/iap.example.lv/fullchain.pem" "$tmp/tls/cert.pem"
replace "/etc/letsencrypt/live/iap.example.lv/privkey.pem" "$tmp/tls/key.pem"
replace "/etc/nginx/snippets/iap-proxy.conf" "$tmp/nginx/iap-proxy.conf"
replace "server 127.0.0.1:8001 " "server 127.0.0.1:$APP_PORT "
replace "alias /var/lib/iap-portal/static/;" "alias $tmp/static/;"
replace "root /var/www/letsencrypt;" "root $tmp/acme;"
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"
cat >"$tmp/nginx/nginx.conf" <<EOF
$user_line
daemon off;
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log $tmp/nginx/access.log;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    # Debian's nginx.conf turns gzip on for every server; so does this one.
    gzip on;
    include $site;
}
EOF
nginx -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
say "nginx on https://127.0.0.1:$HTTPS_PORT"
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)

for _ in $(seq 1 60); do
  curl -s -o /dev/null --cacert "$tmp/tls/cert.pem" "https://127.0.0.1:$HTTPS_PORT/accounts/login/" \
    && break
  sleep 0.5
done

# --- The journey and the checks -----------------------------------------------------------------
say "browser journey and header checks"
SMOKE_BASE="https://127.0.0.1:$HTTPS_PORT" SMOKE_HTTP="http://127.0.0.1:$HTTP_PORT" \
  SMOKE_CA="$tmp/tls/cert.pem" SMOKE_SPKI="$spki" SMOKE_TMP="$tmp" \
  SMOKE_PROXY_ADDRESS="$PROXY_ADDRESS" SMOKE_ARTIFACTS="$ROOT/test-artifacts/smoke" \
  "$DEV_PY" -m pytest -q -p no:cacheprovider -p no:xdist -p no:django --noconftest -o addopts="" \
  -W ignore::pytest.PytestConfigWarning \
  scripts/smoke/test_production_stack.py "$@"

say "backup (deploy/bin/iap-backup)"
(
  set -a
  # shellcheck source=/dev/null
  . "$env_file"
  set +a
  deploy/bin/iap-backup
) >"$tmp/backup.log" 2>&1 || { cat "$tmp/backup.log"; fail "iap-backup"; }
dump=$(ls "$tmp"/backups/iap-*.dump)
restored=${DB}_restored
psql -h 127.0.0.1 -U postgres -q -c "CREATE DATABASE $restored" >/dev/null
pg_restore --no-owner --dbname="postgres://postgres@127.0.0.1:5432/$restored" "$dump"
count() { psql -h 127.0.0.1 -U postgres -tAc "SELECT count(*) FROM plans_supportplan" "$1"; }
[ "$(count "$DB")" = "$(count "$restored")" ] || fail "the restored database has other plans"
# The bundle the journey had the worker build is in the media backup.
tar -tf "$tmp"/backups/iap-*-private.tar >"$tmp/backup-files.txt"
grep -q '^private/.*\.pdf$' "$tmp/backup-files.txt" || fail "the media backup has no bundle"
psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE $restored" >/dev/null
say "backup restores: the same $(count "$DB") plan(s) in the restored database"
say "passed"
