"""Replies that answer (issue 15): the sentence that holds the answer, every outlet's account, follow-ups that
switch outlet, the English-only notice, safe bold marks and example questions. Real model, real Chroma."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.answer.asked import answer_spans, asked_for, mark
from app.answer.condense import condense
from app.answer.extractive import Candidate, further_accounts
from app.answer.retrieval import Evidence
from app.answer.text import nested_quotes, terms
from app.answer.language import is_english
from app.eval.questionset import QuestionSetError, load_question_set
from app.settings import Settings
from app.web.chat_messages import reply_markdown
from app.web.examples import example_questions
from vectorstore.store import StoredChunk


def voices(answer) -> list[str]:
    """Who each citation speaks for, in reading order (unattributed copy: each article is its own voice)."""
    return [c.outlet if c.outlet != "unknown" else c.source for c in answer.citations]


def test_every_outlet_gets_a_paragraph_before_any_second_quote(sample_newsdesk):
    answer = sample_newsdesk.ask("Why did the US close its consulate in Basra?")
    order = voices(answer)
    distinct = list(dict.fromkeys(order))
    assert len(distinct) >= 2
    paragraphs = answer.answer.split("\n")
    assert re.fullmatch(r"(Two|Three|Four|Five) outlets give a reason:", paragraphs[0])
    assert len(paragraphs) == 1 + len(distinct)  # lead line, then one paragraph per outlet
    for paragraph, voice in zip(paragraphs[1:], distinct, strict=True):
        numbers = [int(n) for n in re.findall(r"\[(\d+)\]", paragraph)]
        assert {voices(answer)[n - 1] for n in numbers} == {voice}


def test_one_article_reply_says_so(sample_newsdesk):
    answer = sample_newsdesk.ask("What did National Security Advisor John Bolton warn Iran about?")
    assert answer.answer.startswith("One article ") and "hell to pay" in answer.answer


def test_the_sentence_holding_the_distance_wins_over_a_loose_far(sample_newsdesk):
    answer = sample_newsdesk.ask("How far is Basra from Baghdad?")
    assert "**300 miles south**" in answer.answer
    assert answer.citations[0].outlet == "The Washington Times"
    assert all("far from the facilities" not in c.quote for c in answer.citations)


def test_a_distance_question_with_no_distance_in_the_articles_is_refused(sample_newsdesk):
    answer = sample_newsdesk.ask("How far is Basra from Tehran?")
    assert answer.abstained and answer.citations == []


@pytest.mark.parametrize(
    ("question", "kind", "sentence", "marked"),
    [
        ("How far is Basra from Baghdad?", "distance", "It lies roughly 300 miles south of the capital.", "**300 miles south**"),
        ("How much will maternity pay rise by?", "money", "Pay is to rise by £1,400 by 2007.", "**£1,400**"),
        ("Which country did the EU demand that Turkey recognise?", "country", "The EU wants Turkey to recognise Cyprus.", "**Cyprus**"),
        ("When did Ralph Miliband die?", "date", "His father Ralph died in 1994.", "**1994**"),
        ("Where did Blair go sailing?", "place", "Mr Blair sailed across the lake in Bromsgrove.", "**in Bromsgrove**"),
        ("Who is to blame for the attacks?", "party", "Pompeo said the violence, which he blames on Iran, grew.", "**Iran**"),
    ],
)
def test_answer_kind_and_marked_span(question, kind, sentence, marked):
    asked = asked_for(question)
    assert asked.kind == kind
    assert marked in mark(sentence, answer_spans(kind, sentence, question))


def test_far_names_the_kind_not_a_key_term():
    assert "far" not in asked_for("How far is Basra from Baghdad?").topic.split()
    assert asked_for("Who is Michael Maloof?").kind is None  # a description, not a name
    assert answer_spans("person", "Tony Blair said so.", "What did Tony Blair say?") == []  # names the question already has


def test_blame_asks_for_a_party_held_responsible_not_any_person():
    question = "Who is to blame for the closure of the US consulate in Basra?"
    asked = asked_for(question)
    assert asked.kind == "party" and "blame" in asked.topic  # the cue stays a key term
    caption = "A member of the Iraqi security forces stands guard in front of the Basra Governorate headquarters."
    assert answer_spans("party", caption, question) == []  # names people, but blames no one
    assert asked_for("Who won the 2018 World Cup?").kind == "person"


def test_bold_marks_render_but_article_markup_stays_inert():
    shown = reply_markdown("One article answers this:\n\nX reports: “<script>alert(1)</script> *[link](http://x)* **300 miles**” [1]")
    assert "**300 miles**" in shown
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert r"\[link\]" in shown and r"\*\[" in shown


def test_an_articles_own_bold_cannot_open_a_mark(make_newsdesk, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "story.txt").write_text(
        "Harbour report\n\nThe **new harbour** in Port Ellis lies roughly 40 miles north of the old town, officials said.\n"
    )
    newsdesk = make_newsdesk()
    newsdesk.ingest([corpus])
    answer = newsdesk.ask("How far is the new harbour in Port Ellis from the old town?")
    assert "**40 miles north**" in answer.answer
    assert answer.answer.count("**") == 2  # only the reply's own pair; the article's ** were collapsed
    assert answer.citations[0].quote.count("**") == 2  # the citation keeps the article's words verbatim


def test_follow_up_naming_another_outlet_replaces_the_earlier_one(sample_newsdesk):
    assert condense("And what did the Washington Times say?", ["What did Press TV say about the consulate closure?"]) == (
        "What did Washington Times say about the consulate closure?"
    )
    earlier = "What did The Washington Times report about the consulate closure?"
    answer = sample_newsdesk.ask("And what did Press TV say?", [earlier])
    assert "Washington" not in answer.standalone_question
    assert answer.citations and {c.outlet for c in answer.citations} == {"Press TV"}


@pytest.mark.parametrize(
    "history",
    [
        ["What did Press TV say about the consulate closure?"],  # The Washington Times never writes "closure"
        ["Why did the US close its consulate in Basra?", "What did Press TV say about it?"],
    ],
)
def test_follow_up_switching_to_the_washington_times_quotes_it(sample_newsdesk, history):
    answer = sample_newsdesk.ask("And what did the Washington Times say?", history)
    assert not answer.abstained and "Press TV" not in answer.standalone_question
    assert {c.outlet for c in answer.citations} == {"The Washington Times"}
    assert answer.answer.splitlines()[1].startswith("The Washington Times reports:")
    assert [r.rank for r in answer.retrieved] == list(range(1, len(answer.retrieved) + 1))
    assert answer.retrieved[0].outlet == "The Washington Times"  # its passages first, then those that set the topic


@pytest.mark.parametrize(
    "question",
    [
        "What did SouthFront say about the consulate closure?",  # the topic is established, but not by SouthFront
        "What did the Washington Times say about the reopening of the consulate?",  # no outlet establishes it
    ],
)
def test_a_named_outlet_that_does_not_cover_the_topic_is_refused(sample_newsdesk, question):
    answer = sample_newsdesk.ask(question)
    assert answer.abstained and answer.citations == []


def test_another_outlet_joins_only_with_its_own_account_of_the_quote(embeddings):
    quote = ("The US State Department has announced its decision to close and evacuate its consulate in Basra in southern "
             "Iraq over what it has called security risks after violent incidents near the facility.")
    account = ("“We were surprised that our American friends withdrew their staff from the U.S. consulate,” he said, "
               "asserting that Iraq’s government is “committed to protecting all foreign missions in Basra.”")
    unrelated = "The US can’t work with a country which “forced” it to drone strike a foreign official on its highway."
    made = [sentence(text, outlet, embeddings) for text, outlet in
            [(quote, "Press TV"), (account, "The Washington Times"), (unrelated, "SouthFront")]]
    assert [c.text for c in further_accounts(made, made[:1])] == [account]
    made[1].coverage = 0.0  # the same event, but none of the question's key terms: not an account of *this* question
    assert further_accounts(made, made[:1]) == []


def sentence(text: str, outlet: str, embeddings) -> Candidate:
    chunk = StoredChunk(id=outlet, text=text, metadata={"source": f"{outlet}.txt", "outlet": outlet})
    vector = embeddings.encode([text])[0]
    return Candidate(Evidence(chunk, 1, 0.5), text, 0, coverage=0.3, vector=vector)


def test_a_job_question_marks_the_title_next_to_the_name(sample_newsdesk):
    answer = sample_newsdesk.ask("What is Heather Nauert's job?")
    assert asked_for("What is Heather Nauert's job?").kind == "role"
    assert "**State Department spokeswoman** Heather Nauert" in answer.answer
    assert sample_newsdesk.ask("What is Tom Hanks's job?").abstained


def test_dotted_abbreviations_are_the_same_term():
    assert terms("U.S. personnel") == terms("US personnel") == ["us", "personnel"]


def test_follow_up_with_a_pronoun_keeps_the_earlier_person():
    earlier = "What did Iraqi foreign ministry spokesman Ahmed Mahjoub say about the US withdrawal?"
    assert "Mahjoub" in condense("Was he aware of any Iranian role in the threats?", [earlier])
    assert "Pompeo" not in condense("What about John Bolton?", ["What did Pompeo say about Iran?"])


def test_a_follow_up_naming_a_person_does_not_replace_the_earlier_place():
    """"What about Tony Blair?" after a question about a place once became "When did the harbour in Tony Blair
    open?", and the harbour sentence was quoted for it."""
    condensed = condense("What about Tony Blair?", ["When did the harbour in Port Ellis open?"])
    assert "Tony Blair" in condensed and "harbour in Tony Blair" not in condensed
    assert "Port Ellis" in condensed  # the place is carried as context, as any other topic word is
    assert condense("What about John Bolton?", ["Did Mike Pompeo visit troops in Basra?"]).startswith(
        "Did John Bolton visit troops in Basra?"
    )


