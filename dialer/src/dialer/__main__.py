"""``python -m dialer``: serve the dialer service with uvicorn."""

from dialer.main import create_app
from dialer.settings import Settings
from dialplane.serve import serve

if __name__ == "__main__":
    settings = Settings()
    serve(create_app(settings), settings)
