#!/usr/bin/python3
"""Writes test/fixtures/tweets/normalize-refs.json: a few hundred tweets, their tokens and BERTweet's
normalisation under the two TweetTokenizer rule sets tandem offers:
- nltk-2020: the TweetTokenizer of NLTK as it was in 2020 (3.5), the copy the paper's code embeds (below,
  written out the same way, compiled with the `regex` module as it was) and BERTweet was pre-trained with;
- nltk-3.8: Debian's python3-nltk 3.8 TweetTokenizer (emoji sequences, flags, phone numbers optional).
Each with emoji kept and with single-character tokens demojised by the emoji package 2.2.0 (Debian's).

Run: /usr/bin/python3 test/tools/gen_tweet_normalize_refs.py   (needs python3-nltk 3.8, python3-emoji 2.2.0,
python3-regex)
"""
import html
import json
import os
import random
import unicodedata

import emoji
import nltk
import regex
from nltk.tokenize import TweetTokenizer as TweetTokenizer38

assert emoji.__version__ == "2.2.0", emoji.__version__
assert nltk.__version__ == "3.8", nltk.__version__

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "tweets", "normalize-refs.json")
CLASSES = os.path.join(HERE, "..", "fixtures", "tweets", "python-regex-classes.json")

# ---- NLTK's TweetTokenizer as of 2020 (nltk 3.5 casual.py), as the paper's preprocessing embeds it ----------
EMOTICONS_2020 = r"""
    (?:
      [<>]?
      [:;=8]                     # eyes
      [\-o\*\']?                 # optional nose
      [\)\]\(\[dDpP/\:\}\{@\|\\] # mouth
      |
      [\)\]\(\[dDpP/\:\}\{@\|\\] # mouth
      [\-o\*\']?                 # optional nose
      [:;=8]                     # eyes
      [<>]?
      |
      <3                         # heart (2020: no broken heart)
    )"""

URLS_2020 = r"""
  (?:
  https?:
    (?:
      /{1,3}
      |
      [a-z0-9%]
    )
    |
    [a-z0-9.\-]+[.]
    (?:[a-z]{2,13})
    /
  )
  (?:
    [^\s()<>{}\[\]]+
    |
    \([^\s()]*?\([^\s()]+\)[^\s()]*?\)
    |
    \([^\s]+?\)
  )+
  (?:
    \([^\s()]*?\([^\s()]+\)[^\s()]*?\)
    |
    \([^\s]+?\)
    |
    [^\s`!()\[\]{};:'".,<>?«»“”‘’]
  )
  |
  (?:
    (?<!@)
    [a-z0-9]+
    (?:[.\-][a-z0-9]+)*
    [.]
    (?:[a-z]{2,13})
    \b
    /?
    (?!@)
  )
"""

REGEXPS_2020 = (
    URLS_2020,
    r"""
    (?:
      (?:
        \+?[01]
        [ *\-.\)]*
      )?
      (?:
        [\(]?
        \d{3}
        [ *\-.\)]*
      )?
      \d{3}
      [ *\-.\)]*
      \d{4}
    )""",
    EMOTICONS_2020,
    r"""<[^>\s]+>""",
    r"""[\-]+>|<[\-]+""",
    r"""(?:@[\w_]+)""",
    r"""(?:\#+[\w_]+[\w\'_\-]*[\w_]+)""",
    r"""[\w.+-]+@[\w-]+\.(?:[\w-]\.?)+[\w-]""",
    r"""
    (?:[^\W\d_](?:[^\W\d_]|['\-_])+[^\W\d_])
    |
    (?:[+\-]?\d+[,/.:-]\d+[+\-]?)
    |
    (?:[\w_]+)
    |
    (?:\.(?:\s*\.){1,})
    |
    (?:\S)
    """,
)

WORD_RE_2020 = regex.compile(r"""(%s)""" % "|".join(REGEXPS_2020), regex.VERBOSE | regex.I | regex.UNICODE)
HANG_RE_2020 = regex.compile(r"([^a-zA-Z0-9])\1{3,}")
ENT_RE_2020 = regex.compile(r"&(#?(x?))([^&;\s]+);")


def replace_html_entities_2020(text):
    def convert(match):
        body = match.group(3)
        number = None
        if match.group(1):
            try:
                number = int(body, 16) if match.group(2) else int(body, 10)
                if 0x80 <= number <= 0x9F:
                    return bytes((number,)).decode("cp1252")
            except ValueError:
                number = None
        else:
            number = html.entities.name2codepoint.get(body)
        if number is not None:
            try:
                return chr(number)
            except (ValueError, OverflowError):
                pass
        return ""

    return ENT_RE_2020.sub(convert, text)


