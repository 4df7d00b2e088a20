FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}"

WORKDIR /src
COPY pyproject.toml requirements.lock ./
COPY api/ api/
COPY schema/ schema/
COPY db/ db/
RUN pip install --no-cache-dir -c requirements.lock .


FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:${PATH}" \
    APP_ENV=production

RUN groupadd --system --gid 10001 glassshop \
    && useradd --system --uid 10001 --gid glassshop --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin glassshop

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv

USER 10001:10001

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["glassshop", "serve", "--host", "0.0.0.0", "--port", "8000"]
