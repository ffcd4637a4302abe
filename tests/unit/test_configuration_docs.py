from pathlib import Path

import pytest

from flightdeck.cli.configuration import markdown, sections
from flightdeck.runtime.settings import load_section

pytestmark = pytest.mark.unit

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_the_reference_is_generated_from_the_code() -> None:
    assert DOC.read_text() == markdown() + "\n", (
        "run: uv run flightdeck config --markdown > docs/configuration.md"
    )


def test_every_setting_is_documented_and_every_section_loads_by_default() -> None:
    assert "|  |" not in markdown()
    for section in sections():
        load_section(section)