@pytest.mark.parametrize(
    ("earlier", "follow_up", "switched"),
    [
        ("What did the mayor of New York say?", "What about Boston?", "What did the mayor of Boston say?"),
        ("Why did the statement from John Bolton anger Iran?", "What about Mike Pompeo?",
         "Why did the statement from Mike Pompeo anger Iran?"),
        ("What did the editorial of The Washington Times claim about Iran?", "What about Press TV?",
         "What did the editorial of Press TV claim about Iran?"),
    ],
)
def test_a_name_after_of_or_from_is_still_the_subject_a_follow_up_switches(earlier, follow_up, switched):
    assert condense(follow_up, [earlier]) == switched


def test_refusals_hold_on_follow_ups(sample_newsdesk):
    answer = sample_newsdesk.ask("And when will it reopen?", ["Why did the US close its consulate in Basra?"])
    assert answer.abstained and answer.citations == []


def test_a_question_not_in_english_gets_the_language_notice(sample_newsdesk):
    answer = sample_newsdesk.ask("¿Por qué cerró Estados Unidos su consulado en Basora?")
    assert answer.language_notice and "English" in answer.language_notice
    assert answer.answer.startswith(answer.language_notice)
    assert "do not answer" not in answer.answer
    english = sample_newsdesk.ask("What did National Security Advisor John Bolton warn Iran about?")
    assert english.language_notice is None


