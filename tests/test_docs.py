"""The README and the data dictionary stay true to the code and the data."""
import csv
import re

from etl_helpers import REFERENCE, ROOT

from etl.cli import make_parser
from etl.columns import COLUMNS

README = (ROOT / "README.md").read_text()


def test_readme_documents_every_output_column():
    documented = set(re.findall(r"^\| `([a-z_0-9]+)` \|", README, flags=re.M))
    missing = [c.name for c in COLUMNS if c.name not in documented]
    assert missing == []


def test_readme_shows_the_two_commands_and_ci_runs_the_test_command():
    assert "make run" in README and "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_mentions_every_cli_command_and_option():
    parser = make_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, subparser in sub.choices.items():
        assert f"python -m etl {name}" in README, name
        for action in subparser._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in README, f"{name} {flag}"


def test_readme_nk_link_vocabulary_matches_the_reference_table():
    with open(REFERENCE / "nk_links.csv", newline="") as fh:
        codes = [r["code"] for r in csv.DictReader(fh)]
    section = README.split("### `nk_link` vocabulary")[1].split("\n## ")[0]
    assert re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M) == codes


def _imports(path) -> set[str]:
    """Top-level package modules a file imports (etl.x, draft.x, devtools.x), from its syntax tree."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_layout_etl_and_app_never_import_devtools_and_no_module_imports_one_that_imports_it_back():
    modules = {}
    for package in ("etl", "draft", "devtools", "app"):
        for path in (ROOT / package).glob("*.py"):
            modules[f"{package}.{path.stem}"] = path
    graph = {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}
    for name, imported in graph.items():
        if name.startswith(("etl.", "app.")):
            assert not any(m.startswith("devtools") for m in _imports(modules[name])), name
    # no cycle: a depth-first walk never meets a module on its own path
    state: dict[str, int] = {}

    def visit(name, path):
        state[name] = 1
        for other in graph[name]:
            assert state.get(other) != 1, f"import cycle: {' -> '.join(path + [other])}"
            if other not in state:
                visit(other, path + [other])
        state[name] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])
