FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY web web
COPY models models
COPY realtime realtime
COPY workers workers
COPY migrations migrations
RUN pip install --no-cache-dir .
EXPOSE 9090
CMD ["lms", "serve"]
