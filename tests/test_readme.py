"""The tour in README.md runs as written."""
import pathlib
import re


def test_readme_tour_runs():
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    tour = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    namespace = {}
    exec(compile(tour, "README.md", "exec"), namespace)
    assert namespace["M"].shape == (8 * 32 * 32, 3 * 32 * 32)
    assert namespace["x"].grad.tolist() == [[3.0, -3.0], [7.0, 2.0]]  # 2x + 1
