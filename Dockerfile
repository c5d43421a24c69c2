FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# The dependencies first, in a layer of their own, at the versions requirements.lock pins
# (those the tests ran with): rebuilt when the lock changes, not when the code does.
WORKDIR /src
COPY requirements.lock ./
RUN pip install -r requirements.lock

# Then the code, installed as from its wheel (the catalogs are package data), and the catalogs
# compiled now, as root: the bot's user cannot write to site-packages.
COPY README.md ./
COPY bot ./bot
COPY domain ./domain
COPY locales ./locales
RUN pip install --no-deps . \
    && cd / && rm -rf /src \
    && python -c "from bot.text.i18n import compile_catalogs; compile_catalogs()"

WORKDIR /app
COPY examples ./examples
# SQLite lives here unless DATABASE_URL points at PostgreSQL; mount a volume to keep it.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin spotbook \
    && mkdir -p /app/data && chown spotbook:spotbook /app/data
VOLUME ["/app/data"]
USER spotbook

# GET /healthz checks the database (and Redis): on WEBHOOK_PORT in webhook mode (WEBHOOK_URL
# set), on HEALTH_PORT in long polling (unset it and the check only sees the process running).
ENV HEALTH_PORT=8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; port = os.environ.get('WEBHOOK_PORT', '8080') if os.environ.get('WEBHOOK_URL') else os.environ.get('HEALTH_PORT'); port and urllib.request.urlopen('http://127.0.0.1:%s/healthz' % port, timeout=3)"

CMD ["python", "-m", "bot"]
