# The ASEM Telegram bot.
#
#   docker build -t asem-bot .
#   docker run -d --name asem-bot --restart unless-stopped \
#       -e TELEGRAM_BOT_TOKEN_FILE=/run/secrets/telegram_token \
#       -v asem-data:/data asem-bot
#
# Configuration comes from the environment only (see `asem-bot run --help`); no secret is
# baked into the image: pass TELEGRAM_BOT_TOKEN, or better a Docker secret file named by
# TELEGRAM_BOT_TOKEN_FILE. Webhook mode: set ASEM_WEBHOOK_URL and publish ASEM_WEBHOOK_PORT
# (8443 by default) behind a TLS-terminating proxy.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ASEM_DATA_DIR=/data

# A regular (not editable) install: the wheel carries the knowledge base as bot/_knowledge.
COPY pyproject.toml README.md /src/
COPY bot /src/bot
COPY knowledge /src/knowledge
RUN pip install /src && rm -rf /src

# An unprivileged user; /data belongs to it, so a new named volume does too.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin asem \
    && mkdir /data && chown asem:asem /data
USER asem
WORKDIR /home/asem
VOLUME ["/data"]
EXPOSE 8443

# The bot writes /data/heartbeat every 30 s from its event loop; stale after 90 s = unhealthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["asem-bot", "health"]

# PTB stops cleanly on SIGTERM (docker stop).
CMD ["asem-bot", "run"]
