# One image for the API and the workers; the command picks the role.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 triage
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY workers ./workers
RUN pip install .
COPY rules ./rules
USER triage
ENV RULES_DIR=/app/rules VAR_DIR=/home/triage/var
EXPOSE 8000
CMD ["triage", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-worker"]
