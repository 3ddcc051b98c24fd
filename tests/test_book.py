"""Book-level checks: configuration, table of contents, notebook conventions, citations."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def read(path):
    return nbformat.read(path, as_version=4)


def toc_files():
    files = [TOC["root"]]
    for part in TOC.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return files


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 2


def test_config_builds_from_a_fresh_execution_and_fails_on_errors():
    ex = CONFIG["execute"]
    # `make test`: nbval executes every chapter once and fills this cache, the build reads it;
    # `make book` empties it first, so the build executes every chapter itself
    assert ex["execute_notebooks"] == "cache" and ex["cache"] == "_build/.jupyter_cache"
    make = (ROOT / "Makefile").read_text()
    assert "-p nbval_cache" in make and "ABNN_NB_CACHE" in make
    assert ex["raise_on_error"] is True and ex["allow_errors"] is False
    assert ex["timeout"] >= 120, "the default 30 s is too short for training cells"
    assert CONFIG["repository"]["branch"] == "main"
    assert CONFIG["sphinx"]["recursive_update"] is True, "else the launch buttons vanish"
    assert "sphinx-mathjax-offline" in CONFIG["sphinx"]["extra_extensions"]
    overrides = CONFIG["sphinx"]["config"]["nb_mime_priority_overrides"]
    assert ["html", WIDGET_VIEW, None] in overrides, "the book shows the static sliders"
    assert CONFIG["sphinx"]["config"]["nb_ipywidgets_js"] == {}, "no widget JS from a CDN"


def test_launch_buttons():
    buttons = CONFIG["launch_buttons"]
    assert buttons["colab_url"] == "https://colab.research.google.com"
    assert buttons["binderhub_url"] == "https://mybinder.org"
    assert CONFIG["repository"]["url"].startswith("https://github.com/")


def test_toc_lists_existing_files_and_every_chapter():
    files = toc_files()
    for f in files:
        assert any((ROOT / f"{f}{ext}").exists() for ext in (".md", ".ipynb")), f"{f} missing"
    listed = {f for f in files if f.startswith("chapters/")}
    assert listed == {f"chapters/{p.stem}" for p in NOTEBOOKS}
    assert len(TOC["parts"]) >= 1


def test_intro_shows_the_whole_plan():
    intro = (ROOT / "intro.md").read_text()
    for part in ("Part I", "Part II", "Part III"):
        assert part in intro
    numbered = re.findall(r"^\s*(\d+)\. ", intro, flags=re.M)
    assert [int(n) for n in numbered] == list(range(1, 14)), "all thirteen chapters are planned"
    assert not re.search(r"\b(syllabus|lecture notes)\b", intro, re.I)


def colab_cell(nb):
    return nb.cells[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_installs_companion_from_the_configured_repository(path):
    nb = read(path)
    cell = colab_cell(nb)
    assert cell.cell_type == "code" and "remove-cell" in cell.metadata.get("tags", [])
    assert '"google.colab" in sys.modules' in cell.source
    url = CONFIG["repository"]["url"].rstrip("/")
    branch = CONFIG["repository"]["branch"]
    wanted = f"git+{url}@{branch}"
    found = re.findall(r"git\+https://[^\s\"']+", cell.source)
    assert found == [wanted], f"{path.name} installs {found}, _config.yml says {wanted}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_conventions(path):
    nb = read(path)
    title = nb.cells[1]
    assert title.cell_type == "markdown" and title.source.startswith("# "), "title second"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert any(c.outputs for c in code), "committed with outputs (make notebooks)"
    for c in code:
        for out in c.outputs:
            assert out.output_type != "error", f"stored error in {path.name}"
            assert WIDGET_VIEW not in out.get("data", {}), "live widgets are not stored"
            if out.output_type == "stream":
                assert out.name == "stdout", f"stderr output stored in {path.name}: {out.text[:200]}"
        n_lines = len(c.source.splitlines())
        assert n_lines <= 25, f"a {n_lines}-line cell in {path.name}: move code to companion/"
    assert any("# NBVAL_CHECK_OUTPUT" in c.source for c in code), "seeded cells are checked"
    assert "widgets" not in nb.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_do_not_redefine_companion_code(path):
    import companion

    names = set()
    for module in Path(companion.__file__).parent.glob("*.py"):
        names |= set(re.findall(r"^(?:class|def) (\w+)", module.read_text(), flags=re.M))
    nb = read(path)
    for c in nb.cells:
        if c.cell_type == "code":
            defined = set(re.findall(r"^\s*(?:class|def) (\w+)", c.source, flags=re.M))
            assert not defined & names, f"{path.name} redefines {defined & names}"


def cited_keys(text):
    keys = set()
    for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text):
        keys |= {k.strip() for k in group.split(",")}
    return keys


def test_every_citation_is_in_the_bibliography():
    bib = (ROOT / "references.bib").read_text()
    entries = set(re.findall(r"@\w+\{([^,]+),", bib))
    sources = [p.read_text() for p in ROOT.glob("*.md")]
    sources += [c.source for p in NOTEBOOKS for c in read(p).cells if c.cell_type == "markdown"]
    cited = set().union(*(cited_keys(s) for s in sources))
    assert cited, "the chapters cite their sources"
    assert cited <= entries, f"missing from references.bib: {sorted(cited - entries)}"


def test_readme_gives_the_two_commands_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme and "colab" in readme.lower()
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, flags=re.M)


def test_sanitizer_patterns_compile():
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg")
    assert cfg.sections()
    for section in cfg.sections():
        re.compile(cfg[section]["regex"])


def _mini_book(tmp_path, source):
    """A one-chapter book with this repository's configuration and the given cell."""
    book = tmp_path / "book"
    book.mkdir(parents=True)
    config = (ROOT / "_config.yml").read_text()
    config = config.replace("cache: _build/.jupyter_cache", f"cache: {book / '_build' / 'cache'}")
    (book / "_config.yml").write_text(config)
    shutil.copy(ROOT / "references.bib", book / "references.bib")
    shutil.copytree(ROOT / "_ext", book / "_ext")
    shutil.copytree(ROOT / "_static", book / "_static")
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapter\n")
    (book / "intro.md").write_text("# Intro\n\nA test book.\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}}
    nb.cells = [nbformat.v4.new_markdown_cell("# Chapter"), nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, book / "chapter.ipynb")
    return book


def _build(book):
    exe = Path(sys.executable).parent / "jupyter-book"
    return subprocess.run([str(exe), "build", str(book), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, timeout=600)


def test_a_failing_cell_fails_the_build(tmp_path):
    ok = _build(_mini_book(tmp_path / "ok", "print(1 + 1)"))
    assert ok.returncode == 0, ok.stdout[-3000:] + ok.stderr[-3000:]
    bad = _build(_mini_book(tmp_path / "bad", "raise ValueError('this cell fails')"))
    assert bad.returncode != 0, "a cell that raises must fail the build"


sys.path.insert(0, str(ROOT / "_ext"))
import abnn_markup as markup  # noqa: E402

FIG_NAME = re.compile(r"^fig-(\d\d)-[a-z0-9-]+$")


def _figure_problems(path):
    """Every cell that displays a figure (an image or a static slider) is a numbered,
    captioned figure with alt text; every figure is referred to from the prose."""
    nb = read(path)
    problems, names = [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not markup.displays_figure(cell):
            continue
        meta = cell.metadata.get("mystnb", {})
        fig, img = meta.get("figure", {}), meta.get("image", {})
        figures = [o for o in cell.outputs if markup.displays_figure({"outputs": [o]})]
        where = f"{path.name} cell {i}"
        if not FIG_NAME.match(str(fig.get("name", ""))) or fig["name"][4:6] != path.name[:2]:
            problems.append(f"{where}: mystnb.figure.name must be fig-{path.name[:2]}-...")
        if len(str(fig.get("caption", "")).strip()) < 20:
            problems.append(f"{where}: no caption (mystnb.figure.caption)")
        if len(figures) > 1:
            problems.append(f"{where}: {len(figures)} figures in one cell (one per cell)")
        is_slider = any("abnn-slider" in "".join(o.get("data", {}).get("text/html", ""))
                        for o in figures)
        if is_slider:
            page = "".join("".join(o.get("data", {}).get("text/html", "")) for o in figures)
            if re.search(r'alt="figure for ', page) or "aria-describedby" not in page:
                problems.append(f"{where}: a slider needs alt= and description= (aria)")
        else:
            alt = str(img.get("alt", ""))
            if len(alt) < 15 or re.search(r"\.(png|svg|jpg)\b|_images/", alt):
                problems.append(f"{where}: no alt text saying what the figure shows "
                                "(mystnb.image.alt)")
        names.append(fig.get("name"))
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for name in names:
        if name and f"`{name}`" not in prose:
            problems.append(f"{path.name}: {name} is never referred to ({{numref}}`{name}`)")
    if len(names) != len(set(names)):
        problems.append(f"{path.name}: duplicate figure names")
    for m in re.finditer(r"\b(the|this) (figure|plot|picture) (above|below)\b", prose, re.I):
        problems.append(f"{path.name}: '{m.group(0)}': refer to the figure by number")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_is_numbered_captioned_and_described(path):
    problems = _figure_problems(path)
    assert not problems, f"{len(problems)} figure problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_chapter_mentions_the_lecture_notes(path):
    """Readers never see the notes the book grew from: slips appear as Common mistake boxes."""
    found = []
    if True:
        for c in read(path).cells:
            if c.cell_type == "markdown":
                for m in re.finditer(r"\b(syllabus|the notes|lecture notes)\b", c.source, re.I):
                    found.append(f"{path.name}: ...{c.source[max(0, m.start() - 40):m.end() + 40]}...")
    assert not found, "\n".join(found)


def test_the_build_reuses_what_nbval_executed(tmp_path):
    """`make test` executes each chapter once: nbval (with tests/nbval_cache.py) stores the
    executed notebook, and the build takes it from the cache instead of executing it."""
    book = _mini_book(tmp_path, "import time\nstart = time.time()\nprint('ran')")
    cache = book / "_build" / "cache"
    env = dict(os.environ, ABNN_NB_CACHE=str(cache), PYTHONPATH=str(ROOT / "tests"))
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "nbval_cache", "--nbval-lax", str(book / "chapter.ipynb")],
                         capture_output=True, text=True, env=env, timeout=300, cwd=book)
    assert ran.returncode == 0 and "stored 1 executed notebooks" in ran.stdout, ran.stdout[-2000:]
    exe = Path(sys.executable).parent / "jupyter-book"
    built = subprocess.run([str(exe), "build", str(book), "-W", "-n", "--keep-going", "-v"],
                           capture_output=True, text=True, timeout=600)
    log = built.stdout + built.stderr
    assert built.returncode == 0, log[-3000:]
    assert "Using cached notebook" in log and "Executing notebook" not in log, log[-3000:]


def test_the_cache_drops_results_a_semicolon_silences(tmp_path):
    """nbval runs cells without history, so IPython shows the value of `fig;` anyway; the
    cached notebook must hold only what Jupyter shows (one output per figure cell)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import nbval_cache
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1\nx;  # quiet"),
                                         nbformat.v4.new_code_cell("x")])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    result = {"output_type": "execute_result", "data": {"text/plain": "1"}, "metadata": {},
              "execution_count": 1}
    executed = nbval_cache._executed(str(path), {0: [result], 1: [result]})
    assert [len(c.outputs) for c in executed.cells] == [0, 1]
