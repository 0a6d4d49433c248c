# runware-mock as a container: `docker build -t runware-mock .`, then
# `docker run --rm -p 8787:8787 runware-mock` serves http://localhost:8787/v1.
# Every setting is an environment variable (RUNWARE_MOCK_<NAME>, docs/configuration.md), or a
# flag after the image name: `docker run --rm -p 8787:8787 runware-mock --latency instant`.

# Any image with python3 (3.11 or later) and its venv module: a slim official Python image by
# default; tests/test_container.py passes a Debian root made on the spot with mmdebstrap.
ARG BASE=python:3.12-slim-bookworm

FROM ${BASE} AS build
# A CA bundle for pip where PyPI sits behind a TLS-inspecting proxy (podman build -v its folder
# and --build-arg PIP_CERT=the bundle); unset, pip uses its own.
ARG PIP_CERT=""
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY runware_mock runware_mock
COPY fixtures fixtures
# No bytecode and no pip in the image: both would only add to its size.
RUN if [ -z "$PIP_CERT" ]; then unset PIP_CERT; fi \
    && python3 -m venv /opt/runware-mock \
    && /opt/runware-mock/bin/python -m pip install --no-cache-dir --no-compile \
        --disable-pip-version-check . \
    && /opt/runware-mock/bin/python -m pip uninstall --yes --quiet pip setuptools \
    && find /opt/runware-mock -name __pycache__ -prune -exec rm -rf {} +

FROM ${BASE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="runware-mock" \
      org.opencontainers.image.description="Offline emulator of the Runware inference API, with a contract-test harness" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/runware-mock/runware-mock" \
      org.opencontainers.image.documentation="https://github.com/runware-mock/runware-mock/tree/main/docs"
COPY --from=build /opt/runware-mock /opt/runware-mock
# A user of its own (never root), owning the data dir, which is a volume: tasks, uploads and
# rendered media outlive the container when it is mounted (-v runware-data:/data).
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home runware \
    && mkdir -p /data && chown runware:runware /data
ENV PATH=/opt/runware-mock/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RUNWARE_MOCK_DATA_DIR=/data \
    RUNWARE_MOCK_PORT=8787 \
    RUNWARE_MOCK_PUBLIC_URL=http://localhost:8787
VOLUME ["/data"]
USER runware
WORKDIR /data
EXPOSE 8787
# /__admin/health answers without the admin token; the standard library only (no curl here).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('RUNWARE_MOCK_PORT', '8787') + '/__admin/health', timeout=4)"]
ENTRYPOINT ["runware-mock", "serve", "--host", "0.0.0.0"]
