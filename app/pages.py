"""The dashboard's navigation: the readers' page, and the curators' tools under a separate "Curate" section.

A curator page is a module exposing render(); it is listed when the module
exists. A module that exists but fails to import is logged and left out, so a
broken tool never takes the readers' page down.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

import streamlit as st

from app import page_dashboard

READ = "Read the data"
CURATE = "Curate"
CURATOR_PAGES = (  # module, title, url path
    ("app.page_upload", "Check a file", "check"),
    ("app.page_draft", "Draft from an article", "draft"),
)
log = logging.getLogger(__name__)


def optional_render(module_name: str) -> Callable[[], None] | None:
    """render() of `module_name` if the module exists and has one; None otherwise."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            log.exception("page %s needs a module that is missing; page left out", module_name)
        return None
    except Exception:
        log.exception("page %s failed to import; page left out", module_name)
        return None
    render = getattr(module, "render", None)
    return render if callable(render) else None


def all_pages() -> dict[str, list[st.Page]]:
    # No page icons: a ":material/...:" icon becomes a favicon fetched from Google's servers.
    sections = {READ: [st.Page(page_dashboard.render, title="Seizures and prices", default=True)]}
    curate = []
    for module_name, title, url_path in CURATOR_PAGES:
        render = optional_render(module_name)
        if render is not None:
            curate.append(st.Page(render, title=title, url_path=url_path))
    if curate:
        sections[CURATE] = curate
    return sections
