FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 procps \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY siao_ofii siao_ofii
COPY referentiel referentiel
COPY exchanges exchanges
COPY meetings meetings
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --create-home app && mkdir -p /data/private && chown app /data/private
USER app
EXPOSE 8000
