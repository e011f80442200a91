"""Draft reports from article text, for a curator to confirm.

`extract(text, ref, published=..., outlet_country=..., source_id=...)` finds
every mass, count, value and price in a news story, pairs a quantity with
the value of the same seizure when the sentence ties them ("700 kg ...
worth US$100 million"), dates each figure against the publication date, and
returns draft rows in the reports.csv columns plus `import` (yes/no),
`char_start`, `char_end`, `sentence` and `confidence`. Figures that are not
seizures or prices (exchange rates, fines, budgets, market estimates, prices
of equipment) come back with import = no and the reason in `notes`.

Amounts are read with the ETL's own grammar and tables (`draft.scan`),
so every quantity and value cell is text that `etl.amounts.parse_amount`
reads to the same number. Nothing here writes to data/.
"""
from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass, field

import pandas as pd

from draft.dates import POST_DATE_LINE, FoundDate, date_of_line, find_dates, shift_year
from draft.spans import Spans
from draft.scan import HANGUL, Figure, Lexicon, check_canonical, lexicon, scan
from etl.normalise import REPORT_COLUMNS
from etl.reference import Reference

REVIEW_COLUMNS = ["import", "char_start", "char_end", "sentence", "confidence"]
OUTPUT_COLUMNS = REPORT_COLUMNS + REVIEW_COLUMNS

# ---------------------------------------------------------------------------
# Words that tie a figure to a role
# ---------------------------------------------------------------------------
TIE_BEFORE = re.compile(
    r"(?:\bworth|\bfetch(?:ed)?|\b(?:would|could)\s+(?:have\s+)?(?:sold|been\s+sold)\s+for|\bvalued\s+at|\bvalue\s+of|\bvalued|\bvalue\s+(?:is|was|at)|\bpriced\s+at)\s*(?:of\s+)?$", re.I)
TIE_AFTER = re.compile(r"^\s*(?:['’]s\s+|-)?worth\s+of\b", re.I)
CASH = re.compile(r"\bcash\b|\bcarr(?:y|ying|ied)\b|\bwith\s+them\b|\bbanknotes\b|\bmoney\b|현금|돈다발|지폐", re.I)
PRICE_CUE = re.compile(r"\bcosts?\b|\bsells?\b|\bsold\b|\bfetch(?:es|ed)?\b|\bprices?\b|\bpriced\b|\bgoes\s+for\b|\btrades?\s+for\b"
                       r"|가격|값|시세|거래|팔리|팔린|판매|매매", re.I)
NOT_SEIZURE = [
    (re.compile(r"\bfin(?:e|ed|es)\b|\bpenalt(?:y|ies)\b|\bbail\b", re.I), "a fine or penalty"),
    (re.compile(r"\bbudgets?\b|\bspent\b|\bspend(?:s|ing)?\b|\binvest(?:ed|ment|s)?\b|\bfund(?:s|ed|ing)\b|\baid\b|\bgrants?\b",
                re.I), "spending or a budget"),
    (re.compile(r"\bmarket\b|\bindustry\b|\brevenues?\b|\bturnover\b|\bearn(?:s|ed|ing|ings)?\b|\bincome\b|\bprofits?\b"
                r"|\bexports?\b|\bGDP\b", re.I), "an estimate of a market, trade or earnings"),
    (re.compile(r"\bdevices?\b|\bequipment\b|\bmachine(?:s|ry)?\b|\bpress(?:es)?\b|\bapparatus\b|\btools?\b", re.I),
     "the price of equipment"),
    (re.compile(r"\bsalar(?:y|ies)\b|\bwages?\b|\bbribes?\b|\brewards?\b|\bransom\b", re.I), "wages, bribes or rewards"),
    # Korean: 벌금 (fine), 포상금 (reward), 예산 (budget), 매출/수익 (earnings), 뇌물/월급 (bribes, pay), 환율 (exchange rate)
    (re.compile(r"벌금|과태료|추징금|보석금"), "a fine or penalty"),
    (re.compile(r"포상금|보상금|현상금|사례금|뇌물|월급|임금|급여"), "wages, bribes or rewards"),
    (re.compile(r"예산|투자|지원금"), "spending or a budget"),
    (re.compile(r"매출|수익|이익|외화벌이|수출액|시장 규모"), "an estimate of a market, trade or earnings"),
    (re.compile(r"환율"), "an exchange rate"),
]
NOT_SEIZURE_MASS = [
    (re.compile(r"\bproduc(?:e|es|ed|tion|ing)\b|\bcapacity\b|\bconsum(?:e|es|ed|ption)\b|\bannual(?:ly)?\b", re.I),
     "a production or consumption estimate"),
]
SEIZURE_CUE = re.compile(
    r"\bseiz(?:e|ed|es|ing|ure|ures)\b|\bconfiscat\w*|\bintercept\w*|\brecover\w*|\bfound\b|\bdiscover\w*|\bcaught\b"
    r"|\bhaul\b|\bbust\w*|\bsmuggl\w*|\btraffick\w*|\barrest\w*|\bdetain\w*|\bcarr(?:y|ying|ied)\b|\bhidden\b|\bhid\b"
    r"|\bpossession\b|\bimpound\w*|\bshipment\b|\bconsignment\b|\bluggage\b|\btransport\w*|\bpolice\b|\bcustoms\b"
    r"|압수|적발|밀수|검거|압류|몰수|체포|구속|단속|반입|소지|운반|은닉|숨겨|세관|경찰|검찰|공안", re.I)
# "3명을 검거했다": so many people arrested (Korean)
KO_ARRESTS = re.compile(r"(?<![0-9])(?P<n>[0-9]{1,4})[ ]?명(?:을|이|가|은|도|과|와)?[ ]?(?:[가-힣]+[ ]){0,2}?"
                        r"(?:검거|체포|구속|붙잡|입건|기소|적발)")
