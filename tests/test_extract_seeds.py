"""The extractor on the seed documents (../shared/seeds), read at run time.

For each document: every seizure, price and cash figure that data/raw/reports.csv
records from it is found with the same kilograms, amount and currency, and no
exchange-rate statement is reported as a seizure. Recall and precision are
printed (run with -s to see them, or `python -m draft --evaluate`).
Skipped when the seed folder is absent.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from draft.cli import main
from draft.evaluate import SEED_SOURCES, evaluate, format_report

ROOT = Path(__file__).resolve().parents[1]
SEEDS = Path(os.environ.get("EXTRACT_SEEDS", ROOT.parent / "shared" / "seeds"))

pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed documents not found at {SEEDS}")


@pytest.fixture(scope="module")
def results():
    out = evaluate(SEEDS, ROOT / "data" / "raw", ROOT / "data" / "reference")
    print("\n" + format_report(out))
    return out


def test_every_seed_document_is_evaluated(results):
    assert [r.name[:3] for r in results] == list(SEED_SOURCES)


def test_recall_every_recorded_figure_is_found(results):
    for r in results:
        assert r.missed == [], f"{r.name}: missed {r.missed}"
        assert r.recall in (None, 1.0)
    assert sum(r.curated for r in results) > 0  # the seeds do record figures


def test_no_exchange_rate_statement_is_reported_as_a_seizure(results):
    assert [r.rates_as_seizures for r in results] == [0] * len(results)


def test_precision_nothing_else_is_marked_for_import(results):
    for r in results:
        assert r.extra == [], f"{r.name}: reported {r.extra}"


def test_evaluate_command_prints_the_table(capsys):
    assert main(["--evaluate", "--seeds", str(SEEDS)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("seed documents")
    assert lines[1].split()[:6] == ["document", "curated", "drafted", "matched", "recall", "precision"]
    assert "years right" in lines[1] and "dates agree" in lines[1]
    assert sum(line.startswith("all ") for line in lines) == 2  # the seeds, then our own evaluation texts
    assert any(line.startswith("evaluation texts") for line in lines)


def test_the_articles_own_usd_figures_and_rates_are_carried_over(results):
    checked = sum(r.stated_checked for r in results)
    assert checked > 0
    assert sum(r.stated_agree for r in results) == checked
