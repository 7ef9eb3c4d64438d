"""A deterministic synthetic news archive for ``bench_scale.py``: nested folders, one needle fact per article.

Every article reports one local story (a council budget, a bridge, a
hospital grant, a firm's sales, a school) about a town that no other article
names, with a figure and two people that no other article names either. So a
"needle" question such as "What budget did the council of Brodavimouth
approve?" has exactly one right article, while thousands of others tell the
same kind of story with other names: the retriever has to find the one town.

Towns and surnames are built from random consonant-vowel syllables and kept
unique with a set, so they are single invented words that no dictionary word
and no other name contains. Figures are distinct integers in pounds.
Articles are 1 to 3 chunks of ~200 tokens, sized so that 100,000 of them
ingest in well under 40 minutes at ~100 chunks/s. Plain Python, no downloads.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

CONSONANTS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "br", "dr", "gr", "st", "th", "tr")
VOWELS = ("a", "e", "i", "o", "u")
SYLLABLES = tuple(c + v for c in CONSONANTS for v in VOWELS)
TOWN_ENDINGS = ("ton", "bury", "ford", "ham", "wick", "field", "mouth", "stead", "worth", "combe",
                "thorpe", "by", "caster", "minster", "bridge", "well", "moor", "dale", "holm", "ley")
SURNAME_ENDINGS = ("son", "er", "ett", "ick", "ard", "man", "ins", "ock", "ley", "ton")
FIRST_NAMES = ("Alice", "Amir", "Anna", "Ben", "Carla", "Chloe", "Daniel", "David", "Elena", "Emma", "Fatima",
               "George", "Grace", "Hannah", "Harry", "Isla", "Jack", "James", "Joanna", "Karim", "Laura", "Leo",
               "Lucy", "Mark", "Maria", "Mei", "Nadia", "Oliver", "Omar", "Patrick", "Priya", "Rachel", "Robert",
               "Ruth", "Sam", "Sarah", "Simon", "Sofia", "Thomas", "Tom", "Victoria", "William", "Yusuf", "Zoe")
# (name, web domain): fifteen in the bundled outlet registry, five that are not.
OUTLETS = (("Reuters", "reuters.com"), ("Associated Press", "apnews.com"), ("AFP", "afp.com"),
           ("BBC News", "bbc.co.uk"), ("The Guardian", "theguardian.com"), ("The Independent", "independent.co.uk"),
           ("The Telegraph", "telegraph.co.uk"), ("Financial Times", "ft.com"), ("Sky News", "news.sky.com"),
           ("Daily Mail", "dailymail.co.uk"), ("The New York Times", "nytimes.com"), ("Bloomberg", "bloomberg.com"),
           ("NPR", "npr.org"), ("Politico", "politico.com"), ("Euronews", "euronews.com"),
           ("Northshire Courier", "northshirecourier.co.uk"), ("Valley Gazette", "valleygazette.co.uk"),
           ("Harbour Evening Post", "harbourpost.co.uk"), ("Fenland Chronicle", "fenlandchronicle.co.uk"),
           ("Midland Ledger", "midlandledger.co.uk"))
FIRST_DAY = date(2015, 1, 1)
DAYS = 3652
FIGURES = range(1_000_000, 100_000_000)


@dataclass(frozen=True)
class Story:
    """One kind of local story: its section, title, the needle sentence, and the needle question."""

    section: str
    title: str
    needle: str
    question: str
    fillers: tuple[str, ...]


COMMON_FILLERS = (
    "Residents said the plans had been discussed at public meetings for {n} months.",
    "Opposition members asked for more detail on how the money would be spent.",
    "A spokesperson said further information would be published in the coming weeks.",
    "Local businesses broadly welcomed the announcement, though some raised concerns about the timetable.",
    "The decision follows a consultation in which {n} people took part.",
    "Campaigners said they would keep a close watch on the costs.",
    "Officials said the figures had been checked by independent auditors.",
    "{other}, a councillor for the area, said: \"We have listened to what people told us and acted on it.\"",
    "{other} said the next step would be a detailed review later in the year.",
    "Critics argued that the same money could have been spent on services that residents use every day.",
    "The county said it expected the work to create around {n} jobs.",
    "Turnout at the last local election was {n} per cent.",
    "The plans will be put to a full meeting in the autumn.",
    "Several residents wrote to the local paper to support the scheme.",
    "A similar project in a neighbouring district ran {n} per cent over budget.",
    "Union officials said staff had not been consulted early enough.",
    "The national government is expected to contribute part of the cost.",
    "Work is due to be finished within {n} months, weather permitting.",
    "The leader of the opposition group called the announcement overdue.",
    "Figures published last year showed the area had fallen behind its neighbours.",
)
STORIES = (
    Story("local", "{town} council approves new budget",
          "The council of {town} approved a budget of £{figure} for the coming year, said {person}, the mayor.",
          "What budget did the council of {town} approve?",
          ("Council tax bills in the area are expected to rise by {n} per cent.",
           "The budget includes money for road repairs, libraries and street lighting.",
           "Some councillors voted against the plan, saying reserves were running low.")),
    Story("transport", "Work to start on new bridge in {town}",
          "Work on the new bridge in {town} will cost £{figure}, according to {person}, the county's chief engineer.",
          "How much will the new bridge in {town} cost?",
          ("The old crossing was closed to heavy vehicles {n} years ago.",
           "Drivers have faced long diversions while the river crossing was shut.",
           "The bridge is expected to carry about {n} vehicles a day when it opens.")),
    Story("health", "{town} hospital wins funding for new ward",
          "The hospital in {town} received a grant of £{figure} to build a new children's ward, said {person}, "
          "its director.",
          "How much did the hospital in {town} receive for its new ward?",
          ("Waiting times at the hospital have grown over the past {n} months.",
           "Nurses' representatives said staffing would matter as much as the building.",
           "The new ward will have {n} beds and a play area for young patients.")),
    Story("business", "{town} Foods reports record sales",
          "{town} Foods, the family firm based in {town}, reported annual sales of £{figure}, its chief executive "
          "{person} said.",
          "What annual sales did {town} Foods report?",
          ("The company employs {n} people at its main site.",
           "Exports to Europe made up a growing share of the firm's orders.",
           "Rising energy prices squeezed the firm's margins during the winter.")),
    Story("education", "New secondary school planned for {town}",
          "Plans for a new secondary school in {town}, costing £{figure}, were confirmed by {person}, the head of "
          "education for the district.",
          "How much will the new secondary school in {town} cost?",
          ("The school would take up to {n} pupils when it is full.",
           "Parents have complained about long journeys to schools in neighbouring towns.",
           "Building work could begin next spring if planning permission is granted.")),
)


@dataclass(frozen=True)
class Needle:
    """A question with one right article: ``source`` is its path relative to the archive, ``/``-separated."""

    source: str
    question: str
    figure: str
    person: str
    town: str


class NameMaker:
    """Invented single-word names, never the same twice (across towns and surnames) within one archive."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def make(self, endings: tuple[str, ...]) -> str:
        while True:
            syllables = self.rng.choices(SYLLABLES, k=self.rng.choice((2, 2, 3)))
            name = ("".join(syllables) + self.rng.choice(endings)).capitalize()
            if name not in self.used:
                self.used.add(name)
                return name

    def person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.make(SURNAME_ENDINGS)}"


