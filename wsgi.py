"""The WSGI entry point for any server: ``gunicorn wsgi:app``."""

from kyc_service.app import create_app

app = create_app()
