"""Writes component_cases.json: reference encodings from Hugging Face `tokenizers` for the components the
golden tokenizer_cases.json does not exercise (more normalizers, pre-tokenizers, added tokens, post-processors,
decoders, truncation and padding settings, byte fallback, sentencepiece's Precompiled normalizer).

Run with tokenizers==0.23.2 and sentencepiece installed: python test/text/gen_component_cases.py
"""
import io
import json
import os

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as spm_pb2
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))

CORPUS = [
    "Just landed in Lisbon and the sunset is unreal!! #travel",
    "Monday again... great, just what I needed. #sarcasm",
    "@user check https://t.co/abc123 NOW!!! 2024-01-05 at 10:30",
    "café AU LAIT très bien naïve résumé Ünïcödé ﬁne Ⅸ ｶﾞ",
    "東京の桜がきれいです and the rain in spain stays mainly",
    "I can't believe it's 5 p.m. already, we're late and they'll wait",
    "the quick brown fox jumps over the lazy dog 1234567890",
] * 20

TEXTS = [
    "Hello, World! I can't wait: 12345 tokens.",
    "café e\u0301cole ﬁne Ⅸ ｶﾞ Ünïcödé",
    "  leading and trailing spaces  ",
    "Tabs\tand\nnewlines\u00a0nbsp\u200bzwsp",
    "emoji 👍🏽 family 👨\u200d👩\u200d👧 flag 🇵🇹 😂😂",
    "東京の桜 and hiragana がぎぐ",
    "[MASK] is <special> and <lstrip> or <rstrip>word <sw> sw<sw> done",
    "",
    "a" * 5 + " " + "b" * 130,
]


def trained(model, trainer, normalizer=None, pre_tokenizer=None):
    t = Tokenizer(model)
    if normalizer is not None:
        t.normalizer = normalizer
    if pre_tokenizer is not None:
        t.pre_tokenizer = pre_tokenizer
    t.train_from_iterator(CORPUS, trainer)
    return t


def enc_dict(e):
    return {"ids": e.ids, "tokens": e.tokens, "offsets": [list(o) for o in e.offsets], "type_ids": e.type_ids,
            "attention_mask": e.attention_mask, "special_tokens_mask": e.special_tokens_mask}


def record(name, tok, texts=TEXTS, pairs=(), settings=()):
    """settings: (label, truncation kwargs or None, padding kwargs or None) applied through the JSON file."""
    out = {"name": name, "tokenizer": json.loads(tok.to_str()), "cases": []}
    for label, trunc, pad in [("plain", None, None), *settings]:
        tok.no_truncation()
        tok.no_padding()
        if trunc:
            tok.enable_truncation(**trunc)
        if pad:
            tok.enable_padding(**pad)
        cfg = json.loads(tok.to_str())
        # only_second cannot truncate a single sequence: the reference raises, so singles are not recorded.
        single = [] if trunc and trunc.get("strategy") == "only_second" else [enc_dict(e) for e in tok.encode_batch(texts)]
        pair = []
        for a, b in pairs:
            try:
                pair.append(enc_dict(tok.encode(a, b)))
            except Exception as err:  # the reference refuses: the port must refuse too
                pair.append({"error": str(err)})
        for t, e in zip(texts, single):
            e.update({"text": t})
        for (a, b), e in zip(pairs, pair):
            e.update({"text": a, "pair": b})
        out["cases"].append({"label": label, "truncation": cfg["truncation"], "padding": cfg["padding"],
                             "single": single, "pairs": pair})
    tok.no_truncation()
    tok.no_padding()
    out["decode"] = []
    for t in texts:
        ids = tok.encode(t).ids
        out["decode"].append({"ids": ids, "skip": tok.decode(ids, skip_special_tokens=True),
                              "keep": tok.decode(ids, skip_special_tokens=False)})
    out["vocab_size"] = tok.get_vocab_size(with_added_tokens=True)
    return out


def added(tok):
    tok.add_special_tokens([AddedToken("[MASK]", normalized=False), AddedToken("<special>", normalized=False)])
    tok.add_tokens([AddedToken("<lstrip>", lstrip=True, normalized=False),
                    AddedToken("<rstrip>", rstrip=True, normalized=True),
                    AddedToken("<sw>", single_word=True, normalized=False)])
    return tok


PAIRS = [(TEXTS[0], TEXTS[1]), (TEXTS[2], TEXTS[8]), (TEXTS[8], TEXTS[0])]
SETTINGS = [
    ("trunc12_pad16", {"max_length": 12}, {"length": 16, "pad_id": 0, "pad_token": "[PAD]"}),
    ("trunc24_only_second_left", {"max_length": 24, "strategy": "only_second", "direction": "left"}, None),
    ("longest_left_multiple8", {"max_length": 20}, {"direction": "left", "pad_id": 0, "pad_token": "[PAD]", "pad_to_multiple_of": 8}),
]


