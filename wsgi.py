"""WSGI entry point: ``gunicorn wsgi:app`` (production) and ``flask --app wsgi run`` (development)."""

from techmarket import create_app

app = create_app()
