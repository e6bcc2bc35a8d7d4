"""gunicorn settings for solidarity-web.service: `gunicorn --config deploy/gunicorn.conf.py wsgi:app`.

Metrics with several workers: the unit sets PROMETHEUS_MULTIPROC_DIR to a directory systemd makes
empty at each start (RuntimeDirectory=), so prometheus_client keeps each worker's counts in files
there and a scrape of any worker adds them all up. The hook below retires a dead worker's files.
"""
import os

# Behind the reverse proxy on the same machine (set SOLIDARITY_PROXY_FIX_HOPS=1 to match).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Also what `flask --app wsgi check` reads: above 1 the rate limits need a shared store (redis).
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Sync workers: each request is short; no request waits on a provider (the worker process sends).
worker_class = "sync"
timeout = 30
graceful_timeout = 20
# The proxy writes the access log with the client's address; ours (solidarity.request) has the
# route, status, duration and request id, so gunicorn's own access log stays off.
accesslog = None
errorlog = "-"


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