def build_all():
    cases = []
    sp = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]

    # 1. WordPiece + BertNormalizer without lowercase, accents kept; BertProcessing; added tokens.
    t = trained(models.WordPiece(unk_token="[UNK]"), trainers.WordPieceTrainer(vocab_size=300, special_tokens=sp),
                normalizers.BertNormalizer(lowercase=False, strip_accents=False), pre_tokenizers.BertPreTokenizer())
    t.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    t.decoder = decoders.WordPiece()
    cases.append(record("wordpiece_cased_bertprocessing", added(t), pairs=PAIRS, settings=SETTINGS))

    # 2. WordPiece with NFD + StripAccents + Lowercase + Strip, Whitespace pre-tokenizer, template with pair types.
    t = trained(models.WordPiece(unk_token="[UNK]"), trainers.WordPieceTrainer(vocab_size=300, special_tokens=sp),
                normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase(), normalizers.Strip()]),
                pre_tokenizers.Whitespace())
    t.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                     special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    t.decoder = decoders.WordPiece(cleanup=False)
    cases.append(record("wordpiece_nfd_whitespace_template", t, pairs=PAIRS, settings=SETTINGS[:1]))

    # 3. BPE with NFKC, Digits + Punctuation + WhitespaceSplit, BPEDecoder suffix, continuing prefix.
    t = trained(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##", end_of_word_suffix="</w>"),
                trainers.BpeTrainer(vocab_size=300, special_tokens=sp, continuing_subword_prefix="##", end_of_word_suffix="</w>"),
                normalizers.NFKC(),
                pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(behavior="contiguous"),
                                         pre_tokenizers.Digits(individual_digits=True)]))
    t.decoder = decoders.BPEDecoder(suffix="</w>")
    cases.append(record("bpe_nfkc_digits_punct", t, pairs=PAIRS[:1]))

    # 4. Byte-level BPE with add_prefix_space, ByteLevel post-processor (trim offsets), added tokens.
    t = trained(models.BPE(), trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet()),
                None, pre_tokenizers.ByteLevel(add_prefix_space=True))
    t.post_processor = processors.Sequence([processors.ByteLevel(trim_offsets=True),
                                            processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> $B:1 </s>:1",
                                                                          special_tokens=[("<s>", 0), ("</s>", 2)])])
    t.decoder = decoders.ByteLevel()
    cases.append(record("bytelevel_prefix_space_sequence_post", added(t), pairs=PAIRS,
                        # An even budget after the 3 special tokens: with an odd one, which sequence of a pair keeps
                        # the extra token when both are cut does not follow tokenizers' published algorithm (see
                        # truncatePair) and is not reproduced.
                        settings=[("trunc11", {"max_length": 11}, {"length": 12, "pad_id": 1, "pad_token": "<pad>"})]))

    # 5. Split pre-tokenizer behaviours (Regex and String), NFD, Replace (string), Prepend.
    for beh in ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]:
        t = trained(models.BPE(unk_token="[UNK]"), trainers.BpeTrainer(vocab_size=200, special_tokens=sp),
                    normalizers.Sequence([normalizers.NFD(), normalizers.Replace("!", "?"), normalizers.Prepend("_")]),
                    pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"\s+|[.,!?]"), behavior=beh),
                                             pre_tokenizers.Split("a", behavior=beh, invert=(beh == "contiguous"))]))
        cases.append(record(f"split_{beh}", t, texts=TEXTS[:4]))

    # 6. Unigram with Metaspace prepend_scheme first / never and split false, byte fallback, decoder sequence.
    for scheme, split in [("first", True), ("never", False)]:
        t = trained(models.Unigram(), trainers.UnigramTrainer(vocab_size=200, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                                              unk_token="<unk>"),
                    normalizers.NFKC(), pre_tokenizers.Metaspace(prepend_scheme=scheme, split=split))
        t.decoder = decoders.Metaspace(prepend_scheme=scheme, split=split)
        cases.append(record(f"unigram_metaspace_{scheme}_split{split}", added(t), pairs=PAIRS[:1]))

    # 7. Llama-style: BPE with byte_fallback + fuse_unk, Metaspace-like normalizer, ByteFallback/Fuse/Strip decoders.
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    base = trained(models.BPE(unk_token="<unk>"), trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>"]),
                   normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]), None)
    for tok_str in sorted(base.get_vocab(), key=base.get_vocab().get):
        if tok_str not in vocab:
            vocab[tok_str] = len(vocab)
    merges = json.loads(base.to_str())["model"]["merges"]
    t = Tokenizer(models.BPE(vocab=vocab, merges=[tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in merges],
                             unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    t.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    t.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
    t.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    t.add_special_tokens(["<s>", "</s>", "<unk>"])
    cases.append(record("llama_byte_fallback", t, pairs=PAIRS[:1]))

    # 8. WordLevel over Whitespace words, lowercased, with a Strip(left only) normalizer.
    t = trained(models.WordLevel(unk_token="[UNK]"), trainers.WordLevelTrainer(vocab_size=150, special_tokens=sp),
                normalizers.Sequence([normalizers.Strip(left=True, right=False), normalizers.Lowercase()]),
                pre_tokenizers.Whitespace())
    t.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    cases.append(record("wordlevel_whitespace", t, pairs=PAIRS[:1]))

    # 9. sentencepiece's nmt_nfkc Precompiled normalizer (from a tiny trained model) with a Unigram model.
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(CORPUS), model_writer=buf, vocab_size=120,
                                   normalization_rule_name="nmt_nfkc", character_coverage=1.0, minloglevel=2)
    proto = spm_pb2.ModelProto()
    proto.ParseFromString(buf.getvalue())
    charsmap = proto.normalizer_spec.precompiled_charsmap
    t = trained(models.Unigram(), trainers.UnigramTrainer(vocab_size=200, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                                          unk_token="<unk>"),
                normalizers.Sequence([normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]),
                pre_tokenizers.Metaspace())
    t.decoder = decoders.Metaspace()
    cases.append(record("unigram_precompiled_nmt_nfkc", t, texts=TEXTS + ["ｈｅｌｌｏ\u3000ｗｏｒｌｄ ①②③ ㍿ ﾊﾟﾝ ＡＢＣ"]))
    return cases


if __name__ == "__main__":
    import tokenizers

    data = {"tokenizers_version": tokenizers.__version__, "tokenizers": build_all()}
    with open(os.path.join(HERE, "component_cases.json"), "w") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
