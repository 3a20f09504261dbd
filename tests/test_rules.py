"""The `/alerts subscribe` rule grammar: parsing, errors, evaluation, search queries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatops.domain.errors import InvalidInput
from chatops.listening.rules import (
    EXAMPLE,
    And,
    Expr,
    Facts,
    Field,
    Not,
    Or,
    Rule,
    RuleError,
    Term,
    evaluate,
    format_rule,
    parse_rule,
    search_query,
    terms,
)


def word(text: str) -> Term:
    return Term(text, phrase=False)


def phrase(text: str) -> Term:
    return Term(text, phrase=True)


def facts(
    text: str = "",
    *,
    author: str = "someone",
    language: str = "en",
    sentiment: str = "neutral",
    is_question: bool = False,
    score: int = 50,
) -> Facts:
    return Facts(text, author, language, sentiment, is_question, score)


def matches(rule: str, mention: Facts) -> bool:
    return evaluate(parse_rule(rule), mention) is not None


# --- Parsing --------------------------------------------------------------------------------

FLOOD, RAIN, SPAM = word("flood"), word("rain"), word("spam")


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("flood", FLOOD),
        ("FLOOD", FLOOD),
        ('"boil water"', phrase("boil water")),
        ("“Boil   Water”", phrase("boil water")),  # curly quotes, case and spacing normalised
        ('"flood"', FLOOD),  # a one-word phrase is the bare word
        ('"-spam" flood', And((phrase("-spam"), FLOOD))),  # would read as NOT unquoted
        ('"10:30" flood', And((phrase("10:30"), FLOOD))),  # would read as a field unquoted
        ("inundación", word("inundación")),
        ("covid-19", word("covid-19")),
        ("flood OR rain", Or((FLOOD, RAIN))),
        ('flood, "road closure", outage', Or((FLOOD, phrase("road closure"), word("outage")))),
        ("flood,rain", Or((FLOOD, RAIN))),
        ("flood rain", And((FLOOD, RAIN))),
        ("flood AND rain", And((FLOOD, RAIN))),
        ("flood -spam", And((FLOOD, Not(SPAM)))),
        ("flood NOT spam", And((FLOOD, Not(SPAM)))),
        ("flood AND NOT spam", And((FLOOD, Not(SPAM)))),
        ("flood NOT -spam", And((FLOOD, SPAM))),  # double negation cancels
        ("flood or rain", And((FLOOD, word("or"), RAIN))),  # operators are upper case only
        ("flood rain OR spam", Or((And((FLOOD, RAIN)), SPAM))),  # AND before OR
        ("flood OR rain spam", Or((FLOOD, And((RAIN, SPAM))))),
        ("(flood OR rain) spam", And((Or((FLOOD, RAIN)), SPAM))),
        ("flood -(rain OR spam)", And((FLOOD, Not(Or((RAIN, SPAM)))))),
        ("-spam flood", And((Not(SPAM), FLOOD))),  # NOT before AND
        ("flood (rain spam)", And((FLOOD, RAIN, SPAM))),  # flattened
        ("flood OR (rain OR spam)", Or((FLOOD, RAIN, SPAM))),
        ("((flood))", FLOOD),
        ("from:@Maria", Field("from", "maria")),
        ("flood -from:bot123", And((FLOOD, Not(Field("from", "bot123"))))),
        ("lang:pt_BR", Field("lang", "pt-br")),
        ("IS:Question", Field("is", "question")),
        ("sentiment:negative", Field("sentiment", "negative")),
    ],
)
def test_parses(text: str, query: Expr) -> None:
    assert parse_rule(text) == Rule(query)


def test_options_apply_to_the_whole_rule_wherever_they_sit_at_the_top() -> None:
    assert parse_rule("min_score:40 flood mode:digest") == Rule(FLOOD, 40, "digest")
    assert parse_rule("flood AND min_score:040") == Rule(FLOOD, 40)
    assert parse_rule("(flood OR rain) mode:DIGEST") == Rule(Or((FLOOD, RAIN)), mode="digest")
    assert parse_rule("flood mode:instant") == Rule(FLOOD)
    assert parse_rule("flood min_score:0").min_score == 0
    assert parse_rule("flood min_score:100").min_score == 100


def test_the_help_example_parses() -> None:
    rule = parse_rule(EXAMPLE.removeprefix("/alerts subscribe "))
    boil = And((phrase("boil water"), Not(SPAM), Field("lang", "en")))
    assert rule == Rule(Or((FLOOD, boil)), min_score=40)


ERRORS = [
    ("", 0, "The rule is empty"),
    ("   ", 0, "The rule is empty"),
    ('flood OR rain "boil', 14, "Unclosed quote at position 14."),
    ("flood OR “boil", 9, "Unclosed quote at position 9."),
    ('flood ""', 6, "Empty quotes at position 6."),
    ("flood OR OR rain", 9, "Expected a keyword after OR at position 9."),
    ("flood OR", 8, "Expected a keyword after OR at position 8."),
    ("flood, ", 7, 'Expected a keyword after "," at position 7.'),
    ("flood AND", 9, "Expected a keyword after AND at position 9."),
    ("flood NOT", 9, "Expected a keyword after NOT at position 9."),
    ("flood -OR rain", 7, 'Expected a keyword after "-" at position 7.'),
    ("OR flood", 0, "Expected a keyword before OR at position 0."),
    ("flood - spam", 6, 'A "-" must be directly followed by what to leave out'),
    ("flood)", 5, "Unbalanced parenthesis at position 5."),
    ("flood (rain", 6, "Unbalanced parenthesis at position 6."),
    (")", 0, "Unbalanced parenthesis at position 0."),
    ("flood ()", 6, "Empty parentheses at position 6."),
    ("(" * 21 + "flood" + ")" * 21, 20, "Too many nested parentheses at position 20"),
    (
        "frm:maria",
        0,
        'Unknown field "frm:" at position 0; fields are from:, lang:, is:, sentiment:, '
        "network:, account:, min_score:, mode:.",
    ),
    ("flood http://x", 6, 'Unknown field "http:" at position 6'),
    ("from:", 0, "from: needs a handle, e.g. from:maria (position 0)."),
    ("flood lang:english", 6, "lang: needs a language code"),
    ("is:answer", 0, "is: supports only is:question (position 0)."),
    ("sentiment:angry", 0, "sentiment: must be negative, neutral or positive (position 0)."),
    (
        "flood lang:en -spam min_score:101",
        20,
        "min_score must be a number from 0 to 100 (position 20).",
    ),
    ("flood min_score:-1", 6, "min_score must be a number from 0 to 100 (position 6)."),
    ("flood min_score:", 6, "min_score must be a number from 0 to 100"),
    ("flood mode:later", 6, "mode must be instant or digest (position 6)."),
    (
        "(a min_score:40)",
        3,
        "min_score: applies to the whole rule; put it outside parentheses and OR (position 3).",
    ),
    ("a, min_score:40", 3, "min_score: applies to the whole rule; put it outside"),
    ("mode:digest OR flood", 0, "mode: applies to the whole rule; put it outside"),
    ("flood -mode:digest", 7, "mode: applies to the whole rule and cannot be negated"),
    ("flood mode:digest mode:instant", 18, "mode: is given twice (position 18)"),
    ("mode:digest min_score:3", 0, "only settings (min_score:, mode:) and nothing to look for"),
    ("-spam", 0, "`-spam` only says what to leave out (position 0)"),
    ("-spam -from:bot123", 0, "`-spam -from:bot123` only says what to leave out"),
    ("flood OR -spam", 9, "`-spam` only says what to leave out (position 9)"),
    ("-(flood -rain)", 0, "`-(flood -rain)` only says what to leave out"),
]


@pytest.mark.parametrize(("text", "position", "message"), ERRORS)
def test_refuses_with_position_and_message(text: str, position: int, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(text)
    assert caught.value.position == position
    assert message in caught.value.message
    assert isinstance(caught.value, InvalidInput)
    assert f"Example: {EXAMPLE}" in str(caught.value)


def test_negated_groups_with_something_to_find_are_accepted() -> None:
    assert parse_rule("-(spam OR -flood)").query == Not(Or((SPAM, Not(FLOOD))))


# --- Formatting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ('flood, "road closure"', 'flood OR "road closure"'),
        ("flood AND NOT spam", "flood -spam"),
        ("(flood OR rain) -(spam OR ad) lang:EN", "(flood OR rain) -(spam OR ad) lang:en"),
        ("mode:digest min_score:7 flood", "flood min_score:7 mode:digest"),
        ("“flood”", "flood"),
        ('"-spam" "a:b" "(x)"', '"-spam" "a:b" "(x)"'),
        ("flood -(rain spam)", "flood -(rain spam)"),
        ("from:@Maria", "from:maria"),
    ],
)
def test_formats_canonically(text: str, canonical: str) -> None:
    assert format_rule(parse_rule(text)) == canonical


# --- Evaluation -----------------------------------------------------------------------------


def test_keywords_match_whole_words_case_insensitively() -> None:
    assert evaluate(parse_rule("flood"), facts("FLOOD warning")) == ("flood",)
    assert not matches("flood", facts("Floodlights at the stadium"))
    assert not matches("flood", facts("the reflood"))
    assert matches("flood", facts("flood!"))
    assert matches("inundación", facts("¡INUNDACIÓN en la calle!"))
    assert matches("covid-19", facts("covid-19 update"))


def test_phrases_match_the_words_together_with_any_spacing() -> None:
    rule = parse_rule('"boil water"')
    assert evaluate(rule, facts("Boil\n  water notice")) == ('"boil water"',)
    assert not matches('"boil water"', facts("water to boil"))
    assert not matches('"boil water"', facts("boil waterfall"))


def test_comma_is_or_for_old_rules() -> None:
    rule = 'flood, "road closure", outage'
    assert evaluate(parse_rule(rule), facts("Road closure and outage")) == (
        '"road closure"',
        "outage",
    )
    assert not matches(rule, facts("roads closed"))


def test_adjacent_terms_must_all_appear() -> None:
    assert matches("flood road", facts("road flood"))
    assert not matches("flood road", facts("flood only"))
    assert not matches("flood AND road", facts("road only"))


def test_not_and_dash_exclude() -> None:
    assert not matches("flood -spam", facts("flood spam"))
    assert not matches("flood NOT spam", facts("flood spam"))
    assert evaluate(parse_rule("flood -spam"), facts("flood")) == ("flood",)
    assert not matches("flood -from:bot123", facts("flood", author="Bot123"))
    assert matches("flood -from:bot123", facts("flood", author="maria"))


def test_parentheses_and_precedence() -> None:
    mention = facts("flood")  # no rain, no spam
    assert matches("flood OR rain spam", mention)  # flood OR (rain spam)
    assert not matches("(flood OR rain) spam", mention)
    assert matches("spam OR -rain flood", mention)  # spam OR ((NOT rain) flood)
    assert matches("-spam flood OR rain", facts("spam rain"))  # ((NOT spam) flood) OR rain
    assert not matches("-spam flood OR rain", facts("spam flood"))
    assert not matches("-(flood OR rain) spam", facts("spam flood"))


def test_negated_group_reports_what_is_present() -> None:
    assert evaluate(parse_rule("-(spam OR -flood)"), facts("flood")) == ("flood",)


@pytest.mark.parametrize(
    ("rule", "mention", "reason"),
    [
        ("from:maria", facts(author="Maria"), "from:maria"),
        ("from:@maria", facts(author="@maria"), "from:maria"),
        ("lang:es", facts(language="es"), "lang:es"),
        ("lang:es", facts(language="es-MX"), "lang:es"),
        ("lang:pt-br", facts(language="pt_BR"), "lang:pt-br"),
        ("is:question", facts(is_question=True), "is:question"),
        ("sentiment:negative", facts(sentiment="negative"), "sentiment:negative"),
    ],
)
def test_fields_match(rule: str, mention: Facts, reason: str) -> None:
    assert evaluate(parse_rule(rule), mention) == (reason,)


@pytest.mark.parametrize(
    ("rule", "mention"),
    [
        ("from:maria", facts(author="mariana")),
        ("lang:es", facts(language="en")),
        ("lang:es", facts(language="est")),
        ("is:question", facts(is_question=False)),
        ("sentiment:negative", facts(sentiment="neutral")),
    ],
)
def test_fields_do_not_match(rule: str, mention: Facts) -> None:
    assert evaluate(parse_rule(rule), mention) is None


def test_min_score_is_inclusive_and_reported() -> None:
    rule = parse_rule("flood min_score:40")
    assert evaluate(rule, facts("flood", score=40)) == ("flood", "score 40 ≥ 40")
    assert evaluate(rule, facts("flood", score=39)) is None
    assert evaluate(parse_rule("flood"), facts("flood", score=0)) == ("flood",)


def test_reasons_follow_rule_order_without_repeats() -> None:
    rule = parse_rule('outage OR flood lang:en OR (flood "boil water")')
    mention = facts("Boil water: flood and outage", language="en")
    assert evaluate(rule, mention) == ("outage", "flood", "lang:en", '"boil water"')


def test_mode_is_parsed() -> None:
    assert parse_rule("flood mode:digest").mode == "digest"
    assert parse_rule("flood").mode == "instant"


# --- Network search -------------------------------------------------------------------------


def test_terms_are_the_positive_ones_in_order() -> None:
    rule = parse_rule('flood -spam "boil water" -(ad OR -outage) flood from:x')
    assert terms(rule) == (FLOOD, phrase("boil water"), word("outage"))


def test_search_query_keeps_what_x_understands() -> None:
    rule = parse_rule('(flood OR "boil water") -spam from:@City lang:en is:question min_score:5')
    assert search_query(rule) == '(flood OR "boil water") -spam from:city lang:en'
    assert search_query(parse_rule("flood -is:question sentiment:negative")) == "flood"


def test_search_query_never_narrows_below_the_rule() -> None:
    # NOT (rain AND question) cannot become -rain: that would lose rain mentions that
    # are not questions; X cannot tell, so the exclusion is dropped entirely.
    assert search_query(parse_rule("flood -(rain is:question)")) == "flood"
    # X cannot search "any question", so it falls back to the terms.
    assert search_query(parse_rule("flood OR is:question")) == "flood"


def test_search_query_falls_back_to_whole_terms_when_too_long() -> None:
    rule = parse_rule('(flood OR rain OR "boil water") -spam -ad')
    assert search_query(rule, limit=41) == '(flood OR rain OR "boil water") -spam -ad'
    assert search_query(rule, limit=40) == 'flood OR rain OR "boil water"'
    assert search_query(rule, limit=29) == 'flood OR rain OR "boil water"'
    assert search_query(rule, limit=28) == "flood OR rain"
    assert search_query(rule, limit=3) == ""


def test_search_query_is_empty_without_positive_terms() -> None:
    assert search_query(parse_rule("from:maria -spam")) == ""


# --- Properties -----------------------------------------------------------------------------

BARE = ["flood", "inundación", "outage", "or", "and", "not", "covid-19", "#storm", "数据"]
QUOTED = ["boil water", "road closure", "corte de luz", "-spam", "10:30", "(x)", "a,b"]
FIELD_VALUES = {
    "from": ["maria", "bot_123", "city.hall"],
    "lang": ["en", "es", "pt-br"],
    "is": ["question"],
    "sentiment": ["negative", "neutral", "positive"],
}

leaves: st.SearchStrategy[Expr] = st.one_of(
    st.sampled_from(BARE).map(word),
    st.sampled_from(QUOTED).map(phrase),
    st.sampled_from([Field(name, v) for name, values in FIELD_VALUES.items() for v in values]),
)


def flattened(kind: type[And] | type[Or], parts: list[Expr]) -> Expr:
    children: list[Expr] = []
    for part in parts:
        children.extend(part.children if isinstance(part, kind) else [part])
    return kind(tuple(children))


def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    groups = st.lists(children, min_size=2, max_size=4)
    return st.one_of(
        children.filter(lambda child: not isinstance(child, Not)).map(Not),
        groups.map(lambda parts: flattened(And, parts)),
        groups.map(lambda parts: flattened(Or, parts)),
    )


def anchored(expr: Expr, *, when: bool = True) -> bool:
    """The documented contract: whenever true (or false), something present made it so."""
    if isinstance(expr, Not):
        return anchored(expr.child, when=not when)
    if isinstance(expr, And | Or):
        results = [anchored(child, when=when) for child in expr.children]
        return any(results) if isinstance(expr, And) == when else all(results)
    return when


queries = st.recursive(leaves, extend, max_leaves=10).filter(anchored)
rules = st.builds(
    Rule,
    query=queries,
    min_score=st.none() | st.integers(0, 100),
    mode=st.sampled_from(["instant", "digest"]),
)
FRAGMENTS = [
    *BARE,
    *(f'"{q}"' for q in QUOTED),
    *(f"{name}:{v}" for name, values in FIELD_VALUES.items() for v in values),
    *["OR", "AND", "NOT", ",", "(", ")", "-", '"', "“", "”", "min_score:30", "mode:digest"],
    *["-flood", "-(", "frm:x", "min_score:300", "lang:", "  ", "\n"],
]
rule_like = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map(lambda parts: " ".join(parts))
rule_like_tight = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map(
    lambda parts: "".join(parts)
)
any_text = st.one_of(st.text(), rule_like, rule_like_tight)


@settings(max_examples=300)
@given(rules)
def test_format_then_parse_gives_the_same_rule(rule: Rule) -> None:
    assert parse_rule(format_rule(rule)) == rule


@settings(max_examples=300)
@given(any_text)
def test_any_text_parses_or_raises_a_positioned_rule_error(text: str) -> None:
    try:
        parse_rule(text)
    except RuleError as error:
        assert 0 <= error.position <= len(text)
        assert error.message and EXAMPLE in error.hint


@settings(max_examples=300)
@given(any_text)
def test_formatting_parsed_rules_is_idempotent(text: str) -> None:
    try:
        rule = parse_rule(text)
    except RuleError:
        return
    canonical = format_rule(rule)
    assert parse_rule(canonical) == rule
    assert format_rule(parse_rule(canonical)) == canonical


mentions = st.builds(
    facts,
    st.lists(st.sampled_from([*BARE, *QUOTED, "x", "spam"]), max_size=6).map(" ".join),
    author=st.sampled_from(["maria", "@Bot_123", "city.hall"]),
    language=st.sampled_from(["en", "es-MX", "pt-BR", "fr"]),
    sentiment=st.sampled_from(["negative", "neutral", "positive"]),
    is_question=st.booleans(),
    score=st.integers(0, 100),
)


@settings(max_examples=300)
@given(rules, mentions)
def test_a_match_always_has_a_reason(rule: Rule, mention: Facts) -> None:
    reasons = evaluate(rule, mention)
    assert reasons is None or len(reasons) > 0
    if reasons is not None and rule.min_score is not None:
        assert reasons[-1] == f"score {mention.score} ≥ {rule.min_score}"


@settings(max_examples=300)
@given(rules, st.integers(0, 200))
def test_search_query_fits_and_is_empty_only_when_nothing_fits(rule: Rule, limit: int) -> None:
    query = search_query(rule, limit)
    assert len(query) <= limit
    positives = terms(rule)
    if not positives:
        assert query == ""
    elif len(format_rule(Rule(positives[0]))) <= limit:
        assert query != ""