@pytest.mark.parametrize(
    ("question", "english"),
    [
        ("Pourquoi les États-Unis ont-ils fermé leur consulat à Bassora ?", False),
        ("Warum hat die USA das Konsulat in Basra geschlossen?", False),
        ("لماذا أغلقت الولايات المتحدة قنصليتها في البصرة؟", False),
        ("Who is Jose de la Cruz?", True),
        ("Abu Mahdi al-Mohandes?", True),
        ("What is Opus Dei?", True),
    ],
)
def test_language_detection(question, english):
    assert is_english(question) is english


def test_example_questions_name_an_articles_subject(sample_newsdesk):
    examples = example_questions(sample_newsdesk.store, sample_newsdesk.sources(), [])
    assert examples and len(examples) <= 3
    titles = {r.title for r in sample_newsdesk.sources() if r.title}
    for question in examples:
        assert re.fullmatch(r"What (does .+ report|do the articles say) about [^?]+\?", question)
        assert not any(title.split(",")[0] in question for title in titles)  # not a title cut at a comma
    assert "What does The Washington Times report about a top Iraqi diplomat?" in examples


def test_site_owner_sets_example_questions(monkeypatch):
    monkeypatch.setenv("NEWSDESK_EXAMPLE_QUESTIONS", "Who ordered the evacuation? | Why, and when?")
    configured = Settings().example_questions
    assert configured == ["Who ordered the evacuation?", "Why, and when?"]
    assert example_questions(None, [], configured) == configured


def test_question_set_yaml_error_names_the_case_and_says_to_quote(tmp_path: Path):
    path = tmp_path / "q.yaml"
    path.write_text(
        "version: 1\ncases:\n  - id: who-ordered-reason\n    question: What reason did he give for it?\n"
        "    history: [Who ordered the evacuation of US diplomats from Basra?]\n"
    )
    with pytest.raises(QuestionSetError) as error:
        load_question_set(path)
    message = str(error.value)
    assert "case 'who-ordered-reason'" in message and "line 5" in message and "quotes" in message


def test_the_same_question_asked_at_the_same_moment_gets_the_same_answer(make_newsdesk):
    """Each sentence is embedded on its own, so what another request has cached or is embedding at the
    same moment cannot move a sentence across the bar (it once did, through batch-shaped vectors)."""
    from concurrent.futures import ThreadPoolExecutor

    newsdesk = make_newsdesk()
    newsdesk.ingest()
    questions = ["Why did the US close the consulate in Basra?", "Who is to blame for the closure of the US consulate?"] * 4
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(newsdesk.ask, questions))
    for question in set(questions):
        replies = {(a.answer, tuple(c.quote for c in a.citations)) for q, a in zip(questions, answers) if q == question}
        assert len(replies) == 1, replies
    assert all(a.citations for a in answers)


