"""Any text and any field values: scoring returns a result and never raises."""

from hypothesis import given, settings
from hypothesis import strategies as st

from service.scoring import KNOWN_FIELDS, Ruleset

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=50),
    st.lists(st.one_of(st.text(max_size=20), st.integers(), st.none()), max_size=5),
)
TEXTS = st.text(alphabet=st.characters(codec="utf-8"), max_size=400)


@settings(max_examples=150, deadline=None)
@given(text=TEXTS, facts=st.dictionaries(st.sampled_from(sorted(KNOWN_FIELDS)), ANY_VALUE, max_size=8))
def test_any_report_scores_without_raising(
    starter_pack: Ruleset, text: str, facts: dict[str, object]
) -> None:
    for channel in ("sms", "email"):
        result = starter_pack.score({**facts, "text": text}, channel=channel)
        assert result.level in {"low", "medium", "high", "critical"}
        assert result.score >= 0
        for hit in result.hits:
            for evidence in hit.evidence:
                if evidence.span is not None and evidence.field == "text":
                    assert text[evidence.span[0] : evidence.span[1]] == evidence.text
