"""rules/README.md documents every field a rule may use and every operator."""

from service.scoring import KNOWN_FIELDS
from service.scoring.fields import OPERATORS
from tests.unit.scoring.conftest import REPO_RULES


def test_readme_names_every_known_field_and_operator() -> None:
    readme = (REPO_RULES / "README.md").read_text("utf-8")
    missing = [name for name in KNOWN_FIELDS if f"`{name}`" not in readme]
    assert not missing
    assert not [op for op in OPERATORS if f"`{op}`" not in readme]