def article_paragraphs(rng: random.Random, story: Story, fill: dict[str, str]) -> list[str]:
    """The needle sentence in one of 1-7 paragraphs of generic sentences (mostly 1 or 2 chunks, some 3).

    The generic sentences are drawn without repeats, so no article says the same thing twice.
    """
    count = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 7))
    sizes = [rng.randint(2, 3) for _ in range(count)]
    pool = rng.sample(story.fillers + COMMON_FILLERS, sum(sizes))
    sentences = [s.format(n=rng.randint(2, 95), other=fill["other"]) for s in pool]
    paragraphs = []
    for size in sizes:
        paragraphs.append(" ".join(sentences[:size]))
        sentences = sentences[size:]
    needle_at = rng.randrange(count)
    paragraphs[needle_at] = f"{story.needle.format(**fill)} {paragraphs[needle_at]}"
    return paragraphs


def render(title: str, outlet: str, published: date, url: str, paragraphs: list[str]) -> str:
    """YAML front matter (values as JSON strings, which YAML reads verbatim) and the body."""
    header = "\n".join(f"{key}: {json.dumps(value)}" for key, value in
                       (("title", title), ("outlet", outlet), ("published", published.isoformat()), ("url", url)))
    return f"---\n{header}\n---\n\n{title}\n\n" + "\n\n".join(paragraphs) + "\n"


def generate_articles(count: int, seed: int) -> Iterator[tuple[str, str, Needle]]:
    """(relative path, file text, needle) for ``count`` articles; the same seed gives the same archive."""
    rng = random.Random(seed)
    names = NameMaker(rng)
    figures = rng.sample(FIGURES, count)
    for index in range(count):
        story = rng.choice(STORIES)
        town = names.make(TOWN_ENDINGS)
        fill = {"town": town, "figure": f"{figures[index]:,}", "person": names.person(), "other": names.person()}
        outlet, domain = rng.choice(OUTLETS)
        published = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        title = story.title.format(town=town)
        slug = "-".join(title.lower().split())
        suffix = rng.choice((".md", ".md", ".txt"))
        folder = f"{story.section}/{published:%Y/%m/%d}"
        url = f"https://www.{domain}/{folder}/{slug}"
        text = render(title, outlet, published, url, article_paragraphs(rng, story, fill))
        source = f"{folder}/{slug}{suffix}"
        yield source, text, Needle(source, story.question.format(town=town), f"£{fill['figure']}", fill["person"], town)


def write_archive(folder: Path, count: int, seed: int) -> list[Needle]:
    """Write the archive under ``folder`` (section/YYYY/MM/DD/slug.md or .txt) and return every article's needle."""
    needles = []
    for source, text, needle in generate_articles(count, seed):
        path = folder / source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        needles.append(needle)
    return needles
