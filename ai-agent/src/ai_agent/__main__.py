"""``python -m ai_agent``: serve the ai-agent service with uvicorn."""

from ai_agent.main import create_app
from ai_agent.settings import Settings
from dialplane.serve import serve

if __name__ == "__main__":
    settings = Settings()
    # The standard asyncio loop, not uvloop: uvloop starts espeak-ng with a fork that can hang the whole
    # process for good while a Whisper decode runs in a thread (seen under 4 concurrent calls: the main
    # thread stuck in create_subprocess_exec); asyncio's fork_exec is safe with threads.
    serve(create_app(settings), settings, loop="asyncio")
