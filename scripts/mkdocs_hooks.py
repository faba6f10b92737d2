"""mkdocs hooks for the documentation site (mkdocs.yml), run by ``make docs``.

- The Rust API: ``cargo doc -p threadkit --no-deps`` writes rustdoc's HTML to target/doc/; its
  files join the site under rust/ as if they were in docs/, so that links to them
  (``rust/threadkit/index.html``) are checked like every other link in strict mode.
- The benchmark: bench/bench.py keeps the README's tables between markers (``<!-- bench-table
  -->``, ``<!-- bench-table-3.13 -->``, ``<!-- debug-cost -->``...); a page with the line
  ``<!-- README:NAME -->`` shows the README's block ``NAME``, and bench/results.png joins the
  site as assets/bench-results.png. One table, written by the benchmark, wherever it is shown.
"""

import os
import pathlib
import re

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUSTDOC = ROOT / "target" / "doc"
CRATE = "threadkit"
BENCH_CHART = ROOT / "bench" / "results.png"
README = ROOT / "README.md"
PLACEHOLDER = re.compile(r"<!-- README:([a-z0-9.-]+) -->")


def _rustdoc_files():
    """rustdoc's output for the threadkit crate alone: target/doc may also hold other crates'
    documentation from an earlier `cargo doc` without --no-deps."""
    if not (RUSTDOC / CRATE / "index.html").is_file():
        raise PluginError(
            "target/doc/threadkit/index.html is missing: run `cargo doc -p threadkit --no-deps` "
            "first (`make docs` does)"
        )
    for path in sorted(RUSTDOC.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(RUSTDOC)
        top = rel.parts[0]
        # Another crate's pages (rustdoc gives each crate a folder with all.html), or its
        # source pages (src/<crate>/).
        if len(rel.parts) > 1 and top != CRATE and (RUSTDOC / top / "all.html").is_file():
            continue
        if top == "src" and len(rel.parts) > 2 and rel.parts[1] != CRATE:
            continue
        yield rel, path


def on_files(files, config):
    for rel, path in _rustdoc_files():
        uri = "rust/" + rel.as_posix()
        # rustdoc ships a font's license as a .md file; mkdocs would render any .md as a page
        # of the site, so it goes in as text.
        if uri.endswith(".md"):
            uri += ".txt"
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    files.append(File.generated(config, "assets/bench-results.png", abs_src_path=str(BENCH_CHART)))
    return files


def _readme_block(name):
    text = README.read_text(encoding="utf-8")
    start_marker, end_marker = "<!-- %s -->" % name, "<!-- /%s -->" % name
    start = text.find(start_marker)
    end = text.find(end_marker)
    if start < 0 or end < start:
        raise PluginError("README.md has no %s ... %s block" % (start_marker, end_marker))
    return text[start + len(start_marker):end].strip()


def on_page_markdown(markdown, page, config, files):
    return PLACEHOLDER.sub(lambda m: _readme_block(m.group(1)), markdown)


def on_config(config):
    # Files generated above are read from outside docs/: `mkdocs serve` should rebuild when
    # they change.
    config.watch.extend(
        p for p in (str(RUSTDOC / CRATE), str(BENCH_CHART), str(README)) if os.path.exists(p)
    )
    return config
