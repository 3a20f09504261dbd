"""Compliance checks: what an agency must not publish, or should think twice about.

Posts are public and permanent, so personal data (emails, phone numbers, US Social
Security numbers) blocks approval outright; the agency's own public contacts (its hotline,
its help-desk address, any address at its domains) are not personal data. Invisible
bidirectional controls block too: they can make a post read differently from what its
approvers saw. Words the agency has listed block or warn, as the agency decides. Links off
the agency's approved sites, text in capitals and hashtags that are many or hard for screen
readers warn: they are often fine, but an approver should see them before the post goes out.

Every finding carries the character span of the text it is about, so a card can point
at it, and no message repeats personal data in full: the card itself is seen by many.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import phonenumbers

from chatops.domain.types import Finding, Severity
from chatops.drafts.public_contacts import PublicContacts


@dataclass(frozen=True)
class SensitiveTerm:
    """A word or phrase the agency flags, matched case-insensitively as whole words."""

    term: str
    reason: str
    blocking: bool


@dataclass(frozen=True)
class ComplianceRules:
    """The agency's settings; the defaults check personal data and the style warnings only.

    `allowed_domains` also allows their subdomains; empty means links are not checked.
    `phone_regions` are the regions whose national numbers (written without +country
    code) are recognised. `public_contacts` are never personal data.
    """

    terms: tuple[SensitiveTerm, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    phone_regions: tuple[str, ...] = ("US",)
    public_contacts: PublicContacts = field(default_factory=PublicContacts)

    def __post_init__(self) -> None:
        """Refuse unknown regions: phonenumbers would silently match nothing for them."""
        unknown = [r for r in self.phone_regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"unknown phone regions: {', '.join(unknown)}")


DEFAULT_RULES = ComplianceRules()

CONTACT_CODES = frozenset({"personal_phone", "personal_email"})
"""The findings a public contact would not have been: the agency's own line or address."""

CAPS_MIN_LETTERS = 12
CAPS_MAX_SHARE = 0.70
MAX_HASHTAGS = 3
HASHTAG_MAX_SHARE = 0.40
HASHTAG_CASE_MIN_LETTERS = 8

