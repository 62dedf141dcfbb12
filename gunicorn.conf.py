"""gunicorn's configuration, one file for every way the app is served: the
Dockerfile, docker-compose.yml, ``make prod`` (deploy/prod.py) and the
benchmark (bench/run.py) all start ``gunicorn -c gunicorn.conf.py``.

gunicorn is meant to sit behind a buffering proxy (nginx, deploy/): the proxy
absorbs slow clients and hands over whole requests. The choices below keep
a worker from being held by one connection even so. Numbers are documented
in docs/OPERATIONS.md. Environment: WEB_CONCURRENCY (processes, read by
gunicorn itself), GUNICORN_THREADS, TRUSTED_PROXY_COUNT, FORWARDED_ALLOW_IPS.
"""

import os

# Threads, not one request per process: an idle keep-alive connection waits
# in the worker's poller without holding a thread, and a request that waits
# on a slow database holds one thread of several, so /healthz still gets one.
worker_class = "gthread"
# Sixteen, of which the app runs at most fourteen requests at once (the
# concurrency guard keeps two for /healthz and quick refusals): with eight
# (seven usable) a hostile review saw 10-16 ordinary clients refused.
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# A worker accepts twice as many connections as it has threads. The app
# runs at most threads-1 requests at once (tracker.middleware.
# ConcurrencyGuardMiddleware), so when those all wait (on a hung database,
# say) the spare thread answers the rest at once: 503 + Retry-After for API
# calls, 200 for /healthz. With no more connections than threads, the rest
# waited in the listen queue until a stuck request ended (measured: API
# answers after 4-6 s behind a 2 s connect timeout). nginx opens one
# upstream connection per request, so none sit idle here.
worker_connections = threads * 2

# A worker that stops heart-beating this long is killed and replaced.
timeout = 30
# On SIGTERM, requests in flight get this long to finish.
graceful_timeout = 20
# Idle keep-alive connections are closed after this many seconds.
keepalive = 5

# The request line may be 8190 bytes (gunicorn's maximum; its default, 4094,
# answered long filter URLs with an HTML 400). nginx in front refuses longer
# ones first, with a JSON 414 (deploy/nginx.conf.template).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# Forwarded headers (X-Forwarded-Proto...) are trusted only from the proxies
# the deployment declares: none unless TRUSTED_PROXY_COUNT says there is one,
# then from FORWARDED_ALLOW_IPS (loopback by default: nginx on the same host).
# gunicorn's own default trusts loopback whatever the deployment says.
if int(os.environ.get("TRUSTED_PROXY_COUNT", "0")) > 0:
    forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
else:
    forwarded_allow_ips = ""