HARBOUR_STORY = (
    "Harbour opens\n\n"
    "The new harbour in Port Ellis opened on Monday after six years of building work, the port authority said. "
    "The harbour will take container ships from March, and the authority expects 40 new jobs. "
    "Fishermen in the old town said the works had driven the fish away from the bay.\n"
)


@pytest.mark.parametrize("front_matter", ["---\noutlet: Harbour Gazette\n---\n", ""], ids=["one outlet", "unattributed"])
def test_an_article_saved_twice_is_quoted_once(make_newsdesk, tmp_path, front_matter):
    """Archives hold the same article under two names (a re-download, a copy in another folder); the reply must not
    quote the same sentence twice, whether the copies carry an outlet or none."""
    corpus = tmp_path / "corpus"
    (corpus / "copy").mkdir(parents=True)
    for path in (corpus / "harbour.md", corpus / "copy" / "harbour-opens.md"):
        path.write_text(front_matter + HARBOUR_STORY)
    newsdesk = make_newsdesk()
    assert newsdesk.ingest([corpus]).counts["added"] == 2
    answer = newsdesk.ask("When did the new harbour in Port Ellis open?")
    quotes = [c.quote for c in answer.citations]
    assert any("opened on Monday" in q for q in quotes)
    assert len(quotes) == len(set(quotes)), quotes
    assert answer.answer.startswith("One article "), answer.answer  # one voice, not two copies side by side


def test_marks_apart_only_by_spaces_are_one_name_and_a_comma_keeps_them_apart():
    sentence = "Leader Ali Khamenei blamed the US, Israel and Saudi Arabia."
    words = [(m.start(), m.end()) for m in re.finditer(r"Ali|Khamenei|US|Israel|Saudi|Arabia", sentence)]
    assert mark(sentence, words) == "Leader **Ali Khamenei** blamed the **US**, **Israel** and **Saudi Arabia**."
    wrapped = "Ayatollah Ali\nKhamenei spoke."
    assert mark(wrapped, [(10, 13), (14, 22)]) == "Ayatollah **Ali\nKhamenei** spoke."  # a hard-wrapped line


def test_quotation_marks_inside_a_quote_become_single_ones_in_place():
    assert nested_quotes('"We will stay," he said of the "so-called" deal.') == "‘We will stay,’ he said of the ‘so-called’ deal."
    assert nested_quotes("“People of Iraq have decided,” he said.") == "‘People of Iraq have decided,’ he said."
    assert nested_quotes('He said:"no" and *"Quote"* ended.') == "He said:‘no’ and *‘Quote’* ended."
    text = 'He called it "a (“big”) step".'
    assert len(nested_quotes(text)) == len(text)  # answer spans found in the text still index the result


def test_a_quote_that_opens_with_its_own_quotation_mark_reads_as_a_nested_quote(sample_newsdesk):
    answer = sample_newsdesk.ask("What do Iraqis want, according to Press TV?")
    quoted = [c.quote for c in answer.citations if c.quote.startswith(("“", '"'))]
    assert quoted, [c.quote for c in answer.citations]  # the sample's Press TV article quotes Michael Maloof
    assert "“‘" in answer.answer
    assert not re.search(r'“["“]', answer.answer)


def test_unattributed_articles_are_counted_as_articles_not_outlets(make_newsdesk, tmp_path):
    """A reply drawn from two articles with no identified publisher must not claim two outlets."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "harbour.txt").write_text(HARBOUR_STORY)
    (corpus / "quay.txt").write_text(
        "Mayor at the quay\n\nPort Ellis opened its new harbour on Monday, the mayor told reporters at the quay. "
        "She said the harbour would bring container ships and jobs to the town.\n"
    )
    newsdesk = make_newsdesk()
    assert newsdesk.ingest([corpus]).counts["added"] == 2
    answer = newsdesk.ask("When did the new harbour in Port Ellis open?")
    assert {c.source for c in answer.citations} == {"harbour.txt", "quay.txt"}
    assert re.match(r"Two articles \w", answer.answer), answer.answer


@pytest.mark.parametrize(
    "question",
    ["Who is to blame for the attacks, according to each outlet?", "What does each outlet say about the closure of the consulate?"],
)
def test_asking_for_each_outlet_outside_a_comparison_is_answered_not_refused(sample_newsdesk, question):
    """`newsdesk ask`, `/api/ask`, the widget and question sets do not route to a comparison; the comparison
    wording must not make them refuse a question the articles answer outlet by outlet."""
    answer = sample_newsdesk.ask(question)
    assert not answer.abstained, answer.answer
    assert "outlet" not in answer.standalone_question.casefold()
    assert len(set(voices(answer))) >= 2