def tokenize_2020(text):
    text = replace_html_entities_2020(text)
    return WORD_RE_2020.findall(HANG_RE_2020.sub(r"\1\1\1", text))


tokenizer_38 = TweetTokenizer38()


# ---- BERTweet's normalizeTweet, as the paper's code applies it -------------------------------------------------
def normalize(tweet, tokenize, demojise):
    tokens = tokenize(tweet.replace("’", "'").replace("…", "..."))

    def token(t):
        if t.startswith("@"):
            return "@USER"
        low = t.lower()
        if low.startswith("http") or low.startswith("www"):
            return "HTTPURL"
        if len(t) == 1:
            return emoji.demojize(t) if demojise else t
        if t == "’":
            return "'"
        if t == "…":
            return "..."
        return t

    s = " ".join(token(t) for t in tokens)
    s = s.replace("cannot ", "can not ").replace("n't ", " n't ").replace("n 't ", " n't ")
    s = s.replace("ca n't", "can't").replace("ai n't", "ain't")
    for c in ("'m ", "'re ", "'s ", "'ll ", "'d ", "'ve "):
        s = s.replace(c, " " + c)
    s = s.replace(" p . m .", "  p.m.").replace(" p . m ", " p.m ").replace(" a . m .", " a.m.").replace(" a . m ", " a.m ")
    return " ".join(s.split())


# ---- The tweets ------------------------------------------------------------------------------------------------
BASE = [
    "SC has first two presumptive cases of coronavirus, DHEC confirms https://postandcourier.com/health/covid19/sc-has-first-two-presumptive-cases-of-coronavirus-dhec-confirms/article_bddfe4ae-5fd3-11ea-9ce4-5f495366cee6.html?utm_medium=social&utm_source=twitter&utm_campaign=user-share… via @postandcourier",
    "@user check https://t.co/abc123 NOW!!!",
    "I can't believe it's 5 p.m. already… we're late &amp; they'll wait 😂😂 #MondayBlues",
    "Call me at (555) 123-4567 or mail me@example.com :-) <3",
    "Sooooo goooood!!!!!! www.example.org/path :D",
    "👍🏽 family: 👨‍👩‍👧 flag 🇵🇹 done",
    "He said ’hello’ — naïve résumé at 10:30, costs $3.50 & -4.5",
    "RT @Some_User: cannot wait!!! ain't it fun? I'm in, you'd go, we've been",
    "email&#8217;s &#x263A; &lt;b&gt;bold&lt;/b&gt; --> <-- ...",
    "東京の桜がきれいです and 😂😂",
    "",
    "it's 6 a.m. and i'm up :( ;) =P <\\3 #nosleep @ 7am",
    "I ❤️ NY 🗽 #love",
    "keycaps 1️⃣ 2️⃣ #️⃣ *️⃣ 🔟 done",
    "flags 🇺🇸🇬🇧🇯🇵 and 🏴󠁧󠁢󠁳󠁣󠁴󠁿 and 🏳️‍🌈",
    "shrug 🤷🏿‍♀️ and 🤦‍♂️ and 💪🏾💪🏻",
    "ＡＢＣ　ｄｅｆ １２３４５ ＠ｕｓｅｒ ＃ｔａｇ ２０２０年 Ｉ’ｍ （笑）！！！",
    "Arabic digits ٣٤٥ and Devanagari १२३ and full-width ４５６-７８９０",
    "broken heart </3 and heart <3 and arrows ---> <--",
    "&hellip; &nbsp;x &bogus; &#150; &#0; &#99999999; &eacute;t&eacute;",
    "Don’t… won’t… can’t… isn’t… y'all o'clock rock'n'roll",
    "http://example.com/path?q=1&x=(y) and https://en.wikipedia.org/wiki/Foo_(bar) and bit.ly/3xYz.",
    "HTTPS://T.CO/UPPER WWW.SHOUT.COM google.com pic.twitter.com/abc ftp://x.y",
    "¯\\_(ツ)_/¯ ^_^ o_O XD D: (: >:( :'( 8-) :|",
    "#a ##double #don't #under_score_ #123 #tag-with-dash- #日本",
    "this is ..... and . . . and .. and …… and ……… ok",
    "p.m. a.m. 5 p.m 7 a.m 11 p . m . ok",
    "e\u0301 combining, ﬁ ligature, zero\u200bwidth, nbsp\u00a0here, tab\there\nnewline",
    "@@double @user_name: @ユーザー @user123's",
    "+1 800 555 1234 and 555.123.4567 and 1,000,000 and 12/25 and 3:30pm",
    "İstanbul ſtreet Kelvin K and KİTAP.com",
    "😂",
    "❤",
    "©™®",
    "☺️☺",
    "🎉🎉🎉🎉🎉",
    "!!!!!!!!!!",
    "?!?!?!?!",
    "I\u2019m here\u2026",
]

