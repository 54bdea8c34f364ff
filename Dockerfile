# Provisio API / worker / simulators image. One image, three roles (see docker-compose.yml):
#   provisio serve | provisio worker | provisio sim ...
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PROVISIO_DATA_DIR=/var/lib/provisio \
    HOST=0.0.0.0 \
    PORT=8080

# SpatiaLite lets the embedded SQLite mode store geometries; PostgreSQL/PostGIS needs nothing extra here.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-mod-spatialite \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /var/lib/provisio --uid 10001 provisio

WORKDIR /app
# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p server common oss bss simulators \
    && touch server/__init__.py common/__init__.py oss/__init__.py bss/__init__.py simulators/__init__.py \
    && pip install . \
    && pip uninstall -y provisio
COPY . .
# Editable, so that the alembic migrations and openapi/ specs next to the packages are found in place.
RUN pip install --no-deps -e . && chown -R provisio /var/lib/provisio

USER provisio
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
    CMD python -c "import urllib.request, os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8080\")}/health', timeout=2)"
CMD ["provisio", "serve"]
