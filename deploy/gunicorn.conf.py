"""gunicorn's settings for IAP portāls (deploy/systemd/iap-gunicorn.service starts
`gunicorn -c deploy/gunicorn.conf.py iap_portal.wsgi`). nginx in front terminates TLS, buffers
slow clients' uploads and downloads, and serves /static/ itself (deploy/nginx/iap-portal.conf).

The environment file (/etc/iap-portal/iap.env) may set GUNICORN_BIND, GUNICORN_WORKERS and
GUNICORN_THREADS; everything else is fixed here.
"""

import os

# Loopback (or the app server's private address) only: gunicorn is reached through nginx, never
# by browsers. Its gthread worker hands each new connection to a thread that waits up to 5 s for
# the first request; connections opened early and left silent (a browser's preconnect, a load
# tester's users in their first think time) hold the threads while others' requests queue: the
# benchmark's journey p99 of 1.6 s straight to gunicorn (bench/README.md). nginx connects only
# with a request to send, and its idle kept-alive connections wait in gunicorn's poller.
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")]

# Threads, not sync workers: a request waiting on PostgreSQL or writing a PDF holds one thread,
# not a whole process. One process per core plus one, four threads each (`make bench-load` runs
# this file as it is, bench/README.md); pages and PDFs are CPU-bound, so more threads add no
# speed.
workers = int(os.environ.get("GUNICORN_WORKERS", str((os.cpu_count() or 1) + 1)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# Each worker loads the application itself (iap_portal/wsgi.py imports every view and freezes
# those objects out of the garbage collector's way, in each worker), so that `systemctl reload
# iap-gunicorn` (SIGHUP) starts workers on a new release's code while the old ones finish their
# requests: no request is dropped. preload_app = True would share the loaded memory between the
# workers, but a reload would then keep the old code (only a restart would load the new).
preload_app = False

# nginx keeps connections to gunicorn open (upstream keepalive); longer than nginx's own
# keepalive_timeout towards gunicorn (60 s, deploy/nginx/iap-portal.conf), so that gunicorn
# never closes one nginx is about to use.
keepalive = 75
# A request running longer than this is killed (the worker restarts). Long work (bundles,
# large exports) runs on the task workers, not in a request.
timeout = 60
graceful_timeout = 30
# Replace a worker now and then, so that no slow leak grows for months; the jitter spreads the
# restarts; the other workers serve while a new one loads.
max_requests = 5000
max_requests_jitter = 500

# X-Forwarded-Proto is believed only from nginx (Django reads it too: IAP_BEHIND_TLS_PROXY).
forwarded_allow_ips = os.environ.get("IAP_TRUSTED_PROXIES", "127.0.0.1,::1")

# The access log, to the journal, with the request's duration in microseconds (%(D)s), for
# finding slow requests: journalctl -u iap-gunicorn. The path without its query string (a
# search may carry a pupil's name) and no client address (nginx's log has it).
accesslog = "-"
access_log_format = "%(m)s %(U)s %(s)s %(B)s %(D)sus"
errorlog = "-"
loglevel = "warning"
# Temporary files of the heartbeat in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - gunicorn's own heartbeat files, per process
