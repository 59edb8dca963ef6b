# The ASEM Telegram bot: `asem-bot run` as an unprivileged user, its database in /data.
#
#   docker build -t asem-bot .
#   docker run -d --name asem-bot --restart unless-stopped \
#       --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
#       -v "$PWD/telegram_token:/run/secrets/telegram_token:ro" \
#       -e TELEGRAM_BOT_TOKEN_FILE=/run/secrets/telegram_token \
#       -v asem-data:/data asem-bot
#
# or `docker compose up -d` with compose.yaml. No secret is in the image: the token comes at run
# time, from a file (TELEGRAM_BOT_TOKEN_FILE, as Docker and compose secrets provide) or from
# TELEGRAM_BOT_TOKEN. The README's Docker section has the details and how to build on a machine
# without registry access (BASE_IMAGE); scripts/smoke_image.py checks the built image.

# The official Python 3.11 image on Debian 12, pinned by digest (python:3.11-slim moved to
# another Debian release in 2025; a digest cannot move). Replace it for a test or an offline
# build with --build-arg BASE_IMAGE=...: any Debian 12 image whose python3 is 3.11 with venv.
ARG BASE_IMAGE=python:3.11.16-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b

# -- build: the locked dependencies and the bot's wheel into a venv, nothing else ----------------
FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# Every file is checked against the hashes in the lock files, only wheels are taken (no sdist
# that would build with unpinned tools), and the runtime venv gets no pip of its own.
COPY requirements/run.txt requirements/build.txt /src/requirements/
RUN python3 -m venv /opt/build \
    && /opt/build/bin/pip install -q --require-hashes --only-binary=:all: \
        -r /src/requirements/build.txt \
    && python3 -m venv --without-pip /opt/asem-bot \
    && /opt/build/bin/pip --python /opt/asem-bot/bin/python install -q --require-hashes \
        --only-binary=:all: -r /src/requirements/run.txt
# The bot itself, built with the locked hatchling and installed on top with --no-deps. A regular
# install: the wheel carries the knowledge base as bot/_knowledge.
COPY pyproject.toml README.md /src/
COPY bot /src/bot
COPY knowledge /src/knowledge
RUN /opt/build/bin/pip wheel -q --no-deps --no-build-isolation -w /tmp/dist /src \
    && /opt/build/bin/pip --python /opt/asem-bot/bin/python install -q --no-deps /tmp/dist/*.whl \
    && /opt/asem-bot/bin/asem-bot validate

# -- run ------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE}
# tini is PID 1: it hands docker stop's SIGTERM to the bot, which stops at once even while it is
# still starting (Python as PID 1 would ignore the signal until its own handler is set, and be
# killed after 10 s). `-e 143`: a bot ended by that SIGTERM before its handler was set exits 0,
# as a stop asked for is no failure.
RUN apt-get update \
    && apt-get install -y --no-install-recommends 'tini=0.19.0-*' \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    && useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin asem \
    && mkdir /data && chown 10001:10001 /data && chmod 0750 /data
COPY --from=build /opt/asem-bot /opt/asem-bot
ENV PATH=/opt/asem-bot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ASEM_DATA_DIR=/data
# A number, not a name: Kubernetes' runAsNonRoot and other checkers can verify it without
# reading /etc/passwd. /data belongs to it, so a new named volume does too.
USER 10001:10001
WORKDIR /home/asem
VOLUME ["/data"]
# Webhook mode only (ASEM_WEBHOOK_URL): publish it behind a TLS-terminating proxy.
EXPOSE 8443

# The bot writes /data/heartbeat every 30 s from its event loop; older than 90 s = unhealthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["asem-bot", "health"]

ENTRYPOINT ["/usr/bin/tini", "-e", "143", "--"]
CMD ["asem-bot", "run"]
