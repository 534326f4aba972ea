"""The documents hold together: a README that fits a few screens, links and `docs/...md#anchor` references that
lead somewhere, and the presets table of docs/tuning.md saying what the recipes say."""

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [
    REPO / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
    *sorted(REPO.glob("metrics/*/README.md")),
]
CODE_DIRS = ("spectrum_suite", "tuning", "metrics", "bench", "tests", ".ci")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
DOC_REFERENCE = re.compile(r"\bdocs/([\w-]+\.md)#([\w-]+)")


def without_code_blocks(text: str) -> str:
    """The text outside fenced code blocks, line for line (a `# comment` in a block is no heading)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            lines.append("")
        else:
            lines.append("" if fenced else line)
    return "\n".join(lines)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file, with GitHub's -1, -2 suffixes for repeated headings."""
    seen: dict[str, int] = {}
    found = set()
    for line in without_code_blocks(path.read_text()).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def test_slug_follows_github():
    assert (
        slug("Scoring in bf16 (`tuning.eval --dtype bfloat16`)")
        == "scoring-in-bf16-tuningeval---dtype-bfloat16"
    )
    assert slug("How close training and scoring come to the machine's peak") == (
        "how-close-training-and-scoring-come-to-the-machines-peak"
    )
    assert slug("Loading, exporting and pushing") == "loading-exporting-and-pushing"


def test_readme_fits_a_few_screens():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) < 200, f"README.md has {len(lines)} lines; details belong in docs/"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_lead_somewhere(document: Path):
    broken = []
    for target in LINK.findall(without_code_blocks(document.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        path = (document.parent / file).resolve() if file else document
        if not path.exists():
            broken.append(f"{target}: no file {path}")
        elif anchor and anchor not in anchors(path):
            broken.append(f"{target}: no heading #{anchor} in {path.relative_to(REPO)}")
    assert not broken, f"{document.relative_to(REPO)}: " + "; ".join(broken)


def test_doc_references_in_code_lead_somewhere():
    """`docs/evaluation.md#validators` in a docstring, comment, help text or card names a heading that exists."""
    files = [p for d in CODE_DIRS for p in (REPO / d).rglob("*") if p.suffix in {".py", ".yaml", ".md", ""}]
    files = [p for p in files if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) > 50
    broken, checked = [], 0
    for path in files:
        for name, anchor in DOC_REFERENCE.findall(path.read_text(errors="replace")):
            checked += 1
            doc = REPO / "docs" / name
            if not doc.exists() or anchor not in anchors(doc):
                broken.append(f"{path.relative_to(REPO)}: docs/{name}#{anchor}")
    assert checked > 10
    assert not broken, "; ".join(broken)


def test_presets_table_says_what_the_recipes_say():
    """docs/tuning.md's table is the one place preset values are written outside the recipes: it must agree."""
    text = (REPO / "docs" / "tuning.md").read_text()
    section = text.split("## Presets in this repository", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    header = next(line for line in section.splitlines() if line.startswith("| key |"))
    presets = re.findall(r"`(\w+)\.yaml`", header)
    recipes = {p: yaml.safe_load((REPO / "tuning" / "recipes" / f"{p}.yaml").read_text()) for p in presets}
    compared = 0
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        keys = re.findall(r"`(\w+)`", cells[0])
        if len(keys) != 1:  # rows of several keys hold several values per cell
            continue
        (key,) = keys
        for preset, cell in zip(presets, cells[1:], strict=True):
            if key not in recipes[preset] or cell == "same":
                continue
            value = recipes[preset][key]
            shown = re.sub(r"\s*\(default\)", "", cell).replace("`", "").replace(",", "").split()
            expected = [str(v) for v in value] if isinstance(value, list) else [str(value)]
            as_numbers = [_number(s) for s in shown], [_number(s) for s in expected]
            assert as_numbers[0] == as_numbers[1], (
                f"docs/tuning.md says {key} = {cell} for {preset}, recipe {value}"
            )
            compared += 1
    assert compared > 20


def _number(text: str):
    """A cell's word as a number where it is one (`5e-5` and the YAML's `5.0e-05` agree), else lower-cased."""
    try:
        return float(text)
    except ValueError:
        return text.lower()