ARREST_WORDS = r"(?:South\s+Korean|North\s+Korean|Korean|people|persons|suspects|men|women|nationals|citizens|individuals|members|crew|smugglers|North\s+Koreans|South\s+Koreans|Koreans|Chinese|Japanese|foreigners)"
ARREST_VERBS = r"(?:arrested|detained|held|caught|apprehended|charged|taken\s+into\s+custody)"
SMALL_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_N = rf"(?P<n>\d{{1,4}}|{'|'.join(SMALL_NUMBERS)})"
ARRESTS = [
    re.compile(rf"\b{_N}\s+(?:[\w-]+\s+){{0,2}}?{ARREST_WORDS}\s+and\s+{_N.replace('<n>', '<m>')}\s+(?:[\w-]+\s+){{0,2}}?{ARREST_WORDS}\s+"
               rf"(?:were|have\s+been|had\s+been)\s+{ARREST_VERBS}", re.I),
    re.compile(rf"\b{_N}\s+(?:[\w-]+\s+){{0,3}}?{ARREST_WORDS}\b(?:\s+\w+){{0,4}}?\s+(?:were|was|have\s+been|had\s+been|are)\s+{ARREST_VERBS}", re.I),
    re.compile(rf"\b{ARREST_VERBS}\s+(?:the\s+)?{_N}\s+(?:[\w-]+\s+){{0,3}}?{ARREST_WORDS}\b", re.I),
    re.compile(rf"\bamong\s+the\s+{_N}\s+{ARREST_WORDS}\s+{ARREST_VERBS}", re.I),
    re.compile(rf"\b(?:the\s+)?{_N}\s+{ARREST_WORDS}\s+{ARREST_VERBS}", re.I),
]
# Exchange-rate statements: "US$1=W1,117", "1 dollar = 1,117 won", "1,117 won to the dollar".
RATE_STATEMENTS = [
    re.compile(r"(?:US\$|U\.S\.\s?\$|\$|USD\s?)\s?1\s*(?:=|equals|to)\s*(?P<marker>[₩W¥Y₱P€]|RMB\s?|HK\$|NT\$|A\$)?\s?"
               r"(?P<n>\d[\d,]*+(?:\.\d+)?)(?:\s*(?P<word>won|yen|yuan|pesos|baht|euros?|renminbi))?", re.I),
    re.compile(r"\b(?:one|1)\s+(?:US\s+|U\.S\.\s+)?dollars?\s*(?:=|equals|is\s+worth|to)\s*(?P<marker>[₩W¥Y₱P€])?\s?"
               r"(?P<n>\d[\d,]*+(?:\.\d+)?)\s*(?P<word>won|yen|yuan|pesos|baht|euros?)?", re.I),
    re.compile(r"(?<![\d,.])(?P<marker>[₩W¥Y₱P€])?(?P<n>\d[\d,]*+(?:\.\d+)?)\s*(?P<word>won|yen|yuan|pesos|baht|euros?)?\s+"
               r"(?:to|per|against)\s+(?:the|one|a|each|1)\s+(?:US\s+|U\.S\.\s+)?dollar\b", re.I),
    re.compile(r"\bexchange\s+rate\s+of\s+(?P<marker>[₩W¥Y₱P€])?(?P<n>\d[\d,]*+(?:\.\d+)?)\s*(?P<word>won|yen|yuan|pesos|baht|euros?)?", re.I),
]
COUNTRY_WORDS = {
    "china": "CN", "chinese": "CN", "south korea": "KR", "south korean": "KR", "seoul": "KR", "japan": "JP",
    "japanese": "JP", "philippines": "PH", "philippine": "PH", "filipino": "PH", "australia": "AU", "australian": "AU",
    "taiwan": "TW", "taiwanese": "TW", "hong kong": "HK", "thailand": "TH", "thai": "TH", "egypt": "EG",
    "egyptian": "EG", "india": "IN", "indian": "IN", "norway": "NO", "norwegian": "NO", "venezuela": "VE",
    "venezuelan": "VE", "vietnam": "VN", "vietnamese": "VN", "russia": "RU", "russian": "RU", "mongolia": "MN",
    "united states": "US", "american": "US", "germany": "DE", "german": "DE", "malaysia": "MY", "malaysian": "MY",
    "indonesia": "ID", "indonesian": "ID", "singapore": "SG", "cambodia": "KH", "myanmar": "MM", "laos": "LA",
    "new zealand": "NZ", "bulgaria": "BG", "turkey": "TR", "sweden": "SE", "swedish": "SE", "zambia": "ZM",
    "macau": "MO", "north korea": "KP", "netherlands": "NL", "dutch": "NL", "spain": "ES", "spanish": "ES",
    "france": "FR", "french": "FR", "italy": "IT", "italian": "IT", "mexico": "MX", "mexican": "MX", "canada": "CA",
    "canadian": "CA", "britain": "GB", "british": "GB", "united kingdom": "GB",
}
COUNTRY_NAMES = {  # names of countries and cities (not demonyms), for a last-resort country
    "china", "south korea", "seoul", "japan", "philippines", "australia", "taiwan", "hong kong", "thailand", "egypt",
    "india", "norway", "venezuela", "vietnam", "russia", "mongolia", "united states", "germany", "malaysia",
    "indonesia", "singapore", "cambodia", "myanmar", "laos", "new zealand", "bulgaria", "turkey", "sweden", "zambia", "macau",
    "netherlands", "spain", "france", "italy", "mexico", "canada", "britain", "united kingdom",
}
AUTHORITIES = r"(?:police|customs|authorities|border\s+(?:police|guards?|patrol)|coast\s+guard|prosecutors|navy|troops|officers|officials|agents)"
NK_PLACES = (r"북한|평양|혜산|신의주|청진|함흥|장마당|양강도|함경|무산|회령"
             r"|North\s+Korea|Pyongyang|jangmadang|Hyesan|Sinuiju|Shinuiju|Chongjin|Hamhung|Hamheung|Musan|Rason|Nampo"
             r"|Wonsan|Kaesong|Hoeryong|Pyongsong|Ryanggang|Yanggang|Hamgyong|Hamkyung")
NK_PLACES_RE = re.compile(NK_PLACES)
SOUTH_KOREA_RE = re.compile(r"South\s+Korea|Seoul|한국|서울|부산|인천")
CHINA_RE = re.compile(r"yuan|renminbi|RMB|China|Chinese|중국|위안")
LAST_WORD = re.compile(r"(?<![\w.])([\w.]+)$")
OPEN_BRACKET = re.compile(r"\s*\(\s*(?:or\s+|i\.e\.\s*|equivalent\s+to\s+)?")
CLOSE_BRACKET = re.compile(r"\s*\)")
DOLLAR_COUNTRIES = {"AU": "AUD", "HK": "HKD", "TW": "TWD", "US": "USD"}
ABBREVIATIONS = {"u.s", "u.n", "u.k", "mr", "mrs", "ms", "dr", "st", "no", "gen", "lt", "col", "sgt", "jr", "sr", "co",
                 "corp", "inc", "ltd", "vs", "approx", "e.g", "i.e", "a.m", "p.m", "jan", "feb", "mar", "apr", "jun",
                 "jul", "aug", "sep", "sept", "oct", "nov", "dec", "rep", "sen", "gov", "prof", "fig", "est", "kg"}


class SText(str):
    """The text of one sentence, with a memo of what was computed from it (so each costs one pass)."""

    memo: dict


def per_sentence(fn):
    """Compute `fn(s_text, *args)` once per sentence text (an `SText`); plain strings are not memoised."""
    def wrapper(s_text, *args):
        memo = getattr(s_text, "memo", None)
        if memo is None:
            return fn(s_text, *args)
        key = (fn.__name__, *(a if isinstance(a, (str, int, float, type(None))) else id(a) for a in args))
        if key not in memo:
            memo[key] = fn(s_text, *args)
        return memo[key]
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


@dataclass(eq=False)
class Sentence:
    start: int
    end: int
    paragraph: int
    _text: SText | None = field(default=None, repr=False)

    def text_of_cached(self) -> SText:
        """The text sliced by an earlier `text_of` call."""
        assert self._text is not None
        return self._text

    def text_of(self, text: str) -> SText:
        """This sentence's text, sliced once."""
        if self._text is None:
            self._text = SText(text[self.start:self.end])
            self._text.memo = {}
        return self._text


@dataclass
class Draft:
    kind: str
    quantity: Figure | None = None
    value: Figure | None = None
    sentence: Sentence | None = None
    importable: bool = True
    notes: list[str] = field(default_factory=list)
    confidence: float = 0.9
    currency: str = ""
    usd_stated: str = ""
    stated_rate: str = ""
    drug: str = ""
    country: str = ""
    place: str = ""
    event_date: str = ""
    arrests: str = ""
    per_note: str = ""
    rate_span: tuple[int, int] | None = None  # for a free-standing exchange-rate statement
    comparison: tuple[int, int] | None = None  # the clause of an earlier case cited for comparison (absolute span)
    total: bool = False  # a national or annual total: dated by the period it totals

    @property
    def span(self) -> tuple[int, int]:
        figs = [f for f in (self.quantity, self.value) if f is not None]
        return min(f.start for f in figs), max(f.end for f in figs)


