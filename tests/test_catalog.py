"""Every op in the catalog (the table `python -m minigrad demo` prints) passes gradcheck."""
import pytest

from minigrad.catalog import CASES


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_catalog_case_passes_gradcheck(case):
    error, passed = case.check(seed=0)
    assert passed, f"{case.name}: max |analytic - numeric| = {error:.3g}"
