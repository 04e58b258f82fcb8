"""WSGI and ``flask --app app`` entry point."""
from inventory import create_app

app = create_app()