# ---------------------------------------------------------------------------
# Text structure
# ---------------------------------------------------------------------------
def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    """Sentences of text[start:end]: paragraphs are lines; a sentence ends at . ! ? before a capital."""
    end = len(text) if end is None else end
    out: list[Sentence] = []
    para = 0
    for line in re.finditer(r"[^\n]+", text[start:end]):
        s0 = start + line.start()
        s1 = start + line.end()
        if not line.group(0).strip():
            continue
        para += 1
        cut = s0
        for m in re.finditer(r"[.!?][\"”’')\]]*\s+(?=[\"“‘(]?[A-Z0-9가-힣])", text[s0:s1]):
            stop = s0 + m.start()
            word = LAST_WORD.search(text[max(cut, stop - 40):stop + 1].rstrip(".!?\"”’')]"))
            prev = (word.group(1) if word else "").lower()
            if text[stop] == "." and (prev.rstrip(".") in ABBREVIATIONS or re.fullmatch(r"[a-z]", prev)):
                continue
            out.append(Sentence(cut, s0 + m.end(), para))
            cut = s0 + m.end()
        if cut < s1:
            out.append(Sentence(cut, s1, para))
    return out


def split_posts(text: str) -> list[tuple[int, int, dt.date | None]]:
    """Split a blog archive page on its post date lines ("Thursday, July 7th, 2011").

    Each post runs from its title (the line before the date line) to the next
    post's title; text before the first post is returned without a date.
    """
    dated = [m for m in POST_DATE_LINE.finditer(text) if re.match(r"\s*[A-Z][a-z]+day,", m.group(0))]
    if not dated:
        return [(0, len(text), None)]
    starts = []
    for m in dated:
        before = text[:m.start()].rstrip("\n")
        title = before.rfind("\n") + 1 if before else 0
        starts.append((title, date_of_line(m)))
    out = []
    if starts[0][0] > 0:
        out.append((0, starts[0][0], None))
    for i, (s, d) in enumerate(starts):
        e = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        out.append((s, e, d))
    return out


def guess_published(text: str) -> tuple[dt.date | None, str]:
    """A publication date from a date line near the top of the text ("Date : October 10, 2011")."""
    head = "\n".join(text.splitlines()[:15])
    m = POST_DATE_LINE.search(head)
    if not m:
        return None, ""
    return date_of_line(m), m.group(0).strip()


# ---------------------------------------------------------------------------
# The extractor
# ---------------------------------------------------------------------------
def extract(text: str, ref: Reference, published: dt.date | None = None, outlet_country: str | None = None,
            source_id: str = "", posts: bool = False, source_ids: dict[dt.date, str] | None = None) -> pd.DataFrame:
    """Draft rows for every figure in `text` (see the module docstring)."""
    lex = lexicon(ref)
    outlet_country = (outlet_country or "").upper() or None
    segments = split_posts(text) if posts else [(0, len(text), published)]
    drafts: list[tuple[Draft, str, dt.date | None]] = []
    for start, end, pub in segments:
        sid = source_id
        if posts and source_ids is not None:
            sid = source_ids.get(pub, "") if pub else ""
        for d in _segment(text, start, end, pub, outlet_country, lex, ref):
            drafts.append((d, sid, pub))
    rows = [_row(i, d, text, sid, pub) for i, (d, sid, pub) in enumerate(drafts, start=1)]
    frame = pd.DataFrame(rows, columns=OUTPUT_COLUMNS)
    return frame.astype({c: "string" for c in OUTPUT_COLUMNS if c not in ("char_start", "char_end", "confidence")})


def _segment(text: str, start: int, end: int, pub: dt.date | None, outlet: str | None, lex: Lexicon,
             ref: Reference) -> list[Draft]:
    sentences = split_sentences(text, start, end)
    figures = [_shift(f, start) for f in scan(text[start:end], lex, outlet)]
    rates = _rates(text, start, end)
    figures = [f for f in figures if not _inside(rates, f.start, f.end)]
    figures = _attach_brackets(text, figures, rates, lex)
    drafts: list[Draft] = []
    anchor_year: str | None = None  # latest absolute year, for "the same year" / "next year"
    para_date: dict[int, tuple[str, str]] = {}
    announced: tuple[str, str] | None = None  # latest "said on Saturday": when the story was told
    by_sentence = _group_by_sentence(figures, sentences)
    datelines = [(m.start(), m.end()) for m in DATELINE.finditer(text, start, end)]
    story: tuple[str, str] | None = None  # the main event's date, carried to later sentences of the same story
    story_open = True  # the main event's date is taken from the first dated seizure, before any separate case
    for i, sent in enumerate(sentences):
        s_text = sent.text_of(text)
        dates = find_dates(s_text, pub)
        # a dateline's date is when the story was filed: publication context, never an event date
        dates = [d for d in dates if not any(a <= sent.start + d.start < b for a, b in datelines)]
        resolved: list[tuple[FoundDate, str]] = []
        for d in dates:
            if d.anaphor:
                if anchor_year:
                    value = anchor_year if d.anaphor == "same" else shift_year(anchor_year, 1)
                    resolved.append((d, value))
            elif d.value and not d.reporting:
                resolved.append((d, d.value))
        figs = by_sentence[i]
        sentence_drafts = _sentence(text, sent, figs, rates, lex, ref, outlet, pub)
        for d in dates:
            if d.reporting and d.value:
                announced = (d.value, d.text)
        for dr in sentence_drafts:
            _classify(dr, text, sent, by_sentence[i])
        clauses = [dr.comparison for dr in sentence_drafts if dr.comparison is not None]
        if _has(s_text, NEW_CASE):
            story, story_open = None, False  # a separate case: the story's date is not carried past it
        for dr in sentence_drafts:
            _date(dr, resolved, para_date.get(sent.paragraph), pub, sent, announced, story, clauses)
            if (story_open and story is None and dr.importable and dr.kind in ("seizure", "cash") and dr.event_date
                    and dr.comparison is None and not dr.total and any(n.startswith("date from '") for n in dr.notes)):
                story = (dr.event_date, next(n for n in dr.notes if n.startswith("date from '")).split("'")[1])
            _context(dr, text, sentences, i, lex, ref)
        sentence_drafts = _pair_with_previous(sentence_drafts, drafts, text, sentences, i)
        drafts += sentence_drafts
        main = [r for r in resolved if not any(c0 <= r[0].start + sent.start < c1 for c0, c1 in clauses)]
        if main:
            last = main[-1]
            para_date[sent.paragraph] = (last[1], last[0].text)
        if resolved:
            anchor_year = resolved[-1][1][:4]
    return _merge_duplicates(drafts, text)


def _group_by_sentence(figures: list[Figure], sentences: list[Sentence]) -> list[list[Figure]]:
    """The figures starting in each sentence (both lists are in text order): one pass."""
    out: list[list[Figure]] = [[] for _ in sentences]
    j = 0
    for f in sorted(figures, key=lambda f: f.start):
        while j < len(sentences) and sentences[j].end <= f.start:
            j += 1
        if j < len(sentences) and sentences[j].start <= f.start:
            out[j].append(f)
    return out


