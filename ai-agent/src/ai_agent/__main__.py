"""``python -m ai_agent``: serve the ai-agent service with uvicorn."""

from ai_agent.main import create_app
from ai_agent.settings import Settings
from dialplane.serve import serve

if __name__ == "__main__":
    settings = Settings()
    serve(create_app(settings), settings)
