"""The docs stand on their own in a clone: every link resolves, every page and test file is
listed, and nothing points at a design file outside the repository.

Links are read from README.md and docs/*.md outside fenced code blocks; an anchor
(`page.md#heading`) must be the GitHub slug of a heading of that page. Plain-text mentions
of a page (`docs/install.md` in pyproject.toml, a code comment or a doc) must name an
existing file too.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]

# where the repository's own files are; build products, caches and runs are not
SKIP_DIRS = {".git", ".venv", ".pytest_cache", ".ruff_cache", ".benchmarks", "__pycache__"}
SKIP_DIRS |= {"runs", "build", "dist"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".yml", ".yaml", ".sh", ".in", ".cfg", ".txt", ".qasm"}

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^ {0,3}(```|~~~)")
DOC_MENTION = re.compile(r"(?<![\w./-])docs/[\w.-]+\.md")
# the design file that lived outside the repository (spelt so this file does not match)
OUTSIDE_DESIGN = re.compile(r"DESIGN" + r"\.md")


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the lines outside fenced code blocks."""
    out, fenced = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            out.append((number, line))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: inline markup dropped, lower case, punctuation removed
    (letters, digits, `-` and `_` kept, of any script), spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # [text](url) → text
    text = text.replace("`", "").replace("*", "").lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in ("L", "N", "M"))
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a page, with GitHub's -1, -2 … for repeated headings."""
    seen: dict[str, int] = {}
    for _, line in prose_lines(path):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        if count:
            seen[f"{base}-{count}"] = 1
    return set(seen)


def links(path: Path) -> list[tuple[int, str]]:
    return [(n, m.group(1)) for n, line in prose_lines(path) for m in LINK.finditer(line)]


def is_external(target: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE))


def broken_link(page: Path, target: str) -> str | None:
    """Why a relative link of `page` does not resolve, or None."""
    file_part, _, anchor = target.partition("#")
    resolved = (page.parent / file_part).resolve() if file_part else page
    if not resolved.exists():
        return f"{file_part} does not exist"
    if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
        return f"{resolved.name} has no heading with anchor #{anchor}"
    return None


def repo_files() -> list[Path]:
    """The repository's text files (what a clone holds, less caches and runs)."""
    out = []
    for path in REPO.rglob("*"):
        relative = path.relative_to(REPO).parts
        if any(p in SKIP_DIRS or p.endswith(".egg-info") for p in relative[:-1]):
            continue
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            out.append(path)
    return sorted(out)


def test_every_relative_link_in_the_docs_resolves():
    broken = []
    for page in PAGES:
        for number, target in links(page):
            if is_external(target):
                continue
            why = broken_link(page, target)
            if why:
                broken.append(f"{page.relative_to(REPO)}:{number}: ({target}): {why}")
    assert not broken, "\n".join(broken)


def test_every_page_named_in_the_repository_exists():
    missing = []
    for path in repo_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name in DOC_MENTION.findall(line):
                if not (REPO / name).exists():
                    missing.append(f"{path.relative_to(REPO)}:{number}: {name} does not exist")
    assert not missing, "\n".join(missing)


def test_every_test_file_is_named_in_running_md():
    text = (DOCS / "running.md").read_text(encoding="utf-8")
    files = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "tests").rglob("test_*.py"))
    assert len(files) > 20, files  # the glob found the tests
    unnamed = [f for f in files if f"`{f}`" not in text]
    assert not unnamed, "docs/running.md does not name: " + ", ".join(unnamed)


def test_every_page_is_linked_from_the_index():
    index = DOCS / "index.md"
    assert index.exists(), "docs/index.md is missing"
    linked = {
        (DOCS / target.partition("#")[0]).resolve()
        for _, target in links(index)
        if not is_external(target)
    }
    pages = [p for p in sorted(DOCS.glob("*.md")) if p.name != "index.md"]
    unlisted = [p.name for p in pages if p.resolve() not in linked]
    assert not unlisted, "docs/index.md does not link: " + ", ".join(unlisted)


def test_nothing_refers_to_a_design_file_outside_the_repository():
    found = [
        f"{path.relative_to(REPO)}:{number}"
        for path in repo_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE_DESIGN.search(line)
    ]
    assert not found, "refers to a design file outside the repository: " + ", ".join(found)


def test_the_architecture_page_has_every_module_of_the_layering_test():
    from test_layering import LAYERS

    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    unnamed = []
    for module in LAYERS:
        path = module.replace(".", "/")
        shown = f"{path}/" if (REPO / path).is_dir() else f"{path}.py"
        if module == "suite":  # the package's own module
            shown = "suite/__init__.py"
        if f"| {LAYERS[module]} | `{shown}` |" not in text:
            unnamed.append(f"{shown} (layer {LAYERS[module]})")
    assert not unnamed, "docs/architecture.md (Modules and layers) lacks the rows: " + ", ".join(
        unnamed
    )


def test_the_slugs_follow_github():
    # headings of this repository's docs and the anchors GitHub gives them
    assert slug("Launchers and PMI") == "launchers-and-pmi"
    assert slug("Why `afterok` and not `afterany`") == "why-afterok-and-not-afterany"
    assert slug('Per-task numbers (`summary["tasks"]`)') == "per-task-numbers-summarytasks"
    assert slug("HDF5 schema `bpsuite/1`") == "hdf5-schema-bpsuite1"
    assert slug("`matchgate` — free fermions (Ragone et al. 2024)") == (
        "matchgate--free-fermions-ragone-et-al-2024"
    )


def test_a_broken_file_or_anchor_is_reported(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A page\n\n## Launchers and PMI\n\n```\n# not a heading\n```\n")
    (tmp_path / "other.md").write_text("# Other\n")
    assert broken_link(page, "other.md") is None
    assert broken_link(page, "#launchers-and-pmi") is None
    assert broken_link(page, "other.md#other") is None
    assert "no heading" in broken_link(page, "#not-a-heading")
    assert "no heading" in broken_link(page, "other.md#launchers-and-pmi")
    assert "does not exist" in broken_link(page, "missing.md")
