"""The Python snippets of the README and the quick start run as written and print the
figures written beside them (a ``# NN.NN dB`` comment on each printing line)."""
import contextlib
import io
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _markdown_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def _rst_blocks(path):
    blocks = []
    for match in re.finditer(r"\.\. code-block:: python\n\n((?:[ ]{4}.*\n|\n)+)", path.read_text()):
        blocks.append(textwrap.dedent(match.group(1)))
    return blocks


SNIPPETS = [(f"README.md #{i}", code) for i, code in enumerate(_markdown_blocks(ROOT / "README.md"))]
SNIPPETS += [(f"quickstart.rst #{i}", code)
             for i, code in enumerate(_rst_blocks(ROOT / "docs" / "quickstart.rst"))]


def test_the_snippets_are_found():
    assert len(SNIPPETS) >= 2


@pytest.mark.slow
@pytest.mark.parametrize("name, code", SNIPPETS, ids=[name for name, _ in SNIPPETS])
def test_snippet_prints_the_figures_written_beside_it(name, code):
    expected = re.findall(r"#\s*(-?\d+\.\d+) dB", code)
    assert expected, f"{name}: no '# NN.NN dB' figure to check"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, name, "exec"), {"__name__": "__snippet__"})
    got = [float(v) for v in re.findall(r"(-?\d+\.\d+) dB", printed.getvalue())]
    # to within 0.02 dB: other FFT/BLAS builds may move the last digit
    assert len(got) == len(expected), printed.getvalue()
    assert all(abs(g - float(e)) <= 0.02 for g, e in zip(got, expected)), (got, expected)
