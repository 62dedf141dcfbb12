# Production image: gunicorn serving the app, WhiteNoise serving the hashed
# static files collected at build time. In production it sits behind nginx
# (docker-compose.yml's `proxy`), which absorbs slow clients. Configuration comes from the
# environment at run time (see .env.example); nothing secret is baked in.
#
#   docker build -t tracker .
#   docker run --rm -p 8000:8000 -e DJANGO_SECRET_KEY=... -e DATABASE_URL=... tracker
#
# The image does not migrate on start; docker-compose.yml shows the order
# (migrate, load_seeds, gunicorn).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # gunicorn reads its worker count from here; override at run time.
    WEB_CONCURRENCY=2

WORKDIR /app

# A fixed, unprivileged user. The code stays root-owned: the app never
# writes into /app at run time.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

# Dependencies first, so code changes do not re-run pip.
# psycopg[binary] ships wheels: no compiler or libpq-dev needed.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Hashed, compressed static files into /app/staticfiles (STATIC_ROOT).
# Settings refuse to load without a secret key when debug is off, so this one
# step gets a throwaway key; it is not an ENV and does not reach the runtime.
RUN DJANGO_SECRET_KEY=collectstatic-build-step-only python manage.py collectstatic --no-input

USER app

EXPOSE 8000

# Exec form: gunicorn is PID 1 and gets SIGTERM directly for a graceful stop.
# gunicorn.conf.py: worker class, threads, timeouts, request-line limit and
# forwarded-header trust, shared with compose, `make prod` and the benchmark.
# /dev/shm for the worker heartbeat files: /tmp may be a slow overlay or read-only.
# Meant to run behind nginx (docker-compose.yml, deploy/nginx.conf.template).
CMD ["gunicorn", "tracker.wsgi", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-"]
