"""Compliance checks: each check fires on its case, stays quiet on its near miss, and points
at the right characters without repeating personal data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatops.domain.types import Finding, Severity
from chatops.drafts.compliance import ComplianceRules, SensitiveTerm, compliance_findings
from chatops.drafts.public_contacts import Contact, ContactKind, PublicContacts, parse_contact

FLOOD = SensitiveTerm("flood", "the agency says 'high water' until the NWS declares a flood", False)
CASUALTIES = SensitiveTerm("casualties", "numbers need legal sign-off", True)
RULES = ComplianceRules(
    terms=(FLOOD, CASUALTIES, SensitiveTerm("road closed", "say which road", False)),
    allowed_domains=("portalder.gov", "example.org"),
)


def codes(text: str, rules: ComplianceRules = RULES) -> list[str]:
    return [finding.code for finding in compliance_findings(text, rules)]


def only(text: str, code: str, rules: ComplianceRules = RULES) -> Finding:
    found = [f for f in compliance_findings(text, rules) if f.code == code]
    assert len(found) == 1, found
    return found[0]


def spanned(text: str, finding: Finding) -> str:
    assert finding.span is not None
    start, end = finding.span
    return text[start:end]


def test_a_plain_post_has_no_findings() -> None:
    assert compliance_findings("Sandbags are available at the library until 6pm.", RULES) == []


# Personal data


def test_email_blocks_and_is_masked() -> None:
    text = "Questions? Write to jane.doe@example.org today."
    finding = only(text, "personal_email")
    assert finding.severity is Severity.BLOCKING
    assert spanned(text, finding) == "jane.doe@example.org"
    assert "jane.doe@example.org" not in finding.message
    assert "j***@example.org" in finding.message
    assert "private channel" in finding.suggestion


def test_a_handle_is_not_an_email() -> None:
    assert "personal_email" not in codes("Follow @PortAlderEM for updates.")


@pytest.mark.parametrize("number", ["(503) 555-0199", "503-555-0199", "+44 20 7946 0958"])
def test_phone_number_blocks_and_is_masked(number: str) -> None:
    text = f"Call {number} for help."
    finding = only(text, "personal_phone")
    assert finding.severity is Severity.BLOCKING
    assert spanned(text, finding) == number
    assert number not in finding.message
    assert "5550199" not in finding.message.replace("-", "").replace(" ", "")
    assert "public line" in finding.suggestion


def test_phone_regions_recognise_other_national_numbers() -> None:
    text = "Ring 020 7946 0958 today."
    assert "personal_phone" not in codes(text)
    uk = ComplianceRules(phone_regions=("US", "GB"))
    assert spanned(text, only(text, "personal_phone", uk)) == "020 7946 0958"


def test_unknown_phone_region_is_refused() -> None:
    with pytest.raises(ValueError, match="XX"):
        ComplianceRules(phone_regions=("XX",))


@pytest.mark.parametrize(
    "text",
    [
        "The meeting is on 2026-03-09 at 10:00.",
        "Mail it to Beaverton OR 97005-1234.",
        "Call 911 in an emergency.",
        "Order 12 of 2026 takes effect on 20260309.",
    ],
)
def test_dates_zips_and_short_numbers_are_not_personal_data(text: str) -> None:
    assert [c for c in codes(text) if c.startswith("personal_")] == []


def test_ssn_blocks_and_is_masked() -> None:
    text = "Her SSN is 123-45-6789, please verify."
    finding = only(text, "personal_ssn")
    assert finding.severity is Severity.BLOCKING
    assert spanned(text, finding) == "123-45-6789"
    assert "6789" not in finding.message
    assert "personal_phone" not in codes(text)


@pytest.mark.parametrize("number", ["000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567"])
def test_impossible_ssns_are_not_flagged(number: str) -> None:
    assert "personal_ssn" not in codes(f"Case {number} closed.")


def test_digits_of_an_email_are_reported_once() -> None:
    text = "Text 5035550199@example.org"
    assert codes(text) == ["personal_email"]


# The agency's own contacts

AGENCY = ComplianceRules(
    phone_regions=("US", "GB"),
    public_contacts=PublicContacts.parse(
        ["503-823-4000", "info@PortAlder.gov", "countyoem.org", "+44 20 7946 0958"], ("US",)
    ),
)


@pytest.mark.parametrize(
    "text",
    [
        "Sandbag hotline: call 503-823-4000",
        "Call (503) 823-4000 or +1 503 823 4000, ext. 2",
        "Write to INFO@portalder.gov.",
        "Ask floods@countyoem.org or desk@eoc.countyoem.org",
        "London office: 020 7946 0958",
        "Text 5038234000@countyoem.org",
    ],
)
def test_the_agencys_own_contacts_are_not_personal_data(text: str) -> None:
    assert [c for c in codes(text, AGENCY) if c.startswith("personal_")] == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Call 503-823-4001", "personal_phone"),
        ("Write to press@portalder.gov", "personal_email"),  # an address, not the domain
        ("Ask x@countyoem.org.evil.example", "personal_email"),
        ("Ask x@notcountyoem.org", "personal_email"),
    ],
)
def test_other_numbers_and_addresses_still_block(text: str, code: str) -> None:
    assert only(text, code, AGENCY).severity is Severity.BLOCKING


def test_the_suggestion_says_how_to_make_a_contact_public() -> None:
    assert "`/social contacts add NUMBER`" in only("Call 503-555-0199", "personal_phone").suggestion
    email = only("Mail jo@example.org", "personal_email")
    assert "`/social contacts add ADDRESS`" in email.suggestion


@pytest.mark.parametrize(
    ("written", "kind", "value"),
    [
        ("(503) 823-4000", ContactKind.PHONE, "+15038234000"),
        ("+1 503 823 4000", ContactKind.PHONE, "+15038234000"),
        ("Info@PortAlder.gov", ContactKind.EMAIL, "info@portalder.gov"),
        ("PortAlder.gov.", ContactKind.DOMAIN, "portalder.gov"),
        ("@portalder.gov", ContactKind.DOMAIN, "portalder.gov"),
        ("https://portalder.gov/", ContactKind.DOMAIN, "portalder.gov"),
    ],
)
def test_contacts_are_read_in_one_form(written: str, kind: ContactKind, value: str) -> None:
    assert parse_contact(written, ("US",)) == Contact(kind, value)


@pytest.mark.parametrize("written", ["503-823-40", "020 7946 0958", "info@portalder", "a b", ""])
def test_what_is_not_a_contact_is_refused(written: str) -> None:
    with pytest.raises(ValueError, match="is not a phone number"):
        parse_contact(written, ("US",))


# Bidirectional controls


@pytest.mark.parametrize("control", ["\u202a", "\u202b", "\u202d", "\u202e", "\u2066", "\u2069"])
def test_bidirectional_controls_block(control: str) -> None:
    text = f"Fines: pay {control}500 at City Hall."
    finding = only(text, "bidi_control")
    assert finding.severity is Severity.BLOCKING
    assert spanned(text, finding) == control
    assert f"U+{ord(control):04X}" in finding.message


def test_one_bidi_finding_spans_every_control() -> None:
    text = "a\u202eb\u202c c \u2067d\u2069"
    finding = only(text, "bidi_control")
    assert finding.span == (1, len(text))
    assert "4 invisible" in finding.message and "U+202C, U+202E, U+2067, U+2069" in finding.message


def test_right_to_left_marks_are_ordinary_text() -> None:
    assert codes("\u05e9\u05dc\u05d5\u05dd\u200f \u200eBoil water\u200e") == []


# Sensitive terms


def test_terms_match_whole_words_case_insensitively() -> None:
    text = "FLOOD warning: casualties reported."
    found = compliance_findings(text, RULES)
    assert [(f.code, f.severity, spanned(text, f)) for f in found] == [
        ("sensitive_term", Severity.WARNING, "FLOOD"),
        ("sensitive_term", Severity.BLOCKING, "casualties"),
    ]
    assert '"casualties"' in found[1].message
    assert "legal sign-off" in found[1].message


def test_terms_do_not_match_inside_words() -> None:
    assert codes("The floodlights at the stadium are on; no flooding.") == []


def test_phrases_match_across_any_spacing() -> None:
    text = "Main St: road\n  closed until noon."
    assert spanned(text, only(text, "sensitive_term")) == "road\n  closed"


def test_blank_terms_are_ignored() -> None:
    rules = ComplianceRules(terms=(SensitiveTerm("  ", "nothing", True),))
    assert compliance_findings("Anything at all.", rules) == []


# Links


def test_link_outside_the_allow_list_warns() -> None:
    text = "Details: https://www.Evil.com:8443/path?q=1."
    finding = only(text, "unapproved_link")
    assert finding.severity is Severity.WARNING
    assert spanned(text, finding) == "https://www.Evil.com:8443/path?q=1"
    assert "evil.com" in finding.message
    assert "portalder.gov, example.org" in finding.suggestion


def test_bare_www_link_is_checked() -> None:
    text = "See www.elsewhere.net/info for more"
    assert spanned(text, only(text, "unapproved_link")) == "www.elsewhere.net/info"


@pytest.mark.parametrize(
    "url",
    ["https://alerts.portalder.gov/flooding", "http://www.portalder.gov", "www.example.org/x"],
)
def test_allowed_domains_and_subdomains_pass(url: str) -> None:
    assert codes(f"Updates at {url} now.") == []


@pytest.mark.parametrize("url", ["https://portalder.gov.evil.com/", "https://notportalder.gov/"])
def test_lookalike_domains_are_not_allowed(url: str) -> None:
    assert codes(f"Updates at {url}") == ["unapproved_link"]


def test_no_allow_list_means_no_link_check() -> None:
    assert codes("See https://anywhere.example.net", ComplianceRules()) == []


# Capitals


def test_all_caps_warns() -> None:
    text = "EVACUATE THE RIVER DISTRICT NOW"
    finding = only(text, "all_caps")
    assert finding.severity is Severity.WARNING
    assert spanned(text, finding) == text
    assert "screen readers" in finding.suggestion


def test_a_sentence_with_acronyms_is_not_all_caps() -> None:
    assert codes("FEMA and ODOT crews are on site at the bridge.") == []


def test_short_shouting_is_not_all_caps() -> None:
    assert codes("STAY SAFE!") == []


def test_urls_handles_and_hashtags_do_not_count_as_caps() -> None:
    text = "Stay safe @PORTALDEREM #FLOODWATCH https://PORTALDER.GOV/ALERTS"
    assert "all_caps" not in codes(text)


# Hashtags


def test_many_hashtags_warn() -> None:
    text = "Update today for everyone in town #Flood #Rain #Storm #Safety"
    finding = only(text, "hashtag_heavy")
    assert finding.severity is Severity.WARNING
    assert spanned(text, finding) == "#Flood #Rain #Storm #Safety"


def test_hashtags_crowding_out_words_warn() -> None:
    assert "hashtag_heavy" in codes("Stay safe #Flood #Rain")


def test_a_few_hashtags_in_a_sentence_are_fine() -> None:
    assert codes("Crews are clearing Main Street this afternoon #Storm #Rain") == []


def test_one_hashtag_on_a_short_post_is_not_heavy() -> None:
    assert codes("Evacuate #Storm") == []


def test_one_case_long_hashtag_warns_with_a_generic_example() -> None:
    text = "Stay safe #portalderflood"
    finding = only(text, "hashtag_case")
    assert finding.severity is Severity.WARNING
    assert spanned(text, finding) == "#portalderflood"
    assert "#PortAlderFlood" in finding.suggestion


@pytest.mark.parametrize(
    ("tag", "camel"),
    [("#flood_warning_2026", "#Flood_Warning_2026"), ("#FLOOD2026UPDATE", "#Flood2026Update")],
)
def test_camel_case_is_derived_from_digits_and_underscores(tag: str, camel: str) -> None:
    text = f"Read this {tag} now"
    finding = only(text, "hashtag_case")
    assert spanned(text, finding) == tag
    assert camel in finding.suggestion


@pytest.mark.parametrize("tag", ["#fire", "#FEMA", "#PortAlderFlood", "#covid19"])
def test_short_or_camel_case_hashtags_are_fine(tag: str) -> None:
    assert codes(f"Read this {tag} now") == []


def test_url_anchors_are_not_hashtags() -> None:
    assert codes("See https://portalder.gov/#evacuationroutes now") == []


def test_one_finding_per_offending_hashtag() -> None:
    text = "Go #evacuationnow and #sandbagsready"
    found = [f for f in compliance_findings(text, RULES) if f.code == "hashtag_case"]
    assert [spanned(text, f) for f in found] == ["#evacuationnow", "#sandbagsready"]


# Together


def test_findings_are_ordered_by_where_they_start() -> None:
    text = "#portalderflood casualties at www.other.com, call 503-555-0199"
    found = compliance_findings(text, RULES)
    assert [f.code for f in found] == [
        "hashtag_case",
        "sensitive_term",
        "unapproved_link",
        "personal_phone",
    ]
    starts = [f.span[0] for f in found if f.span is not None]
    assert starts == sorted(starts)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_never_raises_and_spans_stay_inside_the_text(text: str) -> None:
    for finding in compliance_findings(text, RULES):
        assert finding.span is not None
        start, end = finding.span
        assert 0 <= start < end <= len(text)


FRAGMENTS = [
    "a@b.co",
    "503-555-0199",
    "123-45-6789",
    "flood",
    "Road Closed",
    "https://x.portalder.gov/#a",
    "www.other.net.",
    "#portalderflood",
    "#A_b1",
    "@HANDLE",
    "LOUD WORDS HERE",
    " ",
    "\n",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=20).map("".join))
def test_spans_of_likely_findings_stay_inside_the_text(text: str) -> None:
    for finding in compliance_findings(text, RULES):
        assert finding.span is not None
        start, end = finding.span
        assert 0 <= start < end <= len(text)
        assert text[start:end].strip() == text[start:end]
