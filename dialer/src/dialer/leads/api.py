"""Routes of leads (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["leads"])
