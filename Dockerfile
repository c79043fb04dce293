# The same install as `make install`: setuptools<82 (face_recognition_models needs
# pkg_resources), the service with the provider extras (`--build-arg EXTRAS=` for none;
# `make install` adds the test tools), then face-recognition without its dlib source
# dependency (dlib-bin provides dlib prebuilt).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 kyc
WORKDIR /srv/kyc

COPY pyproject.toml setup.cfg README.md ./
COPY kyc_service ./kyc_service
COPY adapters ./adapters
COPY schemas ./schemas
COPY verifier_sandbox ./verifier_sandbox
COPY kyc_samples ./kyc_samples
COPY wsgi.py ./

ARG EXTRAS=tencent,alibaba
RUN python -m pip install --upgrade pip "setuptools<82" wheel \
 && python -m pip install ".${EXTRAS:+[$EXTRAS]}" \
 && python -m pip install --no-deps "face-recognition==1.3.0"

RUN mkdir -p /srv/kyc/var && chown kyc:kyc /srv/kyc/var
USER kyc

# Settings come from the environment (see README § Settings): at least KYC_DATABASE_URL,
# KYC_KEYSTORE_URL and a key-encryption key (KYC_KEK_FILE mounted as a secret, or KYC_KEK);
# in production also KYC_ENV=production with real verifier adapters.
ENV PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT','8000'))"
CMD ["sh", "-c", "kyc-service db upgrade && exec kyc-service serve --host 0.0.0.0 --port ${PORT} --workers ${WORKERS:-2}"]
