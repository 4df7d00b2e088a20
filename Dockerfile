# One image, three roles; the command picks one:
#   API (default)        glassshop serve --host 0.0.0.0 --port 8000 --workers "$WEB_CONCURRENCY"
#   background worker    glassshop worker
#   migrations (one-off) glassshop migrate
# Build: docker build --target runtime -t glassshop-api .
# Settings are environment variables (README.md, "Configuration"); production
# (APP_ENV=production, the default here) needs DATABASE_URL, REDIS_URL, JWT_SECRET, SMTP_HOST.
# The API also serves the web client (client/, built in the `client` stage) at /.

ARG PYTHON_IMAGE=python:3.11-slim
# The client's package.json asks for Node.js ^20.19 or 22.12+.
ARG NODE_IMAGE=node:22-slim


FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}"

WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY api/ api/
COPY schema/ schema/
COPY db/ db/
# pip compiles the bytecode at install time, so the runtime never writes any.
RUN pip install --no-cache-dir -c requirements.lock .


# The web client: Node.js and the npm packages stay in this stage; only the static
# build (dist/) reaches the runtime image. Its GraphQL types (src/gql) are generated
# and committed, so the build needs nothing from the Python side.
FROM ${NODE_IMAGE} AS client

WORKDIR /client
# The lock file first: the packages layer is rebuilt only when the dependencies change.
COPY client/package.json client/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY client/ ./
RUN npm run build


FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:${PATH}" \
    APP_ENV=production \
    WEB_CONCURRENCY=1 \
    CLIENT_DIST_DIR=/app/client

RUN groupadd --system --gid 10001 glassshop \
    && useradd --system --uid 10001 --gid glassshop --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin glassshop

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
# The web client's build, served at / (CLIENT_DIST_DIR); owned by root, read-only.
COPY --from=client /client/dist /app/client

# Numeric, so that Kubernetes can check runAsNonRoot. Nothing is written to disk:
# the root filesystem may be mounted read-only.
USER 10001:10001

EXPOSE 8000

# The API's liveness; the worker and the migration job override or disable it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# uvicorn (and the worker) finish in-flight work on SIGTERM (up to 30 s): give them
# a stop timeout above that (compose stop_grace_period, Kubernetes
# terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM

# `exec`: glassshop replaces the shell as PID 1 and receives SIGTERM itself.
CMD ["sh", "-c", "exec glassshop serve --host 0.0.0.0 --port 8000 --workers \"${WEB_CONCURRENCY}\""]