def _inside(rates: list[tuple[int, int, str]], start: int, end: int) -> bool:
    """True when [start, end) lies inside one of the (sorted, disjoint) rate statements."""
    i = bisect.bisect_right(rates, (start, float("inf"), "")) - 1
    return i >= 0 and rates[i][0] <= start and end <= rates[i][1]


CONTEXT_SENTENCES = 4
LONE_VALUE = "a value with no quantity"


def _pair_with_previous(new: list[Draft], done: list[Draft], text: str, sentences: list[Sentence], i: int) -> list[Draft]:
    """"In 2015 police seized 50 kg of meth. It was worth $5m.": the value joins the mass of the sentence before."""
    if i == 0:
        return new
    continues = CONTINUES.match(sentences[i].text_of(text)) is not None
    out = []
    for d in new:
        if (d.importable and d.kind == "seizure" and d.quantity is None and d.value is not None and LONE_VALUE in d.notes
                and (continues or d.value.tied)):
            # the free masses of the sentences before (up to three back), skipping earlier cases cited for comparison
            masses = []
            for m in reversed(done):
                if m.sentence.start < sentences[max(0, i - 3)].start or (masses and m.sentence is not masses[0].sentence):
                    break
                if (m.kind == "seizure" and m.importable and m.quantity is not None and m.value is None
                        and m.comparison is None):
                    masses.append(m)
            if len(masses) == 1:
                m = masses[0]
                m.value, m.currency, m.usd_stated, m.stated_rate = d.value, d.currency, d.usd_stated, d.stated_rate
                m.notes += [n for n in d.notes if n != LONE_VALUE and not n.startswith(("date ", "no date", "drug ", "country "))]
                m.notes.append(f"value from the next sentence: '{text[d.value.start:d.value.end]}'")
                m.confidence -= 0.1
                continue
        out.append(d)
    return out


CONTINUES = re.compile(r"^\W*(?:(?:The|These|Those|They|It|Its|Their|He|She|His|Her|This|Such)\b"
                       r"|압수된|적발된|밀반입된|이들|이번에|해당|이\s?(?:마약|필로폰|물량|중))")
NEW_CASE = re.compile(r"\bseparate(?:ly)?\b|\banother\s+case\b|\belsewhere\b|\bmeanwhile\b", re.I)


def _context(d: Draft, text: str, sentences: list[Sentence], i: int, lex: Lexicon, ref: Reference) -> None:
    """Drug, country and place from earlier sentences when the figure's own sentence has none.

    Only for rows to import; looks back up to CONTEXT_SENTENCES sentences in
    the same paragraph, or across paragraphs when the sentence goes on from
    the one before ("The suspects ...", "They ..."); never past "in a
    separate case", "meanwhile" and the like.
    """
    sent = sentences[i]
    s_text = sent.text_of(text)
    if not d.importable or _has(s_text, NEW_CASE):
        return
    opens_paragraph = i == 0 or sentences[i - 1].paragraph != sent.paragraph
    allowed = {sent.paragraph} | ({sentences[i - 1].paragraph} if opens_paragraph and i > 0 and CONTINUES.match(s_text) else set())
    earlier = []
    for s in sentences[max(0, i - CONTEXT_SENTENCES):i][::-1]:
        if s.paragraph not in allowed:
            break
        earlier.append(s)
        if _has(s.text_of(text), NEW_CASE):
            break
    if not d.drug:
        for s in earlier:
            drug = _drug(s.text_of(text), lex, s.end - s.start)
            if drug:
                d.drug = drug
                d.notes = [n for n in d.notes if n != "no drug named in the sentence"]
                d.notes.append(f"drug '{drug}' from an earlier sentence")
                break
    if not d.country:
        for s in earlier:
            country, place = _where(s.text_of(text), ref, d.kind)
            if country and country != "KP":
                d.country, d.place = country, place
                d.notes.append(f"country {country}{' and place ' + place if place else ''} from an earlier sentence")
                d.confidence -= 0.05
                break


def _shift(f: Figure, by: int) -> Figure:
    f.start += by
    f.end += by
    return f


