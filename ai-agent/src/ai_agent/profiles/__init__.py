"""Agent profiles (how the agent behaves on a call), the active system prompt, and the voices to choose
from. The conversation engine reads a profile with :func:`ai_agent.profiles.repository.get` and the prompt
with :func:`ai_agent.profiles.prompt.active_system_prompt`."""
