#!/usr/bin/python3
"""Writes the tables tweet normalisation needs, as data under src/text/data/:
- html-name2codepoint.json: Python's html.entities.name2codepoint (the HTML 4 named entities NLTK's
  TweetTokenizer unescapes; others are dropped by it);
- emoji-demojize-2.2.0.json: what `emoji.demojize(c)` of the `emoji` package 2.2.0 (the
version the paper's code pinned; Debian's python3-emoji) returns for every single code point c it changes.
BERTweet's normalisation demojises only one-character tokens, so this table is all of demojize it uses.

Run: /usr/bin/python3 test/tools/gen_text_tables.py   (needs python3-emoji 2.2.0)
"""
import html.entities
import json
import os

import emoji

assert emoji.__version__ == "2.2.0", emoji.__version__
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "src", "text", "data")
OUT = os.path.join(DATA, "emoji-demojize-2.2.0.json")

with open(os.path.join(DATA, "html-name2codepoint.json"), "w", encoding="utf-8") as f:
    json.dump(html.entities.name2codepoint, f, indent=0, sort_keys=True)
    f.write("\n")

table = {}
for cp in range(0x110000):
    if 0xD800 <= cp <= 0xDFFF:
        continue
    c = chr(cp)
    out = emoji.demojize(c)
    if out != c:
        table[c] = out
with open(OUT, "w", encoding="utf-8") as f:
    json.dump(table, f, ensure_ascii=False, indent=0, sort_keys=True)
    f.write("\n")
print(len(table), "entries")