def _rates(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """Exchange-rate statements as (start, end, text in the form 'US$1=W1,117')."""
    out: list[tuple[int, int, str]] = []
    taken = Spans()
    for pattern in RATE_STATEMENTS:
        for m in pattern.finditer(text, start, end):
            if taken.overlaps(m.start(), m.end()):
                continue
            marker = (m["marker"] or "").strip()
            word = m["word"] or ""
            if not marker and not word:
                continue
            out.append((m.start(), m.end(), f"US$1={marker}{m['n']}" + (f" {word}" if word else "")))
            taken.add(m.start(), m.end())
    return sorted(out)


def _attach_brackets(text: str, figures: list[Figure], rates, lex: Lexicon) -> list[Figure]:
    """Fold "(1 lb)", "(US$68,000)" and "(US$1=W1,117)" into the figure before; read a following per unit."""
    out: list[Figure] = []
    rate_at = {s: (e, rate) for s, e, rate in rates}
    skip: set[int] = set()
    consumed_to = -1
    for i, f in enumerate(figures):
        if i in skip or f.start < consumed_to:
            continue
        end = f.end
        m = OPEN_BRACKET.match(text, end)
        if m:
            inner_start = m.end()
            nxt = figures[i + 1] if i + 1 < len(figures) else None
            same_kind = nxt is not None and (nxt.kind == "money") == (f.kind == "money")
            if nxt is not None and nxt.start == inner_start and same_kind:
                close = CLOSE_BRACKET.match(text, nxt.end)
                if close:
                    f.conversion = nxt
                    skip.add(i + 1)
                    end = close.end()
            elif f.kind == "money":
                hit = rate_at.get(inner_start)
                if hit is not None:
                    e, rate = hit
                    close = CLOSE_BRACKET.match(text, e)
                    if close:
                        f.stated_rate = rate
                        end = close.end()
        if f.kind == "money":
            p = lex.per.match(text, end)
            if p:
                f.per = p["per"]
                f.per_span = (p.start("per"), p.end("per"))
                end = p.end()
                consumed_to = end  # "a gram" in "W150,000 a gram" is the price's unit, not a quantity
        f.ext_end = end
        out.append(f)
    return out


def _sentence(text: str, sent: Sentence, figs: list[Figure], rates, lex: Lexicon, ref: Reference,
              outlet: str | None, pub: dt.date | None) -> list[Draft]:
    s_text = sent.text_of(text)
    drafts: list[Draft] = []
    # "a gram of meth costs ...": the unit a price in this sentence is quoted per
    per_phrase = None
    if _has(s_text, PRICE_CUE):
        pm = re.search(rf"\b(?:a|an|one|per|each)\s+(?P<unit>{lex.unit_words})\s+of\s+(?:[\w'’-]+\s+){{0,3}}?(?P<drug>{lex.drug_words})\b",
                       s_text, re.I)
        if pm and lex.units.get(pm["unit"].lower(), ("", ""))[1] == "mass":
            per_phrase = (pm["unit"], pm["drug"], sent.start + pm.start(), sent.start + pm.end())
        # Korean: "필로폰 1g이 15만원에 팔린다" (one gram of ... sells for ...)
        for f in figs:
            if (f.kind == "mass" and f.point == 1 and not f.per and re.match(r"(?:이|가|은|는|에|의|짜리)", text[f.end:f.end + 2])):
                drug = _drug(s_text, lex, f.start - sent.start) or ""
                per_phrase = (f.unit, drug, f.start, f.end)
                break
    masses: list[Draft] = []
    for f in figs:
        if f.kind == "money":
            continue
        if per_phrase and per_phrase[2] <= f.start < per_phrase[3]:
            continue  # "a gram" in "a gram of meth costs": the price's unit, not a quantity
        d = Draft(kind="seizure", quantity=f, sentence=sent)
        after = text[f.ext_end:min(sent.end, f.ext_end + 400)]
        of = re.match(r"\s*of\s+((?:[\w'’-]+[\s,.;:]*){0,10})", after)
        drug = None
        if of:
            dm = re.search(rf"\b({lex.drug_words})\b", of.group(1), re.I)
            if dm:
                drug = dm.group(1)
            elif not re.match(r"(?:it|them|this|that|the\s+(?:drugs?|substance|narcotics?))\b", of.group(1), re.I):
                if f.is_article:
                    continue  # "a kilo of rice": not a quantity of anything we record
                what = " ".join(of.group(1).split()[:3])
                d.importable = False
                d.kind = ""
                d.notes.append(f"not a drug quantity ('of {what}')")
        if f.is_article and not drug and not _has(s_text, SEIZURE_CUE):
            continue  # "a pill press", "a kilo" in passing: not a seizure
        if f.kind == "count":
            d.notes.append("a count, not a mass: kept as a count")
        reason = _cue(NOT_SEIZURE_MASS, text, f, sent)
        if reason and d.importable:
            d.importable = False
            d.kind = ""
            d.notes.append(f"not a seizure: {reason}")
        if d.importable and not _has(s_text, SEIZURE_CUE):
            d.confidence -= 0.2
            d.notes.append("no seizure verb in the sentence")
        d.drug = drug or _drug(s_text, lex, f.start - sent.start) or ""
        masses.append(d)
        drafts.append(d)
    prices_per: dict[str, tuple[str, str]] = {}
    for f in figs:
        if f.kind != "money":
            continue
        before = text[max(sent.start, f.start - 60):f.start]
        after = text[f.ext_end:min(sent.end, f.ext_end + 60)]
        d = Draft(kind="seizure", value=f, sentence=sent)
        if f.conversion is not None and f.conversion.kind == "money":
            d.usd_stated = f.conversion.canonical
        d.stated_rate = f.stated_rate
        tie_before = TIE_BEFORE.search(before[-40:]) or (f if f.tied else None)
        tie_after = TIE_AFTER.match(after)
        reason = _cue(NOT_SEIZURE, text, f, sent)
        per = f.per
        drug_masses = [m for m in masses if m.importable]
        if per is None and per_phrase and (not (tie_before or tie_after) or not drug_masses):
            per = per_phrase[0]
            d.per_note = f"per {per} from '{text[per_phrase[2]:per_phrase[3]]}'"
        if per is None and not tie_before and not tie_after:
            key = f.iso or (f.marker or f.unit or "").lower()
            if key in prices_per:
                per = prices_per[key][0]
                d.per_note = f"per {per} taken from '{prices_per[key][1]}' earlier in the sentence"
                d.confidence -= 0.15
        if per is not None and f.per_currency:
            d.importable = False
            d.kind = ""
            d.notes.append(f"an exchange rate ('{f.text}'), not a seizure or price")
        elif per is not None:
            d.kind = "price"
            f.per = per
            prices_per.setdefault(f.iso or (f.marker or f.unit or "").lower(), (per, text[f.start:f.ext_end]))
            if lex.units.get(per.lower(), ("", ""))[1] != "mass":
                d.importable = False
                d.notes.append(f"a price per {per}: the ETL reads prices per unit of mass only")
            if reason:
                d.importable = False
                d.kind = ""
                d.notes.append(f"not a drug price: {reason}")
            d.drug = (per_phrase[1] if per_phrase and d.per_note.startswith(f"per {per} from") else None) or _drug(s_text, lex, f.start - sent.start) or ""
            if not d.drug:
                d.confidence -= 0.2
        elif (tie_before or tie_after) and not (reason and not drug_masses):
            partner = _nearest(masses, f) if f.tied else _partner(masses, f, tie_after is not None)
            if partner is not None:
                partner.value = f
                partner.usd_stated = d.usd_stated
                partner.stated_rate = d.stated_rate
                partner.notes += [n for n in d.notes]
                continue
            d.drug = _drug(s_text, lex, f.start - sent.start) or ""
            d.notes.append(LONE_VALUE)
        elif reason:
            d.importable = False
            d.kind = ""
            d.notes.append(f"not a seizure or price: {reason}")
            d.drug = _drug(s_text, lex, f.start - sent.start) or ""
        elif CASH.search(text[max(sent.start, f.start - 60):min(sent.end, f.ext_end + 30)]):
            d.kind = "cash"
            d.drug = _drug(s_text, lex, f.start - sent.start) or ""
            d.notes.append("money carried or held, not the value of the drugs")
        else:
            d.importable = False
            d.kind = ""
            d.notes.append("no word ties this amount to a seizure, a price or cash")
            d.drug = _drug(s_text, lex, f.start - sent.start) or ""
        drafts.append(d)
    # Counts of people ("3명"): listed, never imported; the arrests column reads them
    if lex.people is not None and HANGUL.search(s_text):
        for m in lex.people.finditer(s_text):
            d = Draft(kind="", sentence=sent, importable=False)
            d.notes.append(f"a count of people ('{m.group(0)}'), not a drug figure; arrests are read from the sentence")
            d.rate_span = (sent.start + m.start(), sent.start + m.end())
            drafts.append(d)
    # Exchange-rate statements that are not attached to a value
    stated = {d.stated_rate for d in drafts if d.stated_rate}  # sets: one look-up per rate statement
    fig_rates = {f.stated_rate for f in figs if f.stated_rate}
    lo = bisect.bisect_left(rates, (sent.start,))
    hi = bisect.bisect_left(rates, (sent.end,))
    for s, e, rate in rates[lo:hi]:
        if rate not in stated:
            if rate in fig_rates:
                continue
            stated.add(rate)
            d = Draft(kind="", sentence=sent, importable=False, stated_rate=rate)
            d.notes.append(f"exchange-rate statement ({text[s:e]}), not a seizure or price")
            d.rate_span = (s, e)
            drafts.append(d)
    for d in drafts:
        _fill(d, text, sent, lex, ref, outlet)
    return drafts


def _cue(cues, text: str, f: Figure, sent: Sentence) -> str | None:
    window = text[max(sent.start, f.start - 80):min(sent.end, f.ext_end + 30)]
    for pattern, reason in cues:
        m = pattern.search(window)
        if m:
            return f"{reason} ('{m.group(0)}')"
    return None


def _partner(masses: list[Draft], money: Figure, after: bool) -> Draft | None:
    free = [m for m in masses if m.value is None and m.importable]
    before = [m for m in free if m.quantity.start < money.start]
    if before and not after:
        return before[-1]
    later = [m for m in free if m.quantity.start > money.start]
    if later:
        return later[0]
    return before[-1] if before else None


def _nearest(masses: list[Draft], money: Figure) -> Draft | None:
    """The mass nearest to a value that carries its own "value" words ("시가 150억엔 상당의 필로폰 20㎏")."""
    free = [m for m in masses if m.value is None and m.importable]
    if not free:
        return None
    return min(free, key=lambda m: min(abs(m.quantity.start - money.end), abs(money.start - m.quantity.end)))


GENERIC_DRUGS = {"drugs", "narcotics"}


@per_sentence
def _has(s_text: str, pattern: re.Pattern) -> bool:
    return pattern.search(s_text) is not None


@per_sentence
def _drug_mentions(s_text: str, lex: Lexicon) -> list[tuple[int, str]]:
    """Drug words of the sentence, in order: the specific ones, or the generic ones when there are none."""
    found = [(m.start(), m.group(1)) for m in re.finditer(rf"\b({lex.drug_words})\b", s_text, re.I)]
    # Korean spellings of drugs.csv, kept as written; matched without word boundaries (a particle follows: 필로폰을)
    at = {pos for pos, _ in found}
    found += [(m.start(), m.group(0)) for m in lex.korean_drugs.finditer(s_text) if m.start() not in at] if lex.korean_drugs else []
    found.sort()
    return [x for x in found if not _generic(x[1], lex)] or found


def _generic(drug: str, lex: Lexicon) -> bool:
    return drug.lower() in GENERIC_DRUGS or lex.drugs.get(drug.lower()) == "unspecified"


def _drug(s_text: str, lex: Lexicon, at: int) -> str | None:
    """The drug named nearest to position `at` of the sentence (after it on a tie)."""
    found = _drug_mentions(s_text, lex)
    if not found:
        return None
    i = bisect.bisect_left(found, (at, ""))
    near = found[max(0, i - 1):i + 1]
    return min(near, key=lambda x: (abs(x[0] - at), x[0] < at))[1]


def _fill(d: Draft, text: str, sent: Sentence, lex: Lexicon, ref: Reference, outlet: str | None) -> None:
    s_text = sent.text_of(text)
    if d.value is not None:
        d.currency, note = _currency(d.value, s_text, outlet, lex, d.kind)
        if note:
            d.notes.append(note)
            d.confidence -= 0.15
        if d.usd_stated and d.value.conversion is not None:
            conv = d.value.conversion
            conv_isos = lex.markers.get((conv.marker or conv.unit or "").lower(), frozenset())
            if "USD" not in conv_isos and conv.iso != "USD":
                d.notes.append(f"the article's own conversion {conv.canonical} is not in US dollars; not put in usd_stated")
                d.usd_stated = ""
            else:
                d.notes.append(f"the article's own conversion: {conv.text}")
    if d.quantity is not None and d.quantity.conversion is not None:
        c = d.quantity.conversion
        d.notes.append(f"the article's own conversion: {c.text}" + _conversion_check(d.quantity, c, lex))
    for f in (d.quantity, d.value):
        if f is not None:
            problem = check_canonical(f)
            if problem:
                d.notes.append(f"check the amount text: {problem}")
                d.confidence -= 0.3
            if f.canonical != re.sub(r"\s+", " ", f.text.strip()):
                d.notes.append(f"written '{f.text}' in the article")
            d.notes = [n for n in f.notes if n not in d.notes] + d.notes
            if any("words" in n or "European" in n or "ambiguous" in n for n in f.notes):
                d.confidence -= 0.1
    if d.per_note:
        d.notes.append(d.per_note)
    if not d.drug:
        d.notes.append("no drug named in the sentence")
        d.confidence -= 0.1
    d.country, d.place = _where(s_text, ref, d.kind)
    d.arrests = _arrests(s_text)
    if not d.importable:
        d.confidence = min(d.confidence, 0.5)


def _conversion_check(main: Figure, conv: Figure, lex: Lexicon) -> str:
    from etl.units import kg_factor
    try:
        a = main.point * kg_factor(lex.units[main.unit.lower()][0]) if main.unit.lower() in lex.units else None
        b = conv.point * kg_factor(lex.units[conv.unit.lower()][0]) if conv.unit and conv.unit.lower() in lex.units else None
    except Exception:  # noqa: BLE001 - a count or unknown unit: no check
        return ""
    if a is None or b is None or b == 0:
        return ""
    return f" ({a:g} kg against {b:g} kg, {100 * (a / b - 1):+.0f}%)"


def _currency(f: Figure, s_text: str, outlet: str | None, lex: Lexicon, kind: str) -> tuple[str, str | None]:
    if f.iso:
        return f.iso, None
    key = (f.marker or f.unit or "").lower()
    options = lex.markers.get(key, frozenset())
    written = f.marker or f.unit or ""
    if len(options) == 1:
        return next(iter(options)), None
    if "USD" in options:
        if outlet in DOLLAR_COUNTRIES:
            iso = DOLLAR_COUNTRIES[outlet]
            return iso, (None if outlet == "US" else f"'{written}' read as {iso} because the outlet is in {outlet}")
        return "USD", f"'{written}' read as USD (guess: {'no outlet country given' if not outlet else 'outlet in ' + outlet})"
    if "KRW" in options:
        if _has(s_text, NK_PLACES_RE) and not _has(s_text, SOUTH_KOREA_RE) and kind == "price":
            return "KPW", f"'{written}' read as North Korean won (guess: a price inside North Korea)"
        return "KRW", (None if outlet == "KR" else f"'{written}' read as South Korean won (guess)")
    if "JPY" in options and "CNY" in options:
        if outlet == "CN":
            return "CNY", None
        if outlet != "JP" and _has(s_text, CHINA_RE):
            return "CNY", f"'{written}' read as yuan (guess: China named in the sentence)"
        return "JPY", (None if outlet == "JP" else f"'{written}' read as yen (guess)")
    if "PHP" in options:
        if outlet == "MX":
            return "MXN", f"'{written}' read as Mexican pesos (outlet in MX)"
        return "PHP", (None if outlet == "PH" else f"'{written}' read as Philippine pesos (guess)")
    if options:
        return sorted(options)[0], f"'{written}' may mean {' or '.join(sorted(options))}: chose {sorted(options)[0]}"
    return "", f"unknown currency '{written}'"


@per_sentence
def _where(s_text: str, ref: Reference, kind: str) -> tuple[str, str]:
    if HANGUL.search(s_text):
        return _where_korean(s_text, ref, kind)
    for (country, place), _ in sorted(ref.places.items(), key=lambda kv: -len(kv[0][1])):
        if place and re.search(rf"\b{re.escape(place)}\b", s_text):
            return country, place
    names = "|".join(re.escape(w) for w in sorted(COUNTRY_WORDS, key=len, reverse=True))
    m = re.search(rf"\b({names})\s+{AUTHORITIES}\b", s_text, re.I)
    if m and COUNTRY_WORDS[m.group(1).lower()] != "KP":
        return COUNTRY_WORDS[m.group(1).lower()], ""
    if kind == "price" and re.search(r"\b(?:in|inside)\s+North\s+Korea\b", s_text):
        return "KP", ""
    m = re.search(rf"\b(?:in|into|to|at)\s+(?:the\s+)?({names})\b", s_text, re.I)
    if m and COUNTRY_WORDS[m.group(1).lower()] != "KP":
        return COUNTRY_WORDS[m.group(1).lower()], ""
    countries = "|".join(re.escape(w) for w in sorted(COUNTRY_NAMES, key=len, reverse=True))
    m = re.search(rf"\b({countries})\b", s_text, re.I)
    if m:
        return COUNTRY_WORDS[m.group(1).lower()], ""
    return "", ""


# Korean names of places in data/reference/places.csv, and of countries
KO_PLACES = {"부산": ("KR", "Busan"), "단둥": ("CN", "Dandong"), "선양": ("CN", "Shenyang"), "심양": ("CN", "Shenyang"),
             "룽징": ("CN", "Longjing"), "용정": ("CN", "Longjing"), "옌지": ("CN", "Yanji"), "연길": ("CN", "Yanji"),
             "창바이": ("CN", "Changbai"), "장백": ("CN", "Changbai"), "상하이": ("CN", "Shanghai")}
KO_COUNTRIES = {"중국": "CN", "한국": "KR", "국내": "KR", "서울": "KR", "인천": "KR", "일본": "JP", "필리핀": "PH", "대만": "TW",
                "홍콩": "HK", "태국": "TH", "러시아": "RU", "미국": "US", "호주": "AU", "베트남": "VN", "캄보디아": "KH",
                "말레이시아": "MY", "인도네시아": "ID", "몽골": "MN", "이집트": "EG", "북한": "KP"}
KO_PLACE_RE = re.compile("|".join(sorted(KO_PLACES, key=len, reverse=True)))
KO_COUNTRY_RE = re.compile("(?:" + "|".join(sorted(KO_COUNTRIES, key=len, reverse=True)) + r")(?![ ]?돈)")  # not "중국 돈" (yuan)


def _where_korean(s_text: str, ref: Reference, kind: str) -> tuple[str, str]:
    m = KO_PLACE_RE.search(s_text)
    if m and KO_PLACES[m.group(0)] in ref.places:
        return KO_PLACES[m.group(0)]
    if kind == "price" and NK_PLACES_RE.search(s_text):
        return "KP", ""
    for m in KO_COUNTRY_RE.finditer(s_text):
        if KO_COUNTRIES[m.group(0)] != "KP":
            return KO_COUNTRIES[m.group(0)], ""
    return "", ""


@per_sentence
def _arrests(s_text: str) -> str:
    ko = KO_ARRESTS.search(s_text)
    if ko:
        return str(int(ko["n"]))
    for pattern in ARRESTS:
        m = pattern.search(s_text)
        if m:
            total = 0
            for key in ("n", "m"):
                if key in m.re.groupindex and m[key]:
                    n = m[key].lower()
                    total += int(SMALL_NUMBERS.get(n, n))
            return str(total)
    return ""


# An older case cited for comparison: its figure is dated only by its own words
COMPARISON = re.compile(
    r"\b(?:previous|prior|former|old|earlier|last)\s+(?:national\s+)?(?:record|high|largest|biggest|seizure|haul|case|bust)"
    r"|\brecord\s+(?:of|set)\b|\bcompared\s+(?:with|to)\b|\b(?:up|down)\s+from\b|\blast\s+year['’]s\b"
    r"|\bthe\s+year\s+before\b|\ba\s+year\s+earlier\b|\bthan\s+(?:the|in|last|a)\b|\bsurpass\w*|\beclips\w*"
    r"|지난해\s?같은\s?기간|종전|이전\s?최대|역대|보다|대비", re.I)
# A national or annual total: dated by the period it totals, never by the day it was announced
PERIOD_TOTAL = re.compile(
    r"\bnation(?:wide|al(?:ly)?)\b|\bannual(?:ly)?\b|\bso\s+far\s+this\s+year\b|\bthroughout\s+the\s+year\b"
    r"|\bfor\s+the\s+(?:whole\s+|entire\s+)?year\b|\b(?:over|in|during)\s+the\s+(?:past|last|previous)\s+(?:year|twelve\s+months|12\s+months)\b"
    r"|\bin\s+total\b|\bin\s+all\b|\bcountrywide\b|\bstatistics\b"
    r"|연간|한\s?해\s?동안|전국|올해\s?들어|한\s?해\s?간|통계", re.I)
# The dateline of an agency story ("SEOUL, March 3 (Agency) --"): publication context, not the event
DATELINE = re.compile(
    r"^[ \t]*[A-Z][A-Za-z .'’-]{1,40},(?:\s+[A-Z][A-Za-z.]+)?\s+(?:January|February|March|April|May|June|July|August|September"
    r"|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?\s+\d{1,2}(?:,?\s+\d{4})?"
    r"\s*(?:\([^)\n]{1,40}\))?\s*(?:--|—|–|-|:)", re.M)


# Words that tie a later sentence to the operation told before ("another 12 kg", "at the second site", "the raid")
SAME_OPERATION = re.compile(
    r"\b(?:also|another|further|second|third|fourth|remaining|rest|same|there|then|both|each|during\s+the|in\s+the\s+(?:raid|operation|search|swoop))\b"
    r"|\bthe\s+(?:raid|raids|operation|search|haul|suspects?|couriers?|smugglers?|gang|ring)\b|^\W*(?:They|Their|It|Its|The\s+(?:men|women|two|three|four|five|pair|group))\b"
    r"|또한?|이와\s?함께|이들|이어|함께|같은\s?날|당시", re.I)


def _classify(d: Draft, text: str, sent: Sentence, figs: list[Figure]) -> None:
    """Mark a draft as a comparison case or a period total from the words around its figure."""
    f = d.quantity or d.value
    if f is None:
        return
    i = bisect.bisect_left(figs, f.start, key=lambda g: g.start)  # figs are in text order
    before = figs[i - 1].end if i > 0 and figs[i - 1].end <= f.start else sent.start
    lo = max(sent.start, f.start - 100, before)
    s_text = sent.text_of(text)
    cues = [c for c in _cue_spans(s_text, COMPARISON, lo - sent.start, f.start - sent.start)
            if lo <= sent.start + c[0] and sent.start + c[1] <= f.start]
    if cues:  # the cue nearest the figure
        d.comparison = (sent.start + cues[-1][0], min(sent.end, f.end + 40))
    else:
        after = text[f.end:min(sent.end, f.end + 40)]
        ma = re.match(r"[\s,]*(?:\(|-|—)?\s*(?:the\s+|a\s+)?(?:previous|former|old|earlier)\s+record", after, re.I)
        if ma:
            d.comparison = (f.start, f.end + ma.end())
    a, b = max(sent.start, f.start - 80) - sent.start, min(sent.end, f.end + 80) - sent.start
    d.total = any(a <= c0 and c1 <= b for c0, c1 in _cue_spans(s_text, PERIOD_TOTAL, a, b))


@per_sentence
def _all_cues(s_text: str, pattern: re.Pattern) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in pattern.finditer(s_text)]


