"""Routes of do_not_call (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["do_not_call"])