FRAGMENTS = [
    "@user", "@Some_User", "RT @bbc_news:", "me@example.com", "https://t.co/AbC123", "www.example.org",
    "example.com/page", "bit.ly/3xYz", "http://x.co/a_(b)", "I can't", "won't", "don't", "it's", "I'm", "you're",
    "we'll", "they'd", "I've", "ain't", "cannot", "Can't", "isn't", "she’s", "y'all", ":)", ":-)", ";)", ":D",
    "XD", ":P", ":-/", "<3", "</3", ":(", ":'(", ">:(", "=)", "8-)", "😂", "❤", "❤️", "👍", "🔥", "🙄", "😍",
    "✨", "☺", "©", "™", "🎉", "👍🏽", "👋🏻", "🤷🏿‍♀️", "💪🏾", "👨‍👩‍👧", "👩‍💻", "🏳️‍🌈", "❤️‍🔥", "🧑‍🤝‍🧑",
    "🇵🇹", "🇺🇸🇬🇧", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣", "#️⃣", "*️⃣", "🔟", "ＡＢＣ", "１２３", "＠ｕｓｅｒ", "＃ｔａｇ", "２０２０年",
    "ｈｔｔｐｓ：／／ｔ．ｃｏ", "Ｉ’ｍ", "（笑）", "٣٤٥", "१२३", "10:30", "3.50", "-4.5", "+1", "1,000,000", "12/25",
    "(555) 123-4567", "&amp;", "&lt;3", "&#8217;", "&#x1F602;", "&hellip;", "p.m.", "a.m.", "Sooooo", "!!!!!!!",
    "......", "…", "—", "--->", "#hashtag", "#a", "##double", "#don't", "naïve", "café", "東京", "서울", "مرحبا",
    "Привет", "great", "day", "at", "the", "beach", "lol", "omg", "so", "happy", "sad", "?", "!", ",", ".", "'",
    "\"", "’", "(", ")", "[", "]", "*", "~", "😂😂", "🙏🏼", "🤣", "💯", "🇯🇵", "🏻",
]


def tweets():
    rng = random.Random(20200501)
    out = list(BASE) + list(FRAGMENTS)
    while len(out) < 420:
        k = rng.randint(2, 7)
        parts = [rng.choice(FRAGMENTS) for _ in range(k)]
        sep = rng.choice([" ", " ", " ", "", "  "])
        out.append(sep.join(parts))
    seen = set()
    return [t for t in out if not (t in seen or seen.add(t))]


def code_point_ranges(pred):
    out, start = [], None
    for cp in range(0x110000):
        ok = not (0xD800 <= cp <= 0xDFFF) and pred(chr(cp))
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            out.append([start, cp - 1])
            start = None
    if start is not None:
        out.append([start, 0x10FFFF])
    return out


def write_classes():
    """The code points the `regex` module's classes match (as TweetTokenizer compiles them), and those
    Python's Unicode database assigns, so tandem's classes can be checked over every assigned code point."""
    flags = regex.UNICODE | regex.I | regex.VERBOSE
    classes = {"w": r"\w", "letter": r"[^\W\d_]", "d": r"\d", "s": r"\s", "az": r"[a-z]"}
    out = {k: code_point_ranges(regex.compile(v, flags).fullmatch) for k, v in classes.items()}
    out["assigned"] = code_point_ranges(lambda c: unicodedata.category(c) != "Cn")
    out["unicode_version"] = unicodedata.unidata_version
    with open(CLASSES, "w", encoding="utf-8") as f:
        json.dump(out, f)
        f.write("\n")


def main():
    write_classes()
    cases = []
    for t in tweets():
        cases.append(
            {
                "text": t,
                "tokens": {"nltk-2020": tokenize_2020(t), "nltk-3.8": tokenizer_38.tokenize(t)},
                "demojize": {
                    "nltk-2020": normalize(t, tokenize_2020, True),
                    "nltk-3.8": normalize(t, tokenizer_38.tokenize, True),
                },
                "keep": {
                    "nltk-2020": normalize(t, tokenize_2020, False),
                    "nltk-3.8": normalize(t, tokenizer_38.tokenize, False),
                },
            }
        )
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)
        f.write("\n")
    differ = sum(c["tokens"]["nltk-2020"] != c["tokens"]["nltk-3.8"] for c in cases)
    print(len(cases), "tweets;", differ, "tokenised differently by the two rule sets")


if __name__ == "__main__":
    main()
