FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY domain ./domain
COPY locales ./locales
COPY examples ./examples
RUN pip install --no-cache-dir . \
    && python -c "from bot.text.i18n import compile_catalogs; compile_catalogs()"

# SQLite lives here unless DATABASE_URL points at PostgreSQL; mount a volume to keep it.
VOLUME ["/app/data"]
CMD ["python", "-m", "bot"]
