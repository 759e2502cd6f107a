"""``python -m ari_bridge``: serve the ari-bridge service with uvicorn."""

from ari_bridge.main import create_app
from ari_bridge.settings import Settings
from dialplane.serve import serve

if __name__ == "__main__":
    settings = Settings()
    serve(create_app(settings), settings)
