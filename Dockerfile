# One image for every process of the Procfile: `lms serve` (web), `lms worker`, `lms migrate`.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY web web
COPY models models
COPY realtime realtime
COPY workers workers
COPY migrations migrations
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /app lms \
    && mkdir -p /data/media && chown lms /data/media
# Not root: a compromised process cannot rewrite the installed code.
USER lms
ENV LMS_MEDIA_ROOT=/data/media
EXPOSE 9090
CMD ["lms", "serve", "--host", "0.0.0.0", "--port", "9090"]
