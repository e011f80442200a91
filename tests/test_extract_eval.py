"""The drafter scored on our own evaluation texts (tests/fixtures/eval, English and Korean).

The texts were written for the project around the cases the drafter must get right; the rules were
written with them in view, so these numbers are in-sample. They pin the targets so a change that
loses a figure, proposes a wrong one or misdates one fails here.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from draft.cli import main
from draft.evaluate import evaluate_texts, format_report

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ROOT / "tests" / "fixtures" / "eval"


@pytest.fixture(scope="module")
def results():
    out = evaluate_texts(TEXTS, ROOT / "data" / "reference")
    print("\n" + format_report(out, "evaluation texts"))
    return out


def _totals(results, language):
    part = [r for r in results if r.language == language]
    curated = sum(r.curated for r in part)
    drafted = sum(r.reported for r in part)
    matched = sum(r.matched for r in part)
    years = sum(r.years_agree for r in part)
    return matched / curated, matched / drafted, years / matched


def test_every_text_is_scored_in_both_languages(results):
    assert {r.language for r in results} == {"en", "ko"}
    assert len(results) == len(list(TEXTS.glob("*.txt")))


def test_english_targets(results):
    recall, precision, years = _totals(results, "en")
    assert recall >= 0.9 and precision >= 0.9 and years >= 0.9, (recall, precision, years)


def test_korean_targets(results):
    recall, precision, years = _totals(results, "ko")
    assert recall >= 0.8 and precision >= 0.85, (recall, precision)
    assert years >= 0.9


def test_non_seizure_figures_are_listed_not_imported(results):
    by_name = {r.name: r for r in results}
    # the fine (벌금) and the count of people (2명) in ko_04; the rate (환율) in ko_05; the fine in en_07
    assert by_name["ko_04_counts_fine.txt"].not_imported == 2
    assert by_name["ko_05_rate.txt"].not_imported >= 2
    assert by_name["en_07_cash_fine.txt"].not_imported == 1


def test_evaluate_without_seeds_still_scores_our_texts(tmp_path, capsys):
    assert main(["--evaluate", "--seeds", str(tmp_path / "none")]) == 0
    captured = capsys.readouterr()
    assert "no seed documents" in captured.err
    lines = captured.out.splitlines()
    assert any(line.startswith("evaluation texts") for line in lines)
    assert any(line.strip().startswith("ko ") for line in lines) and any(line.strip().startswith("en ") for line in lines)