def _cue_spans(s_text: str, pattern: re.Pattern, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """The matches of `pattern` in the sentence (found once per sentence) that start in [lo - 100, hi)."""
    spans = _all_cues(s_text, pattern)
    i = bisect.bisect_left(spans, (lo - 100, 0))
    j = len(spans) if hi is None else bisect.bisect_left(spans, (hi, 0))
    return spans[i:j]


def _date(d: Draft, resolved: list[tuple[FoundDate, str]], para: tuple[str, str] | None, pub: dt.date | None,
          sent: Sentence, announced: tuple[str, str] | None = None, story: tuple[str, str] | None = None,
          clauses: list[tuple[int, int]] = ()) -> None:
    at = d.span[0] - sent.start if (d.quantity or d.value) else 0
    if d.comparison is not None:
        c0, c1 = d.comparison[0] - sent.start, d.comparison[1] - sent.start
        own = [r for r in resolved if c0 <= r[0].start < c1]
        if own:
            found, value = min(own, key=lambda r: (abs(r[0].start - at), r[0].start > at))
            d.event_date = value
            d.notes.append(f"an earlier case cited for comparison, dated by its own words '{found.text}'")
        else:
            d.notes.append("an earlier case cited for comparison: its own words give no date, so none is given "
                           "(not the date of the story's main event)")
            d.confidence -= 0.15
        return
    # a figure of the main event never takes the date of a comparison clause
    resolved = [r for r in resolved if not any(c0 <= r[0].start + sent.start < c1 for c0, c1 in clauses)]
    if d.total and d.importable and d.kind in ("seizure", "cash"):
        period = [r for r in resolved if r[0].precision in ("year", "month") or r[0].anaphor]
        if period:
            found, value = min(period, key=lambda r: (abs(r[0].start - at), r[0].start > at))
            if not re.fullmatch(r"(?i:last\s+month|this\s+month|지난\s?달|이달|이번\s?달)", found.text.strip()):
                value = value[:4]  # "so far this year", "10월까지": the total covers the year, not one month
            d.event_date = value
            d.notes.append(f"a total, dated by the period it covers ('{found.text}')")
        elif pub is not None:
            year = pub.year - 1 if pub.month <= 3 else pub.year
            d.event_date = f"{year:04d}"
            d.notes.append(f"a total with no period in its words: taken as the year {year} "
                           f"({'an annual total published early in the next year' if year < pub.year else 'the year so far'}); check")
            d.confidence -= 0.2
        else:
            d.notes.append("a total with no period in its words and no publication date: no date")
            d.confidence -= 0.15
        return
    if resolved:
        found, value = min(resolved, key=lambda r: (abs(r[0].start - at), r[0].start > at))
        d.event_date = value
        d.notes.append(f"date from '{found.text}'" + (f" ({found.note})" if found.note else ""))
        return
    if d.kind == "price" and pub is not None:
        d.event_date = f"{pub.year:04d}"
        d.notes.append("no date in the text: a price taken as current in the publication year")
        return
    if not d.importable:
        return  # a figure not to import is dated only by its own sentence
    if para:
        d.event_date = para[0]
        d.notes.append(f"date from '{para[1]}' in an earlier sentence of the paragraph")
        d.confidence -= 0.1
        return
    if story and d.kind in ("seizure", "cash") and _has(sent.text_of_cached(), SAME_OPERATION):
        d.event_date = story[0]
        d.notes.append(f"date from '{story[1]}' earlier in the story (taken as the same operation; check)")
        d.confidence -= 0.15
        return
    if announced and d.kind in ("seizure", "cash"):
        d.event_date = announced[0][:7]
        d.notes.append(f"no date for the event: the month the authorities told of it ('{announced[1]}'); the event may be earlier")
        d.confidence -= 0.1
        return
    d.notes.append("no date in the text" + (f" (published {pub.isoformat()})" if pub else ""))
    d.confidence -= 0.15


def _compatible(a: Draft, b: Draft) -> bool:
    """Two mentions of the same mass may be one seizure: no clash of drug or date."""
    drugs = {x.lower() for x in (a.drug, b.drug) if x and x.lower() not in GENERIC_DRUGS}
    dates = {x for x in (a.event_date, b.event_date) if x}
    if len(dates) == 2:
        x, y = sorted(dates, key=len)
        if not y.startswith(x):
            return False
    return len(drugs) <= 1 or len({x.rstrip("s") for x in drugs}) <= 1


def _merge_duplicates(drafts: list[Draft], text: str) -> list[Draft]:
    """One row per seizure: a later mention of the same mass (with its value) absorbs an earlier one."""
    out: list[Draft] = []
    by_mass: dict[tuple[float, str], list[int]] = {}  # (quantity, unit) -> positions in `out`
    mentions: dict[int, int] = {}  # id of a kept draft -> other mentions folded into it
    for d in drafts:
        if d.kind == "seizure" and d.quantity is not None and d.importable:
            key = (round(d.quantity.point, 9), (d.quantity.unit or "").lower())
            slots = by_mass.setdefault(key, [])
            hit = next((j for j in slots if out[j].kind == "seizure" and out[j].importable
                        and (out[j].value is None or d.value is None) and _compatible(out[j], d)), None)
            if hit is not None:
                o = out[hit]
                keep, drop = (d, o) if (d.value is not None and o.value is None) else (o, d)
                for attr in ("event_date", "arrests", "country", "place", "drug"):
                    if not getattr(keep, attr) and getattr(drop, attr):
                        setattr(keep, attr, getattr(drop, attr))
                        keep.notes.append(f"{attr.replace('_', ' ')} from the other mention")
                n = mentions.pop(id(o), 0) + 1
                mentions[id(keep)] = n
                if n <= 3:
                    keep.notes.append(f"the same figure is also mentioned at characters {drop.span[0]}-{drop.span[1]}")
                elif n == 4:
                    keep.notes.append("the same figure is mentioned more times further on")
                out[hit] = keep
                continue
            slots.append(len(out))
        out.append(d)
    return out


SENTENCE_CELL = 1000  # a longer sentence is shown around the figure


def _sentence_cell(d: Draft, text: str, start: int, end: int) -> str:
    """The figure's sentence with blanks collapsed; a very long one cut to the part around the figure."""
    sent = d.sentence
    if sent.end - sent.start <= SENTENCE_CELL:
        memo = sent.text_of(text).memo
        if "cell" not in memo:
            memo["cell"] = re.sub(r"\s+", " ", str(sent.text_of(text))).strip()
        return memo["cell"]
    lo, hi = max(sent.start, start - 300), min(sent.end, end + 300)
    return ("… " if lo > sent.start else "") + re.sub(r"\s+", " ", text[lo:hi]).strip() + (" …" if hi < sent.end else "")


def _row(i: int, d: Draft, text: str, source_id: str, pub: dt.date | None) -> dict:
    if d.quantity or d.value:
        start, end = d.span
    else:
        start, end = d.rate_span or (d.sentence.start, d.sentence.start)
    value = ""
    if d.value is not None:
        value = d.value.canonical + (f" per {d.value.per}" if d.value.per and not d.value.per_written else "")
    notes = list(dict.fromkeys(d.notes))
    if d.importable:
        notes.append("nk_link to choose")
    return {
        "report_id": f"draft-{i:03d}",
        "incident_id": f"draft-{i:03d}",
        "source_id": source_id,
        "kind": d.kind,
        "event_date": d.event_date,
        "country": d.country,
        "place": d.place,
        "drug": d.drug,
        "quantity": d.quantity.canonical if d.quantity is not None else "",
        "value": value,
        "currency": d.currency,
        "usd_stated": d.usd_stated,
        "stated_rate": d.stated_rate,
        "nk_link": "",
        "arrests": d.arrests,
        "notes": "; ".join(notes),
        "import": "yes" if d.importable else "no",
        "char_start": start,
        "char_end": end,
        "sentence": _sentence_cell(d, text, start, end) if d.sentence else "",
        "confidence": round(max(0.05, min(0.99, d.confidence)), 2),
    }
