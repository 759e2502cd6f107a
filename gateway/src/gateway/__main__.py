"""``python -m gateway``: serve the gateway service with uvicorn."""

from dialplane.serve import serve
from gateway.main import create_app
from gateway.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    serve(create_app(settings), settings)
