"""The analyst notebooks run top to bottom on the sample data (so they never rot)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.model
@pytest.mark.parametrize("name", ["explore_topics.ipynb", "what_drives_detractors.ipynb"])
def test_notebooks_execute_without_error(name, pipeline):
    nbformat = pytest.importorskip("nbformat", reason="pip install 'cxtext[dev]' (nbformat, nbclient, ipykernel)")
    nbclient = pytest.importorskip("nbclient", reason="pip install 'cxtext[dev]'")
    pytest.importorskip("ipykernel", reason="pip install 'cxtext[dev]'")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError, naming the cell, on the first failure
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "analysed rows out" in text
    if name == "explore_topics.ipynb":
        assert "topics; outliers" in text and "self-contained" in text
    else:
        assert "NPS:" in text and "ci_low" in text
