# The tools image the download Jobs and the init step run (`site.toolsImage`, default
# ghcr.io/llmkube/llmkube-iac:<version>): `llmkube-iac fetch` and a POSIX shell.
# Build and push it to your registry (or mirror) and pin it by digest for air-gapped sites:
#   docker build -t registry.site.local/llmkube/llmkube-iac:0.1.0 .
FROM python:3.11-slim
WORKDIR /src
COPY pyproject.toml README.md ./
COPY llmkube_iac ./llmkube_iac
RUN pip install --no-cache-dir '.[s3]' && rm -rf /src
USER 65532:65532
ENV HOME=/tmp
ENTRYPOINT []
CMD ["llmkube-iac", "--help"]
