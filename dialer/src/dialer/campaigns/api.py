"""Routes of campaigns (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["campaigns"])
