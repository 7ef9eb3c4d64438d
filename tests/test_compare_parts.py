"""The two offline parts of comparing: routing comparison questions, and spotting checkable disagreements."""

from __future__ import annotations

import pytest

from app.answer.disagreement import Statement, compare_pair, counts, dates, responsible_parties
from app.answer.intent import route

OUTLETS = ["Press TV", "SouthFront", "The Washington Times", "unknown"]


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Who is to blame for the closure, according to each outlet?", "Who is to blame for the closure?"),
        ("How do the outlets differ on the closure of the consulate?", "on the closure of the consulate?"),
        ("Do the outlets disagree about who fired the rockets?", "about who fired the rockets?"),
        ("What do the newspapers say about the protests?", "about the protests?"),
        ("Compare the sources on the evacuation", "on the evacuation"),
    ],
)
def test_comparison_questions_are_routed_without_their_comparison_wording(question, topic):
    routed = route(question, OUTLETS)
    assert routed.compare and routed.topic == topic and routed.outlets == []


def test_naming_two_outlets_compares_those_two():
    routed = route("What does Press TV say versus The Washington Times about the rockets?", OUTLETS)
    assert routed.compare and routed.outlets == ["Press TV", "The Washington Times"]
    assert "Press TV" not in routed.topic and "rockets" in routed.topic


@pytest.mark.parametrize(
    "question",
    ["Why did the US close its consulate in Basra?", "What does Press TV say about the closure?",
     "What do the articles say about Allawi?", "Is there an outlet near the consulate?"],
)
def test_ordinary_questions_are_not_routed(question):
    assert not route(question, OUTLETS).compare


def test_checkable_differences_are_extracted():
    assert responsible_parties("Pompeo said the violence, which he blames on Iran, forced the move.") >= {"iran"}
    assert "protester" in responsible_parties("Col. Ryan said it may have been the work of local protesters.")
    assert counts("Eyewitnesses said two rockets were fired at the airport.") == {"rocket": {2.0}}
    assert counts("In 2018, 300 miles away.") == {"mile": {300.0}}  # a year is a date, not a count
    assert dates("It happened on September 7, 2018.") == {"september 7", "2018"}


def statements(embeddings, first: str, second: str) -> tuple[Statement, Statement]:
    vectors = embeddings.encode([first, second])
    return Statement("A", 1, first, vectors[0]), Statement("B", 2, second, vectors[1])


@pytest.mark.parametrize(
    ("first", "second", "kind"),
    [
        ("Officials blamed Iran for the rocket attack on the consulate in Basra.",
         "Officials blamed local protesters for the rocket attack on the consulate in Basra.", "who is responsible"),
        ("Two rockets were fired at the consulate in Basra on Friday.",
         "Three rockets were fired at the consulate in Basra on Friday.", "a number"),
        ("The consulate in Basra was closed after a credible threat from Iran.",
         "The consulate in Basra was not closed after a credible threat from Iran.", "a denial"),
        ("Officials blamed Iran for the rocket attack on the consulate in Basra.",
         "Officials blamed Iran for the rocket attack on the consulate in Basra on Friday.", None),
        ("Two rockets were fired at the consulate in Basra.", "The weather in Basra was hot in September.", None),
    ],
    ids=["party", "number", "denial", "same-claim", "unrelated"],
)
def test_pairs_disagree_only_in_a_checkable_way(embeddings, first, second, kind):
    conflict = compare_pair(*statements(embeddings, first, second))
    assert (conflict.kind if conflict else None) == kind
