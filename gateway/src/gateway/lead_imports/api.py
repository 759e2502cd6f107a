"""Routes of lead_imports (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["lead_imports"])