_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![\w-])")
_SSN = re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")
_URL = re.compile(r"\bhttps?://[^\s<>\"']+|(?<![\w./@-])www\.[^\s<>\"']+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}'\""
_HASHTAG = re.compile(r"(?<![\w#&])#(?=\w*[^\W\d_])\w+")
_HANDLE = re.compile(r"(?<![\w@])@\w+")
_WORD_PARTS = re.compile(r"[\d_]+")

_PRIVATE_CHANNEL = "Remove it, or point people to a private channel such as a direct message."
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class _Link:
    start: int
    end: int
    host: str


def compliance_findings(text: str, rules: ComplianceRules = DEFAULT_RULES) -> list[Finding]:
    """Return the compliance findings for `text`, ordered by where they start."""
    links = _links(text)
    hashtags = _outside(_HASHTAG.finditer(text), links)
    findings = [
        *_bidi_findings(text),
        *_personal_findings(text, rules.phone_regions, rules.public_contacts),
        *_term_findings(text, rules.terms),
        *_link_findings(links, rules.allowed_domains),
        *_caps_findings(text, links, hashtags),
        *_hashtag_heavy_findings(text, hashtags),
        *_hashtag_case_findings(hashtags),
    ]
    return sorted(findings, key=_span_key)


def _span_key(finding: Finding) -> tuple[int, int]:
    return finding.span or (0, 0)


# Personal data


def _personal_findings(
    text: str, regions: tuple[str, ...], public: PublicContacts
) -> list[Finding]:
    """Emails, SSNs, then phones; a later match overlapping an earlier one is the same data
    (digits of an email, one number seen from two regions), so it is reported once. A public
    contact is found like the rest but not reported, so its digits are not reported either.

    The kept spans never overlap each other, so a sorted list of them answers "does this
    overlap one?" from its two neighbours: linear time however much data the text holds."""
    kept: list[Finding] = []
    spans: list[tuple[int, int]] = []
    candidates = [
        *_email_findings(text, public),
        *_ssn_findings(text),
        *_phone_findings(text, regions, public),
    ]
    for span, finding in candidates:
        at = bisect.bisect_left(spans, span)
        neighbours = spans[max(at - 1, 0) : at + 1]
        if not any(_overlaps(span, other) for other in neighbours):
            spans.insert(at, span)
            if finding is not None:
                kept.append(finding)
    return kept


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


_Candidate = tuple[tuple[int, int], Finding | None]
"""Where personal data was found, and its finding (None for one of the agency's contacts)."""


def _email_findings(text: str, public: PublicContacts) -> Iterator[_Candidate]:
    for match in _EMAIL.finditer(text):
        if public.covers_email(match.group()):
            yield match.span(), None
            continue
        local, _, domain = match.group().partition("@")
        yield (
            match.span(),
            _personal(
                "personal_email",
                f"an email address ({local[:1]}***@{domain})",
                match.span(),
                "If it is the agency's public address, an admin can add it: "
                "`/social contacts add ADDRESS`.",
            ),
        )


def _ssn_findings(text: str) -> Iterator[_Candidate]:
    for match in _SSN.finditer(text):
        span = match.span()
        yield span, _personal("personal_ssn", "a US Social Security number (***-**-****)", span)


def _phone_findings(
    text: str, regions: tuple[str, ...], public: PublicContacts
) -> Iterator[_Candidate]:
    for region in regions:
        matcher = phonenumbers.PhoneNumberMatcher(text, region, phonenumbers.Leniency.VALID)
        for match in matcher:
            span = (match.start, match.end)
            if public.covers_phone(match.number):
                yield span, None
                continue
            digits = re.sub(r"\D", "", match.raw_string)
            yield (
                span,
                _personal(
                    "personal_phone",
                    f"a phone number (ending in {digits[-2:]})",
                    span,
                    "If it is the agency's public line, an admin can add it: "
                    "`/social contacts add NUMBER`.",
                ),
            )


def _personal(code: str, what: str, span: tuple[int, int], extra: str = "") -> Finding:
    return Finding(
        code=code,
        severity=Severity.BLOCKING,
        message=f"The text contains personal data: {what}. Posts are public and permanent.",
        suggestion=f"{_PRIVATE_CHANNEL} {extra}".strip(),
        span=span,
    )


# Bidirectional controls


def _bidi_findings(text: str) -> Iterator[Finding]:
    """Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) are invisible and
    reorder what follows them, each platform in its own way (the console shows them as
    U+FFFD), so the post can read differently from the card approvers saw: a hidden
    U+202E turns "pay 500" into "pay 005". It blocks rather than warns because the fix is
    always to delete them: right-to-left text displays correctly without them. The marks
    U+200E and U+200F are left alone: they reorder nothing by themselves, and keyboards for
    right-to-left languages type them in ordinary text."""
    found = [match.start() for match in _BIDI_CONTROLS.finditer(text)]
    if not found:
        return
    names = sorted({f"U+{ord(text[at]):04X}" for at in found})
    yield Finding(
        code="bidi_control",
        severity=Severity.BLOCKING,
        message=f"The text contains {len(found)} invisible bidirectional control "
        f"character(s) ({', '.join(names)}), which can make the post read differently "
        "from what approvers see.",
        suggestion="Delete them (retype the text if you cannot see where they are); "
        "right-to-left text displays correctly without them.",
        span=(found[0], found[-1] + 1),
    )


# Sensitive terms


def _term_findings(text: str, terms: Iterable[SensitiveTerm]) -> Iterator[Finding]:
    for term in terms:
        pattern = _term_pattern(term.term)
        if pattern is None:
            continue
        for match in pattern.finditer(text):
            yield _term_finding(term, match.span())


def _term_pattern(term: str) -> re.Pattern[str] | None:
    """Whole words only ("flood" must not flag "floodlights"); any run of spaces between the
    words of a phrase. Lookarounds rather than \\b so terms ending in symbols still match."""
    words = term.split()
    if not words:
        return None
    body = r"\s+".join(re.escape(word) for word in words)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _term_finding(term: SensitiveTerm, span: tuple[int, int]) -> Finding:
    if term.blocking:
        severity, suggestion = Severity.BLOCKING, "Rephrase without it."
    else:
        severity, suggestion = Severity.WARNING, "Check that it is meant; rephrase if not."
    return Finding(
        code="sensitive_term",
        severity=severity,
        message=f'"{term.term}" is on the agency\'s list of sensitive terms: '
        f"{term.reason.rstrip('.')}.",
        suggestion=suggestion,
        span=span,
    )


# Links


def _links(text: str) -> list[_Link]:
    """URLs with http(s):// or a bare www., without the punctuation that ends a sentence."""
    links = []
    for match in _URL.finditer(text):
        url = match.group().rstrip(_URL_TRAILING)
        host = _host(url)
        if host is not None:
            links.append(_Link(match.start(), match.start() + len(url), host))
    return links


def _host(url: str) -> str | None:
    """The host as people think of it: lower-case, without port, trailing dot or www."""
    if not url.lower().startswith(("http://", "https://")):
        url = "http://" + url
    try:
        host = urlsplit(url).hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    if not host:
        return None
    return host.rstrip(".").removeprefix("www.")


def _link_findings(links: list[_Link], allowed: tuple[str, ...]) -> Iterator[Finding]:
    domains = tuple(host for domain in allowed if (host := _host(domain)))
    if not domains:
        return
    for link in links:
        if not any(link.host == d or link.host.endswith("." + d) for d in domains):
            yield Finding(
                code="unapproved_link",
                severity=Severity.WARNING,
                message=f"A link goes to {link.host}, which is not one of the agency's "
                "approved sites.",
                suggestion=f"Link to an approved site instead ({', '.join(allowed)}), "
                "or make sure this one is meant.",
                span=(link.start, link.end),
            )


# Capitals and hashtags


def _outside(matches: Iterable[re.Match[str]], links: list[_Link]) -> list[re.Match[str]]:
    """Drop matches inside links: `#section` in a URL is an anchor, not a hashtag."""
    return [m for m in matches if not any(k.start <= m.start() < k.end for k in links)]


def _caps_findings(
    text: str, links: list[_Link], hashtags: list[re.Match[str]]
) -> Iterator[Finding]:
    """Count only prose letters: URLs, @handles and #hashtags are not the writer's tone."""
    skipped = bytearray(len(text))
    spans = [(k.start, k.end) for k in links]
    spans += [m.span() for m in [*hashtags, *_outside(_HANDLE.finditer(text), links)]]
    for start, end in spans:
        skipped[start:end] = b"\x01" * (end - start)
    letters = [i for i, c in enumerate(text) if (c.isupper() or c.islower()) and not skipped[i]]
    upper = sum(1 for i in letters if text[i].isupper())
    if len(letters) < CAPS_MIN_LETTERS or upper <= CAPS_MAX_SHARE * len(letters):
        return
    yield Finding(
        code="all_caps",
        severity=Severity.WARNING,
        message=f"The text is mostly in capital letters ({upper * 100 // len(letters)}%).",
        suggestion="Use sentence case: it reads as less alarming, and screen readers may "
        "spell all-caps words letter by letter.",
        span=(letters[0], letters[-1] + 1),
    )


def _hashtag_heavy_findings(text: str, hashtags: list[re.Match[str]]) -> Iterator[Finding]:
    """A single hashtag never counts as heavy, however short the post: the share rule is
    for posts where several tags crowd out the words."""
    words = len(text.split())
    count = len(hashtags)
    if count <= 1 or (count <= MAX_HASHTAGS and count <= HASHTAG_MAX_SHARE * words):
        return
    yield Finding(
        code="hashtag_heavy",
        severity=Severity.WARNING,
        message=f"The post has {count} hashtags in {words} words.",
        suggestion="Keep the one or two hashtags people follow: screen readers read each "
        "in full, and many make the post harder to read.",
        span=(hashtags[0].start(), hashtags[-1].end()),
    )


def _hashtag_case_findings(hashtags: list[re.Match[str]]) -> Iterator[Finding]:
    for match in hashtags:
        letters = [char for char in match.group() if char.isupper() or char.islower()]
        one_case = all(c.islower() for c in letters) or all(c.isupper() for c in letters)
        if one_case and len(letters) >= HASHTAG_CASE_MIN_LETTERS:
            yield _hashtag_case_finding(match)


def _hashtag_case_finding(match: re.Match[str]) -> Finding:
    tag = match.group()
    camel = _camel_case(tag)
    example = f"#{camel}" if camel else "#PortAlderFlood"
    return Finding(
        code="hashtag_case",
        severity=Severity.WARNING,
        message=f"Screen readers may read {tag} as one long made-up word.",
        suggestion=f"Capitalise each word, e.g. {example}; it is still the same hashtag.",
        span=match.span(),
    )


def _camel_case(tag: str) -> str | None:
    """Capitalise the words when digits or underscores show where they are, keeping those
    separators (they are part of the tag); None when the boundaries cannot be seen."""
    body = tag.removeprefix("#")
    if len([word for word in _WORD_PARTS.split(body) if word]) < 2:
        return None
    return re.sub(r"[^\d_]+", lambda m: m.group()[:1].upper() + m.group()[1:].lower(), body)
