"""Script that AppTest runs for tests/test_upload.py: the upload page exactly as the dashboard shows it."""
import sys
from pathlib import Path

REPO = str(Path(__file__).resolve().parents[1])
if REPO not in sys.path:  # `streamlit run dashboard.py` puts the repo root on the path; do the same here
    sys.path.insert(0, REPO)

from app.page_upload import render  # noqa: E402

render()
