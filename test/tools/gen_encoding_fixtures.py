#!/usr/bin/python3
"""Writes test/fixtures/encodings/: one text file per (encoding, text), encoded with Python's codecs, and
expected.json stating each file's encoding and text; plus mvsa-mixed/, an MVSA-Single-shaped release whose
text files are UTF-8 or GB18030 as in the published one.

Run: /usr/bin/python3 test/tools/gen_encoding_fixtures.py   (standard library only)
"""
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "encodings")

# (file stem, Python codec, the name tandem records, text). Texts use the characters that tell encodings apart:
# curly quotes and ellipsis (GB18030 A1 B0 / A1 AD, Windows-1252 93 / 85), accented letters, CJK, Cyrillic,
# Greek; some are a few characters long, where detection is hard.
CASES = [
    ("gb18030-quote-mention", "gb18030", "gb18030", "“@user: 今天的天气真好，我们去海边吧！” ... #cut…"),
    ("gb18030-long", "gb18030", "gb18030", "这是一个关于北京的长微博，我们在故宫和长城拍了很多照片，大家都觉得非常漂亮。“下次再来”……"),
    ("gb18030-short", "gb18030", "gb18030", "“我们”…"),
    ("gb18030-two-chars", "gb18030", "gb18030", "你好"),
    ("gbk-mixed-ascii", "gbk", "gb18030", "很好 #happy http://t.co/abc 中国"),
    ("big5-traditional", "big5", "big5", "「台灣」的夜市真熱鬧，我們吃了很多小吃！"),
    ("big5-short", "big5", "big5", "台灣你好"),
    ("shift-jis", "shift_jis", "shift_jis", "「こんにちは」東京の桜がきれいです…"),
    ("shift-jis-short", "shift_jis", "shift_jis", "ありがとう"),
    ("euc-jp", "euc_jp", "euc-jp", "今日は東京でラーメンを食べました。とても美味しかったです！"),
    ("euc-jp-short", "euc_jp", "euc-jp", "こんにちは"),
    ("euc-kr", "euc_kr", "euc-kr", "오늘 서울 날씨가 정말 좋네요! 친구들과 한강에 갔어요."),
    ("euc-kr-short", "euc_kr", "euc-kr", "감사합니다"),
    ("windows-1252", "cp1252", "windows-1252", "Café “naïve” résumé… €5 — ok"),
    ("windows-1252-short", "cp1252", "windows-1252", "café “ok”"),
    ("windows-1250", "cp1250", "windows-1250", "Zażółć gęślą jaźń – „cytat” ąęłńóśźż"),
    ("windows-1251", "cp1251", "windows-1251", "«Привет, мир» — как дела? Всё хорошо…"),
    ("windows-1253", "cp1253", "windows-1253", "«Καλημέρα» κόσμε, τι κάνεις; Όλα καλά…"),
    ("windows-1254", "cp1254", "windows-1254", "Günaydın dünya! Şişli’de çok güzel bir gün, İstanbul"),
    ("windows-1255", "cp1255", "windows-1255", "שלום עולם, מה שלומך היום?"),
    ("windows-1256", "cp1256", "windows-1256", "مرحبا بالعالم، كيف حالك اليوم؟"),
    ("iso-8859-2", "iso8859_2", "iso-8859-2", "Příliš žluťoučký kůň úpěl ďábelské ódy"),
    ("iso-8859-5", "iso8859_5", "iso-8859-5", "Привет, мир! Как дела сегодня"),
    ("iso-8859-7", "iso8859_7", "iso-8859-7", "Καλημέρα κόσμε, τι κάνεις σήμερα"),
    ("utf-8", "utf-8", "utf-8", "“Quotes” and 😂 and 中文"),
    ("utf-8-bom", "utf-8-sig", "utf-8", "BOM then “text” …"),
    ("utf-16le-bom", "utf-16", "utf-16le", "UTF-16 with a BOM: “你好” café"),
    ("utf-16be-bom", "utf-16-be", "utf-16be", "\ufeffbig endian “ok” ünïcode"),
    ("utf-16le-nobom", "utf-16-le", "utf-16le", "no BOM here, “quoted” café 中文"),
    ("utf-16be-nobom", "utf-16-be", "utf-16be", "no BOM, big endian: naïve"),
]

# The MVSA-shaped release: (id, label cell, codec, text).
MVSA = [
    ("1", "positive,positive", "utf-8", "Great day at the beach! #sun http://t.co/abc"),
    ("2", "neutral,negative", "gb18030", "“@user: 堵车了” ... #cut…"),
    ("3", "positive,neutral", "gb18030", "“好”"),
    ("4", "negative,negative", "utf-8", "“Traffic” again… 😡"),
    ("5", "positive,positive", "gb18030", "今天在北京吃了烤鸭，太好吃了！“推荐”"),
    ("6", "negative,neutral", "gb18030", "#fail…"),
    ("7", "neutral,neutral", "utf-8", "café naïve 中文"),
    ("8", "positive,positive", "gb18030", "“Happy” birthday!"),
    # Short GB18030 texts a detector alone reads as EUC-JP, EUC-KR, Big5 or Windows-1252: only the release's
    # own encoding settles them.
    ("9", "positive,neutral", "gb18030", "哈哈"),
    ("10", "negative,negative", "gb18030", "#sad…"),
    ("11", "neutral,positive", "gb18030", "“啊” @user"),
    ("12", "negative,neutral", "gb18030", "囧"),
]

# A 1x1 grey baseline JPEG, so the release's posts have images.
TINY_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f"
    "1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000"
    "010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d0102030004"
    "1105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a43"
    "4445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6"
    "a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda"
    "0008010100003f00fbd3ffd9"
)


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    expected = []
    for stem, codec, name, text in CASES:
        data = text.encode(codec)
        with open(os.path.join(OUT, stem + ".txt"), "wb") as f:
            f.write(data)
        expected.append({"file": stem + ".txt", "encoding": name, "text": text.lstrip("\ufeff"), "bytes": len(data)})
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
        f.write("\n")

    rel = os.path.join(OUT, "mvsa-mixed")
    os.makedirs(os.path.join(rel, "data"))
    with open(os.path.join(rel, "labelResultAll.txt"), "w", encoding="utf-8") as f:
        f.write("ID\ttext,image\n")
        for pid, cell, _, _ in MVSA:
            f.write(f"{pid}\t{cell}\n")
    posts = []
    for pid, cell, codec, text in MVSA:
        with open(os.path.join(rel, "data", pid + ".txt"), "wb") as f:
            f.write(text.encode(codec))
        with open(os.path.join(rel, "data", pid + ".jpg"), "wb") as f:
            f.write(TINY_JPEG)
        posts.append({"id": pid, "encoding": "utf-8" if codec == "utf-8" else codec, "text": text})
    with open(os.path.join(rel, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(posts, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
