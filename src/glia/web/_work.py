"""Pages: _work (being written)."""

from fastapi import APIRouter

router = APIRouter()
